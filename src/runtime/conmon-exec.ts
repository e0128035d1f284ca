/**
 * `docker exec` sessions through conmon (`conmon -e --exec-attach`), with the three-pipe protocol of
 * conmon 2.1.6 (`src/conmon.c`) that Podman uses (`libpod/oci_conmon_exec_common.go`):
 *
 *   fd 3 sync    conmon → us: `{"data": <pid>}` once `runc exec` succeeded (or `{"data": -1,
 *                "message": "<runc stderr>"}`), then `{"data": <exit code>}` when the process ended.
 *   fd 4 start   us → conmon: byte 1 lets conmon fork away from us (after a cgroup move, if any);
 *                byte 2 (with `--exec-attach`) lets its child run `runc exec`.
 *   fd 5 attach  conmon → us: `{"data": 0}` once the attach socket exists and listens.
 *
 * So the order is: spawn → start byte 1 → attach message → connect to `<dir>/attach` → start byte 2 →
 * pid → output → conmon closes the attach connection → exit code. Until byte 2 nothing runs, so a
 * client connected in between sees every byte of output. Closing the start pipe instead of writing
 * byte 2 would *also* let the process run (conmon treats EOF like a byte), so a session that must
 * not run is aborted by killing conmon (its child dies by PDEATHSIG).
 *
 * Each session has its own directory `<execRoot>/<first 16 hex of the exec ID>/` holding
 * process.json, the attach socket, the ctl/winsz FIFOs, conmon's pid files, the exit file (named
 * after the *container* ID, hence a directory per session) and a size-capped CRI log of the output.
 * The directory goes when the session is cleaned up; directories left by an earlier daemon process
 * are swept once, before the first session, unless their conmon still runs.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { mkdirPrivate } from '../util/fs.js';
import { spawnConmon } from './conmon-spawn.js';
import type { ExecTask, ExecTaskOptions, TaskStdio } from './runtime.js';
import { TaskCreateError } from './runtime.js';

/** sun_path is 108 bytes including the terminating NUL. */
const SUN_PATH_MAX = 107;
/** The session's CRI log is truncated by conmon whenever it would grow past this (the run root is RAM). */
const EXEC_LOG_MAX = 1024 * 1024;
/** Exit code reported when conmon vanished without telling one. */
export const UNKNOWN_EXIT_CODE = 255;

export interface ConmonExecOptions {
  conmon: string;
  runc: string;
  runcRoot: string;
  /** Parent of the session directories, e.g. `<runRoot>/exec`. */
  execRoot: string;
  /** Connects to an attach socket (`connectConmonSocket`). */
  connect(path: string): Promise<TaskStdio>;
}

/** One message of conmon's sync or attach pipe. */
export interface ConmonMessage {
  data: number;
  message?: string;
}

/** Parses one line conmon wrote to a pipe (`{"data": 123}` or `{"data": -1, "message": "…"}`); undefined if malformed. */
export function parseConmonMessage(line: string): ConmonMessage | undefined {
  try {
    const v = JSON.parse(line) as { data?: unknown; message?: unknown };
    if (typeof v.data !== 'number' || !Number.isInteger(v.data)) return undefined;
    return typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data };
  } catch {
    return undefined;
  }
}

/** The session directory of an exec (short, so the attach socket path fits sun_path). */
export function execDir(execRoot: string, execId: string): string {
  return join(execRoot, execId.slice(0, 16));
}

/** conmon's command line for one exec session in `dir`. */
export function conmonExecArgs(o: Pick<ConmonExecOptions, 'runc' | 'runcRoot'>, t: Pick<ExecTaskOptions, 'containerId' | 'execId' | 'terminal' | 'stdin'>, dir: string): string[] {
  const args = [
    '--api-version', '1',
    '-c', t.containerId,
    '-u', t.execId,
    '-n', t.containerId,
    '-r', o.runc,
    '--runtime-arg', '--root', '--runtime-arg', o.runcRoot,
    '-b', dir,
    '-p', join(dir, 'exec.pid'),
    '-P', join(dir, 'conmon.pid'),
    '--exit-dir', dir,
    '--full-attach',
    '-l', `k8s-file:${join(dir, 'exec.log')}`,
    '--log-size-max', String(EXEC_LOG_MAX),
    '--log-level', 'error',
    '--no-sync-log',
    '-e', '--exec-attach',
    '--exec-process-spec', join(dir, 'process.json'),
  ];
  if (t.terminal) args.push('-t');
  else if (t.stdin) args.push('-i');
  return args;
}

