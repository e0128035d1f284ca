/** `brig ps`: the container table, column for column as `docker ps` prints it. */
import type { ContainerSummary } from '../../client/types.js';
import { shortId } from '../../util/ids.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { displayPorts, ellipsis, goQuote, shortImageId, timeAgo } from '../output/format.js';
import { formatTable } from '../output/table.js';

const options = {
  all: { type: 'boolean', short: 'a', description: 'Show all containers (default shows just running)' },
  quiet: { type: 'boolean', short: 'q', description: 'Only display container IDs' },
  'no-trunc': { type: 'boolean', description: "Don't truncate output" },
} as const satisfies OptionSpecs;

export interface PsFormatOptions {
  quiet?: boolean;
  noTrunc?: boolean;
  /** Current time in ms, for the CREATED column. */
  now: number;
}

/** Names without the leading `/`; truncated output drops link names (`/other/alias`), like docker. */
function names(c: ContainerSummary, noTrunc: boolean): string {
  const out: string[] = [];
  for (const n of c.Names ?? []) {
    const name = n.startsWith('/') ? n.slice(1) : n;
    if (noTrunc || !name.includes('/')) out.push(name);
  }
  return out.join(',');
}

export function formatPs(list: readonly ContainerSummary[], o: PsFormatOptions): string {
  const trunc = o.noTrunc !== true;
  if (o.quiet === true) return list.map((c) => `${trunc ? shortId(c.Id) : c.Id}\n`).join('');
  const rows = list.map((c) => [
    trunc ? shortId(c.Id) : c.Id,
    trunc ? shortImageId(c.Image) : c.Image,
    goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    timeAgo(c.Created, o.now),
    c.Status ?? '',
    displayPorts(c.Ports),
    names(c, !trunc),
  ]);
  return formatTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows);
}

export const psCommand: Command = {
  name: 'ps',
  summary: 'List containers',
  usage: '[OPTIONS]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length > 0) throw new UsageError('"brig ps" accepts no arguments.');
    const list = await ctx.client().listContainers({ all: values.all === true });
    await write(ctx.stdout, formatPs(list, { quiet: values.quiet === true, noTrunc: values['no-trunc'] === true, now: ctx.now() }));
    return 0;
  },
};
