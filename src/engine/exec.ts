/**
 * Exec sessions (`docker exec`): create a record, start it (attached or detached), resize its
 * terminal, inspect it. A session runs inside a running container with that container's own
 * security profile, read back from the container's config.json: the same capability sets,
 * no-new-privileges, rlimits and LSM label; runc applies the container's seccomp filter, cgroup and
 * namespaces to every exec by itself. An exec never gets more than its container, with one
 * exception that must be asked for:
 *
 * `Privileged: true` gives the exec the privileged capability set, i.e. the daemon's bounding set
 * (what `--privileged` gives a container; Docker gives a privileged exec every capability). It
 * stays inside everything else the container allows: the container's seccomp filter (brig's
 * default profile keeps blocking mount, unshare, bpf… unless the container itself was created
 * privileged or unconfined), its no-new-privileges flag, device cgroup, masked /proc paths and
 * read-only /sys. So the capabilities are granted, but what they can reach is still the
 * container's to decide.
 *
 * Records: created → running → exited (or created → exited when the start fails). Like Docker, an
 * exec record stays inspectable until its container is removed; at most
 * MAX_RECORDS_PER_CONTAINER are kept per container (the oldest that does not run is dropped).
 * The session's files go as soon as its process has ended. A container that stops takes its
 * execs with it (they share its PID namespace; brig also kills any still reported running).
 *
 * Docker's stdin rules for exec: a non-TTY session closes the process's stdin when the client's
 * input ends; a TTY session only ends the client's session then (the detach keys do the same).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, errors } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import type { ExecTask, Runtime, TaskStdio } from '../runtime/runtime.js';
import { TaskCreateError } from '../runtime/runtime.js';
import { resolveCapabilities } from '../security/capabilities.js';
import type { OciProcess } from '../spec/oci.js';
import { resolveUser, type ResolvedUser } from '../spec/user.js';
import { newId } from '../util/ids.js';
import { DetachDetector, parseDetachKeys, type AttachHandle, type AttachSink } from './attach-hub.js';
import { processEnv } from './bundle.js';
import type { ContainerService } from './containers.js';

/** Exec records kept per container; the oldest that is not running is dropped beyond this. */
export const MAX_RECORDS_PER_CONTAINER = 256;
/** How long output may still arrive after the exit code before an attached session is ended anyway. */
const OUTPUT_GRACE_MS = 2000;

/** What the client asked for (`POST /containers/{id}/exec`), validated at the edge. */
export interface ExecConfig {
  cmd: string[];
  /** `KEY=VALUE` set, or a bare `KEY` that removes the variable. */
  env: string[];
  /** `--user`; empty = the container's user. */
  user: string;
  /** Empty = the container's working directory. */
  workingDir: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  privileged: boolean;
  /** Docker's detach-key syntax; empty = the default (ctrl-p,ctrl-q). */
  detachKeys: string;
  /** [height, width] for a TTY, if the client sent one. */
  consoleSize: [number, number] | null;
}

export type ExecStatus = 'created' | 'starting' | 'running' | 'exited';

/** An exec session as inspect shows it. */
export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  /** The user the process runs as, as given (the container's when the exec named none). */
  user: string;
  status: ExecStatus;
  /** Null until the process has ended. */
  exitCode: number | null;
  /** Host pid; 0 until started. */
  pid: number;
}

export interface ExecStartOptions {
  /** Run without a client: the call returns once the process runs. */
  detach: boolean;
  /** Receives the output and `end()` (attached sessions only); ends after the exit code is recorded. */
  sink?: AttachSink;
  /** [height, width] from the start request (overrides create's). */
  consoleSize?: [number, number];
}

interface Entry {
  rec: ExecRecord;
  created: number;
  task?: ExecTask;
  /** /proc start time of `pid`, so a recycled pid is never signalled. */
  startTime?: string;
  size?: [number, number];
}

export interface ExecServiceOptions {
  /** The daemon's capability bounding set (what a privileged exec gets). */
  hostBounding: string[];
  compat: 'brig' | 'docker';
}

export class ExecService {
  readonly #entries = new Map<string, Entry>();
  readonly #byContainer = new Map<string, Set<string>>();

  private readonly containers: ContainerService;
  private readonly runtime: Runtime;
  private readonly options: ExecServiceOptions;

  constructor(containers: ContainerService, runtime: Runtime, options: ExecServiceOptions) {
    this.containers = containers;
    this.runtime = runtime;
    this.options = options;
    containers.listen({
      exited: (c) => this.#killAll(c.id),
      removed: (c) => this.#forget(c.id),
    });
  }