/** Splits a byte stream into lines; `next()` resolves with the next line, or undefined at EOF. */
class LineReader {
  readonly #lines: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  #buf = '';
  #ended = false;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      this.#buf += d;
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        this.#push(this.#buf.slice(0, nl));
        this.#buf = this.#buf.slice(nl + 1);
      }
    });
    const end = () => {
      if (this.#ended) return;
      if (this.#buf.length > 0) this.#push(this.#buf);
      this.#buf = '';
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  #push(line: string): void {
    const w = this.#waiters.shift();
    if (w) w(line);
    else this.#lines.push(line);
  }

  next(): Promise<string | undefined> {
    if (this.#lines.length > 0) return Promise.resolve(this.#lines.shift());
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Runs exec sessions for one runtime; see the module comment. */
export class ConmonExecutor {
  readonly #o: ConmonExecOptions;
  #swept: Promise<void> | undefined;

  constructor(options: ConmonExecOptions) {
    this.#o = options;
  }

  /** Prepares a session: conmon is up, the attach socket listens (and is connected if asked), nothing runs yet. */
  async exec(t: ExecTaskOptions): Promise<ExecTask> {
    const o = this.#o;
    this.#swept ??= mkdirPrivate(o.execRoot).then(() => sweepStale(o.execRoot));
    await this.#swept;
    const dir = execDir(o.execRoot, t.execId);
    const socketPath = join(dir, 'attach');
    if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
      throw new TaskCreateError(`the exec attach socket path ${socketPath} is longer than ${SUN_PATH_MAX} bytes: use a shorter run root`);
    }
    await mkdir(dir, { mode: 0o700 });
    try {
      await writeFile(join(dir, 'process.json'), JSON.stringify(t.process), { mode: 0o600 });
      return await this.#spawn(t, dir, socketPath);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async #spawn(t: ExecTaskOptions, dir: string, socketPath: string): Promise<ExecTask> {
    const o = this.#o;
    const { child, exited, stderr } = spawnConmon(o.conmon, conmonExecArgs(o, t, dir), true);
    const pipes = child.stdio as unknown as (Readable & Writable)[];
    const syncPipe = pipes[3]!;
    const startPipe = pipes[4]!;
    const attachPipe = pipes[5]!;
    const sync = new LineReader(syncPipe);
    const attachMsg = new LineReader(attachPipe).next();
    for (const p of [syncPipe, startPipe, attachPipe]) p.on('error', () => {});
    const destroyPipes = () => {
      for (const p of [syncPipe, startPipe, attachPipe]) p.destroy();
      child.unref();
    };
    void exited.then(() => child.unref());

    const killConmon = async () => {
      const pid = Number((await readFile(join(dir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      destroyPipes();
    };

    startPipe.write(Buffer.from([0]));
    const ready = await attachMsg;
    if (ready === undefined || parseConmonMessage(ready) === undefined) {
      const exit = await exited;
      await killConmon();
      if (exit.error) throw new TaskCreateError(`starting conmon failed: ${exit.error.message}`);
      throw new TaskCreateError(`conmon exited (${exit.code}) before its exec attach socket was ready: ${stderr().trim() || ready || 'no output'}`);
    }
    attachPipe.destroy();

    let stdio: TaskStdio | undefined;
    if (t.attach) {
      try {
        stdio = await o.connect(socketPath);
      } catch (err) {
        await killConmon();
        throw new TaskCreateError(`cannot connect to the exec attach socket ${socketPath}: ${(err as Error).message}`);
      }
    }

    // conmon writes the pid line, then the exit line: queue both reads now, in that order.
    const pidLine = sync.next();
    const exitLine = sync.next();
    let startCalled = false;
    const start = async (): Promise<number> => {
      if (startCalled) throw new Error('exec session already started');
      startCalled = true;
      startPipe.end(Buffer.from([0]));
      const line = await pidLine;
      const msg = line === undefined ? undefined : parseConmonMessage(line);
      if (msg && msg.data > 0) return msg.data;
      throw new TaskCreateError(runtimeMessage(msg?.message ?? (stderr().trim() || `runtime exec failed (${line ?? 'no reply'})`)));
    };

    const exitCode = (async (): Promise<number> => {
      const first = await pidLine;
      const firstMsg = first === undefined ? undefined : parseConmonMessage(first);
      if (!firstMsg || firstMsg.data <= 0) return UNKNOWN_EXIT_CODE; // never ran (failed or aborted)
      const line = await exitLine;
      const msg = line === undefined ? undefined : parseConmonMessage(line);
      if (msg && msg.data >= 0 && msg.message === undefined) return msg.data;
      // conmon died before telling: its exit file, if it got that far.
      const file = (await readFile(join(dir, t.containerId), 'utf8').catch(() => '')).trim();
      return /^[0-9]+$/.test(file) ? Number(file) : UNKNOWN_EXIT_CODE;
    })();
    void exitCode.then(destroyPipes);

    let cleaned = false;
    return {
      stdio,
      start,
      exited: exitCode,
      resize: (rows, cols) => (t.terminal ? writeCtl(join(dir, 'ctl'), `1 ${rows} ${cols}\n`) : Promise.resolve()),
      abort: async () => {
        if (startCalled) return;
        startCalled = true;
        stdio?.close();
        await killConmon();
      },
      cleanup: async () => {
        if (cleaned) return;
        cleaned = true;
        stdio?.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** runc's logrus line (`time="…" level=error msg="…"`) → its message. */
function runtimeMessage(text: string): string {
  const t = text.trim();
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(t);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : t;
}

/**
 * Writes a control message to conmon's ctl FIFO without blocking: opening a FIFO for writing waits
 * for a reader, and after conmon exits there is none (O_NONBLOCK makes that ENXIO instead).
 */
async function writeCtl(path: string, line: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return; // the session has ended: nothing to resize
  }
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}

/** Removes session directories whose conmon no longer runs (left by an earlier daemon process). */
async function sweepStale(execRoot: string): Promise<void> {
  for (const name of await readdir(execRoot).catch(() => [] as string[])) {
    const dir = join(execRoot, name);
    const pid = Number((await readFile(join(dir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 1 && (await isLiveConmon(pid))) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

async function isLiveConmon(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return stat.includes('(conmon)') && state !== '' && state !== 'Z';
}
