/**
 * Container use cases: create, start, stop, kill, restart, pause, rename, update, remove, prune,
 * wait, attach, logs, and what happens when a container exits (restart policies, --rm). This is the
 * one place that moves a container between states:
 *
 *   created ──start──► running ◄──unpause── paused
 *      │                  │ exit ──► restarting (policy, after back-off) ──► running
 *      │                  ▼
 *      └──── remove ◄── exited ──start──► running          failed start: stays created, Error set
 *
 * Every step of one container runs under its lock, so start/stop/remove/exit never interleave.
 * Each step that makes something (mount, runtime task, files) undoes it on failure.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, errors } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../image/image-store.js';
import { familiarName } from '../image/reference.js';
import { readLog, type LogEntry } from '../logs/cri-log.js';
import type { ContainerRecord, ContainerSpec, ContainerState, HealthState, ResourceSpec, RestartPolicy } from '../model/container.js';
import { emptyState, networkSpecOf } from '../model/container.js';
import type { NetworkAttachment } from '../model/network.js';
import type { ImageRecord } from '../model/image.js';
import type { Runtime } from '../runtime/runtime.js';
import { TaskCreateError } from '../runtime/runtime.js';
import { buildOciSpec } from '../spec/build.js';
import type { OciSpec } from '../spec/oci.js';
import type { HostFacts } from '../spec/host-facts.js';
import { ensureDirInRoot } from '../spec/in-root.js';
import { resolveUser } from '../spec/user.js';
import { isMountPoint, type LayerStore } from '../store/layers/layer-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { diskUsage } from '../util/fs.js';
import { newId } from '../util/ids.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { generateName, parseContainerName } from '../util/names.js';
import { parseSignal } from '../util/signals.js';
import { AttachHub, type AttachHandle, type AttachOptions } from './attach-hub.js';
import { mergeImageConfig, processEnv, rewriteEtcFile, withInit } from './bundle.js';
import { effectiveMode, needsAttach, type ContainerNetworking } from './container-network.js';
import { nextBackoff, shouldRestart } from './restart.js';

export type { AttachHandle, AttachSink } from './attach-hub.js';
export { mergeImageConfig } from './bundle.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  statusCode: number;
  error: string | null;
}

export interface ContainerServiceOptions {
  dataRoot: string;
  compat: 'brig' | 'docker';
  defaultPidsLimit: number;
  /** cgroup path prefix, e.g. `/brig`. */
  cgroupParent: string;
  host: HostFacts;
  /** Host path of the static init binary for `--init` (tini); undefined = `--init` refused. */
  initBinary?: string;
  /** Networking of runs (namespaces, addresses, ports, /etc files). */
  networking: ContainerNetworking;
}

/** What other services (exec, health, stats) hear about a container's runs. */
export interface ContainerListener {
  started?(c: ContainerRecord): void;
  exited?(c: ContainerRecord, exitCode: number): void;
  removed?(c: ContainerRecord): void;
}

interface Waiter {
  condition: WaitCondition;
  resolve(r: WaitResult): void;
}

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

