/**
 * `brig run`: create → (attach) → wait → start, in exactly the docker CLI's order.
 *
 * The wait is registered (its response headers are back) before `start` is sent, so a container
 * that exits at once cannot lose its exit status; with `--rm` the wait is `condition=removed`, so
 * `run` returns only once the daemon has removed the container. Exit codes follow docker: the
 * container's status, 125 when brig or the daemon fails, 126/127 when the command cannot be
 * invoked or found.
 */
import { Writable } from 'node:stream';
import { isApiError } from '../../client/api-error.js';
import type { ContainerWait } from '../../client/client.js';
import { awaitAttached, forwardSignals, openAttachSession, type AttachSession } from '../attach.js';
import { write, type CliContext, type CliOutput, type Command } from '../command.js';
import { createPullingImage } from './registry.js';
import { buildCreateBody, parseContainerArgs, runOptions, type ContainerFlags } from './container-flags.js';

export {
  buildCreateBody, compactJson, parseSecurityOpts, resolveEnv, runOptions, type CreateBodyOptions,
} from './container-flags.js';

/** Everything `run` needs from its command line (the flags it shares with `create`, plus -d/--detach-keys/--sig-proxy). */
export type RunFlags = ContainerFlags;

/**
 * Parses `brig run` arguments. Flags end at IMAGE (or at `--`); everything after IMAGE is the
 * container's command line. Throws UsageError (exit 125, as docker) or HelpRequested.
 */
export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv = {}, readFile?: (path: string) => Buffer): RunFlags {
  return parseContainerArgs('run', args, { env, ...(readFile ? { readFile } : {}) });
}

/** The terminal size docker sends as `ConsoleSize` when stdout is a terminal (with or without -t). */
export function terminalSize(stdout: CliOutput): [number, number] {
  return stdout.isTTY === true ? [stdout.rows ?? 0, stdout.columns ?? 0] : [0, 0];
}

/** docker's `toStatusError`: the exit code for a failed start. */
export function startErrorExitCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

async function runError(ctx: CliContext, err: unknown): Promise<void> {
  const text = isApiError(err) ? `Error response from daemon: ${err.message}` : (err as Error).message;
  await write(ctx.stderr, `brig: ${text}\n\nRun 'brig run --help' for more information\n`);
}

/** Where output of a stream that is not attached would go (the daemon sends none). */
function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}

async function runContainer(ctx: CliContext, args: string[]): Promise<number> {
  const f = parseRunArgs(args, ctx.env);
  // docker reports this one as a plain error (exit 1), not as a usage error
  if (f.detach && f.attach.length > 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
  const body = buildCreateBody(f, { consoleSize: terminalSize(ctx.stdout) });
  const client = ctx.client();
  // docker: run attaches when any stream is (`-a` picks them; none with -d)
  const attachStdin = body.AttachStdin === true;
  const attachStdout = body.AttachStdout === true;
  const attachStderr = body.AttachStderr === true;
  const attach = attachStdin || attachStdout || attachStderr;
  if (attach && attachStdin && f.tty && ctx.stdin.isTTY !== true) {
    await write(ctx.stderr, 'brig: the input device is not a TTY\n');
    return 1;
  }

  let id: string;
  try {
    const created = await createPullingImage(ctx, body, f.name, f.pull);
    id = created.Id;
    for (const w of created.Warnings ?? []) await write(ctx.stderr, `WARNING: ${w}\n`);
  } catch (err) {
    await runError(ctx, err);
    return 125;
  }

  let session: AttachSession | undefined;
  let wait: ContainerWait;
  try {
    if (attach) {
      session = await openAttachSession(client, id, {
        tty: f.tty, stdin: attachStdin, stdout: attachStdout, stderr: attachStderr, detachKeys: f.detachKeys, input: ctx.stdin,
        out: attachStdout || (f.tty && attachStderr) ? ctx.stdout : discard(),
        err: attachStderr ? ctx.stderr : discard(),
      });
    }
    wait = await client.waitContainer(id, f.rm ? 'removed' : 'next-exit');
  } catch (err) {
    session?.close();
    await runError(ctx, err);
    return 125;
  }

  const stopForwarding = attach && f.sigProxy ? forwardSignals(client, id, ctx.signals) : () => {};
  try {
    try {
      await client.startContainer(id);
    } catch (err) {
      session?.close();
      // with --rm the daemon removes the container after a failed start; docker waits for that
      if (f.rm) await wait.result.catch(() => undefined);
      else wait.cancel();
      await runError(ctx, err);
      return isApiError(err) ? startErrorExitCode(err.message) : 125;
    }

    if (!attach || session === undefined) {
      wait.cancel();
      await write(ctx.stdout, `${id}\n`);
      return 0;
    }

    return await awaitAttached(client, id, session, wait, f.tty, ctx.stdout, ctx.stderr);
  } finally {
    stopForwarding();
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Create and run a new container from an image',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  options: runOptions,
  usageExitCode: 125,
  run: runContainer,
};
