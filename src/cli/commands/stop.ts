/** `brig stop [-t N] CONTAINER...`: 304 (already stopped) counts as success, as in docker. */
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

const options = {
  time: { type: 'string', short: 't', valueName: 'int', description: 'Seconds to wait before killing the container' },
} as const satisfies OptionSpecs;

export const stopCommand: Command = {
  name: 'stop',
  summary: 'Stop one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig stop" requires at least 1 argument.');
    const t = intFlag('time', values.time);
    return forEachTarget(ctx, positionals, (name) => ctx.client().stopContainer(name, t));
  },
};
