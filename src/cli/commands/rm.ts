/** `brig rm [-f] [-v] CONTAINER...` → `DELETE /containers/{name}?force=1&v=1`. */
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

const options = {
  force: { type: 'boolean', short: 'f', description: 'Force the removal of a running container (uses SIGKILL)' },
  volumes: { type: 'boolean', short: 'v', description: 'Remove anonymous volumes associated with the container' },
} as const satisfies OptionSpecs;

export const rmCommand: Command = {
  name: 'rm',
  summary: 'Remove one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig rm" requires at least 1 argument.');
    return forEachTarget(ctx, positionals, (name) =>
      ctx.client().removeContainer(name, { force: values.force === true, volumes: values.volumes === true }),
    );
  },
};
