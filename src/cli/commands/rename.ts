/**
 * `brig rename CONTAINER NEW_NAME`. Like docker, a refused rename prints the daemon's error and then
 * `Error: failed to rename container named OLD`, exit 1; names are trimmed and must not be empty.
 */
import { isApiError } from '../../client/api-error.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

export const renameCommand: Command = {
  name: 'rename',
  summary: 'Rename a container',
  usage: 'CONTAINER NEW_NAME',
  options: {},
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs({}, args);
    if (positionals.length !== 2) throw new UsageError('"brig rename" requires exactly 2 arguments.');
    const oldName = positionals[0]!.trim();
    const newName = positionals[1]!.trim();
    if (oldName === '' || newName === '') {
      await write(ctx.stderr, 'Error: Neither old nor new names may be empty\n');
      return 1;
    }
    try {
      await ctx.client().renameContainer(oldName, newName);
    } catch (err) {
      if (!isApiError(err)) throw err;
      await write(ctx.stderr, `Error response from daemon: ${err.message}\nError: failed to rename container named ${oldName}\n`);
      return 1;
    }
    return 0;
  },
};
