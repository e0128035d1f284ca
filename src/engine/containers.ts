/**
 * Container use cases: create, start, stop, kill, remove, wait, attach, logs, list, inspect, and
 * the handling of exits. This is the one place that moves a container between states:
 *
 *   created ──start──► running ──exit──► exited ──start──► running …
 *      │                  │                 │
 *      └──── remove ◄─────┴── (force) ──────┘          failed start: stays created, Error set
 *
 * Every step of one container runs under its lock, so start/stop/remove/exit never interleave.
 * Each step that makes something (mount, runtime task, files) undoes it on failure.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, errors } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../image/image-store.js';
import { familiarName } from '../image/reference.js';
import { readLog, type LogEntry } from '../logs/cri-log.js';
import type { ContainerRecord, ContainerSpec, ContainerState } from '../model/container.js';
import { emptyState } from '../model/container.js';
import type { ImageRecord } from '../model/image.js';
import type { Runtime, TaskStdio } from '../runtime/runtime.js';
import { TaskCreateError } from '../runtime/runtime.js';
import { buildOciSpec } from '../spec/build.js';
import { ensureDirInRoot } from '../spec/in-root.js';
import { resolveUser } from '../spec/user.js';
import { isMountPoint, type LayerStore } from '../store/layers/layer-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { newId } from '../util/ids.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { generateName, parseContainerName } from '../util/names.js';
import { parseSignal } from '../util/signals.js';
import type { HostFacts } from '../spec/host-facts.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  statusCode: number;
  error: string | null;
}

/** Where an attached client receives output. */
export interface AttachSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The container's output ended (it exited, or the session was closed). */
  end(): void;
}

/** The client side of an attach session. */
export interface AttachHandle {
  writeStdin(chunk: Buffer): void;
  /** The client closed its input; applies Docker's StdinOnce rule. */
  endStdin(): void;
  detach(): void;
}

export interface ContainerServiceOptions {
  dataRoot: string;
  compat: 'brig' | 'docker';
  defaultPidsLimit: number;
  /** cgroup path prefix, e.g. `/brig`. */
  cgroupParent: string;
  host: HostFacts;
}

interface Waiter {
  condition: WaitCondition;
  resolve(r: WaitResult): void;
}

