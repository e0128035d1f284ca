/** `brig start CONTAINER...` (detached; 304 when already running counts as success). */
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

const options = {} as const satisfies OptionSpecs;

export const startCommand: Command = {
  name: 'start',
  summary: 'Start one or more stopped containers',
  usage: 'CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig start" requires at least 1 argument.');
    return forEachTarget(ctx, positionals, (name) => ctx.client().startContainer(name));
  },
};
