/**
 * `docker cp`: the archive use cases behind `HEAD`, `GET` and `PUT /containers/{id}/archive`.
 *
 * The file-system work is in `archive-fs.ts` (fd-based, confined to the container's root with
 * openat2; see its comment for the rules against CVE-2018-15664 and friends). Here: which root
 * filesystem to work on, and for how long.
 *
 * - **Running (or paused) container**: its live root filesystem, `<dir>/merged`, is pinned by an fd
 *   under the container's lock, then the lock is released: a long copy does not block `stop`.
 *   When the container exits meanwhile, the copy is aborted (its fds closed) so that the exit can
 *   unmount the root filesystem. Known difference from dockerd: the container's own extra mounts
 *   (the `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` binds, an `--init` binary) live in the
 *   container's mount namespace and are not visible in `merged`: `docker cp c:/etc/hostname` gives
 *   the image's file, not the container's hostname, and a copy into those paths does not change
 *   what the container sees.
 * - **Stopped container** (created, exited, restarting…): its root filesystem is mounted at its
 *   usual place for the duration of the operation, under the container's lock (so a concurrent
 *   start, remove or restart waits), and unmounted afterwards on every path, failures and client
 *   disconnects included. A created container whose bundle is already prepared (rootfs mounted by
 *   create) is used as it is and stays mounted for its start.
 *
 * Errors follow dockerd: a missing path is 404 `Could not find the file <path> in container <ref>`,
 * an extraction point that is not a directory is 400, a read-only root filesystem 403.
 * Ownership of uploaded files: the archive's uid/gid with `copyUIDGID` (docker cp -a), otherwise
 * the container's root (0:0; brig has no user namespaces yet).
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import { close, constants as C, isSystemError, openat2 } from '../native/index.js';
import { isMountPoint } from '../store/layers/layer-store.js';
import {
  archivePinned,
  containerPath,
  extractArchive,
  openExtractionPoint,
  pathStat,
  pinPath,
  statPath,
  type ExtractLimits,
  type ExtractResult,
  type PathStat,
} from './archive-fs.js';
import type { ContainerService } from './containers.js';

export type { ExtractResult, PathStat } from './archive-fs.js';

export interface WriteOptions {
  noOverwriteDirNonDir?: boolean;
  copyUIDGID?: boolean;
  /** Aborts the extraction (the client went away). */
  signal?: AbortSignal;
}

/** A container root filesystem pinned for one operation. */
interface PinnedRoot {
  container: ContainerRecord;
  fd: number;
  /** Aborts when the (running) container exits; never for a stopped one. */
  signal: AbortSignal;
  /** Closes the fd and, for a stopped container, unmounts and releases the lock. Idempotent. */
  release(): Promise<void>;
}

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

/**
 * One signal that aborts when any of `sources` does; `dispose()` unhooks it from them (the exit
 * signal of a container lives as long as its run: it must not collect one listener per copy).
 */
function linkSignals(sources: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const hooked: [AbortSignal, () => void][] = [];
  const dispose = () => {
    for (const [s, f] of hooked) s.removeEventListener('abort', f);
    hooked.length = 0;
  };
  for (const s of sources) {
    if (s === undefined) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const f = () => {
      controller.abort(s.reason);
      dispose();
    };
    s.addEventListener('abort', f, { once: true });
    hooked.push([s, f]);
  }
  return { signal: controller.signal, dispose };
}

