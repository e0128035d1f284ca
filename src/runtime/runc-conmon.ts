/**
 * `Runtime` implemented with conmon as the per-task supervisor and runc as the OCI runtime, with the
 * protocol recorded in shared/docs/platform.md §1: conmon gets a sync pipe (fd 3) and a start pipe
 * (fd 4), runs `runc create`, reports the pid (or runc's error) on the sync pipe, keeps the task's
 * stdio, writes the CRI log and finally the exit code into `<runRoot>/exits/<id>`.
 *
 * Directories (under the run root, a tmpfs that dies with the machine, like the tasks):
 *   runc/        runc --root
 *   exits/<id>   exit codes written by conmon
 *   s/<uuid>     conmon's short symlink to the bundle, so the attach socket path stays < 108 bytes
 *   exec/<id16>/ one directory per exec session (conmon-exec.ts)
 */
import { spawnConmon } from './conmon-spawn.js';
import { constants as fsConstants, watch, type FSWatcher } from 'node:fs';
import { access, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SeqpacketConnection } from '../native/seqpacket.js';
import { execFileResult } from '../util/exec.js';
import { mkdirPrivate } from '../util/fs.js';
import { ConmonExecutor } from './conmon-exec.js';
import type { CreateTaskOptions, ExecTask, ExecTaskOptions, Runtime, TaskResources, TaskState, TaskStatus, TaskStdio } from './runtime.js';
import { TaskCreateError } from './runtime.js';

export interface RuncConmonOptions {
  runRoot: string;
  runcPath?: string;
  conmonPath?: string;
}

/** conmon's attach socket messages: first byte = stream (2 stdout, 3 stderr), then the payload. */
const STREAM_STDOUT = 2;
const STREAM_STDERR = 3;
/** conmon's receive buffer for attach-socket messages (CONN_SOCK_BUF_SIZE); longer ones are cut. */
const STDIN_MESSAGE_MAX = 32 * 1024;

export class RuncConmonRuntime implements Runtime {
  readonly name = 'runc';
  readonly #runc: string;
  readonly #conmon: string;
  readonly #runcRoot: string;
  readonly #exitDir: string;
  readonly #socketDir: string;
  readonly #execs: ConmonExecutor;
  #watcher: FSWatcher | undefined;
  #onExit: (id: string, code: number) => void = () => {};
  readonly #reported = new Set<string>();

