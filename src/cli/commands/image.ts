/**
 * `brig image builtin [--busybox PATH] [NAME[:TAG]]`: builds a busybox rootfs from the host's static
 * busybox in this process (streamed, no temp file) and imports it with `CMD ["sh"]`; prints the
 * image ID. The tar is reproducible, so the same busybox always gives the same image ID.
 */
import { formatOptions, parseCommandArgs, type OptionSpecs } from '../args.js';
import { busyboxRootfsTar } from '../busybox-rootfs.js';
import { HelpRequested, UsageError, write, type CliContext, type Command } from '../command.js';
import { imagePrune } from './image-local.js';

const builtinOptions = {
  busybox: { type: 'string', valueName: 'path', description: 'Static busybox binary to build from (default "/bin/busybox")' },
} as const satisfies OptionSpecs;

export const DEFAULT_BUILTIN_IMAGE = 'busybox:latest';

/** Adds `:latest` when the reference has no tag (a registry port is not a tag). */
export function withDefaultTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  return ref.lastIndexOf(':') > slash || ref.includes('@') ? ref : `${ref}:latest`;
}

async function builtin(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(builtinOptions, args);
  if (positionals.length > 1) throw new UsageError('"brig image builtin" accepts at most 1 argument.');
  const repo = withDefaultTag(positionals[0] ?? DEFAULT_BUILTIN_IMAGE);
  const id = await ctx.client().importImage(busyboxRootfsTar(values.busybox ?? '/bin/busybox'), {
    repo,
    changes: ['CMD ["sh"]'],
  });
  await write(ctx.stdout, `${id}\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, { summary: string; usage: string; options: OptionSpecs; run: typeof builtin }> = {
  builtin: {
    summary: 'Build a busybox image from the host\'s static busybox and import it (default busybox:latest)',
    usage: '[--busybox PATH] [NAME[:TAG]]',
    options: builtinOptions,
    run: builtin,
  },
  prune: {
    summary: 'Remove unused images',
    usage: '[-a] [-f] [--filter FILTER]',
    options: {},
    run: imagePrune,
  },
};

export function imageHelp(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)}${s.summary}`);
  const details = Object.entries(SUBCOMMANDS).map(
    ([name, s]) => `brig image ${name} ${s.usage}\n${formatOptions(s.options)}`,
  );
  return `Commands:\n${lines.join('\n')}\n\n${details.join('\n\n')}\n`;
}

export const imageCommand: Command = {
  name: 'image',
  summary: 'Manage images',
  usage: 'COMMAND',
  options: {},
  extraHelp: imageHelp,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === 'help') throw new HelpRequested();
    const command = SUBCOMMANDS[sub];
    if (command === undefined) throw new UsageError(`unknown command "${sub}" for "brig image"`);
    return command.run(ctx, rest);
  },
};