/** The container root as an O_PATH fd (the path is brig's own data root, trusted up to here). */
function pinRoot(merged: string): number {
  return openat2(C.AT_FDCWD, merged, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
}

/** A failed lookup of a container path, in dockerd's words. */
function pathError(err: unknown, ref: string, path: string): unknown {
  if (!isSystemError(err)) return err;
  switch (err.code) {
    case 'ENOENT':
      return new EngineError('ERR_NOT_FOUND', `Could not find the file ${path} in container ${ref}`);
    case 'ENOTDIR':
      return new EngineError('ERR_INVALID_ARGUMENT', `lstat ${path}: not a directory`);
    case 'ELOOP':
      return new EngineError('ERR_INVALID_ARGUMENT', `lstat ${path}: too many levels of symbolic links`);
    case 'EXDEV':
      return new EngineError('ERR_INVALID_ARGUMENT', `lstat ${path}: crosses a mount point`);
    case 'ENAMETOOLONG':
      return new EngineError('ERR_INVALID_ARGUMENT', `lstat ${path}: file name too long`);
    default:
      return new EngineError('ERR_INTERNAL', `lstat ${path}: ${err.message}`, { cause: err });
  }
}

export class ArchiveService {
  readonly #containers: ContainerService;
  readonly #limits: Partial<ExtractLimits>;
  /** One abort signal per run of a container (keyed by its `exited()` promise), fired when it ends. */
  readonly #exitSignals = new WeakMap<Promise<void>, AbortSignal>();

  constructor(containers: ContainerService, options: { limits?: Partial<ExtractLimits> } = {}) {
    this.#containers = containers;
    this.#limits = options.limits ?? {};
  }

  /** `HEAD …/archive?path=`: the stat of a path (a final symlink is not followed). */
  async stat(ref: string, path: string): Promise<PathStat> {
    const root = await this.#pin(ref);
    try {
      return statPath(root.fd, path);
    } catch (err) {
      throw pathError(err, ref, path);
    } finally {
      await root.release();
    }
  }

  /**
   * `GET …/archive?path=`: resolves once the path is found (errors reject here, before any byte)
   * with its stat and the tar stream of it. For a stopped container the root filesystem stays
   * mounted (and the container locked) until the stream ends, fails or is destroyed.
   */
  async read(ref: string, path: string, options: { signal?: AbortSignal } = {}): Promise<{ container: ContainerRecord; stat: PathStat; tar: Readable }> {
    const root = await this.#pin(ref);
    let tar: Readable;
    let stat: PathStat;
    try {
      let pinned;
      try {
        pinned = pinPath(root.fd, path);
      } catch (err) {
        throw pathError(err, ref, path);
      }
      try {
        stat = pathStat(root.fd, pinned);
      } catch (err) {
        close(pinned.fd);
        throw pathError(err, ref, path);
      }
      const linked = linkSignals([root.signal, options.signal]);
      tar = archivePinned(pinned, {
        signal: linked.signal,
        onEnd: () => {
          linked.dispose();
          return root.release();
        },
      });
    } catch (err) {
      await root.release();
      throw err;
    }
    this.#containers.event(root.container, 'archive-path');
    return { container: root.container, stat, tar };
  }

  /**
   * `PUT …/archive?path=`: extracts a tar (or gzip tar) stream into the directory `path`.
   * Resolves when everything is applied (and a stopped container's rootfs unmounted again).
   */
  async write(ref: string, path: string, body: Readable, options: WriteOptions = {}): Promise<ExtractResult> {
    const root = await this.#pin(ref);
    let result: ExtractResult;
    try {
      let dest: number;
      try {
        dest = openExtractionPoint(root.fd, path);
      } catch (err) {
        throw pathError(err, ref, path);
      }
      try {
        if (root.container.spec.security.readonlyRootfs) {
          throw new EngineError('ERR_FORBIDDEN', 'container rootfs is marked read-only');
        }
        const linked = linkSignals([root.signal, options.signal]);
        try {
          result = await extractArchive(dest, containerPath(path), body, {
            noOverwriteDirNonDir: options.noOverwriteDirNonDir ?? false,
            copyUIDGID: options.copyUIDGID ?? false,
            rootIds: { uid: 0, gid: 0 },
            limits: this.#limits,
            signal: linked.signal,
          });
        } finally {
          linked.dispose();
        }
      } finally {
        close(dest);
      }
    } catch (err) {
      await root.release().catch(() => {});
      throw err;
    }
    await root.release();
    this.#containers.event(root.container, 'extract-to-dir');
    return result;
  }

  /** Aborts when the current run of the (running) container ends. */
  #exitSignal(id: string): AbortSignal {
    const exited = this.#containers.exited(id);
    let signal = this.#exitSignals.get(exited);
    if (signal === undefined) {
      const controller = new AbortController();
      void exited.then(() => controller.abort(new EngineError('ERR_CONFLICT', `container ${id} stopped during the copy`)));
      signal = controller.signal;
      this.#exitSignals.set(exited, signal);
    }
    return signal;
  }

  /**
   * Pins the container's root filesystem (see the module comment). For a stopped container the
   * lock is held (and the rootfs mounted) until `release()`.
   */
  async #pin(ref: string): Promise<PinnedRoot> {
    const { id } = this.#containers.get(ref);
    const merged = join(this.#containers.containerDir(id), 'merged');
    let unlock!: () => void;
    const held = new Promise<void>((resolve) => (unlock = resolve));
    let pinned!: (root: PinnedRoot) => void;
    const ready = new Promise<PinnedRoot>((resolve) => (pinned = resolve));

    const locked = this.#containers.withLock(id, async () => {
      const c = this.#containers.get(id);
      if (isRunning(c)) {
        if (!(await isMountPoint(merged))) {
          throw new EngineError('ERR_CONFLICT', `the root filesystem of container ${c.id} is not mounted`);
        }
        const fd = pinRoot(merged);
        let closed = false;
        pinned({
          container: c,
          fd,
          signal: this.#exitSignal(c.id),
          release: async () => {
            if (closed) return;
            closed = true;
            close(fd);
          },
        });
        return;
      }
      const wasMounted = await isMountPoint(merged);
      if (!wasMounted) await this.#containers.mountStoppedRootfs(c);
      let fd: number;
      try {
        fd = pinRoot(merged);
      } catch (err) {
        if (!wasMounted) await this.#containers.unmountStoppedRootfs(c);
        throw err;
      }
      let released = false;
      pinned({
        container: c,
        fd,
        signal: new AbortController().signal,
        release: async () => {
          if (!released) {
            released = true;
            unlock();
          }
          await locked;
        },
      });
      try {
        await held;
      } finally {
        close(fd);
        if (!wasMounted) await this.#containers.unmountStoppedRootfs(c);
      }
    });
    // A failure before `pinned` was called rejects the pin; one after it rejects release().
    return Promise.race([ready, locked.then(() => ready)]);
  }
}
