/** `brig images`: REPOSITORY TAG IMAGE ID CREATED SIZE, one row per tag, as `docker images` prints them. */
import type { ImageSummary } from '../../client/types.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { humanSize, shortImageId, timeAgo } from '../output/format.js';
import { formatTable } from '../output/table.js';

const options = {
  all: { type: 'boolean', short: 'a', description: 'Show all images (default hides intermediate images)' },
  quiet: { type: 'boolean', short: 'q', description: 'Only show image IDs' },
  'no-trunc': { type: 'boolean', description: "Don't truncate output" },
} as const satisfies OptionSpecs;

/** Splits `repo:tag` at the last `:` after the last `/` (a registry port is not a tag). */
export function splitRepoTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, '<none>'];
}

export interface ImagesFormatOptions {
  quiet?: boolean;
  noTrunc?: boolean;
  now: number;
}

export function formatImages(list: readonly ImageSummary[], o: ImagesFormatOptions): string {
  const id = (img: ImageSummary) => (o.noTrunc === true ? img.Id : shortImageId(img.Id));
  if (o.quiet === true) {
    // docker prints each image once with -q, even when it has several tags
    return [...new Set(list.map(id))].map((i) => `${i}\n`).join('');
  }
  const rows: string[][] = [];
  for (const img of list) {
    const tags = img.RepoTags && img.RepoTags.length > 0 ? img.RepoTags : ['<none>:<none>'];
    for (const ref of tags) {
      const [repo, tag] = ref === '<none>:<none>' ? ['<none>', '<none>'] : splitRepoTag(ref);
      rows.push([repo, tag, id(img), timeAgo(img.Created, o.now), humanSize(img.Size)]);
    }
  }
  return formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows);
}

export const imagesCommand: Command = {
  name: 'images',
  summary: 'List images',
  usage: '[OPTIONS]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length > 0) throw new UsageError('"brig images" accepts no arguments.');
    const list = await ctx.client().listImages({ all: values.all === true });
    await write(ctx.stdout, formatImages(list, { quiet: values.quiet === true, noTrunc: values['no-trunc'] === true, now: ctx.now() }));
    return 0;
  },
};
