/**
 * Local image commands, printing what the docker CLI prints: `brig tag`, `brig rmi`, `brig history`,
 * `brig save`, `brig load`, `brig image prune` and `brig system df`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { isApiError } from '../../client/api-error.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { HelpRequested, UsageError, write, type CliContext, type Command } from '../command.js';
import { parseFilters } from '../filters.js';
import { ellipsis, humanSize, shortImageId, timeAgo } from '../output/format.js';
import { formatTable } from '../output/table.js';

const none = {} as const satisfies OptionSpecs;

/** `REPO[:TAG]` split at the last `:` after the last `/`. */
function splitTarget(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}

export const tagCommand: Command = {
  name: 'tag',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  options: none,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs(none, args);
    if (positionals.length !== 2) throw new UsageError('"brig tag" requires exactly 2 arguments.');
    const [repo, tag] = splitTarget(positionals[1]!);
    await ctx.client().tagImage(positionals[0]!, repo, tag);
    return 0;
  },
};

const rmiOptions = {
  force: { type: 'boolean', short: 'f', description: 'Force removal of the image' },
  'no-prune': { type: 'boolean', description: 'Do not delete untagged parents' },
} as const satisfies OptionSpecs;

export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'Remove one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  options: rmiOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(rmiOptions, args);
    if (positionals.length === 0) throw new UsageError('"brig rmi" requires at least 1 argument.');
    const errors: string[] = [];
    for (const name of positionals) {
      try {
        const items = await ctx.client().removeImage(name, { force: values.force === true, noPrune: values['no-prune'] === true });
        for (const item of items) await write(ctx.stdout, 'Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${item.Deleted}\n`);
      } catch (err) {
        if (!isApiError(err)) throw err;
        errors.push(`Error response from daemon: ${err.message}\n`);
      }
    }
    for (const e of errors) await write(ctx.stderr, e);
    return errors.length > 0 ? 1 : 0;
  },
};

const historyOptions = {
  'no-trunc': { type: 'boolean', description: "Don't truncate output" },
  quiet: { type: 'boolean', short: 'q', description: 'Only show image IDs' },
} as const satisfies OptionSpecs;

export const historyCommand: Command = {
  name: 'history',
  summary: 'Show the history of an image',
  usage: '[OPTIONS] IMAGE',
  options: historyOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(historyOptions, args);
    if (positionals.length !== 1) throw new UsageError('"brig history" requires exactly 1 argument.');
    const noTrunc = values['no-trunc'] === true;
    const items = await ctx.client().imageHistory(positionals[0]!);
    const id = (i: string) => (i === '<missing>' || noTrunc ? i : shortImageId(i));
    if (values.quiet === true) {
      await write(ctx.stdout, items.map((h) => `${id(h.Id)}\n`).join(''));
      return 0;
    }
    const rows = items.map((h) => [
      id(h.Id), timeAgo(h.Created, ctx.now()), noTrunc ? h.CreatedBy : ellipsis(h.CreatedBy.replace(/\t/g, ' '), 45), humanSize(h.Size), h.Comment,
    ]);
    await write(ctx.stdout, formatTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows));
    return 0;
  },
};

const saveOptions = { output: { type: 'string', short: 'o', valueName: 'string', description: 'Write to a file, instead of STDOUT' } } as const satisfies OptionSpecs;

export const saveCommand: Command = {
  name: 'save',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  options: saveOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(saveOptions, args);
    if (positionals.length === 0) throw new UsageError('"brig save" requires at least 1 argument.');
    if (values.output === undefined && ctx.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const tar = await ctx.client().saveImages(positionals);
    // Like docker, -o writes to a file that only appears complete: a failure removes it.
    await pipeline(tar, values.output === undefined ? ctx.stdout : createWriteStream(values.output, { mode: 0o600 }));
    return 0;
  },
};

