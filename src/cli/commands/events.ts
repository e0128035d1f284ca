/**
 * `brig events [--since T] [--until T] [--filter k=v]... [--format F]`: streams `GET /events` and
 * prints each event as docker does: `<time> <Type> <Action> <Actor.ID> (k=v, …)` with the
 * attributes sorted and the time in `2006-01-02T15:04:05.000000000Z07:00`, or through a template
 * over docker's `events.Message` (`json` = `{{json .}}`). Ends when the daemon ends the stream
 * (at `--until`); a bad template exits 64 like docker.
 */
import type { EventMessage } from '../../client/types.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { parseFilters } from '../filters.js';
import { Template, TemplateObject, goJson, goJsonString } from '../output/template.js';
import { formatRfc3339NanoFixed, getTimestamp } from '../timestamp.js';

const options = {
  filter: { type: 'string', short: 'f', multiple: true, valueName: 'filter', description: 'Filter output based on conditions provided' },
  format: { type: 'string', valueName: 'string', description: "Format output using a custom template: 'json' or 'TEMPLATE' (a Go template)" },
  since: { type: 'string', valueName: 'string', description: 'Show all events created since timestamp' },
  until: { type: 'string', valueName: 'string', description: 'Stream events until this timestamp' },
} as const satisfies OptionSpecs;

/** docker's `prettyPrintEvent`: one line, attributes sorted by key. */
export function formatEventLine(e: EventMessage): string {
  let line = '';
  if (e.timeNano !== undefined && e.timeNano !== 0n) line += `${formatRfc3339NanoFixed(e.timeNano)} `;
  else if (e.time !== undefined && e.time !== 0) line += `${formatRfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  line += `${e.Type} ${e.Action} ${e.Actor.ID}`;
  const attrs = e.Actor.Attributes ?? {};
  const keys = Object.keys(attrs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${line}\n`;
}

/** docker's `events.Message` as a template value: Go field names, JSON in the struct's field order. */
export function eventContext(e: EventMessage): TemplateObject {
  const attributes = e.Actor.Attributes;
  const actorJson = () => `{"ID":${goJsonString(e.Actor.ID, false)},"Attributes":${goJson(attributes, false)}}`;
  const actor = new TemplateObject(
    'events.Actor',
    { ID: () => e.Actor.ID, Attributes: () => attributes ?? {} },
    { json: actorJson, print: () => `{${e.Actor.ID} ${goPrintMap(attributes)}}` },
  );
  const timeNano = e.timeNano ?? 0n;
  const json = () => {
    const parts: string[] = [];
    const str = (k: string, v: string | undefined) => {
      if (v) parts.push(`"${k}":${goJsonString(v, false)}`);
    };
    str('status', e.status);
    str('id', e.id);
    str('from', e.from);
    parts.push(`"Type":${goJsonString(e.Type ?? '', false)}`, `"Action":${goJsonString(e.Action ?? '', false)}`, `"Actor":${actorJson()}`);
    str('scope', e.scope);
    if (e.time) parts.push(`"time":${e.time}`);
    if (timeNano !== 0n) parts.push(`"timeNano":${timeNano}`);
    return `{${parts.join(',')}}`;
  };
  return new TemplateObject(
    '*events.Message',
    {
      Status: () => e.status ?? '',
      ID: () => e.id ?? '',
      From: () => e.from ?? '',
      Type: () => e.Type ?? '',
      Action: () => e.Action ?? '',
      Actor: () => actor,
      Scope: () => e.scope ?? '',
      Time: () => e.time ?? 0,
      TimeNano: () => timeNano,
    },
    {
      json,
      print: () =>
        `{${e.status ?? ''} ${e.id ?? ''} ${e.from ?? ''} ${e.Type ?? ''} ${e.Action ?? ''} {${e.Actor.ID} ${goPrintMap(attributes)}} ${e.scope ?? ''} ${e.time ?? 0} ${timeNano}}`,
    },
  );
}

function goPrintMap(m: Record<string, string> | null): string {
  if (m === null) return 'map[]';
  return `map[${Object.keys(m).sort().map((k) => `${k}:${m[k]}`).join(' ')}]`;
}

/** docker's `makeTemplate`: `json` is `{{json .}}`; the template is tried on an empty message first. */
export function makeEventTemplate(format: string): Template | undefined {
  if (format === '') return undefined;
  const tmpl = Template.parse(format === 'json' ? '{{json .}}' : format);
  tmpl.execute(eventContext({ Type: '', Action: '', Actor: { ID: '', Attributes: null } }));
  return tmpl;
}

function timestampFlag(value: string | undefined, nowMs: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return getTimestamp(value, nowMs);
  } catch (err) {
    // a value error, not a usage error: docker exits 1
    throw new Error((err as Error).message);
  }
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Get real time events from the server',
  usage: '[OPTIONS]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length > 0) throw new UsageError('"brig events" accepts no arguments.');
    let tmpl: Template | undefined;
    try {
      tmpl = makeEventTemplate(values.format ?? '');
    } catch (err) {
      await write(ctx.stderr, `Error parsing format: ${(err as Error).message}\n`);
      return 64;
    }
    const filters = parseFilters(values.filter);
    const since = timestampFlag(values.since, ctx.now());
    const until = timestampFlag(values.until, ctx.now());
    const events = ctx.client().events({
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(filters ? { filters } : {}),
    });
    for await (const e of events) {
      if (tmpl === undefined) {
        await write(ctx.stdout, formatEventLine(e));
        continue;
      }
      let text: string;
      try {
        text = tmpl.execute(eventContext(e));
      } catch (err) {
        await write(ctx.stdout, '\n');
        throw err;
      }
      await write(ctx.stdout, `${text}\n`);
    }
    return 0;
  },
};