export class ContainerService {
  readonly #lock = new KeyedMutex();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #attach: AttachHub;
  /** Resolves when the container's current run ends (for stop timeouts and log follow). */
  readonly #exits = new Map<string, { promise: Promise<void>; resolve(): void }>();
  /** Bundles prepared ahead of start (see #prepareAhead): resolves true when ready. */
  readonly #prepared = new Map<string, Promise<boolean>>();
  /**
   * Default-bridge networks set up ahead of start with the bundle, keyed by container, with the
   * name and network intent they were made for: start uses one only if both are unchanged (no
   * `network connect` meanwhile), and drops it otherwise.
   */
  readonly #netAhead = new Map<string, { key: string; failed: boolean; net: { netnsPath: string; ready: Promise<NetworkAttachment> } }>();
  /** Pending policy restarts and the back-off of each container. */
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  readonly #backoff = new Map<string, number>();
  readonly #listeners: ContainerListener[] = [];
  #shuttingDown = false;

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
    this.#attach = new AttachHub(runtime);
  }

  /** Registers a listener for starts, exits and removals (called under the container's lock). */
  listen(listener: ContainerListener): void {
    this.#listeners.push(listener);
  }

  #notify(kind: 'started' | 'exited' | 'removed', c: ContainerRecord, code = 0): void {
    for (const l of this.#listeners) {
      try {
        if (kind === 'exited') l.exited?.(c, code);
        else l[kind]?.(c);
      } catch {
        /* a listener's failure must not break the lifecycle */
      }
    }
  }

  // ── queries ───────────────────────────────────────────────────────────────────────────────────

  /** Finds a container by ID, name or unique ID prefix; throws ERR_NO_SUCH_CONTAINER. */
  /** The hostname the container's processes see (see ContainerNetworking.hostnameOf). */
  hostnameOf(c: ContainerRecord): string {
    return this.options.networking.hostnameOf(c);
  }

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

  /** cgroup path of a container relative to each controller's root (`/brig/<id>`). */
  cgroupPath(id: string): string {
    return `${this.options.cgroupParent}/${id}`;
  }

  /** `SizeRw` (the container's writable layer) and `SizeRootFs` (that plus the image) in bytes. */
  async sizes(c: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
    const rw = await diskUsage(join(this.containerDir(c.id), 'upper'));
    return { rw, rootFs: rw + (this.imageOf(c)?.size ?? 0) };
  }

  /** The container's writable layer, its rootfs mount point, and its image's layer dirs topmost first (diff, export). */
  rootfsLayers(c: ContainerRecord): { upper: string; merged: string; lowers: string[] } {
    const image = this.meta.getImage(c.imageId);
    if (!image) throw errors.noSuchImage(c.imageId);
    const dir = this.containerDir(c.id);
    return { upper: join(dir, 'upper'), merged: join(dir, 'merged'), lowers: [...image.chainIds].reverse().map((id) => this.layers.diffDir(id)) };
  }

  /**
   * Mounts the root filesystem of a container that is not running at its usual `<dir>/merged`
   * (as start does), for a short host-side operation such as `docker cp`; returns the mount point.
   * Call under {@link withLock} and undo with {@link unmountStoppedRootfs} before releasing it.
   */
  async mountStoppedRootfs(c: ContainerRecord): Promise<string> {
    const image = this.meta.getImage(c.imageId);
    if (!image) throw errors.noSuchImage(c.imageId);
    return (await this.layers.mountRootfs(this.containerDir(c.id), image.chainIds)).merged;
  }

  /** Undoes {@link mountStoppedRootfs} (idempotent). */
  async unmountStoppedRootfs(c: ContainerRecord): Promise<void> {
    await this.layers.unmountRootfs(this.containerDir(c.id));
  }

  /** Records a health-check result of a running container (see engine/health.ts). */
  async saveHealth(id: string, health: HealthState): Promise<void> {
    await this.#lock.run(id, async () => {
      const c = this.meta.getContainer(id);
      if (c && (isRunning(c) || health.status === 'starting')) this.meta.updateContainerState(id, { ...c.state, health });
    });
  }

  /** Runs `fn` under the container's lifecycle lock (for services that must not race a stop or remove). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(id, fn);
  }

  // ── create ────────────────────────────────────────────────────────────────────────────────────

  /** Creates a container record from a validated spec; nothing runs yet. */
  async create(spec: ContainerSpec, name?: string): Promise<{ id: string; warnings: string[] }> {
    const image = this.images.resolve(spec.image);
    spec = { ...spec, network: this.options.networking.resolveAtCreate(networkSpecOf(spec)) };
    const merged = mergeImageConfig(spec, image);
    if (merged.process.length === 0) throw errors.invalid('No command specified');
    if (spec.init && !this.options.initBinary) {
      throw new EngineError('ERR_INVALID_ARGUMENT', '--init needs an init binary (tini); run `npm run setup` or pass `brig daemon --init-path`');
    }
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
    // The record goes in first (synchronously, right after the name was chosen), so two creates in
    // flight can never take the same name; the directory follows, and a failure removes the record.
    this.meta.insertContainer(record);
    const dir = this.containerDir(id);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      this.meta.deleteContainer(id);
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

  /** Starts a created, exited or restarting container; ERR_NOT_MODIFIED if it is already running. */
  async start(ref: string): Promise<void> {
    const { id } = this.get(ref);
    await this.#lock.run(id, async () => {
      const c = this.get(id);
      if (isRunning(c)) throw new EngineError('ERR_NOT_MODIFIED', 'container already started');
      if (c.state.status === 'removing' || c.state.status === 'dead') {
        throw errors.conflict(`cannot start container ${id}: it is being removed`);
      }
      this.#cancelRestart(id);
      this.#backoff.delete(id);
      // A start by the user forgets a manual stop and the restart count, as in Docker.
      const fresh: ContainerRecord = { ...c, restartCount: 0, state: { ...c.state, manuallyStopped: false } };
      await this.#startOrRecord(fresh);
    });
  }

  /**
   * Starts under the lock; on failure records it Docker's way (status created, or exited after an
   * earlier run, Error and ExitCode 127/126 set), ends attach sessions, and removes an --rm
   * container. Rethrows the failure.
   */
  async #startOrRecord(c: ContainerRecord): Promise<void> {
    try {
      await this.#startLocked(c);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const state: ContainerState = {
        ...c.state, status: c.state.startedAt !== '' ? 'exited' : 'created', pid: 0, error: message, exitCode: startFailureCode(message),
      };
      this.meta.updateContainerState(c.id, state, c.restartCount);
      this.#attach.endAll(c.id);
      this.#resolveWaiters(c.id, ['next-exit', 'not-running'], { statusCode: state.exitCode, error: null });
      if (c.spec.autoRemove) await this.#removeLocked(this.get(c.id));
      if (err instanceof TaskCreateError) throw new EngineError('ERR_START_FAILED', message, { cause: err });
      throw err;
    }
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
      const net = await this.options.networking.bundle(c, dir);
      const hostname = net.hostname;
      const mounts = net.mounts;
      let args = [c.path, ...c.args];
      if (c.spec.init) {
        const init = withInit(this.options.initBinary!, args);
        mounts.push(init.mount);
        args = init.args;
      }
      const oci = buildOciSpec({
        id: c.id,
        rootfsPath: rootfs.merged,
        args,
        env: processEnv(c.spec, hostname),
        cwd,
        user,
        terminal: c.spec.tty,
        ...(c.spec.tty ? { consoleSize: c.spec.consoleSize } : {}),
        hostname,
        domainname: c.spec.domainname,
        security: c.spec.security,
        resources: c.spec.resources,
        daemon: { compat: this.options.compat, defaultPidsLimit: this.options.defaultPidsLimit, ...this.options.host },
        cgroupsPath: this.cgroupPath(c.id),
        netnsPath: net.netnsPath,
        hostNetwork: net.hostNetwork,
        ...(Object.keys(net.sysctl).length > 0 ? { sysctl: net.sysctl } : {}),
        extraMounts: mounts,
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
      // The namespace of `container:<x>` is x's current one: looked up at start.
      const netSpec = networkSpecOf(cur.spec);
      if (effectiveMode(netSpec) === 'container') return false;
      await this.#prepareBundle(cur);
      if (effectiveMode(netSpec) === 'bridge' && netSpec.ports.length === 0 && !netSpec.publishAll) {
        // The netavark setup (~50 ms) then runs while the client attaches and registers its wait.
        // Only on the default bridge without published ports: it cannot be removed or pruned, has
        // no name DNS, and nothing a user could see (a port) is held by a container not started.
        const net = await this.options.networking.service.prepare({ id: cur.id, name: cur.name, spec: netSpec, exposedPorts: cur.spec.exposedPorts });
        const entry = { key: netAheadKey(cur), failed: false, net };
        net.ready.catch(() => (entry.failed = true)); // start awaits it (or drops it); never unhandled meanwhile
        this.#netAhead.set(cur.id, entry);
        await setNetnsPath(join(this.containerDir(cur.id), 'config.json'), net.netnsPath);
      }
      return true;
    }).catch(() => false);
    this.#prepared.set(c.id, ready);
  }

  /** The network set up ahead for `c`, if it still fits (else it is torn down). */
  async #takeNetAhead(c: ContainerRecord): Promise<{ netnsPath: string; ready: Promise<NetworkAttachment> } | undefined> {
    const ahead = this.#netAhead.get(c.id);
    if (!ahead) return undefined;
    this.#netAhead.delete(c.id);
    // One that already failed is not reused: start sets up afresh (and reports its own error).
    if (ahead.key === netAheadKey(c) && !ahead.failed) return ahead.net;
    await this.#dropNet(c.id, ahead.net.netnsPath);
    return undefined;
  }

  /** Tears down a network set up ahead of a start that will not use it (removal, changed intent). */
  async #dropNet(id: string, netnsPath: string): Promise<void> {
    await this.options.networking.service.detach(id, { netnsPath, endpoints: [], ports: [] }).catch(() => {});
  }

  async #startLocked(c: ContainerRecord): Promise<void> {
    const dir = this.containerDir(c.id);
    const ahead = this.#prepared.get(c.id);
    this.#prepared.delete(c.id);
    const bundleReady = ahead !== undefined && (await ahead) && (await isMountPoint(join(dir, 'merged')));
    if (!bundleReady) await this.#prepareBundle(c);
    let taskCreated = false;
    const netSpec = networkSpecOf(c.spec);
    const networking = this.options.networking;
    let net: { netnsPath: string; ready: Promise<NetworkAttachment> } | undefined = await this.#takeNetAhead(c);
    let attachment: NetworkAttachment | null = null;
    try {
      await this.runtime.clearExit(c.id);
      if (needsAttach(netSpec) && net === undefined) {
        net = await networking.service.prepare({ id: c.id, name: c.name, spec: netSpec, exposedPorts: c.spec.exposedPorts });
        net.ready.catch(() => {}); // awaited below; never left unhandled if runc create fails first
      }
      if (net) await setNetnsPath(join(dir, 'config.json'), net.netnsPath);
      const created = this.runtime.create({
        id: c.id,
        bundle: dir,
        logPath: this.logPath(c.id),
        terminal: c.spec.tty,
        stdin: c.spec.openStdin,
        leaveStdinOpen: !c.spec.stdinOnce,
        consoleSize: c.spec.consoleSize,
      });
      // runc create (joining the namespace) runs while the service sets up addresses and ports.
      const [task, ready] = await Promise.allSettled([created, net ? net.ready : Promise.resolve(null)]);
      taskCreated = task.status === 'fulfilled';
      if (ready.status === 'fulfilled') attachment = ready.value;
      if (ready.status === 'rejected') throw ready.reason;
      if (task.status === 'rejected') throw task.reason;
      const { pid } = task.value;
      if (attachment) {
        const etc = networking.etcTexts(c, attachment);
        await Promise.all([rewriteEtcFile(dir, 'hosts', etc.hosts), rewriteEtcFile(dir, 'resolv.conf', etc.resolvConf)]);
      }
      await this.#attach.connectPending(c.id, dir);
      this.#armExit(c.id);
      await this.runtime.start(c.id);
      const state: ContainerState = {
        ...c.state,
        status: 'running', pid, exitCode: 0, error: '', oomKilled: false,
        startedAt: new Date().toISOString(),
        network: attachment,
      };
      this.meta.updateContainerState(c.id, state, c.restartCount);
      const started = { ...c, state };
      this.#event(started, 'start');
      this.#notify('started', started);
    } catch (err) {
      if (taskCreated) await this.runtime.delete(c.id, true).catch(() => {});
      if (net) await networking.service.detach(c.id, attachment ?? { netnsPath: net.netnsPath, endpoints: [], ports: [] }).catch(() => {});
      await this.runtime.clearExit(c.id).catch(() => {});
      await this.layers.unmountRootfs(dir).catch(() => {});
      this.#exits.get(c.id)?.resolve();
      this.#exits.delete(c.id);
      throw err;
    }
  }

  // ── exits and restart policies ────────────────────────────────────────────────────────────────

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
   * first (waiters for `next-exit` answer at once), then an `--rm` container is removed, or the
   * task's host state is cleaned up and the restart policy applied.
   */
  async handleExit(id: string, exitCode: number, exitedAt?: string): Promise<void> {
    await this.#lock.run(id, async () => {
      const c = this.meta.getContainer(id);
      if (!c) {
        await this.runtime.delete(id, true).catch(() => {});
        await this.runtime.clearExit(id);
        return;
      }
      if (!isRunning(c)) return;
      const oomKilled = await this.#oomKilled(id);
      const finishedAt = exitedAt ?? new Date().toISOString();
      const ranMs = Date.parse(finishedAt) - Date.parse(c.state.startedAt || finishedAt);
      const restart = !c.spec.autoRemove && this.#restartDecision(c, exitCode, ranMs);
      // A container its policy will restart is `restarting` from this moment, so that a concurrent
      // stop sees it (and cancels the restart) instead of finding it merely exited.
      const state: ContainerState = {
        ...c.state, status: restart ? 'restarting' : 'exited', pid: 0, exitCode, oomKilled, finishedAt,
      };
      if (c.state.network) await this.options.networking.service.releasePorts(id).catch(() => {});
      this.meta.updateContainerState(id, state);
      const ended: ContainerRecord = { ...c, state };
      if (oomKilled) this.#event(ended, 'oom');
      this.#event(ended, 'die', { exitCode: String(exitCode) });
      this.#exits.get(id)?.resolve();
      this.#exits.delete(id);
      this.#resolveWaiters(id, ['next-exit', 'not-running'], { statusCode: exitCode, error: null });
      this.#notify('exited', ended, exitCode);
      if (c.spec.autoRemove) {
        await this.#removeLocked(this.get(id));
        return;
      }
      await this.#cleanupTask(c);
      await this.runtime.clearExit(id);
      if (restart) this.#scheduleRestart(id, this.#nextDelay(id, ranMs));
    });
  }

  /** Whether the restart policy restarts a container that just exited (or failed to restart). */
  #restartDecision(c: ContainerRecord, exitCode: number, ranMs: number): boolean {
    return shouldRestart(c.spec.restartPolicy, {
      exitCode, restartCount: c.restartCount, manuallyStopped: c.state.manuallyStopped === true, ranMs, shuttingDown: this.#shuttingDown,
    });
  }

  #nextDelay(id: string, ranMs: number): number {
    const delay = nextBackoff(this.#backoff.get(id) ?? 0, ranMs);
    this.#backoff.set(id, delay);
    return delay;
  }

  #scheduleRestart(id: string, delay: number): void {
    this.#cancelRestart(id);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(id);
      void this.#lock.run(id, async () => {
        const c = this.meta.getContainer(id);
        if (!c || c.state.status !== 'restarting') return;
        const next: ContainerRecord = { ...c, restartCount: c.restartCount + 1 };
        try {
          await this.#startLocked(next);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const code = startFailureCode(message);
          const again = this.#restartDecision({ ...next, state: c.state }, code, 0);
          const state: ContainerState = { ...c.state, status: again ? 'restarting' : 'exited', error: message, exitCode: code, finishedAt: new Date().toISOString() };
          this.meta.updateContainerState(id, state, next.restartCount);
          if (again) this.#scheduleRestart(id, this.#nextDelay(id, 0));
        }
      }).catch(() => {});
    }, delay);
    timer.unref();
    this.#restartTimers.set(id, timer);
  }

  #cancelRestart(id: string): void {
    const t = this.#restartTimers.get(id);
    if (t) clearTimeout(t);
    this.#restartTimers.delete(id);
  }

  /** Whether the kernel OOM-killed a process of the container (read before its cgroup goes away). */
  async #oomKilled(id: string): Promise<boolean> {
    const v1 = `/sys/fs/cgroup/memory${this.cgroupPath(id)}/memory.oom_control`;
    const v2 = `/sys/fs/cgroup${this.cgroupPath(id)}/memory.events`;
    for (const file of [v1, v2]) {
      const text = await readFile(file, 'utf8').catch(() => '');
      const m = /^oom_kill (\d+)$/m.exec(text);
      if (m) return Number(m[1]) > 0;
    }
    return false;
  }

  /** Removes what a run made on the host: runtime state, rootfs mount and network (in parallel). */
  async #cleanupTask(c: ContainerRecord): Promise<void> {
    await Promise.all([
      this.runtime.delete(c.id, true).catch(() => {}),
      this.layers.unmountRootfs(this.containerDir(c.id)),
      this.#detachNetwork(c),
    ]);
  }

  /**
   * Tears the network of the last run down (after its exit was reported: teardown takes a while),
   * then forgets the attachment. A crash before that is finished by recover().
   */
  async #detachNetwork(c: ContainerRecord): Promise<void> {
    const a = c.state.network;
    if (!a) return;
    await this.options.networking.service.detach(c.id, a);
    const cur = this.meta.getContainer(c.id);
    if (cur && !isRunning(cur) && cur.state.network) this.meta.updateContainerState(c.id, { ...cur.state, network: null });
  }

  // ── stop / kill / restart / pause ─────────────────────────────────────────────────────────────

  /**
   * Sends the stop signal, waits up to `timeoutSec` (default: the container's StopTimeout or 10),
   * then SIGKILL. ERR_NOT_MODIFIED if the container is not running. A restarting container stops
   * restarting.
   */
  async stop(ref: string, timeoutSec?: number, signalName?: string): Promise<void> {
    const c = this.get(ref);
    if (c.state.status === 'restarting') {
      await this.#lock.run(c.id, async () => {
        this.#cancelRestart(c.id);
        const cur = this.get(c.id);
        if (cur.state.status === 'restarting') {
          this.meta.updateContainerState(c.id, { ...cur.state, status: 'exited', manuallyStopped: true });
        }
      });
      return;
    }
    if (!isRunning(c)) throw new EngineError('ERR_NOT_MODIFIED', 'container already stopped');
    this.#markManuallyStopped(c);
    const exited = this.exited(c.id);
    const signal = parseSignal(signalName || c.spec.stopSignal || this.imageOf(c)?.config.config.stopSignal || 'SIGTERM');
    const timeout = timeoutSec ?? c.spec.stopTimeout ?? 10;
    await this.#signal(c, signal, false);
    if (timeout < 0 ? await exited.then(() => true) : await within(exited, timeout * 1000)) {
      this.#event(c, 'stop');
      return;
    }
    await this.#signal(c, 9, true);
    if (!(await within(exited, 10_000))) {
      throw new EngineError('ERR_INTERNAL', `container ${c.id} did not exit after SIGKILL`);
    }
    this.#event(c, 'stop');
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const signal = parseSignal(signalName);
    const c = this.get(ref);
    if (!isRunning(c)) {
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Cannot kill container: ${ref}: Container ${c.id} is not running`);
    }
    this.#markManuallyStopped(c);
    await this.#signal(c, signal, false, true);
  }

  /** Sends a signal (a paused container is thawed afterwards so that it can act on it). */
  async #signal(c: ContainerRecord, signal: number, all: boolean, strict = false): Promise<void> {
    this.#event(c, 'kill', { signal: String(signal) });
    try {
      await this.runtime.kill(c.id, signal, all);
    } catch (err) {
      if (strict) throw err;
    }
    if (this.get(c.id).state.status === 'paused') await this.unpause(c.id).catch(() => {});
  }

  /** Docker's HasBeenManuallyStopped: a stopped or killed container is not restarted by its policy. */
  #markManuallyStopped(c: ContainerRecord): void {
    const cur = this.meta.getContainer(c.id);
    if (cur && !cur.state.manuallyStopped) this.meta.updateContainerState(c.id, { ...cur.state, manuallyStopped: true });
  }

  /** `docker restart`: stop (if running), then start. */
  async restart(ref: string, timeoutSec?: number, signalName?: string): Promise<void> {
    const c = this.get(ref);
    if (isRunning(c) || c.state.status === 'restarting') await this.stop(c.id, timeoutSec, signalName).catch((err: unknown) => {
      if (!(err instanceof EngineError && err.code === 'ERR_NOT_MODIFIED')) throw err;
    });
    await this.start(c.id);
    this.#event(this.get(c.id), 'restart');
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.#lock.run(c.id, async () => {
      const cur = this.get(c.id);
      if (cur.state.status === 'paused') throw errors.conflict(`Container ${c.id} is already paused`);
      if (cur.state.status !== 'running') throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
      await this.runtime.pause(c.id);
      this.meta.updateContainerState(c.id, { ...cur.state, status: 'paused' });
      this.#event(cur, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.#lock.run(c.id, async () => {
      const cur = this.get(c.id);
      if (cur.state.status !== 'paused') throw errors.conflict(`Container ${c.id} is not paused`);
      await this.runtime.resume(c.id);
      this.meta.updateContainerState(c.id, { ...cur.state, status: 'running' });
      this.#event(cur, 'unpause');
    });
  }

  // ── rename / update ───────────────────────────────────────────────────────────────────────────

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    const name = parseContainerName(newName);
    if (name === c.name) throw errors.conflict(`Renaming a container with the same name as its current name`);
    this.meta.renameContainer(c.id, name);
    this.#event({ ...c, name }, 'rename', { oldName: `/${c.name}` });
  }

  /**
   * `docker update`: a new restart policy and/or resource limits. Limits are applied to a running
   * container at once (`runc update`) and kept for its next starts.
   */
  async update(ref: string, change: { restartPolicy?: RestartPolicy; resources?: Partial<ResourceSpec> }): Promise<string[]> {
    const c = this.get(ref);
    return this.#lock.run(c.id, async () => {
      const cur = this.get(c.id);
      if (change.restartPolicy && change.restartPolicy.name !== 'no' && cur.spec.autoRemove) {
        throw new EngineError('ERR_INVALID_ARGUMENT', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      const resources: ResourceSpec = { ...cur.spec.resources, ...change.resources };
      if (resources.memory > 0 && resources.memorySwap > 0 && resources.memorySwap < resources.memory) {
        throw new EngineError('ERR_INVALID_ARGUMENT', 'Minimum memoryswap limit should be larger than memory limit, see usage');
      }
      if (change.resources && isRunning(cur)) await this.runtime.update(c.id, resources);
      const spec: ContainerSpec = { ...cur.spec, resources, restartPolicy: change.restartPolicy ?? cur.spec.restartPolicy };
      this.meta.updateContainerSpec(c.id, spec);
      this.#event(cur, 'update');
      return [];
    });
  }

  // ── remove ────────────────────────────────────────────────────────────────────────────────────

  async remove(ref: string, options: { force?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    if (isRunning(c) && !options.force) {
      throw new EngineError(
        'ERR_CONTAINER_RUNNING',
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
      );
    }
    this.#cancelRestart(c.id);
    if (isRunning(c)) {
      const exited = this.exited(c.id);
      this.#markManuallyStopped(c);
      await this.#signal(c, 9, true);
      if (!(await within(exited, 10_000))) {
        throw new EngineError('ERR_INTERNAL', `container ${c.id} did not exit after SIGKILL`);
      }
    }
    await this.#lock.run(c.id, async () => {
      this.#cancelRestart(c.id);
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
    if (isRunning(c)) throw new EngineError('ERR_CONTAINER_RUNNING', `container ${c.id} is running`);
    this.meta.deleteContainer(c.id);
    this.#prepared.delete(c.id);
    const ahead = this.#netAhead.get(c.id);
    this.#netAhead.delete(c.id);
    this.#backoff.delete(c.id);
    this.#attach.endAll(c.id);
    this.#event(c, 'destroy');
    this.#resolveWaiters(c.id, ['next-exit', 'not-running', 'removed'], { statusCode: c.state.exitCode, error: null });
    this.#notify('removed', c);
    if (ahead) await this.#dropNet(c.id, ahead.net.netnsPath);
    await this.#cleanupTask(c);
    await this.runtime.clearExit(c.id);
    await rm(this.containerDir(c.id), { recursive: true, force: true });
  }

  /** `docker container prune`: removes every stopped container the filter keeps; returns their IDs. */
  async prune(keep: (c: ContainerRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const c of this.meta.listContainers()) {
      if (isRunning(c) || c.state.status === 'restarting' || !keep(c)) continue;
      await this.#lock.run(c.id, async () => {
        const cur = this.meta.getContainer(c.id);
        if (cur && !isRunning(cur) && cur.state.status !== 'restarting') {
          await this.#removeLocked(cur);
          removed.push(c.id);
        }
      });
    }
    return removed;
  }

  /** Resolves when every lifecycle operation in flight has finished (for a clean shutdown). */
  async drain(): Promise<void> {
    this.#shuttingDown = true;
    for (const id of [...this.#restartTimers.keys()]) this.#cancelRestart(id);
    await this.#lock.idle();
  }

  // ── wait ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Registers a waiter synchronously (so a caller can acknowledge registration before the container
   * can exit) and returns the promise of its result. Throws ERR_NO_SUCH_CONTAINER at once.
   */
  wait(ref: string, condition: WaitCondition): { result: Promise<WaitResult>; cancel(): void } {
    const c = this.get(ref);
    if (condition === 'not-running' && !isRunning(c)) {
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

  // ── attach, resize, logs ──────────────────────────────────────────────────────────────────────

  /**
   * Attaches a client to the container's stdio. On a created (or stopped) container the session is
   * connected when it starts, so no output is lost; on a running one at once.
   */
  async attach(ref: string, options: AttachOptions): Promise<AttachHandle> {
    const c = this.get(ref);
    if (!['created', 'running', 'exited', 'restarting'].includes(c.state.status)) {
      throw errors.conflict(`You cannot attach to a container in state ${c.state.status}`);
    }
    const handle = await this.#attach.add(c, options, c.state.status === 'running' ? this.containerDir(c.id) : undefined);
    this.#event(c, 'attach');
    return handle;
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

  logs(ref: string, options: { follow: boolean; sinceNs?: bigint; untilNs?: bigint; tail?: number; signal?: AbortSignal }): {
    container: ContainerRecord;
    entries: AsyncGenerator<LogEntry>;
  } {
    const c = this.get(ref);
    const entries = readLog(this.logPath(c.id), {
      ...(options.sinceNs !== undefined ? { sinceNs: options.sinceNs } : {}),
      ...(options.untilNs !== undefined ? { untilNs: options.untilNs } : {}),
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.follow && isRunning(c) ? { follow: { stopped: this.exited(c.id) } } : {}),
    });
    return { container: c, entries };
  }

  // ── startup ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Reconciles records with what exists after a daemon (re)start: running tasks are adopted, tasks
   * that exited while the daemon was away get their real exit code (and their restart policy),
   * half-made starts are undone, and containers whose policy says so are started again.
   */
  async recover(): Promise<void> {
    // The network service first learns which attachments are still in use (live tasks); it removes
    // what nothing uses any more. Runs that ended meanwhile are detached below, by handleExit.
    const live: { containerId: string; attachment: NetworkAttachment }[] = [];
    for (const c of this.meta.listContainers()) {
      if (!isRunning(c) || !c.state.network) continue;
      if ((await this.runtime.exitCode(c.id)) !== undefined) continue;
      const task = await this.runtime.state(c.id);
      if (task && (task.status === 'running' || task.status === 'paused')) live.push({ containerId: c.id, attachment: c.state.network });
    }
    await this.options.networking.service.init(live);
    for (const c of this.meta.listContainers()) {
      const dir = this.containerDir(c.id);
      if (isRunning(c)) {
        this.#armExit(c.id);
        const code = await this.runtime.exitCode(c.id);
        if (code !== undefined) {
          await this.handleExit(c.id, code, await this.runtime.exitTime(c.id));
          continue;
        }
        const task = await this.runtime.state(c.id);
        if (task && (task.status === 'running' || task.status === 'paused')) {
          this.#notify('started', c);
          continue;
        }
        // The task vanished without an exit record (e.g. the machine rebooted).
        await this.handleExit(c.id, 128 + 9);
        continue;
      }
      if (c.state.status === 'removing') {
        await this.#lock.run(c.id, () => this.#removeLocked({ ...c, state: { ...c.state, status: 'exited' } }));
        continue;
      }
      // Not running: nothing of a run may remain.
      await this.#detachNetwork(c).catch(() => {});
      await this.runtime.delete(c.id, true).catch(() => {});
      await this.runtime.clearExit(c.id);
      await this.layers.unmountRootfs(dir).catch(() => {});
      if (c.spec.autoRemove && c.state.status === 'exited') {
        await this.#lock.run(c.id, () => this.#removeLocked(c));
      } else if (c.state.status === 'restarting' || restartsOnDaemonStart(c)) {
        this.meta.updateContainerState(c.id, { ...c.state, status: 'restarting' });
        this.#scheduleRestart(c.id, 0);
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

  /** Publishes a container event with Docker's attributes (labels, image, name). */
  event(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#event(c, action, extra);
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

/**
 * Docker's rule at daemon start: `always` containers come back even after a manual stop,
 * `unless-stopped` ones unless they were stopped by hand, `on-failure` ones after a failure.
 */
function restartsOnDaemonStart(c: ContainerRecord): boolean {
  if (c.state.status !== 'exited' || c.state.startedAt === '') return false;
  const p = c.spec.restartPolicy;
  if (p.name === 'always') return true;
  if (c.state.manuallyStopped) return false;
  if (p.name === 'unless-stopped') return true;
  return p.name === 'on-failure' && c.state.exitCode !== 0 && (p.maximumRetryCount === 0 || c.restartCount < p.maximumRetryCount);
}

/** Exit code Docker reports for a failed start, from the runtime's message. */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 128;
}

/** What a network set up ahead was made for: the DNS name and the network intent. */
function netAheadKey(c: ContainerRecord): string {
  return JSON.stringify([c.name, networkSpecOf(c.spec), c.spec.exposedPorts]);
}

/** Points the network namespace of a prepared bundle's config.json at `path`. */
async function setNetnsPath(configPath: string, path: string): Promise<void> {
  const oci = JSON.parse(await readFile(configPath, 'utf8')) as OciSpec;
  oci.linux.namespaces = oci.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path } : n));
  await writeFile(configPath, JSON.stringify(oci), { mode: 0o600 });
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