  /**
   * Registers an exec in a running container; returns its ID.
   * @throws ERR_NO_SUCH_CONTAINER; ERR_CONTAINER_NOT_RUNNING (409) unless the container runs;
   *   ERR_INVALID_ARGUMENT for an empty command, bad detach keys or an unknown user.
   */
  async create(ref: string, config: ExecConfig): Promise<string> {
    const c = this.containers.get(ref);
    assertRunning(c);
    if (config.cmd.length === 0 || config.cmd[0] === '') throw errors.invalid('No exec command specified');
    if (config.detachKeys !== '') parseDetachKeys(config.detachKeys);
    if (config.user !== '') await resolveUser(join(this.containers.containerDir(c.id), 'merged'), config.user);
    const id = newId();
    const rec: ExecRecord = {
      id, containerId: c.id, config, user: config.user || c.spec.user, status: 'created', exitCode: null, pid: 0,
    };
    this.#entries.set(id, { rec, created: Date.now(), ...(config.consoleSize ? { size: config.consoleSize } : {}) });
    let set = this.#byContainer.get(c.id);
    if (!set) this.#byContainer.set(c.id, (set = new Set()));
    set.add(id);
    this.#evict(set);
    this.containers.event(c, `exec_create: ${commandText(config.cmd)}`, { execID: id });
    return id;
  }