const loadOptions = {
  input: { type: 'string', short: 'i', valueName: 'string', description: 'Read from tar archive file, instead of STDIN' },
  quiet: { type: 'boolean', short: 'q', description: 'Suppress the load output' },
} as const satisfies OptionSpecs;

export const loadCommand: Command = {
  name: 'load',
  summary: 'Load an image from a tar archive or STDIN',
  usage: '[OPTIONS]',
  options: loadOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(loadOptions, args);
    if (positionals.length > 0) throw new UsageError('"brig load" accepts no arguments.');
    if (values.input === undefined && (ctx.stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError('requested load from stdin, but stdin is empty');
    }
    const source = values.input === undefined ? ctx.stdin : createReadStream(values.input);
    for await (const line of ctx.client().loadImages(source, { quiet: values.quiet === true })) await write(ctx.stdout, line);
    return 0;
  },
};

const pruneOptions = {
  all: { type: 'boolean', short: 'a', description: 'Remove all unused images, not just dangling ones' },
  force: { type: 'boolean', short: 'f', description: 'Do not prompt for confirmation' },
  filter: { type: 'string', multiple: true, valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
} as const satisfies OptionSpecs;

/** Docker's `[y/N]` prompt; true on y or yes. */
export async function confirm(ctx: CliContext, warning: string): Promise<boolean> {
  await write(ctx.stdout, `${warning}\nAre you sure you want to continue? [y/N] `);
  for await (const chunk of ctx.stdin) {
    const answer = String(chunk).split('\n')[0]!.trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  }
  return false;
}

/** `brig image prune`. */
export async function imagePrune(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(pruneOptions, args);
  if (positionals.length > 0) throw new UsageError('"brig image prune" accepts no arguments.');
  const filters = parseFilters(values.filter) ?? {};
  if (values.all === true) filters['dangling'] = { false: true };
  const warning = values.all === true
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  if (values.force !== true && !(await confirm(ctx, warning))) return 0;
  const r = await ctx.client().pruneImages({ filters });
  let out = '';
  if (r.ImagesDeleted?.length) {
    out += 'Deleted Images:\n';
    for (const i of r.ImagesDeleted) out += i.Untagged !== undefined ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`;
    out += '\n';
  }
  await write(ctx.stdout, `${out}Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
  return 0;
}

/** Docker's RECLAIMABLE column: size and percentage (`1.2MB (100%)`), go-units `HumanSize` (4 digits). */
function reclaimable(size: number, total: number): string {
  if (total <= 0) return humanSize(size, 4);
  return `${humanSize(size, 4)} (${Math.trunc((size * 100) / total)}%)`;
}

export const systemCommand: Command = {
  name: 'system',
  summary: 'Manage brig (df: show disk usage)',
  usage: 'COMMAND',
  options: none,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === 'help') throw new HelpRequested();
    if (sub !== 'df') throw new UsageError(`unknown command "${sub}" for "brig system"`);
    parseCommandArgs(none, rest);
    const df = await ctx.client().systemDf();
    const images = df.Images;
    const activeImages = images.filter((i) => (i.Containers ?? 0) > 0);
    const imagesSize = df.LayersSize;
    // docker's formula: what active images use exclusively is not reclaimable
    const used = activeImages.reduce((n, i) => n + (i.Size - (i.SharedSize ?? 0)), 0);
    const imagesReclaim = imagesSize - used;
    const ctrs = df.Containers;
    const running = ctrs.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting');
    const ctrSize = ctrs.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    const ctrReclaim = ctrs.filter((c) => !running.includes(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    await write(ctx.stdout, formatTable(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], [
      ['Images', String(images.length), String(activeImages.length), humanSize(imagesSize, 4), reclaimable(Math.max(0, imagesReclaim), imagesSize)],
      ['Containers', String(ctrs.length), String(running.length), humanSize(ctrSize, 4), reclaimable(ctrReclaim, ctrSize)],
      ['Local Volumes', '0', '0', '0B', '0B'],
      ['Build Cache', '0', '0', '0B', '0B'],
    ]));
    return 0;
  },
};