interface PendingAttach {
  stdin: boolean;
  sink: AttachSink;
  stdio?: TaskStdio;
  inputEnded: boolean;
  buffered: Buffer[];
  detached: boolean;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ContainerService {
  readonly #lock = new KeyedMutex();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #attaches = new Map<string, Set<PendingAttach>>();
  /** Resolves when the container's current run ends (for stop timeouts and log follow). */
  readonly #exits = new Map<string, { promise: Promise<void>; resolve(): void }>();
  /** Bundles prepared ahead of start (see #prepareAhead): resolves true when ready. */
  readonly #prepared = new Map<string, Promise<boolean>>();

  private readonly meta: MetadataStore;
  private readonly images: ImageStore;
  private readonly layers: LayerStore;
  private readonly runtime: Runtime;
  private readonly events: EventBus;
  private readonly options: ContainerServiceOptions;

  constructor(meta: MetadataStore, images: ImageStore, layers: LayerStore, runtime: Runtime, events: EventBus, options: ContainerServiceOptions) {
    this.meta = meta;
    this.images = images;
    this.layers = layers;
    this.runtime = runtime;
    this.events = events;
    this.options = options;
  }

  // ── queries ───────────────────────────────────────────────────────────────────────────────────

  /** Finds a container by ID, name or unique ID prefix; throws ERR_NO_SUCH_CONTAINER. */
  get(ref: string): ContainerRecord {
    const c = this.meta.findContainer(ref);
    if (!c) throw errors.noSuchContainer(ref);
    return c;
  }

  list(): ContainerRecord[] {
    return this.meta.listContainers();
  }

  containerDir(id: string): string {
    return join(this.options.dataRoot, 'containers', id);
  }

  logPath(id: string): string {
    return join(this.containerDir(id), 'ctr.log');
  }

  /** The image a container was created from (may have been untagged since). */
  imageOf(c: ContainerRecord): ImageRecord | undefined {
    return this.meta.getImage(c.imageId);
  }

  // ── create ────────────────────────────────────────────────────────────────────────────────────

  /** Creates a container record from a validated spec; nothing runs yet. */
  async create(spec: ContainerSpec, name?: string): Promise<{ id: string; warnings: string[] }> {
    const image = this.images.resolve(spec.image);
    const merged = mergeImageConfig(spec, image);
    if (merged.process.length === 0) throw errors.invalid('No command specified');
    const id = newId();
    const record: ContainerRecord = {
      id,
      name: name === undefined || name === '' ? this.#uniqueName() : parseContainerName(name),
      created: new Date().toISOString(),
      imageId: image.id,
      spec: merged.spec,
      path: merged.process[0]!,
      args: merged.process.slice(1),
      state: emptyState(),
      restartCount: 0,
    };
    const dir = this.containerDir(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      this.meta.insertContainer(record);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.#event(record, 'create');
    this.#prepareAhead(record);
    return { id, warnings: [] };
  }

  #uniqueName(): string {
    for (let i = 0; i < 50; i++) {
      const n = generateName();
      if (!this.meta.findContainer(n)) return n;
    }
    return `${generateName()}_${newId().slice(0, 6)}`;
  }

  // ── start ─────────────────────────────────────────────────────────────────────────────────────

  /** Starts a created or exited container; ERR_NOT_MODIFIED if it is already running. */
  async start(ref: string): Promise<void> {
    const { id } = this.get(ref);
    await this.#lock.run(id, async () => {
      const c = this.get(id);
      if (c.state.status === 'running' || c.state.status === 'paused') {
        throw new EngineError('ERR_NOT_MODIFIED', 'container already started');
      }
      if (c.state.status === 'removing' || c.state.status === 'dead') {
        throw errors.conflict(`cannot start container ${id}: it is being removed`);
      }
      try {
        await this.#startLocked(c);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const state: ContainerState = { ...c.state, status: 'created', pid: 0, error: message, exitCode: startFailureCode(message) };
        if (c.state.startedAt !== '') state.status = 'exited';
        this.meta.updateContainerState(id, state);
        this.#endAttaches(id);
        this.#resolveWaiters(id, ['next-exit', 'not-running'], { statusCode: state.exitCode, error: null });
        if (c.spec.autoRemove) await this.#removeLocked(this.get(id));
        if (err instanceof TaskCreateError) throw new EngineError('ERR_START_FAILED', message, { cause: err });
        throw err;
      }
    });
  }

  /**
   * Makes the OCI bundle of a container: mounts its root filesystem, resolves its user in the
   * image, and writes config.json. Undoes the mount if anything fails.
   */
  async #prepareBundle(c: ContainerRecord): Promise<void> {
    const dir = this.containerDir(c.id);
    const image = this.meta.getImage(c.imageId);
    if (!image) throw errors.noSuchImage(c.imageId);
    const rootfs = await this.layers.mountRootfs(dir, image.chainIds);
    try {
      const user = await resolveUser(rootfs.merged, c.spec.user);
      const cwd = c.spec.workingDir || '/';
      await ensureDirInRoot(rootfs.merged, cwd);
      const hostname = c.spec.hostname || c.id.slice(0, 12);
      const etc = await this.#writeEtcFiles(dir, hostname, c.spec.domainname);
      const oci = buildOciSpec({
        id: c.id,
        rootfsPath: rootfs.merged,
        args: [c.path, ...c.args],
        env: processEnv(c.spec, hostname),
        cwd,
        user,
        terminal: c.spec.tty,
        ...(c.spec.tty ? { consoleSize: c.spec.consoleSize } : {}),
        hostname,
        domainname: c.spec.domainname,
        security: c.spec.security,
        resources: c.spec.resources,
        daemon: {
          compat: this.options.compat,
          defaultPidsLimit: this.options.defaultPidsLimit,
          ...this.options.host,
        },
        cgroupsPath: `${this.options.cgroupParent}/${c.id}`,
        netnsPath: null,
        extraMounts: etc,
      });
      // The bundle is rebuilt for every run and removed on exit: no fsync needed.
      await writeFile(join(dir, 'config.json'), JSON.stringify(oci), { mode: 0o600 });
    } catch (err) {
      await this.layers.unmountRootfs(dir).catch(() => {});
      throw err;
    }
  }

  /**
   * Prepares the bundle right after create, while the client is still attaching and registering
   * its wait, so that start only has to run the task. A failure here is not reported: start
   * prepares again and reports it (Docker reports a bad user or workdir at start, too).
   */
  #prepareAhead(c: ContainerRecord): void {
    const ready = this.#lock.run(c.id, async () => {
      const cur = this.meta.getContainer(c.id);
      if (!cur || cur.state.status !== 'created') return false;
      await this.#prepareBundle(cur);
      return true;
    }).catch(() => false);
    this.#prepared.set(c.id, ready);
  }

  async #startLocked(c: ContainerRecord): Promise<void> {
    const dir = this.containerDir(c.id);
    const ahead = this.#prepared.get(c.id);
    this.#prepared.delete(c.id);
    if (!(ahead && (await ahead) && (await isMountPoint(join(dir, 'merged'))))) await this.#prepareBundle(c);
    let taskCreated = false;
    try {
      await this.runtime.clearExit(c.id);
      const { pid } = await this.runtime.create({
        id: c.id,
        bundle: dir,
        logPath: this.logPath(c.id),
        terminal: c.spec.tty,
        stdin: c.spec.openStdin,
        leaveStdinOpen: !c.spec.stdinOnce,
        consoleSize: c.spec.consoleSize,
      });
      taskCreated = true;
      await this.#connectAttaches(c.id, dir);
      this.#armExit(c.id);
      await this.runtime.start(c.id);
      const state: ContainerState = {
        status: 'running', pid, exitCode: 0, error: '', oomKilled: false,
        startedAt: new Date().toISOString(), finishedAt: c.state.finishedAt,
      };
      this.meta.updateContainerState(c.id, state);
      this.#event(c, 'start');
    } catch (err) {
      if (taskCreated) await this.runtime.delete(c.id, true).catch(() => {});
      await this.runtime.clearExit(c.id).catch(() => {});
      await this.layers.unmountRootfs(dir).catch(() => {});
      this.#exits.get(c.id)?.resolve();
      this.#exits.delete(c.id);
      throw err;
    }
  }

  async #writeEtcFiles(dir: string, hostname: string, domainname: string) {
    const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
    await writeFile(join(dir, 'hostname'), `${hostname}\n`, { mode: 0o644 });
    await writeFile(
      join(dir, 'hosts'),
      `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t${fqdn === hostname ? hostname : `${fqdn} ${hostname}`}\n`,
      { mode: 0o644 },
    );
    const bind = (source: string, destination: string) => ({
      destination, type: 'bind', source, options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'],
    });
    return [bind(join(dir, 'hostname'), '/etc/hostname'), bind(join(dir, 'hosts'), '/etc/hosts')];
  }

  // ── exits ─────────────────────────────────────────────────────────────────────────────────────

  #armExit(id: string): void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#exits.set(id, { promise, resolve });
  }

  /** A promise that resolves when the current run of `id` has ended (resolved if not running). */
  exited(id: string): Promise<void> {
    return this.#exits.get(id)?.promise ?? Promise.resolve();
  }

  /**
   * Called by the runtime when a task's exit code is recorded. The exit is recorded and announced
   * first (waiters for `next-exit` answer at once), then the task's host state is removed, then an
   * `--rm` container is removed.
   */
  async handleExit(id: string, exitCode: number): Promise<void> {
    await this.#lock.run(id, async () => {
      const c = this.meta.getContainer(id);
      if (!c) {
        await this.runtime.delete(id, true).catch(() => {});
        await this.runtime.clearExit(id);
        return;
      }
      if (c.state.status !== 'running' && c.state.status !== 'paused') return;
      const state: ContainerState = {
        ...c.state, status: 'exited', pid: 0, exitCode, finishedAt: new Date().toISOString(),
      };
      this.meta.updateContainerState(id, state);
      this.#event(c, 'die', { exitCode: String(exitCode) });
      this.#exits.get(id)?.resolve();
      this.#exits.delete(id);
      this.#resolveWaiters(id, ['next-exit', 'not-running'], { statusCode: exitCode, error: null });
      if (c.spec.autoRemove) {
        await this.#removeLocked(this.get(id));
      } else {
        await this.#cleanupTask(c);
        await this.runtime.clearExit(id);
      }
    });
  }

  /** Removes what a run made on the host: runtime state and rootfs mount (in parallel). */
  async #cleanupTask(c: ContainerRecord): Promise<void> {
    await Promise.all([
      this.runtime.delete(c.id, true).catch(() => {}),
      this.layers.unmountRootfs(this.containerDir(c.id)),
    ]);
  }

  // ── stop / kill ───────────────────────────────────────────────────────────────────────────────

  /**
   * Sends the stop signal, waits up to `timeoutSec` (default: the container's StopTimeout or 10),
   * then SIGKILL. ERR_NOT_MODIFIED if the container is not running.
   */
  async stop(ref: string, timeoutSec?: number): Promise<void> {
    const c = this.get(ref);
    if (c.state.status !== 'running' && c.state.status !== 'paused') {
      throw new EngineError('ERR_NOT_MODIFIED', 'container already stopped');
    }
    const exited = this.exited(c.id);
    const signal = parseSignal(c.spec.stopSignal || this.imageOf(c)?.config.config.stopSignal || 'SIGTERM');
    const timeout = timeoutSec ?? c.spec.stopTimeout ?? 10;
    this.#event(c, 'kill', { signal: String(signal) });
    await this.runtime.kill(c.id, signal).catch(() => {});
    if (timeout < 0 ? await exited.then(() => true) : await within(exited, timeout * 1000)) {
      this.#event(c, 'stop');
      return;
    }
    this.#event(c, 'kill', { signal: '9' });
    await this.runtime.kill(c.id, 9, true).catch(() => {});
    if (!(await within(exited, 10_000))) {
      throw new EngineError('ERR_INTERNAL', `container ${c.id} did not exit after SIGKILL`);
    }
    this.#event(c, 'stop');
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const signal = parseSignal(signalName);
    const c = this.get(ref);
    if (c.state.status !== 'running' && c.state.status !== 'paused') {
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Cannot kill container: ${ref}: Container ${c.id} is not running`);
    }
    await this.runtime.kill(c.id, signal);
    this.#event(c, 'kill', { signal: String(signal) });
  }

  // ── remove ────────────────────────────────────────────────────────────────────────────────────

  async remove(ref: string, options: { force?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    if ((c.state.status === 'running' || c.state.status === 'paused') && !options.force) {
      throw new EngineError(
        'ERR_CONTAINER_RUNNING',
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
      );
    }
    if (c.state.status === 'running' || c.state.status === 'paused') {
      const exited = this.exited(c.id);
      await this.runtime.kill(c.id, 9, true).catch(() => {});
      if (!(await within(exited, 10_000))) {
        throw new EngineError('ERR_INTERNAL', `container ${c.id} did not exit after SIGKILL`);
      }
    }
    await this.#lock.run(c.id, async () => {
      const cur = this.meta.getContainer(c.id);
      if (cur) await this.#removeLocked(cur);
    });
  }

  /**
   * Removes a stopped container: the record goes first (the container is gone for every client and
   * `removed` waiters answer), then its host state and files, still under the container's lock.
   * A crash in between leaves runtime state or a directory without a record; `recover()` removes both.
   */
  async #removeLocked(c: ContainerRecord): Promise<void> {
    if (c.state.status === 'running' || c.state.status === 'paused') {
      throw new EngineError('ERR_CONTAINER_RUNNING', `container ${c.id} is running`);
    }
    this.meta.deleteContainer(c.id);
    this.#prepared.delete(c.id);
    this.#endAttaches(c.id);
    this.#event(c, 'destroy');
    this.#resolveWaiters(c.id, ['next-exit', 'not-running', 'removed'], { statusCode: c.state.exitCode, error: null });
    await this.#cleanupTask(c);
    await this.runtime.clearExit(c.id);
    await rm(this.containerDir(c.id), { recursive: true, force: true });
  }

  /** Resolves when every lifecycle operation in flight has finished (for a clean shutdown). */
  drain(): Promise<void> {
    return this.#lock.idle();
  }

  // ── wait ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Registers a waiter synchronously (so a caller can acknowledge registration before the container
   * can exit) and returns the promise of its result. Throws ERR_NO_SUCH_CONTAINER at once.
   */
  wait(ref: string, condition: WaitCondition): { result: Promise<WaitResult>; cancel(): void } {
    const c = this.get(ref);
    const running = c.state.status === 'running' || c.state.status === 'paused';
    if (condition === 'not-running' && !running) {
      return { result: Promise.resolve({ statusCode: c.state.exitCode, error: null }), cancel: () => {} };
    }
    let waiter!: Waiter;
    const result = new Promise<WaitResult>((resolve) => (waiter = { condition, resolve }));
    let set = this.#waiters.get(c.id);
    if (!set) this.#waiters.set(c.id, (set = new Set()));
    set.add(waiter);
    return {
      result,
      cancel: () => {
        this.#waiters.get(c.id)?.delete(waiter);
      },
    };
  }

  #resolveWaiters(id: string, conditions: WaitCondition[], result: WaitResult): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (conditions.includes(w.condition)) {
        set.delete(w);
        w.resolve(result);
      }
    }
    if (set.size === 0) this.#waiters.delete(id);
  }

  // ── attach ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Attaches a client to the container's stdio. On a created container the session is connected
   * when it starts (so no output is lost); on a running one at once.
   */
  async attach(ref: string, options: { stdin: boolean; sink: AttachSink }): Promise<AttachHandle> {
    const c = this.get(ref);
    if (c.state.status !== 'created' && c.state.status !== 'running' && c.state.status !== 'exited') {
      throw errors.conflict(`You cannot attach to a container in state ${c.state.status}`);
    }
    const a: PendingAttach = { stdin: options.stdin && c.spec.openStdin, sink: options.sink, inputEnded: false, buffered: [], detached: false };
    let set = this.#attaches.get(c.id);
    if (!set) this.#attaches.set(c.id, (set = new Set()));
    set.add(a);
    if (c.state.status === 'running') {
      try {
        await this.#connect(c.id, this.containerDir(c.id), a);
      } catch (err) {
        set.delete(a);
        throw errors.conflict(`cannot attach to container ${c.id}: ${(err as Error).message}`);
      }
    }
    this.#event(c, 'attach');
    return {
      writeStdin: (chunk) => {
        if (!a.stdin || a.detached) return;
        if (a.stdio) a.stdio.writeStdin(chunk);
        else a.buffered.push(chunk);
      },
      endStdin: () => {
        if (!a.stdin || a.inputEnded) return;
        a.inputEnded = true;
        if (a.stdio && this.#closesStdinOnEof(c)) a.stdio.endStdin();
      },
      detach: () => {
        a.detached = true;
        a.stdio?.close();
        this.#attaches.get(c.id)?.delete(a);
      },
    };
  }

  /** Docker's rule: client EOF closes the process's stdin only for StdinOnce without a TTY. */
  #closesStdinOnEof(c: ContainerRecord): boolean {
    return c.spec.stdinOnce && !c.spec.tty;
  }

  async #connectAttaches(id: string, bundle: string): Promise<void> {
    const set = this.#attaches.get(id);
    if (!set) return;
    for (const a of set) if (!a.stdio && !a.detached) await this.#connect(id, bundle, a);
  }

  async #connect(id: string, bundle: string, a: PendingAttach): Promise<void> {
    const stdio = await this.runtime.attach(id, bundle);
    a.stdio = stdio;
    stdio.onStdout((b) => a.sink.stdout(b));
    stdio.onStderr((b) => a.sink.stderr(b));
    stdio.onEnd(() => {
      this.#attaches.get(id)?.delete(a);
      a.sink.end();
    });
    for (const b of a.buffered) stdio.writeStdin(b);
    a.buffered = [];
    const c = this.meta.getContainer(id);
    if (a.inputEnded && c && this.#closesStdinOnEof(c)) stdio.endStdin();
  }

  #endAttaches(id: string): void {
    const set = this.#attaches.get(id);
    if (!set) return;
    this.#attaches.delete(id);
    for (const a of set) {
      a.stdio?.close();
      a.sink.end();
    }
  }

  /** Resizes the container's terminal; ERR_CONTAINER_NOT_RUNNING if it is not running. */
  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const c = this.get(ref);
    if (c.state.status !== 'running') {
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    }
    if (!c.spec.tty) return;
    await this.runtime.resize(this.containerDir(c.id), rows, cols);
  }

  // ── logs ──────────────────────────────────────────────────────────────────────────────────────

  logs(ref: string, options: { follow: boolean; sinceNs?: bigint; untilNs?: bigint; tail?: number; signal?: AbortSignal }): {
    container: ContainerRecord;
    entries: AsyncGenerator<LogEntry>;
  } {
    const c = this.get(ref);
    const running = c.state.status === 'running' || c.state.status === 'paused';
    const entries = readLog(this.logPath(c.id), {
      ...(options.sinceNs !== undefined ? { sinceNs: options.sinceNs } : {}),
      ...(options.untilNs !== undefined ? { untilNs: options.untilNs } : {}),
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.follow && running ? { follow: { stopped: this.exited(c.id) } } : {}),
    });
    return { container: c, entries };
  }

  // ── startup and shutdown ──────────────────────────────────────────────────────────────────────

  /**
   * Reconciles records with what exists after a daemon (re)start: running tasks are adopted, tasks
   * that exited while the daemon was away get their real exit code, half-made starts are undone.
   */
  async recover(): Promise<void> {
    for (const c of this.meta.listContainers()) {
      const dir = this.containerDir(c.id);
      if (c.state.status === 'running' || c.state.status === 'paused') {
        const code = await this.runtime.exitCode(c.id);
        if (code !== undefined) {
          this.#armExit(c.id);
          await this.handleExit(c.id, code);
          continue;
        }
        const task = await this.runtime.state(c.id);
        if (task && (task.status === 'running' || task.status === 'paused')) {
          this.#armExit(c.id);
          continue;
        }
        // The task vanished without an exit record (e.g. the machine rebooted).
        this.#armExit(c.id);
        await this.handleExit(c.id, 128 + 9);
        continue;
      }
      if (c.state.status === 'removing') {
        await this.#lock.run(c.id, () => this.#removeLocked({ ...c, state: { ...c.state, status: 'exited' } }));
        continue;
      }
      // Not running: nothing of a run may remain.
      await this.runtime.delete(c.id, true).catch(() => {});
      await this.runtime.clearExit(c.id);
      await this.layers.unmountRootfs(dir).catch(() => {});
      if (c.spec.autoRemove && c.state.status === 'exited') {
        await this.#lock.run(c.id, () => this.#removeLocked(c));
      }
    }
    // Container directories without a record: a crash between removing the record and the files.
    const dirs = await readdir(join(this.options.dataRoot, 'containers')).catch(() => [] as string[]);
    for (const name of dirs) {
      if (/^[0-9a-f]{64}$/.test(name) && !this.meta.getContainer(name)) {
        await this.layers.unmountRootfs(this.containerDir(name)).catch(() => {});
        await rm(this.containerDir(name), { recursive: true, force: true });
      }
    }
    // Runtime tasks without a record are leftovers of a crash between create and insert.
    const known = new Set(this.meta.listContainers().map((c) => c.id));
    for (const id of await this.runtime.list()) {
      if (!known.has(id)) {
        await this.runtime.delete(id, true).catch(() => {});
        await this.runtime.clearExit(id);
      }
    }
  }

  #event(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const image = this.meta.getImage(c.imageId);
    const tag = image?.repoTags[0];
    this.events.publish('container', action, c.id, {
      ...c.spec.labels,
      image: c.spec.image || (tag ? familiarName(tag) : c.imageId),
      name: c.name,
      ...extra,
    });
  }
}

/** Exit code Docker reports for a failed start, from the runtime's message. */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 128;
}

/** Merges image defaults into the spec (Docker's rules) and computes the process argv. */
export function mergeImageConfig(spec: ContainerSpec, image: ImageRecord): { spec: ContainerSpec; process: string[] } {
  const ic = image.config.config;
  const entrypoint = spec.entrypoint ?? ic.entrypoint ?? [];
  // An explicit entrypoint resets the image's CMD, as in Docker.
  const cmd = spec.cmd ?? (spec.entrypoint !== null ? [] : ic.cmd ?? []);
  const env = mergeEnv(ic.env, spec.env);
  const labels = { ...ic.labels, ...spec.labels };
  const merged: ContainerSpec = {
    ...spec,
    env,
    labels,
    cmd: spec.cmd ?? (cmd.length ? cmd : null),
    entrypoint: spec.entrypoint ?? ic.entrypoint,
    workingDir: spec.workingDir || ic.workingDir,
    user: spec.user || ic.user,
    stopSignal: spec.stopSignal ?? (ic.stopSignal || null),
    exposedPorts: [...new Set([...ic.exposedPorts, ...spec.exposedPorts])],
  };
  return { spec: merged, process: [...entrypoint, ...cmd] };
}

function mergeEnv(base: string[], override: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...override]) out.set(e.split('=')[0]!, e);
  return [...out.values()];
}

/** The process environment: PATH default, HOSTNAME, TERM for a TTY, then the container's env. */
function processEnv(spec: ContainerSpec, hostname: string): string[] {
  const env = new Map<string, string>();
  env.set('PATH', DEFAULT_PATH);
  env.set('HOSTNAME', `HOSTNAME=${hostname}`);
  if (spec.tty) env.set('TERM', 'TERM=xterm');
  for (const e of spec.env) env.set(e.split('=')[0]!, e);
  return [...env.values()];
}

function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}
