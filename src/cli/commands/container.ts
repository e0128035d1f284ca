/**
 * `brig container COMMAND`: `prune` lives here; the other docker spellings (`container ls`,
 * `container attach`, `container restart`, …) run the top-level command of the same meaning.
 *
 * `container prune [-f] [--filter k=v]` asks docker's y/N question on stdout unless `-f`, reads one
 * line of stdin (anything but y/Y, or EOF, cancels quietly with exit 0), then prints
 * `Deleted Containers:` + IDs and `Total reclaimed space: …` like docker.
 */
import type { Readable } from 'node:stream';
import { formatOptions, parseCommandArgs, type OptionSpecs } from '../args.js';
import { HelpRequested, UsageError, write, type CliContext, type Command } from '../command.js';
import { parseFilters } from '../filters.js';
import { humanSize } from '../output/format.js';

const pruneOptions = {
  filter: { type: 'string', multiple: true, valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
  force: { type: 'boolean', short: 'f', description: 'Do not prompt for confirmation' },
} as const satisfies OptionSpecs;

export const PRUNE_WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';

/** Reads one line (without its newline) from `input`; resolves `undefined` at EOF with nothing read. */
export function readLine(input: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const finish = (value: string | undefined) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      input.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (nl !== -1) finish(text.slice(0, nl).replace(/\r$/, ''));
    };
    const onEnd = () => finish(text === '' ? undefined : text);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onEnd);
    input.resume();
  });
}

async function prune(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(pruneOptions, args);
  if (positionals.length > 0) throw new UsageError('"brig container prune" accepts no arguments.');
  const filters = parseFilters(values.filter, '--filter');
  if (values.force !== true) {
    await write(ctx.stdout, PRUNE_WARNING);
    const answer = await readLine(ctx.stdin);
    if (answer === undefined || answer.trim().toLowerCase() !== 'y') return 0;
  }
  const report = await ctx.client().pruneContainers(filters ? { filters } : {});
  let out = '';
  const deleted = report.ContainersDeleted ?? [];
  if (deleted.length > 0) out += `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(deleted.length > 0 ? report.SpaceReclaimed : 0)}\n`;
  await write(ctx.stdout, out);
  return 0;
}

const SUBCOMMANDS: Record<string, { summary: string; usage: string; options: OptionSpecs; run: typeof prune }> = {
  prune: { summary: 'Remove all stopped containers', usage: '[OPTIONS]', options: pruneOptions, run: prune },
};

/** docker's `container <verb>` spellings → brig's top-level command names. */
const ALIASES: Record<string, string> = { ls: 'ps', list: 'ps', remove: 'rm' };

/** The verbs `brig container` passes on to top-level commands. */
const PASSED_ON = [
  'attach', 'create', 'diff', 'exec', 'export', 'inspect', 'kill', 'logs', 'pause', 'port', 'ps', 'rename', 'restart', 'rm', 'run', 'start',
  'stats', 'stop', 'top', 'unpause', 'update', 'wait',
];

/**
 * `lookup` finds a top-level command by name (main's `findCommand`; injected to avoid an import
 * cycle). Verbs of commands that are not installed are refused as unknown.
 */
export function makeContainerCommand(lookup: (name: string) => Command | undefined): Command {
  const help = () => {
    const own = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)}${s.summary}`);
    const passed = [...PASSED_ON, ...Object.keys(ALIASES)]
      .sort()
      .map((v) => [v, lookup(ALIASES[v] ?? v)] as const)
      .filter(([, c]) => c !== undefined)
      .map(([v, c]) => `  ${v.padEnd(10)}${c!.summary}`);
    const details = Object.entries(SUBCOMMANDS).map(([name, s]) => `brig container ${name} ${s.usage}\n${formatOptions(s.options)}`);
    return `Commands:\n${[...own, ...passed].sort().join('\n')}\n\n${details.join('\n\n')}\n`;
  };
  return {
    name: 'container',
    summary: 'Manage containers',
    usage: 'COMMAND',
    options: {},
    extraHelp: help,
    async run(ctx: CliContext, args: string[]): Promise<number> {
      const [sub, ...rest] = args;
      if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') throw new HelpRequested();
      const own = SUBCOMMANDS[sub];
      if (own !== undefined) return own.run(ctx, rest);
      const target = PASSED_ON.includes(ALIASES[sub] ?? sub) ? lookup(ALIASES[sub] ?? sub) : undefined;
      if (target === undefined) throw new UsageError(`unknown command "${sub}" for "brig container"`);
      return target.run(ctx, rest);
    },
  };
}
