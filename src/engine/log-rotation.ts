/**
 * Log rotation for `--log-opt max-size=N [--log-opt max-file=M]`: conmon writes each container's
 * log (`ctr.log`) and never limits it, so the daemon watches the logs of running containers that
 * have a size limit and rotates them once they reach it:
 *
 *   max-file >= 2   drop `ctr.log.(M-1)`, rename `ctr.log.(k)` → `ctr.log.(k+1)` down to k = 1,
 *                   `ctr.log` → `ctr.log.1`, then ask conmon to reopen: it closes its file (which
 *                   holds everything it wrote up to now, under its new name) and creates a fresh
 *                   `ctr.log`. Nothing written in between is lost.
 *   max-file = 1    ask conmon to reopen: it replaces `ctr.log` by an empty file (a truncation
 *                   that needs no cooperation from the file offset: conmon's reopened file is not
 *                   O_APPEND, so truncating it under conmon would leave a hole of zeros).
 *
 * A file may overshoot the limit by what conmon writes while the rotation is under way (about
 * one read of the container's output); readers (logs/cri-log.ts) read the rotated files first.
 *
 * Cost: one inotify watch per watched container, on its directory (a watch on `ctr.log` itself
 * would follow the renamed file), a stat per burst of writes, at most one every `minIntervalMs`
 * per log, and a periodic stat of every watched log as a safety net for missed events.
 *
 * Checks and rotations of one container run one at a time, in order. A rotation can overlap a
 * restart of the container's task; the reopen then goes to whichever conmon owns the ctl FIFO,
 * and a new conmon creates `ctr.log` if it is missing.
 */
import { watch, type FSWatcher } from 'node:fs';
import { rename, stat, truncate, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface LogLimits {
  /** Rotate when the log reaches this many bytes (> 0). */
  maxSize: number;
  /** Files to keep, the live one included (>= 1). */
  maxFile: number;
}

export interface LogRotatorOptions {
  /**
   * Asks the writer of a container's log to reopen it (for conmon: `2 0 0` on its ctl FIFO).
   * Resolves false when nothing writes the log any more (the task has ended).
   */
  reopen(id: string): Promise<boolean>;
  /** Period of the safety-net check of every watched log; default 5 s. */
  pollMs?: number;
  /** Least time between two checks of one log, bounding the stat rate of a chatty container; default 10 ms. */
  minIntervalMs?: number;
  /** Reports a failed check or rotation (the next check tries again). */
  onError?(id: string, err: unknown): void;
}

interface Watched {
  id: string;
  path: string;
  limits: LogLimits;
  watcher: FSWatcher | undefined;
  timer: NodeJS.Timeout | undefined;
  lastCheck: number;
  /** A check is queued or running. */
  busy: boolean;
  /** More writes happened while a check was busy. */
  again: boolean;
  closed: boolean;
}

export class LogRotator {
  readonly #watched = new Map<string, Watched>();
  /** Per container: the tail of its queue of checks (so that rotations never overlap). */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #options: Required<Omit<LogRotatorOptions, 'onError'>> & Pick<LogRotatorOptions, 'onError'>;
  readonly #poll: NodeJS.Timeout;

  constructor(options: LogRotatorOptions) {
    this.#options = { pollMs: 5_000, minIntervalMs: 10, ...options };
    this.#poll = setInterval(() => {
      for (const w of this.#watched.values()) this.#poke(w);
    }, this.#options.pollMs);
    this.#poll.unref();
  }

  /** Starts watching the log of a running container (again: the limits are replaced). Checks it at once. */
  watch(id: string, logPath: string, limits: LogLimits): void {
    if (!(limits.maxSize > 0)) return;
    const old = this.#watched.get(id);
    if (old && old.path === logPath) {
      old.limits = limits;
      this.#poke(old);
      return;
    }
    if (old) this.#close(old);
    const w: Watched = {
      id, path: logPath, limits, watcher: undefined, timer: undefined, lastCheck: 0, busy: false, again: false, closed: false,
    };
    const name = basename(logPath);
    try {
      w.watcher = watch(dirname(logPath), { persistent: false }, (_event, file) => {
        if (file === null || file.toString() === name) this.#poke(w);
      });
      // Without inotify (limit reached, directory gone) the periodic check still works.
      w.watcher.on('error', () => {
        w.watcher?.close();
        w.watcher = undefined;
      });
    } catch {
      w.watcher = undefined;
    }
    this.#watched.set(id, w);
    this.#poke(w);
  }

  /** Stops watching (the container exited or was removed). */
  unwatch(id: string): void {
    const w = this.#watched.get(id);
    if (w) this.#close(w);
  }

  /**
   * The container's task has ended: one last check (a burst at the end may have crossed the limit;
   * with no writer left, a single file is truncated directly), then it is no longer watched.
   */
  finish(id: string): Promise<void> {
    const w = this.#watched.get(id);
    if (!w) return Promise.resolve();
    this.#close(w);
    return this.#enqueue(w.id, () => this.#check(w.id, w.path, w.limits));
  }

  /** Stops every watch and the periodic check. Rotations under way complete. */
  close(): void {
    clearInterval(this.#poll);
    for (const w of [...this.#watched.values()]) this.#close(w);
  }

  /** Resolves when every queued check has finished (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  #close(w: Watched): void {
    w.closed = true;
    w.watcher?.close();
    w.watcher = undefined;
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
    if (this.#watched.get(w.id) === w) this.#watched.delete(w.id);
  }

  /** Something may have been written: check soon, coalescing bursts. */
  #poke(w: Watched): void {
    if (w.closed) return;
    if (w.busy) {
      w.again = true;
      return;
    }
    if (w.timer) return;
    const wait = w.lastCheck + this.#options.minIntervalMs - Date.now();
    if (wait > 0) {
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.#run(w);
      }, wait);
      w.timer.unref();
      return;
    }
    this.#run(w);
  }

  #run(w: Watched): void {
    if (w.closed) return;
    w.busy = true;
    w.lastCheck = Date.now();
    void this.#enqueue(w.id, () => this.#check(w.id, w.path, w.limits)).finally(() => {
      w.busy = false;
      if (w.again) {
        w.again = false;
        this.#poke(w);
      }
    });
  }

  #enqueue(id: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => this.#options.onError?.(id, err));
    this.#queues.set(id, next);
    void next.then(() => {
      if (this.#queues.get(id) === next) this.#queues.delete(id);
    });
    return next;
  }

  async #check(id: string, path: string, limits: LogLimits): Promise<void> {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      // Missing: a rotation is waiting for conmon to reopen, or the container is being removed.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (size < limits.maxSize) return;
    if (limits.maxFile <= 1) {
      // Only a file nobody writes may be truncated in place (see the module comment).
      if (!(await this.#options.reopen(id))) await truncate(path, 0);
      return;
    }
    await unlink(`${path}.${limits.maxFile - 1}`).catch(ignoreMissing);
    for (let k = limits.maxFile - 2; k >= 1; k--) await rename(`${path}.${k}`, `${path}.${k + 1}`).catch(ignoreMissing);
    try {
      await rename(path, `${path}.1`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // the container is being removed
      throw err;
    }
    // No writer: the next task of the container creates a fresh ctr.log.
    await this.#options.reopen(id);
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
