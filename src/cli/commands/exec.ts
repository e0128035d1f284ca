/**
 * `brig exec [-d] [-i] [-t] [-u USER] [-w DIR] [-e K=V] [--privileged] CONTAINER COMMAND [ARG...]`,
 * in the docker CLI's order: create the exec, start it (hijacked, or `Detach` with `-d`), send the
 * terminal size right after the upgrade with `-t`, then read the exit code with `GET /exec/{id}/json`
 * once the stream has ended. The exit code of `brig exec` is the command's.
 */
import type { EngineClient, ExecCreateRequest } from '../../client/client.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { AttachSession } from '../attach.js';
import { UsageError, write, type CliContext, type CliOutput, type Command } from '../command.js';
import { resolveEnv } from './run.js';

export const execOptions = {
  detach: { type: 'boolean', short: 'd', description: 'Detached mode: run command in the background' },
  'detach-keys': { type: 'string', description: 'Override the key sequence for detaching a container' },
  env: { type: 'string', short: 'e', multiple: true, description: 'Set environment variables' },
  interactive: { type: 'boolean', short: 'i', description: 'Keep STDIN open even if not attached' },
  privileged: { type: 'boolean', description: 'Give extended privileges to the command' },
  tty: { type: 'boolean', short: 't', description: 'Allocate a pseudo-TTY' },
  user: { type: 'string', short: 'u', description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
  workdir: { type: 'string', short: 'w', description: 'Working directory inside the container' },
} as const satisfies OptionSpecs;

export interface ExecFlags {
  container: string;
  cmd: string[];
  detach: boolean;
  detachKeys: string;
  env: string[];
  interactive: boolean;
  privileged: boolean;
  tty: boolean;
  user: string;
  workdir: string;
}

/** Parses `brig exec` arguments; flags end at CONTAINER (everything after it is the command). */
export function parseExecArgs(args: string[], env: NodeJS.ProcessEnv = {}): ExecFlags {
  const { values: v, positionals } = parseCommandArgs(execOptions, args, { interspersed: false });
  const [container, ...cmd] = positionals;
  if (container === undefined || cmd.length === 0) throw new UsageError('"brig exec" requires at least 2 arguments.');
  return {
    container,
    cmd,
    detach: v.detach === true,
    detachKeys: v['detach-keys'] ?? '',
    env: (v.env ?? []).map((e) => resolveEnv(e, env)),
    interactive: v.interactive === true,
    privileged: v.privileged === true,
    tty: v.tty === true,
    user: v.user ?? '',
    workdir: v.workdir ?? '',
  };
}

/** The `POST /containers/{id}/exec` body the docker CLI sends for these flags. */
export function buildExecCreateBody(f: ExecFlags, consoleSize: [number, number] | null = null): ExecCreateRequest {
  return {
    User: f.user,
    Privileged: f.privileged,
    Tty: f.tty,
    ...(consoleSize ? { ConsoleSize: consoleSize } : {}),
    AttachStdin: f.interactive && !f.detach,
    AttachStderr: !f.detach,
    AttachStdout: !f.detach,
    Detach: f.detach,
    DetachKeys: f.detachKeys,
    Env: f.env.length > 0 ? f.env : null,
    WorkingDir: f.workdir,
    Cmd: f.cmd,
  };
}

/** Sends the terminal size now and on every `resize`; returns the function that stops it. */
function monitorExecTtySize(client: EngineClient, id: string, stdout: CliOutput): () => void {
  const send = () => {
    const h = stdout.rows ?? 0;
    const w = stdout.columns ?? 0;
    if (h > 0 && w > 0) client.execResize(id, h, w).catch(() => {});
  };
  send();
  stdout.on('resize', send);
  return () => stdout.off('resize', send);
}

async function runExec(ctx: CliContext, args: string[]): Promise<number> {
  const f = parseExecArgs(args, ctx.env);
  if (f.tty && f.interactive && !f.detach && ctx.stdin.isTTY !== true) {
    await write(ctx.stderr, 'brig: the input device is not a TTY\n');
    return 1;
  }
  const client = ctx.client();
  const useTerminalSize = f.tty && ctx.stdout.isTTY === true;
  const size: [number, number] | null = useTerminalSize ? [ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0] : null;
  const id = await client.execCreate(f.container, buildExecCreateBody(f, size));
  if (f.detach) {
    await client.execStart(id, { detach: true, tty: f.tty });
    return 0;
  }
  const socket = await client.execStart(id, { tty: f.tty });
  const session = new AttachSession({ socket, tty: f.tty, stdin: f.interactive, input: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
  const stopResize = useTerminalSize ? monitorExecTtySize(client, id, ctx.stdout) : () => {};
  let end;
  try {
    end = await session.done;
  } finally {
    stopResize();
    session.close();
  }
  if (end.kind === 'detached') return 0;
  if (end.kind === 'error') {
    await write(ctx.stderr, `brig: ${end.error.message}\n`);
    return 1;
  }
  const inspect = await client.execInspect(id);
  return inspect.ExitCode ?? 0;
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'Execute a command in a running container',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  options: execOptions,
  run: runExec,
};
