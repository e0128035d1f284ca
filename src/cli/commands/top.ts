/**
 * `brig top CONTAINER [ps OPTIONS]`: the container's processes as the daemon's `ps` lists them.
 * Everything after CONTAINER goes to `ps` (joined by spaces, as the docker CLI sends `ps_args`).
 * The table is Go's tabwriter with the docker CLI's settings for top (minwidth 20, padding 3).
 */
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {} as const satisfies OptionSpecs;

/** tabwriter(minwidth 20, padding 3): each column but the last padded to max(widest + 3, 20). */
export function formatTopTable(titles: readonly string[], processes: readonly (readonly string[])[]): string {
  const rows = [titles, ...processes];
  const columns = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    widths.push(Math.max(20, ...rows.map((r) => (c < r.length - 1 ? [...(r[c] ?? '')].length + 3 : 0))));
  }
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(widths[c]! - [...cell].length) : cell)).join(''))
    .map((line) => `${line}\n`)
    .join('');
}

export const topCommand: Command = {
  name: 'top',
  summary: 'Display the running processes of a container',
  usage: 'CONTAINER [ps OPTIONS]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs(options, args, { interspersed: false });
    if (positionals.length < 1) throw new UsageError('"brig top" requires at least 1 argument.');
    const [container, ...psArgs] = positionals as [string, ...string[]];
    const r = await ctx.client().containerTop(container, psArgs.join(' '));
    await write(ctx.stdout, formatTopTable(r.Titles, r.Processes ?? []));
    return 0;
  },
};