  constructor(options: RuncConmonOptions) {
    this.#runc = options.runcPath ?? '/usr/sbin/runc';
    this.#conmon = options.conmonPath ?? '/usr/bin/conmon';
    this.#runcRoot = join(options.runRoot, 'runc');
    this.#exitDir = join(options.runRoot, 'exits');
    this.#socketDir = join(options.runRoot, 's');
    this.#execs = new ConmonExecutor({
      conmon: this.#conmon, runc: this.#runc, runcRoot: this.#runcRoot, execRoot: join(options.runRoot, 'exec'), connect: connectConmonSocket,
    });
  }

  get runcRoot(): string {
    return this.#runcRoot;
  }

  async init(onExit: (id: string, exitCode: number) => void): Promise<void> {
    this.#onExit = onExit;
    await mkdirPrivate(this.#runcRoot);
    await mkdirPrivate(this.#exitDir);
    await mkdirPrivate(this.#socketDir);
    this.#watcher = watch(this.#exitDir, (_event, file) => {
      if (file) void this.#checkExit(file.toString());
    });
    this.#watcher.on('error', () => {});
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Reports an exit once per exit file (fs.watch may fire several events for one write). */
  async #checkExit(id: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(id) || this.#reported.has(id)) return;
    const code = await this.exitCode(id);
    if (code === undefined || this.#reported.has(id)) return;
    this.#reported.add(id);
    this.#onExit(id, code);
  }

  async create(o: CreateTaskOptions): Promise<{ pid: number }> {
    const args = [
      '--api-version', '1',
      '-c', o.id,
      '-u', o.id.slice(0, 16),
      '-n', o.id,
      '-r', this.#runc,
      '--runtime-arg', '--root', '--runtime-arg', this.#runcRoot,
      '-b', o.bundle,
      '-p', join(o.bundle, 'pidfile'),
      '-P', join(o.bundle, 'conmon.pid'),
      '--exit-dir', this.#exitDir,
      '--socket-dir-path', this.#socketDir,
      '-l', `k8s-file:${o.logPath}`,
      '--log-level', 'error',
      '--no-sync-log',
    ];
    if (o.terminal) args.push('-t');
    else if (o.stdin) args.push('-i');
    if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');

    this.#reported.delete(o.id);
    await rm(join(this.#exitDir, o.id), { force: true });
    const { child, exited, stderr } = spawnConmon(this.#conmon, args);
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const start = child.stdio[4] as NodeJS.WritableStream;
    const line = new Promise<string | undefined>((resolve) => {
      let buf = '';
      sync.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      sync.on('end', () => resolve(buf.length > 0 ? buf : undefined));
      sync.on('error', () => resolve(undefined));
    });
    start.end(Buffer.from([0]));
    const first = await line;
    sync.destroy();
    const exit = await exited;
    child.unref();
    if (exit.error) throw new TaskCreateError(`starting conmon failed: ${exit.error.message}`);
    if (first === undefined) {
      throw new TaskCreateError(`conmon exited (${exit.code}) without reporting: ${stderr().trim() || 'no output'}`);
    }
    let parsed: { data?: number; message?: string };
    try {
      parsed = JSON.parse(first) as { data?: number; message?: string };
    } catch {
      throw new TaskCreateError(`conmon sent an unreadable reply: ${first}`);
    }
    if (typeof parsed.data !== 'number' || parsed.data <= 0) {
      await this.delete(o.id, true).catch(() => {});
      throw new TaskCreateError(cleanRuncMessage(parsed.message ?? `runtime create failed (${parsed.data})`));
    }
    if (o.terminal && o.consoleSize && o.consoleSize[0] > 0 && o.consoleSize[1] > 0) {
      await this.resize(o.bundle, o.consoleSize[0], o.consoleSize[1]).catch(() => {});
    }
    return { pid: parsed.data };
  }

  async start(id: string): Promise<void> {
    await this.#runcChecked(['start', id]);
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.#runcChecked(all ? ['kill', '--all', id, String(signal)] : ['kill', id, String(signal)]);
  }

  async delete(id: string, force = false): Promise<void> {
    await rm(join(this.#socketDir, id.slice(0, 16)), { force: true });
    // No runc state dir: nothing to delete (saves a runc process on every removal).
    if (!(await exists(join(this.#runcRoot, id)))) return;
    const r = await this.#runc_(force ? ['delete', '--force', id] : ['delete', id]);
    if (r.code !== 0 && !/does not exist|not exist|container .* not found/i.test(r.stderr)) {
      throw new Error(`runc delete ${id}: ${cleanRuncMessage(r.stderr)}`);
    }
  }

  async state(id: string): Promise<TaskState | undefined> {
    const r = await this.#runc_(['state', id]);
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { status: TaskStatus; pid: number };
    return { status: s.status, pid: s.pid };
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.#runcRoot)).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  async exitCode(id: string): Promise<number | undefined> {
    try {
      const text = (await readFile(join(this.#exitDir, id), 'utf8')).trim();
      if (text === '') return undefined;
      const n = Number(text);
      return Number.isInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  async exitTime(id: string): Promise<string | undefined> {
    try {
      return (await stat(join(this.#exitDir, id))).mtime.toISOString();
    } catch {
      return undefined;
    }
  }

  async clearExit(id: string): Promise<void> {
    this.#reported.delete(id);
    await rm(join(this.#exitDir, id), { force: true });
  }

  attach(id: string, _bundle: string): Promise<TaskStdio> {
    return connectConmonSocket(this.attachSocketPath(id));
  }

  /** Path of a task's attach socket (through conmon's short symlink, so it fits sun_path). */
  attachSocketPath(id: string): string {
    return join(this.#socketDir, id.slice(0, 16), 'attach');
  }

  async resize(bundle: string, rows: number, cols: number): Promise<void> {
    // A task that has just exited has nothing left to resize (its exit is being handled).
    await writeCtl(bundle, `1 ${rows} ${cols}\n`);
  }

  /**
   * Asks the task's conmon to reopen its log file (after log rotation renamed it): conmon closes
   * the old file and creates a new, empty one at the log path (platform.md §1.5). Resolves false
   * when no conmon reads the ctl FIFO any more (the task has ended).
   */
  reopenLog(bundle: string): Promise<boolean> {
    return writeCtl(bundle, '2 0 0\n');
  }

  /** exec sessions: see conmon-exec.ts (`<runRoot>/exec/<session>/`). */
  exec(options: ExecTaskOptions): Promise<ExecTask> {
    return this.#execs.exec(options);
  }

  async pause(id: string): Promise<void> {
    await this.#runcChecked(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.#runcChecked(['resume', id]);
  }

  async update(id: string, r: TaskResources): Promise<void> {
    const args = ['update'];
    if (r.memory > 0) args.push('--memory', String(r.memory));
    if (r.memorySwap !== 0) args.push('--memory-swap', String(r.memorySwap));
    if (r.cpuShares > 0) args.push('--cpu-share', String(r.cpuShares));
    if (r.nanoCpus > 0) args.push('--cpu-period', '100000', '--cpu-quota', String(Math.round(r.nanoCpus / 10_000)));
    else {
      if (r.cpuPeriod > 0) args.push('--cpu-period', String(r.cpuPeriod));
      if (r.cpuQuota !== 0) args.push('--cpu-quota', String(r.cpuQuota));
    }
    if (r.pidsLimit !== null && r.pidsLimit !== 0) args.push('--pids-limit', String(r.pidsLimit));
    if (args.length === 1) return;
    await this.#runcChecked([...args, id]);
  }

  #runc_(args: string[]) {
    return execFileResult(this.#runc, ['--root', this.#runcRoot, ...args], { timeoutMs: 30_000 });
  }

  async #runcChecked(args: string[]): Promise<void> {
    const r = await this.#runc_(args);
    if (r.code !== 0) throw new Error(cleanRuncMessage(r.stderr || r.stdout || `runc ${args[0]} failed`));
  }
}

/**
 * Writes one message to conmon's ctl FIFO (`<bundle>/ctl`). Returns false when no conmon reads it
 * any more. The open is non-blocking: opening a FIFO for writing waits for a reader, and after
 * conmon has exited there is none, so a plain open would hang one of libuv's few threadpool
 * threads for good (and the request with it: a resize racing the exit of a short-lived container
 * kept `docker run -it` from ever exiting).
 */
async function writeCtl(bundle: string, line: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(join(bundle, 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw err;
  }
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
  return true;
}

/** Turns runc's logrus line (`time="…" level=error msg="…"`) into its message. */
export function cleanRuncMessage(text: string): string {
  const t = text.trim();
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(t);
  if (!m) return t;
  return m[1]!.replace(/\\(.)/g, '$1');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Connects to a conmon attach socket (SOCK_SEQPACKET: 1 byte stream id + payload per message) and
 * exposes it as TaskStdio. Used for containers and exec sessions alike.
 */
export async function connectConmonSocket(path: string): Promise<TaskStdio> {
  const conn = await SeqpacketConnection.connect(path);
  const out: ((b: Buffer) => void)[] = [];
  const err: ((b: Buffer) => void)[] = [];
  const ends: (() => void)[] = [];
  let ended = false;
  let stdinEnded = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    for (const cb of ends) cb();
  };
  conn.on('message', (msg) => {
    if (msg.length < 1) return;
    const payload = msg.subarray(1);
    if (msg[0] === STREAM_STDOUT) for (const cb of out) cb(payload);
    else if (msg[0] === STREAM_STDERR) for (const cb of err) cb(payload);
  });
  conn.on('end', finish);
  conn.on('close', finish);
  conn.on('error', finish);
  return {
    onStdout: (cb) => out.push(cb),
    onStderr: (cb) => err.push(cb),
    onEnd: (cb) => (ended ? queueMicrotask(cb) : ends.push(cb)),
    writeStdin: (chunk) => {
      if (ended || stdinEnded) return;
      // conmon reads each message into a 32 KiB buffer and drops the rest of a longer one.
      for (let off = 0; off < chunk.length; off += STDIN_MESSAGE_MAX) conn.write(chunk.subarray(off, off + STDIN_MESSAGE_MAX));
    },
    endStdin: () => {
      if (ended || stdinEnded) return;
      stdinEnded = true;
      conn.shutdownWrite();
    },
    close: () => {
      conn.close();
      finish();
    },
  };
}
