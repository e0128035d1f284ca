/**
 * `brig export [-o FILE] CONTAINER`: the container's root filesystem as a tar, to FILE or to a
 * redirected stdout (never to a terminal). FILE is written under a temporary name in its directory
 * and renamed when complete, so a failed export leaves no partial tar behind.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';

const options = {
  output: { type: 'string', short: 'o', description: 'Write to a file, instead of STDOUT' },
} as const satisfies OptionSpecs;

export const exportCommand: Command = {
  name: 'export',
  summary: "Export a container's filesystem as a tar archive",
  usage: '[OPTIONS] CONTAINER',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length !== 1) throw new UsageError('"brig export" requires exactly 1 argument.');
    const out = values.output;
    if ((out === undefined || out === '') && ctx.stdout.isTTY === true) {
      throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const tar = await ctx.client().containerExport(positionals[0]!);
    if (out === undefined || out === '' || out === '-') {
      await pipeline(tar, ctx.stdout, { end: false });
      return 0;
    }
    const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await pipeline(tar, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, out);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return 0;
  },
};
