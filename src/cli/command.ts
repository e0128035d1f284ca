/**
 * The shape of a `brig` command (pnpm's command-module idea): a name, a one-line summary, a usage
 * line, its flags, and `run(ctx, args)` resolving to the exit code. Commands reach the daemon only
 * through `ctx.client()`, and the terminal only through `ctx`, so tests can drive them with fakes.
 */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../client/client.js';
import type { OptionSpecs } from './args.js';

/** stdin as the CLI needs it: a TTY one can be put in raw mode. */
export type CliInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
/** stdout as the CLI needs it: a TTY one has a size and emits `resize`. */
export type CliOutput = Writable & { isTTY?: boolean; columns?: number; rows?: number };

export interface CliIo {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Where SIGINT/SIGTERM/… arrive (`process` in real use). */
  signals: EventEmitter;
}

export interface CliContext extends CliIo {
  /** The client for the selected daemon socket, created on first use. */
  client(): EngineClient;
  /** Current time in ms (injectable for output tests). */
  now(): number;
}

export interface Command {
  name: string;
  aliases?: readonly string[];
  summary: string;
  /** e.g. `[OPTIONS] CONTAINER [CONTAINER...]` */
  usage: string;
  options: OptionSpecs;
  /** Exit code on a flag error (docker: 125 for `run`, usually 1; brig uses 2 unless it mirrors docker). */
  usageExitCode?: number;
  /** Text appended to the generated help (subcommands, examples). */
  extraHelp?: () => string;
  run(ctx: CliContext, args: string[]): Promise<number>;
}

/** A command-line mistake: printed with a pointer to `--help`, exit code 2 unless the command says otherwise. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by a command's parser when `--help` was given; main prints the help and exits 0. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

/** Writes and resolves once the data is handed to the OS (or buffered within limits). */
export function write(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
