/**
 * Starting a conmon process, shared by container create and exec: conmon gets its sync and start
 * pipes (and, for exec, an attach pipe) as fds 3, 4 (, 5) through the `_OCI_*PIPE` environment,
 * runs in its own process group so it outlives the daemon, and its stderr is kept (bounded) for
 * error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ConmonProcess {
  child: ChildProcess;
  /** Settles when the conmon process we started exits (it double-forks; the supervisor lives on). */
  exited: Promise<{ code: number | null; error?: Error }>;
  /** What conmon wrote to stderr so far (at most about 8 KiB). */
  stderr(): string;
}

/** Spawns `conmon` with `args`; `attachPipe` adds fd 5 as `_OCI_ATTACHPIPE`. */
export function spawnConmon(conmon: string, args: string[], attachPipe = false): ConmonProcess {
  const child = spawn(conmon, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', ...(attachPipe ? ['pipe' as const] : [])],
    env: {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      _OCI_SYNCPIPE: '3',
      _OCI_STARTPIPE: '4',
      ...(attachPipe ? { _OCI_ATTACHPIPE: '5' } : {}),
    },
    detached: true,
  });
  // Every listener goes on before the caller's first await: the first conmon process exits within ms.
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('exit', (code) => resolve({ code }));
    child.once('error', (error) => resolve({ code: null, error }));
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  return { child, exited, stderr: () => stderr };
}
