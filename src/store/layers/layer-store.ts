/**
 * Unpacked layers and container root filesystems (brig's snapshotter).
 *
 *   <root>/layers/<chain hex>/diff      one unpacked image layer, an overlay lowerdir, never modified
 *   <root>/containers/<id>/upper|work   the container's writable layer
 *   <root>/containers/<id>/merged       kernel overlayfs mount of both, the container's rootfs
 *
 * Layers are unpacked into `layers/.tmp-*` and renamed into place only when complete, so a crash
 * never leaves a half-unpacked layer that looks finished.
 */
import { randomBytes } from 'node:crypto';
import { access, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';
import { digestHex, isHex64 } from '../../util/digest.js';
import { constants, mountOverlay, umount2 } from '../../native/index.js';
import { execFileChecked } from '../../util/exec.js';
import { mkdirPrivate } from '../../util/fs.js';

/** What the runtime needs to know about a mounted rootfs. */
export interface RootfsMount {
  merged: string;
  upper: string;
}

export class LayerStore {
  readonly #layers: string;

  constructor(dataRoot: string) {
    this.#layers = join(dataRoot, 'layers');
  }

  /** Creates the directory and removes unpack leftovers of a crash. */
  async init(): Promise<void> {
    await mkdirPrivate(this.#layers);
    for (const name of await readdir(this.#layers)) {
      if (name.startsWith('.tmp-')) await rm(join(this.#layers, name), { recursive: true, force: true });
    }
  }

  /** Directory holding the layer's files. */
  diffDir(chainId: Digest): string {
    return join(this.#layers, digestHex(chainId), 'diff');
  }

  async has(chainId: Digest): Promise<boolean> {
    try {
      await access(this.diffDir(chainId));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Unpacks a layer: `fill` writes the files into the directory it is given and returns the layer's
   * chain ID (known only once the content has been read). The layer becomes visible under that ID
   * only if `fill` resolves; if it already existed, the new copy is dropped.
   */
  async createStaged(fill: (diffDir: string) => Promise<Digest>): Promise<Digest> {
    const tmp = join(this.#layers, `.tmp-${randomBytes(8).toString('hex')}`);
    await mkdirPrivate(tmp);
    await mkdir(join(tmp, 'diff'), { mode: 0o755 });
    try {
      const chainId = await fill(join(tmp, 'diff'));
      if (await this.has(chainId)) {
        await rm(tmp, { recursive: true, force: true });
      } else {
        try {
          await rename(tmp, join(this.#layers, digestHex(chainId)));
        } catch (err) {
          // Placed meanwhile by another writer: the same content under the same ID; keep theirs.
          if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          await rm(tmp, { recursive: true, force: true });
        }
      }
      return chainId;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** Chain IDs of all unpacked layers (staging dirs and foreign names are not listed). */
  async list(): Promise<Digest[]> {
    return (await readdir(this.#layers)).filter(isHex64).map((hex) => `sha256:${hex}` as Digest);
  }

  /** Removes staging dirs of unpacks that never finished; only safe when nothing unpacks. */
  async removeStagingLeftovers(): Promise<number> {
    const names = (await readdir(this.#layers)).filter((n) => n.startsWith('.tmp-'));
    for (const n of names) await rm(join(this.#layers, n), { recursive: true, force: true });
    return names.length;
  }

  /** Directory of an unpacked layer (its `diff/` and nothing else). */
  dir(chainId: Digest): string {
    return join(this.#layers, digestHex(chainId));
  }

  async remove(chainId: Digest): Promise<void> {
    await rm(join(this.#layers, digestHex(chainId)), { recursive: true, force: true });
  }

  /**
   * Mounts an overlay of `chainIds` (bottom first) plus a writable upper dir under `containerDir`.
   * Lower dirs are given relative to the layer root (the mount runs there) so that many layers fit
   * into the kernel's one-page option limit.
   */
  async mountRootfs(containerDir: string, chainIds: readonly Digest[], readonly = false): Promise<RootfsMount> {
    const upper = join(containerDir, 'upper');
    const work = join(containerDir, 'work');
    const merged = join(containerDir, 'merged');
    await mkdir(upper, { recursive: true, mode: 0o755 });
    await mkdir(work, { recursive: true, mode: 0o700 });
    await mkdir(merged, { recursive: true, mode: 0o755 });
    if (chainIds.length === 0) throw new EngineError('ERR_INTERNAL', 'an image without layers cannot be mounted');
    // Absolute lower dirs when they fit into the kernel's one-page option limit (mounted with one
    // syscall); otherwise relative ones, mounted by mount(8) run from the layer root.
    const abs = [...chainIds].reverse().map((c) => this.diffDir(c)).join(':');
    const absOpts = readonly ? `lowerdir=${upper}:${abs}` : `lowerdir=${abs},upperdir=${upper},workdir=${work}`;
    try {
      if (absOpts.length < 4000) {
        mountOverlay(merged, absOpts);
      } else {
        const rel = [...chainIds].reverse().map((c) => `${digestHex(c)}/diff`).join(':');
        const opts = readonly ? `lowerdir=${upper}:${rel}` : `lowerdir=${rel},upperdir=${upper},workdir=${work}`;
        if (opts.length > 4000) {
          throw new EngineError('ERR_LIMIT_EXCEEDED', `image has too many layers (${chainIds.length}) to mount`);
        }
        await execFileChecked('mount', ['-t', 'overlay', '-o', opts, 'overlay', merged], { cwd: this.#layers });
      }
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('ERR_INTERNAL', `mounting the container's root filesystem failed: ${(err as Error).message}`, { cause: err });
    }
    return { merged, upper };
  }

  /** Unmounts a container rootfs if mounted; idempotent. Retries while the mount is busy. */
  async unmountRootfs(containerDir: string): Promise<void> {
    const merged = join(containerDir, 'merged');
    for (let attempt = 0; ; attempt++) {
      if (!(await isMountPoint(merged))) return;
      try {
        umount2(merged, constants.UMOUNT_NOFOLLOW);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINVAL' || code === 'ENOENT') return; // not mounted (any more)
        if (attempt >= 20) throw new EngineError('ERR_INTERNAL', `unmounting ${merged} failed: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

/**
 * True if `path` is a mount point. brig only asks this about its own overlay mounts, which always
 * have a device of their own, so comparing the device with the parent's (what `mountpoint(1)` does)
 * answers it with two stats, instead of reading /proc/self/mountinfo (which grows with every
 * container: 250 KB with 500 created containers).
 */
export async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([lstat(path), stat(dirname(path))]);
    return self.isDirectory() && (self.dev !== parent.dev || self.ino === parent.ino);
  } catch {
    return false;
  }
}
