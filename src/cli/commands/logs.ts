/**
 * `brig logs [-f] [-t] [-n N] CONTAINER`: inspects the container first (for its full ID and
 * `Config.Tty`, as docker does), then copies the log stream, demultiplexed unless it has a TTY.
 */
import { pipeline } from 'node:stream/promises';
import { demuxStream } from '../../client/stdcopy.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';

const options = {
  follow: { type: 'boolean', short: 'f', description: 'Follow log output' },
  timestamps: { type: 'boolean', short: 't', description: 'Show timestamps' },
  tail: { type: 'string', short: 'n', valueName: 'string', description: 'Number of lines to show from the end of the logs (default "all")' },
} as const satisfies OptionSpecs;

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
    const client = ctx.client();
    const container = await client.inspectContainer(positionals[0]!);
    const stream = await client.containerLogs(container.Id, {
      follow: values.follow === true,
      stdout: true,
      stderr: true,
      timestamps: values.timestamps === true,
      tail,
    });
    if (container.Config?.Tty === true) await pipeline(stream, ctx.stdout, { end: false });
    else await demuxStream(stream, ctx.stdout, ctx.stderr);
    return 0;
  },
};
