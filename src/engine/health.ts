/**
 * Health checks (`HEALTHCHECK` in the image, `--health-*` on the container), with Docker's rules:
 * the check runs every `interval` (every `startInterval` during the start period), a run longer
 * than `timeout` fails, `retries` consecutive failures make the container `unhealthy` (failures in
 * the start period do not count until one success), one success makes it `healthy`. The last 5
 * results are kept in `State.Health.Log` with at most 4 KiB of output each; every status change
 * publishes a `health_status: <status>` event.
 */
import type { ContainerRecord, HealthcheckSpec, HealthLogEntry, HealthState } from '../model/container.js';

export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_START_INTERVAL_NS = 5e9;
export const DEFAULT_RETRIES = 3;
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT = 4096;

/** Runs one probe inside the container; resolves with its exit code and (truncated) output. */
export interface ProbeRunner {
  run(c: ContainerRecord, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
}

/** Where the monitor reads and records state and announces changes (the container service). */
export interface HealthHost {
  current(id: string): ContainerRecord | undefined;
  saveHealth(id: string, health: HealthState): void;
  announce(c: ContainerRecord, status: HealthState['status']): void;
  imageHealthcheck(c: ContainerRecord): HealthcheckSpec | null | undefined;
}

/** The effective check: the container's fields over the image's, with Docker's defaults. */
export function effectiveHealthcheck(container: HealthcheckSpec | null, image: HealthcheckSpec | null | undefined): Required<HealthcheckSpec> | null {
  const test = container?.test.length ? container.test : image?.test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return null;
  const pick = (k: keyof Omit<HealthcheckSpec, 'test'>, dflt: number) => container?.[k] || image?.[k] || dflt;
  return {
    test,
    intervalNs: pick('intervalNs', DEFAULT_INTERVAL_NS),
    timeoutNs: pick('timeoutNs', DEFAULT_TIMEOUT_NS),
    startPeriodNs: pick('startPeriodNs', 0),
    startIntervalNs: pick('startIntervalNs', DEFAULT_START_INTERVAL_NS),
    retries: pick('retries', DEFAULT_RETRIES),
  };
}

/** argv of a check: `CMD-SHELL x` runs `/bin/sh -c x`, `CMD a b` runs `a b`. */
export function probeArgv(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  return test.slice(1);
}

/** The next state after one probe (pure). */
export function nextHealth(prev: HealthState, result: HealthLogEntry, retries: number, inStartPeriod: boolean): HealthState {
  const log = [...prev.log, { ...result, output: result.output.slice(0, MAX_OUTPUT) }].slice(-MAX_LOG_ENTRIES);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  if (inStartPeriod && prev.status === 'starting') return { status: 'starting', failingStreak: prev.failingStreak, log };
  const failingStreak = prev.failingStreak + 1;
  return { status: failingStreak >= retries ? 'unhealthy' : prev.status, failingStreak, log };
}

/** Runs the checks of running containers; one loop per container, stopped when it stops. */
export class HealthMonitor {
  readonly #loops = new Map<string, AbortController>();
  readonly #runner: ProbeRunner;
  readonly #host: HealthHost;

  constructor(runner: ProbeRunner, host: HealthHost) {
    this.#runner = runner;
    this.#host = host;
  }

  /** Starts checking a container that just started (no-op without a health check). */
  started(c: ContainerRecord): void {
    this.stopped(c.id);
    const check = effectiveHealthcheck(c.spec.healthcheck, this.#host.imageHealthcheck(c));
    if (!check) return;
    const ac = new AbortController();
    this.#loops.set(c.id, ac);
    const initial: HealthState = { status: 'starting', failingStreak: 0, log: [] };
    this.#host.saveHealth(c.id, initial);
    void this.#loop(c.id, check, initial, Date.now(), ac.signal);
  }

  stopped(id: string): void {
    this.#loops.get(id)?.abort();
    this.#loops.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.#loops.keys()]) this.stopped(id);
  }

  async #loop(id: string, check: Required<HealthcheckSpec>, state: HealthState, startedAt: number, signal: AbortSignal): Promise<void> {
    const argv = probeArgv(check.test);
    let health = state;
    for (;;) {
      const inStart = Date.now() - startedAt < check.startPeriodNs / 1e6;
      const waitNs = inStart && health.status === 'starting' ? check.startIntervalNs : check.intervalNs;
      if (!(await sleep(waitNs / 1e6, signal))) return;
      const c = this.#host.current(id);
      if (!c || c.state.status !== 'running') {
        if (c?.state.status === 'paused') continue;
        return;
      }
      const start = new Date().toISOString();
      let result: { exitCode: number; output: string; timedOut: boolean };
      try {
        result = await this.#runner.run(c, argv, check.timeoutNs / 1e6, signal);
      } catch (err) {
        if (signal.aborted) return;
        result = { exitCode: -1, output: `health check failed to run: ${(err as Error).message}`, timedOut: false };
      }
      if (signal.aborted) return;
      const entry: HealthLogEntry = {
        start,
        end: new Date().toISOString(),
        exitCode: result.timedOut ? -1 : result.exitCode,
        output: result.timedOut ? `Health check exceeded timeout (${check.timeoutNs / 1e9}s)` : result.output,
      };
      const next = nextHealth(health, entry, check.retries, Date.now() - startedAt < check.startPeriodNs / 1e6);
      this.#host.saveHealth(id, next);
      if (next.status !== health.status) this.#host.announce(c, next.status);
      health = next;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
