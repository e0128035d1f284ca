/**
 * `brig logs [-f] [-t] [-n N] [--since T] [--until T] CONTAINER`: inspects the container first (for
 * its full ID and `Config.Tty`, as docker does), then copies the log stream, demultiplexed unless
 * it has a TTY. `--since`/`--until` take what docker takes (`10m`, RFC 3339, Unix seconds) and are
 * sent in docker's form (`since=1700000000.000000000`). `--details` is refused: brig's log driver
 * records no extra attributes to show.
 */
import { pipeline } from 'node:stream/promises';
import { demuxStream } from '../../client/stdcopy.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { getTimestamp } from '../timestamp.js';

const options = {
  details: { type: 'boolean', description: 'Show extra details provided to logs (not supported by brig)' },
  follow: { type: 'boolean', short: 'f', description: 'Follow log output' },
  since: {
    type: 'string',
    valueName: 'string',
    description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
  },
  timestamps: { type: 'boolean', short: 't', description: 'Show timestamps' },
  tail: { type: 'string', short: 'n', valueName: 'string', description: 'Number of lines to show from the end of the logs (default "all")' },
  until: {
    type: 'string',
    valueName: 'string',
    description: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
  },
} as const satisfies OptionSpecs;

/** A `--since`/`--until` value in the form docker sends; an Error in docker's words (exit 1, as docker). */
export function logTimestamp(name: 'since' | 'until', value: string | undefined, nowMs: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return getTimestamp(value, nowMs);
  } catch (err) {
    throw new Error(`invalid value for "${name}": ${(err as Error).message}`);
  }
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'Fetch the logs of a container',
  usage: '[OPTIONS] CONTAINER',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length !== 1) throw new UsageError('"brig logs" requires exactly 1 argument.');
    const tail = values.tail ?? 'all';
    if (tail !== 'all' && !/^-?[0-9]+$/.test(tail)) throw new UsageError(`invalid value for --tail: ${JSON.stringify(tail)}`);
    if (values.details === true) {
      throw new UsageError('--details is not supported: brig\'s log driver records no extra attributes (labels, env) with each line');
    }
    const since = logTimestamp('since', values.since, ctx.now());
    const until = logTimestamp('until', values.until, ctx.now());
    const client = ctx.client();
    const container = await client.inspectContainer(positionals[0]!);
    const stream = await client.containerLogs(container.Id, {
      follow: values.follow === true,
      stdout: true,
      stderr: true,
      timestamps: values.timestamps === true,
      tail,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
    });
    if (container.Config?.Tty === true) await pipeline(stream, ctx.stdout, { end: false });
    else await demuxStream(stream, ctx.stdout, ctx.stderr);
    return 0;
  },
};