  /** The record of an exec; throws ERR_NO_SUCH_EXEC (404). */
  inspect(id: string): ExecRecord {
    return { ...this.#entry(id).rec };
  }

  /** IDs of the container's execs that have not ended (Docker's inspect `ExecIDs`). */
  idsOf(containerId: string): string[] {
    const ids = [...(this.#byContainer.get(containerId) ?? [])];
    return ids.filter((id) => this.#entries.get(id)?.rec.status !== 'exited');
  }

  /**
   * Checks that `id` can be started (before a caller takes over its connection).
   * @throws ERR_NO_SUCH_EXEC; ERR_CONFLICT if it ran or runs; ERR_CONTAINER_NOT_RUNNING.
   */
  checkStartable(id: string): ExecRecord {
    const { rec } = this.#entry(id);
    if (rec.status === 'exited') throw errors.conflict(`exec command ${id} has already run`);
    if (rec.status !== 'created') throw errors.conflict(`exec command ${id} is already running`);
    assertRunning(this.containers.get(rec.containerId));
    return { ...rec };
  }

  /**
   * Runs the exec. Detached: resolves once the process runs. Attached: the sink is connected before
   * the process runs (no output is lost) and the returned handle carries the client's input; the
   * sink ends after the exit code is recorded.
   * @throws as `checkStartable`; ERR_START_FAILED when the runtime cannot run the command (the
   *   record then holds Docker's exit code: 127 not found, 126 not executable, 128 otherwise).
   */
  async start(id: string, options: ExecStartOptions): Promise<AttachHandle | undefined> {
    this.checkStartable(id);
    const entry = this.#entry(id);
    const { rec } = entry;
    if (!options.detach && !options.sink) throw errors.invalid('an attached exec start needs a sink');
    if (options.consoleSize) entry.size = options.consoleSize;
    rec.status = 'starting';
    try {
      return await this.#start(entry, options);
    } catch (err) {
      rec.status = 'exited';
      if (rec.exitCode === null) rec.exitCode = err instanceof EngineError && err.code === 'ERR_START_FAILED' ? execFailureCode(err.message) : 126;
      throw err;
    }
  }

  async #start(entry: Entry, options: ExecStartOptions): Promise<AttachHandle | undefined> {
    const { rec } = entry;
    // The container's state and bundle are read under its lock (no start/stop/remove half-way
    // through); the session itself is set up outside it, so execs do not queue behind each other.
    // A container that stops meanwhile makes the runtime fail the exec (its namespaces are gone).
    const { c, proc } = await this.containers.withLock(rec.containerId, async () => {
      const cur = this.containers.get(rec.containerId);
      assertRunning(cur);
      return { c: cur, proc: await this.#processSpec(cur, rec, entry.size ?? null) };
    });
    this.containers.event(c, `exec_start: ${commandText(rec.config.cmd)}`, { execID: rec.id });
    const attached = !options.detach;
    const task = await this.runtime.exec({
      containerId: c.id,
      execId: rec.id,
      process: proc,
      terminal: rec.config.tty,
      stdin: attached && rec.config.attachStdin && !rec.config.tty,
      attach: attached,
    }).catch((err: unknown) => {
      throw err instanceof TaskCreateError ? new EngineError('ERR_START_FAILED', err.message, { cause: err }) : err;
    });
    let session: Session | undefined;
    let pid: number;
    try {
      if (attached) session = new Session(rec, task.stdio!, options.sink!, () => this.containers.event(c, 'exec_detach', { execID: rec.id }));
      pid = await task.start();
    } catch (err) {
      session?.release(); // the caller reports the failure on the client's stream, then ends it
      await task.abort();
      await task.cleanup();
      if (err instanceof TaskCreateError) throw new EngineError('ERR_START_FAILED', `OCI runtime exec failed: ${err.message}`, { cause: err });
      throw err;
    }
    rec.pid = pid;
    rec.status = 'running';
    entry.task = task;
    entry.startTime = await procStartTime(pid);
    if (rec.config.tty && entry.size) await task.resize(entry.size[0], entry.size[1]).catch(() => {});
    void task.exited.then(async (code) => {
      // Recorded before the client's stream ends: the docker CLI reads the exit code right after.
      rec.exitCode = code;
      rec.status = 'exited';
      entry.task = undefined;
      this.containers.event(c, 'exec_die', { execID: rec.id, exitCode: String(code) });
      await session?.finish();
      await task.cleanup().catch(() => {});
    });
    return session?.handle;
  }

  /** Resizes an exec's terminal; a size sent before the start is applied when it starts. */
  async resize(id: string, rows: number, cols: number): Promise<void> {
    const entry = this.#entry(id);
    if (!entry.rec.config.tty) return;
    entry.size = [rows, cols];
    if (entry.rec.status === 'running' && entry.task) await entry.task.resize(rows, cols);
  }

  /** Builds process.json: the container's process with this exec's command, env, cwd, user and terminal. */
  async #processSpec(c: ContainerRecord, rec: ExecRecord, size: [number, number] | null): Promise<OciProcess> {
    const dir = this.containers.containerDir(c.id);
    let base: OciProcess;
    try {
      base = (JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { process: OciProcess }).process;
    } catch (err) {
      throw errors.internal(`cannot read the runtime spec of container ${c.id}: ${(err as Error).message}`, err);
    }
    const user = rec.config.user === '' ? undefined : await resolveUser(join(dir, 'merged'), rec.config.user);
    const hostname = c.spec.hostname || c.id.slice(0, 12);
    return buildExecProcess({
      base,
      args: rec.config.cmd,
      env: mergeExecEnv(processEnv({ ...c.spec, tty: rec.config.tty }, hostname), rec.config.env),
      cwd: rec.config.workingDir,
      user,
      terminal: rec.config.tty,
      consoleSize: size,
      privilegedCapabilities: rec.config.privileged
        ? resolveCapabilities({ compat: this.options.compat, capAdd: [], capDrop: [], privileged: true, hostBounding: this.options.hostBounding })
        : null,
    });
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new EngineError('ERR_NO_SUCH_EXEC', `No such exec instance: ${id}`);
    return e;
  }

  /** Drops the oldest records that do not run while the container has too many. */
  #evict(set: Set<string>): void {
    if (set.size <= MAX_RECORDS_PER_CONTAINER) return;
    const idle = [...set].map((id) => this.#entries.get(id)!).filter((e) => e.rec.status === 'created' || e.rec.status === 'exited');
    idle.sort((a, b) => a.created - b.created);
    for (const e of idle.slice(0, set.size - MAX_RECORDS_PER_CONTAINER)) {
      set.delete(e.rec.id);
      this.#entries.delete(e.rec.id);
    }
  }

  /** The container stopped: any exec still reported running is killed (normally the kernel did it already). */
  #killAll(containerId: string): void {
    for (const id of this.#byContainer.get(containerId) ?? []) {
      const e = this.#entries.get(id);
      if (e?.rec.status === 'running' && e.startTime !== undefined) void killIfSame(e.rec.pid, e.startTime);
    }
  }

  /** The container is gone: so are its exec records (running sessions still clean up when they end). */
  #forget(containerId: string): void {
    this.#killAll(containerId);
    for (const id of this.#byContainer.get(containerId) ?? []) this.#entries.delete(id);
    this.#byContainer.delete(containerId);
  }
}

/** One attached client: output to its sink, its input to the process, Docker's stdin rules. */
class Session {
  readonly handle: AttachHandle;
  readonly #sink: AttachSink;
  readonly #stdio: TaskStdio;
  readonly #stdioEnded: Promise<void>;
  #ended = false;

  constructor(rec: ExecRecord, stdio: TaskStdio, sink: AttachSink, onDetachKeys: () => void) {
    this.#sink = sink;
    this.#stdio = stdio;
    const { tty, attachStdin, attachStdout, attachStderr, detachKeys } = rec.config;
    stdio.onStdout((b) => {
      if (attachStdout && !this.#ended) sink.stdout(b);
    });
    stdio.onStderr((b) => {
      if (attachStderr && !this.#ended) sink.stderr(b);
    });
    this.#stdioEnded = new Promise((resolve) => stdio.onEnd(resolve));
    const detector = tty ? new DetachDetector(parseDetachKeys(detachKeys || 'ctrl-p,ctrl-q')) : undefined;
    let inputEnded = false;
    this.handle = {
      writeStdin: (chunk) => {
        if (!attachStdin || inputEnded || this.#ended) return;
        let data = chunk;
        if (detector) {
          const r = detector.feed(chunk);
          data = r.pass;
          if (r.detached) {
            if (data.length) stdio.writeStdin(data);
            onDetachKeys();
            this.close();
            return;
          }
        }
        if (data.length) stdio.writeStdin(data);
      },
      endStdin: () => {
        if (!attachStdin || inputEnded) return;
        inputEnded = true;
        if (tty) this.close(); // Docker: a TTY exec's session ends, the process stays
        else stdio.endStdin();
      },
      detach: () => this.close(),
    };
  }

  /** The process ended: let the last output through, then end the client's stream. */
  async finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#stdioEnded, new Promise<void>((r) => (timer = setTimeout(r, OUTPUT_GRACE_MS)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Drops the stdio connection without ending the client's stream (the start failed). */
  release(): void {
    this.#ended = true;
    this.#stdio.close();
  }

  /** Ends the client's session (the process is left alone). Idempotent. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stdio.close();
    this.#sink.end();
  }
}

export interface ExecProcessInput {
  /** The container's own `process` (its config.json). */
  base: OciProcess;
  args: string[];
  env: string[];
  /** Empty = the container's cwd. */
  cwd: string;
  /** Undefined = the container's user. */
  user: ResolvedUser | undefined;
  terminal: boolean;
  consoleSize: [number, number] | null;
  /** The capability set of a privileged exec; null = the container's sets. */
  privilegedCapabilities: string[] | null;
}

/**
 * The exec's OCI process: a copy of the container's (capabilities, no-new-privileges, rlimits, LSM
 * labels, oom score stay the container's) with the exec's own command, env, cwd, user and terminal.
 */
export function buildExecProcess(input: ExecProcessInput): OciProcess {
  const p = structuredClone(input.base);
  p.args = [...input.args];
  p.env = [...input.env];
  p.cwd = input.cwd || input.base.cwd || '/';
  if (input.user) {
    p.user = {
      uid: input.user.uid,
      gid: input.user.gid,
      ...(input.user.additionalGids.length > 0 ? { additionalGids: [...input.user.additionalGids] } : {}),
    };
  }
  p.terminal = input.terminal;
  delete p.consoleSize;
  if (input.terminal && input.consoleSize && input.consoleSize[0] > 0 && input.consoleSize[1] > 0) {
    p.consoleSize = { height: input.consoleSize[0], width: input.consoleSize[1] };
  }
  if (input.privilegedCapabilities) {
    const caps = input.privilegedCapabilities;
    p.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
  }
  return p;
}

/** Docker's `ReplaceOrAppendEnvValues`: `K=V` replaces or appends, a bare `K` removes K. */
export function mergeExecEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const e of base) env.set(e.split('=')[0]!, e);
  for (const e of overrides) {
    const eq = e.indexOf('=');
    if (eq === -1) env.delete(e);
    else env.set(e.slice(0, eq), e);
  }
  return [...env.values()];
}

/** Docker's event text for an exec: entrypoint, a space, the arguments (so `ls` gives `ls `). */
export function commandText(cmd: readonly string[]): string {
  return `${cmd[0] ?? ''} ${cmd.slice(1).join(' ')}`;
}

/** Docker's exit code for an exec the runtime could not start. */
export function execFailureCode(message: string): number {
  const m = message.toLowerCase();
  if (/executable file not found|no such file or directory|not a directory/.test(m)) return 127;
  if (/permission denied|is a directory/.test(m)) return 126;
  return 128;
}

function assertRunning(c: ContainerRecord): void {
  switch (c.state.status) {
    case 'running':
      return;
    case 'paused':
      throw errors.conflict(`Container ${c.id} is paused, unpause the container before exec`);
    case 'restarting':
      throw errors.conflict(`Container ${c.id} is restarting, wait until the container is running`);
    default:
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined if the process is gone. */
async function procStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

async function killIfSame(pid: number, startTime: string): Promise<void> {
  if ((await procStartTime(pid)) !== startTime) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
}
