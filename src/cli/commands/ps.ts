/**
 * `brig ps`: the container list as `docker ps` prints it: the default table, `-q`, `--format`
 * (`table …`, `json`, `raw` or a Go template over docker's container context), `-s`, `-n`/`-l`
 * and `--filter` (sent as the JSON map form).
 */
import type { ContainerSummary } from '../../client/types.js';
import { shortId } from '../../util/ids.js';
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { parseFilters } from '../filters.js';
import { displayPorts, ellipsis, goQuote, humanSize, shortImageId, timeAgo } from '../output/format.js';
import { tabwrite } from '../output/tabwriter.js';
import { HEADER_FUNCTIONS, Template, TemplateError, TemplateObject, goJson } from '../output/template.js';
import { goTimeString } from '../timestamp.js';

const options = {
  all: { type: 'boolean', short: 'a', description: 'Show all containers (default shows just running)' },
  filter: { type: 'string', short: 'f', multiple: true, valueName: 'filter', description: 'Filter output based on conditions provided' },
  format: {
    type: 'string',
    valueName: 'string',
    description: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE' (a Go template)",
  },
  last: { type: 'string', short: 'n', valueName: 'int', description: 'Show n last created containers (includes all states) (default -1)' },
  latest: { type: 'boolean', short: 'l', description: 'Show the latest created container (includes all states)' },
  'no-trunc': { type: 'boolean', description: "Don't truncate output" },
  quiet: { type: 'boolean', short: 'q', description: 'Only display container IDs' },
  size: { type: 'boolean', short: 's', description: 'Display total file sizes' },
} as const satisfies OptionSpecs;

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const QUIET = '{{.ID}}';
const RAW = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;

/** docker's `NewContainerFormat`: the template for a `--format` value. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === '' || source === 'table') return quiet ? QUIET : size ? `${DEFAULT_TABLE}\t{{.Size}}` : DEFAULT_TABLE;
  if (source === 'raw') return quiet ? 'container_id: {{.ID}}' : size ? `${RAW}size: {{.Size}}\\n` : RAW;
  return quiet ? QUIET : source;
}

/** docker's `stringid.TruncateID`: drops an algorithm prefix, keeps 12 characters. */
function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/** The IMAGE column: the short ID when the container was created from an ID, else the familiar reference without digest. */
function imageColumn(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (!trunc) return c.Image;
  if (c.ImageID && truncateId(c.ImageID) === truncateId(c.Image)) return truncateId(c.Image);
  if (c.Image.startsWith('sha256:')) return shortImageId(c.Image);
  return c.Image.replace(/@.*$/, '').replace(/^docker\.io\/(library\/)?/, '');
}

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

/** docker's `SubHeaderContext`: column names, and `.Label "a.b-c"` → `b c`. */
const HEADER_CONTEXT = new TemplateObject(
  'formatter.SubHeaderContext',
  {
    ...Object.fromEntries(Object.entries(HEADERS).map(([k, v]) => [k, () => v])),
    Label: (name: string) => (name.split('.').pop() ?? '').replace(/[-_]/g, ' '),
  },
  { missingAsNoValue: true },
);

export interface ContainerContextOptions {
  trunc: boolean;
  now: number;
  /** Called when the template reads `.Size` (docker then asks the daemon for sizes). */
  onSize?: () => void;
}

