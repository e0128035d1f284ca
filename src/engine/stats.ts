/**
 * `docker stats` and `docker top`: samples of a container's cgroup (v1 or v2, see cgroup-stats.ts), the host's CPU
 * time, and the network counters of the container's init process.
 *
 * Everything is read from files named by the container record (cgroup path, init pid), so a
 * container adopted after a daemon restart has stats like any other. Sampling is pull-based: the
 * next sample is read only when the consumer asks for it (the API waits for the client to drain
 * the previous one), so a slow client slows the sampling down instead of piling samples up.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import {
  parseMemTotal, parseNetDev, parseProcStat, statsFromV1, statsFromV2, V1_FILES, V2_FILES,
  type CgroupStats, type CpuStats, type NetworkStats,
} from './cgroup-stats.js';
import type { ContainerService } from './containers.js';
import { top, validatePsArgs, type TopResult } from './top.js';

/** One sample: the cgroup's figures, the host's CPU time, and the networks (undefined: none but `lo`). */
export interface StatsSample extends CgroupStats {
  /** Wall-clock time of the sample in ns since the epoch. */
  readNs: bigint;
  cpu: CpuStats;
  networks: Map<string, NetworkStats> | undefined;
}

/** What one JSON object of the stats stream carries. */
export interface StatsFrame {
  id: string;
  name: string;
  /** undefined: the container is not running (Docker answers a zeroed object then). */
  sample?: StatsSample;
  /** The previous sample's time and CPU figures (`preread`, `precpu_stats`); undefined for the first. */
  previous?: { readNs: bigint; cpu: CpuStats };
}

export interface StatsOptions {
  /** true: a frame per interval until the container stops or `signal` fires. */
  stream: boolean;
  /** Without `stream`: answer at once, without the second sample that fills `previous`. */
  oneShot?: boolean;
  signal?: AbortSignal;
}

export interface StatsServiceOptions {
  /** Where the cgroup hierarchy is mounted (tests point it at a recorded tree). */
  cgroupRoot?: string;
  /** Where procfs is mounted. */
  procRoot?: string;
  /** Time between two samples of a stream (and between the two of a non-streamed answer). */
  intervalMs?: number;
}

const wallBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Wall-clock ns with sub-millisecond resolution. */
export function nowNs(): bigint {
  return wallBase + process.hrtime.bigint();
}

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

const readOrUndefined = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/** cgroup v2 if the hierarchy's root has `cgroup.controllers` (a hybrid host's v1 root does not). */
export async function detectCgroupVersion(cgroupRoot: string): Promise<1 | 2> {
  try {
    await access(join(cgroupRoot, 'cgroup.controllers'));
    return 2;
  } catch {
    return 1;
  }
}

/**
 * Reads and parses the cgroup files of `cgroupPath` (relative to each controller's root, e.g.
 * `/brig/<id>`). Resolves `undefined` when the cgroup does not exist (the container is gone).
 */
export async function readCgroupStats(cgroupRoot: string, version: 1 | 2, cgroupPath: string, memTotal: number): Promise<CgroupStats | undefined> {
  const files: Record<string, string | undefined> = {};
  const names: readonly string[] = version === 1 ? V1_FILES : V2_FILES;
  await Promise.all(names.map(async (name) => {
    const path = version === 1
      ? join(cgroupRoot, name.slice(0, name.indexOf('/')), cgroupPath, name.slice(name.indexOf('/') + 1))
      : join(cgroupRoot, cgroupPath, name);
    files[name] = await readOrUndefined(path);
  }));
  const present = version === 1 ? files['memory/memory.usage_in_bytes'] ?? files['pids/pids.current'] : files['cpu.stat'] ?? files['pids.current'];
  if (present === undefined) return undefined;
  return version === 1 ? statsFromV1(files, { memTotal }) : statsFromV2(files, { memTotal });
}

export class StatsService {
  readonly #containers: ContainerService;
  readonly #cgroupRoot: string;
  readonly #procRoot: string;
  readonly #intervalMs: number;
  #version: Promise<1 | 2> | undefined;
  #memTotal: Promise<number> | undefined;

  constructor(containers: ContainerService, options: StatsServiceOptions = {}) {
    this.#containers = containers;
    this.#cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
    this.#procRoot = options.procRoot ?? '/proc';
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /** The host's cgroup version (read once). */
  cgroupVersion(): Promise<1 | 2> {
    this.#version ??= detectCgroupVersion(this.#cgroupRoot);
    return this.#version;
  }

  #hostMemory(): Promise<number> {
    this.#memTotal ??= readFile(join(this.#procRoot, 'meminfo'), 'utf8').then(parseMemTotal, () => 0);
    return this.#memTotal;
  }

