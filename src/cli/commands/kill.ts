/** `brig kill [-s SIGNAL] CONTAINER...`: the signal is sent as given; the daemon validates it. */
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

const options = {
  signal: { type: 'string', short: 's', description: 'Signal to send to the container (default KILL)' },
} as const satisfies OptionSpecs;

export const killCommand: Command = {
  name: 'kill',
  summary: 'Kill one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig kill" requires at least 1 argument.');
    return forEachTarget(ctx, positionals, (name) => ctx.client().killContainer(name, values.signal));
  },
};
