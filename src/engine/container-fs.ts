/**
 * A container's file system from the outside: `docker diff` (changes of the writable layer) and
 * `docker export` (the whole root filesystem as tar).
 *
 * Export reads the live rootfs mount of a running container. A stopped container's rootfs is not
 * mounted (its mount point belongs to the next start), so export mounts a private read-only overlay
 * of its writable layer over the image layers in a fresh directory outside the container's
 * directory (so that a `docker rm` meanwhile cannot descend into it), and unmounts it when the tar
 * is done, failed, or the client went away. The tar itself is written by the walker of `docker cp`
 * (archive-fs.ts `archiveRootfs`): fd-pinned, never following a symlink, with back-pressure.
 */
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import { constants as C, openat2 } from '../native/index.js';
import { isMountPoint } from '../store/layers/layer-store.js';
import { execFileChecked, execFileResult } from '../util/exec.js';
import { archiveRootfs } from './archive-fs.js';
import type { ContainerService } from './containers.js';
import { containerChanges, type Change } from './fs-changes.js';

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

export class ContainerFsService {
  readonly #containers: ContainerService;

  constructor(containers: ContainerService) {
    this.#containers = containers;
  }

  /** `docker diff`: the changes of the container's writable layer against its image (ERR_NO_SUCH_CONTAINER). */
  async changes(ref: string): Promise<Change[]> {
    const c = this.#containers.get(ref);
    const { upper, lowers } = this.#containers.rootfsLayers(c);
    return containerChanges(upper, lowers);
  }

  /**
   * `docker export`: resolves once the root filesystem is pinned (mount errors reject here, before
   * any byte is sent) with the tar stream, written by the `docker cp` walker (archive-fs.ts) over
   * the root. A running container's live rootfs is pinned by an fd under its lock; the walk stops
   * when it exits (its rootfs is unmounted then; the stream fails rather than holding the mount
   * busy). A stopped container gets a private read-only mount, released before the end of the tar.
   */
  async export(ref: string, options: { signal?: AbortSignal } = {}): Promise<{ container: ContainerRecord; tar: Readable }> {
    const c = this.#containers.get(ref);
    const { upper, merged, lowers } = this.#containers.rootfsLayers(c);
    const live = await this.#containers.withLock(c.id, async () => {
      const cur = this.#containers.get(c.id);
      if (!isRunning(cur) || !(await isMountPoint(merged))) return undefined;
      return { fd: pinDir(merged), exited: this.#containers.exited(c.id) };
    });
    let rootFd: number;
    let onEnd: (() => Promise<void>) | undefined;
    const stop = new AbortController();
    if (live) {
      rootFd = live.fd;
      void live.exited.then(() => stop.abort(new EngineError('ERR_CONFLICT', `container ${c.id} stopped during the export`)));
    } else {
      const mnt = await mkdtemp(join(tmpdir(), 'brig-export-'));
      try {
        await this.#containers.withLock(c.id, () => mountReadonly(mnt, upper, lowers));
      } catch (err) {
        await rmdir(mnt).catch(() => {});
        throw err;
      }
      try {
        rootFd = pinDir(mnt);
      } catch (err) {
        await unmount(mnt);
        throw err;
      }
      onEnd = () => unmount(mnt);
    }
    this.#containers.event(c, 'export');
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const tar = archiveRootfs(rootFd, { signal, ...(onEnd ? { onEnd } : {}) });
    return { container: c, tar };
  }
}

/** A root filesystem mount point as an O_PATH fd (brig's own path, trusted up to here). */
function pinDir(path: string): number {
  return openat2(C.AT_FDCWD, path, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
}

/**
 * Mounts the stopped container's writable layer over its image layers, read-only (an overlay with
 * lower dirs only), at `target`. The image layers are given relative to their common directory (the
 * mount runs there), so that many layers fit the kernel's one-page option limit.
 */
async function mountReadonly(target: string, upper: string, lowers: readonly string[]): Promise<void> {
  if (lowers.length === 0) throw new EngineError('ERR_INTERNAL', 'an image without layers cannot be mounted');
  const layersRoot = dirname(dirname(lowers[0]!));
  const rel = lowers.map((l) => relative(layersRoot, l));
  // A container that never had its rootfs prepared has no writable layer yet: an empty one is the truth.
  await mkdir(upper, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const opts = `ro,lowerdir=${[upper, ...rel].join(':')}`;
  if (opts.length > 4000) throw new EngineError('ERR_LIMIT_EXCEEDED', `image has too many layers (${lowers.length}) to mount`);
  try {
    await execFileChecked('mount', ['-t', 'overlay', '-o', opts, 'overlay', target], { cwd: layersRoot });
  } catch (err) {
    throw new EngineError('ERR_INTERNAL', `mounting the container's root filesystem for export failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Unmounts and removes an export mount point (retrying while the last reads drain). */
async function unmount(target: string): Promise<void> {
  for (let attempt = 0; attempt < 40 && (await isMountPoint(target)); attempt++) {
    const r = await execFileResult('umount', [target]);
    if (r.code === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  if (await isMountPoint(target)) await execFileResult('umount', ['-l', target]);
  await rmdir(target).catch(() => {});
}
