/** `brig diff CONTAINER`: the changed paths of a container's file system, `A`dded, `C`hanged or `D`eleted. */
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {} as const satisfies OptionSpecs;
const KINDS = ['C', 'A', 'D'];

export const diffCommand: Command = {
  name: 'diff',
  summary: "Inspect changes to files or directories on a container's filesystem",
  usage: 'CONTAINER',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs(options, args);
    if (positionals.length !== 1) throw new UsageError('"brig diff" requires exactly 1 argument.');
    const changes = await ctx.client().containerChanges(positionals[0]!);
    await write(ctx.stdout, changes.map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
    return 0;
  },
};