/** docker's `formatter.ContainerContext` for one container: what `--format` templates can read. */
export function containerContext(c: ContainerSummary, o: ContainerContextOptions): TemplateObject {
  const fields = {
    Command: () => goQuote(o.trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: () => goTimeString(c.Created ?? 0),
    ID: () => (o.trunc ? shortId(c.Id ?? '') : (c.Id ?? '')),
    Image: () => imageColumn(c, o.trunc),
    Labels: () => Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: () =>
      (c.Mounts ?? [])
        .map((m) => {
          const name = m.Name ? m.Name : (m.Source ?? '');
          return o.trunc ? ellipsis(name, 15) : name;
        })
        .join(','),
    Names: () => {
      let names = (c.Names ?? []).map((n) => n.slice(1));
      if (o.trunc) {
        const plain = names.find((n) => !n.includes('/'));
        if (plain !== undefined) names = [plain];
      }
      return names.join(',');
    },
    Networks: () => Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    Platform: () => null,
    Ports: () => displayPorts(c.Ports),
    RunningFor: () => timeAgo(c.Created ?? 0, o.now),
    Size: () => {
      o.onSize?.();
      const rw = humanSize(c.SizeRw ?? 0);
      return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(c.SizeRootFs!)})` : rw;
    },
    State: () => c.State ?? '',
    Status: () => c.Status ?? '',
  };
  return new TemplateObject(
    '*formatter.ContainerContext',
    { ...fields, Label: (name: string) => c.Labels?.[name] ?? '' },
    {
      // json.Marshal of the context: every method without arguments, keys sorted, HTML escaped
      json: () => goJson(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f()])), true),
    },
  );
}

/**
 * docker's `formatter.Context.Write` for containers: `table …` gets a header row and tabwriter
 * alignment, `json` is `{{json .}}`, anything else is a template printed once per container.
 * Throws TemplateError (`template parsing error: …`).
 */
export function renderContainers(list: readonly ContainerSummary[], format: string, o: { trunc: boolean; now: number }): string {
  const isTable = format.startsWith('table');
  let final = isTable ? format.slice('table'.length) : format === 'json' ? '{{json .}}' : format;
  final = final.replace(/^ +| +$/g, '').replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  let tmpl: Template;
  let body = '';
  try {
    tmpl = Template.parse(final);
    for (const c of list) body += `${tmpl.execute(containerContext(c, o))}\n`;
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`);
    throw err;
  }
  if (!isTable) return body;
  let header = '';
  try {
    header = tmpl.execute(HEADER_CONTEXT, HEADER_FUNCTIONS);
  } catch {
    // docker ignores header errors (the header is whatever was written before the failure)
  }
  return tabwrite(`${header}\n${body}`);
}

/**
 * Checks a `--format` value the way docker does before listing (parse, then run on an empty
 * container), and reports whether the template reads `.Size`.
 */
export function checkFormat(format: string): { usesSize: boolean } {
  let tmpl: Template;
  try {
    tmpl = Template.parse(format);
  } catch (err) {
    throw new TemplateError(`failed to parse template: ${(err as Error).message}`);
  }
  let usesSize = false;
  const empty: ContainerSummary = { Id: '', Names: [], Image: '', Command: '', Created: 0, State: '', Status: '' };
  try {
    tmpl.execute(containerContext(empty, { trunc: false, now: Date.now(), onSize: () => (usesSize = true) }));
  } catch (err) {
    throw new TemplateError(`failed to execute template: ${(err as Error).message}`);
  }
  return { usesSize };
}

export interface PsFormatOptions {
  quiet?: boolean;
  noTrunc?: boolean;
  size?: boolean;
  /** `--format`; default the table. */
  format?: string;
  /** Current time in ms, for the CREATED column. */
  now: number;
}

export function formatPs(list: readonly ContainerSummary[], o: PsFormatOptions): string {
  return renderContainers(list, containerFormat(o.format ?? '', o.quiet === true, o.size === true), {
    trunc: o.noTrunc !== true,
    now: o.now,
  });
}

export const psCommand: Command = {
  name: 'ps',
  summary: 'List containers',
  usage: '[OPTIONS]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(options, args);
    if (positionals.length > 0) throw new UsageError('"brig ps" accepts no arguments.');
    const format = v.format ?? '';
    const quiet = v.quiet === true;
    if (format !== '' && quiet) await write(ctx.stderr, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    const filters = parseFilters(v.filter);
    const last = intFlag('last', v.last) ?? -1;
    let limit = last;
    if (v.latest === true && last === -1) limit = 1;
    let size = v.size === true;
    if (format !== '') {
      const { usesSize } = checkFormat(format);
      if (!quiet && !size && usesSize) size = true;
    }
    const list = await ctx.client().listContainers({
      all: v.all === true,
      ...(limit > 0 ? { limit } : {}),
      size,
      ...(filters ? { filters } : {}),
    });
    await write(ctx.stdout, formatPs(list, { quiet, noTrunc: v['no-trunc'] === true, size, format, now: ctx.now() }));
    return 0;
  },
};
