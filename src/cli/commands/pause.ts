/** `brig pause CONTAINER...` and `brig unpause CONTAINER...` (the cgroup freezer, through the daemon). */
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

function freezeCommand(name: 'pause' | 'unpause', summary: string): Command {
  return {
    name,
    summary,
    usage: 'CONTAINER [CONTAINER...]',
    options: {},
    async run(ctx: CliContext, args: string[]): Promise<number> {
      const { positionals } = parseCommandArgs({}, args);
      if (positionals.length === 0) throw new UsageError(`"brig ${name}" requires at least 1 argument.`);
      const client = ctx.client();
      return forEachTarget(ctx, positionals, (target) =>
        name === 'pause' ? client.pauseContainer(target) : client.unpauseContainer(target),
      );
    },
  };
}

export const pauseCommand = freezeCommand('pause', 'Pause all processes within one or more containers');
export const unpauseCommand = freezeCommand('unpause', 'Unpause all processes within one or more containers');
