/**
 * A container's file system from the outside: `docker diff` (changes of the writable layer) and
 * `docker export` (the whole root filesystem as tar).
 *
 * Export reads the live rootfs mount of a running container. A stopped container's rootfs is not
 * mounted (its mount point belongs to the next start), so export mounts a private read-only overlay
 * of its writable layer over the image layers in a fresh directory outside the container's
 * directory (so that a `docker rm` meanwhile cannot descend into it), and unmounts it when the tar
 * is done, failed, or the client went away.
 */
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import { isMountPoint } from '../store/layers/layer-store.js';
import { execFileChecked, execFileResult } from '../util/exec.js';
import type { ContainerService } from './containers.js';
import { exportTree } from './export.js';
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
   * `docker export`: resolves once the root filesystem is readable (mount errors reject here, before
   * any byte is sent) with the tar stream. The walk of a running container stops when it exits (its
   * rootfs is unmounted then; the stream fails rather than holding the mount busy).
   */
  async export(ref: string, options: { signal?: AbortSignal } = {}): Promise<{ container: ContainerRecord; tar: Readable }> {
    const c = this.#containers.get(ref);
    const { upper, merged, lowers } = this.#containers.rootfsLayers(c);
    let root: string;
    let onEnd: (() => Promise<void>) | undefined;
    const stop = new AbortController();
    const signals = options.signal ? [options.signal, stop.signal] : [stop.signal];
    const live = await this.#containers.withLock(c.id, async () => {
      const cur = this.#containers.get(c.id);
      return isRunning(cur) && (await isMountPoint(merged));
    });
    if (live) {
      root = merged;
      void this.#containers.exited(c.id).then(() => stop.abort(new EngineError('ERR_CONFLICT', `container ${c.id} stopped during the export`)));
    } else {
      const mnt = await mkdtemp(join(tmpdir(), 'brig-export-'));
      try {
        await this.#containers.withLock(c.id, () => mountReadonly(mnt, upper, lowers));
      } catch (err) {
        await rmdir(mnt).catch(() => {});
        throw err;
      }
      root = mnt;
      onEnd = () => unmount(mnt);
    }
    this.#containers.event(c, 'export');
    const tar = exportTree(root, { signal: AbortSignal.any(signals), ...(onEnd ? { onEnd } : {}) });
    return { container: c, tar };
  }
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