  /** One sample of a running container; undefined when its cgroup is gone (it stopped meanwhile). */
  async sample(c: ContainerRecord): Promise<StatsSample | undefined> {
    const [version, memTotal] = await Promise.all([this.cgroupVersion(), this.#hostMemory()]);
    // Host and container figures are read back to back so that the CPU percentage has little noise.
    const [cg, procStat, netDev] = await Promise.all([
      readCgroupStats(this.#cgroupRoot, version, this.#containers.cgroupPath(c.id), memTotal),
      readOrUndefined(join(this.#procRoot, 'stat')),
      c.state.pid > 0 ? readOrUndefined(join(this.#procRoot, String(c.state.pid), 'net', 'dev')) : Promise.resolve(undefined),
    ]);
    if (!cg) return undefined;
    const host = procStat ? parseProcStat(procStat) : { systemCpuUsage: 0, onlineCpus: 0 };
    let networks: Map<string, NetworkStats> | undefined;
    if (netDev !== undefined) {
      // Like dockerd, only the container's network interfaces count: loopback traffic is not network I/O.
      networks = new Map([...parseNetDev(netDev)].filter(([name]) => name !== 'lo'));
      if (networks.size === 0) networks = undefined;
    }
    return {
      ...cg,
      readNs: nowNs(),
      cpu: { cpuUsage: cg.cpuUsage, systemCpuUsage: host.systemCpuUsage, onlineCpus: host.onlineCpus, throttlingData: cg.throttlingData },
      networks,
    };
  }

  /**
   * `docker top`: the container's processes as `ps <psArgs>` lists them (default `-ef`).
   * Throws ERR_INVALID_ARGUMENT for bad `psArgs` (checked first, as dockerd does),
   * ERR_NO_SUCH_CONTAINER, ERR_CONTAINER_NOT_RUNNING (409) when it is not running.
   */
  async top(ref: string, psArgs: string | null | undefined): Promise<TopResult> {
    validatePsArgs(psArgs);
    const c = this.#containers.get(ref);
    if (c.state.status === 'restarting') {
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is restarting, wait until the container is running`);
    }
    if (!isRunning(c)) throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    const result = await top(c, this.#containers.cgroupPath(c.id), psArgs, { cgroupRoot: this.#cgroupRoot, cgroupVersion: await this.cgroupVersion() });
    this.#containers.event(c, 'top');
    return result;
  }

  /**
   * The stats of `ref` as frames. Throws ERR_NO_SUCH_CONTAINER at once (before any frame).
   *
   * - not running: one frame without a sample (Docker's zeroed object), then the end;
   * - `stream: false`: one frame after one interval, its `previous` filled (or at once with
   *   `oneShot`); a container that stops meanwhile gives the zeroed frame;
   * - `stream: true`: a frame at once, then one per interval, until the container stops or
   *   `signal` fires (then the generator just ends).
   */
  frames(ref: string, options: StatsOptions): { container: ContainerRecord; frames: AsyncGenerator<StatsFrame> } {
    const c = this.#containers.get(ref);
    return { container: c, frames: this.#frames(c, options) };
  }

  async *#frames(c: ContainerRecord, options: StatsOptions): AsyncGenerator<StatsFrame> {
    const base = { id: c.id, name: c.name };
    if (!isRunning(c)) {
      yield base;
      return;
    }
    // Set when this run of the container ends or the client goes away; wakes a pending pause.
    let stopped = false;
    let wake: (() => void) | undefined;
    const onStop = () => {
      stopped = true;
      wake?.();
    };
    void this.#containers.exited(c.id).then(onStop);
    options.signal?.addEventListener('abort', onStop, { once: true });
    if (options.signal?.aborted) onStop();
    const pause = (ms: number) => stopped ? Promise.resolve() : new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, Math.max(0, ms));
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
    try {
      let previous: StatsFrame['previous'];
      if (!options.stream && !options.oneShot) {
        const first = await this.sample(c);
        if (first) previous = { readNs: first.readNs, cpu: first.cpu };
        await pause(this.#intervalMs);
        if (options.signal?.aborted) return;
      }
      for (;;) {
        const started = Date.now();
        const sample = stopped && !options.stream ? undefined : await this.sample(c);
        if (!sample) {
          if (!options.stream) yield base;
          return;
        }
        yield { ...base, sample, ...(previous ? { previous } : {}) };
        if (!options.stream) return;
        previous = { readNs: sample.readNs, cpu: sample.cpu };
        // The consumer has taken the frame (for HTTP: the client drained it); wait for the next tick.
        await pause(this.#intervalMs - (Date.now() - started));
        if (stopped) return;
      }
    } finally {
      options.signal?.removeEventListener('abort', onStop);
    }
  }
}
