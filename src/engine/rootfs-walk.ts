/**
 * Walking a directory tree that someone else may be changing (a running container's writable layer
 * or its live root filesystem) without ever following a symlink out of it.
 *
 * Every directory of the walk is pinned by an fd (opened O_DIRECTORY|O_NOFOLLOW), and every lookup
 * is one path component relative to such an fd, through the `/proc/self/fd/<fd>/<name>` magic link:
 * the kernel resolves `/proc/self/fd/<fd>` to the pinned directory itself, whatever happened to its
 * path since, and O_NOFOLLOW refuses a final symlink. So a container that swaps a directory for a
 * symlink mid-walk (`mv dir x; ln -s / dir`) makes the walk skip that entry, never leave the tree
 * (the CVE-2018-15664 class). Regular files are first opened O_PATH (no open side effects even if a
 * device node was swapped in), checked with fstat, and only then reopened for reading through their
 * own fd, so the bytes read belong to the inode that was checked.
 *
 * What remains: the walk is not a snapshot. Entries renamed while it runs may be seen twice or not at
 * all, and file contents may change while they are read (a size mismatch is the caller's problem).
 *
 * The same guarantee with openat2(2) (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS relative to the pinned
 * fd) is what brig's native addon offers; the procfs form needs no addon and gives the same
 * confinement, as long as /proc is mounted (it always is for the daemon).
 */
import { constants as C, type BigIntStats, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';

/** open(2)'s O_PATH on Linux (x86-64, arm64, …); Node does not export it. */
export const O_PATH = 0o10000000;

const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENXIO', 'EACCES', 'EPERM']);

function gone(err: unknown): boolean {
  return GONE.has((err as NodeJS.ErrnoException).code ?? '');
}

/** True for an overlayfs whiteout: a character device 0:0. */
export function isWhiteout(st: Stats | BigIntStats): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

/** A directory pinned by an open fd; lookups go through it, one component at a time. */
export class PinnedDir {
  readonly #handle: FileHandle;
  /** fstat of the pinned directory. */
  readonly stat: Stats;

  private constructor(handle: FileHandle, stat: Stats) {
    this.#handle = handle;
    this.stat = stat;
  }

  /** Pins `path` (a directory the daemon trusts up to here: its own data root). */
  static async open(path: string): Promise<PinnedDir> {
    const handle = await open(path, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      return new PinnedDir(handle, await handle.stat());
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The procfs path of the pinned directory (valid in this process only, while it is open). */
  get procPath(): string {
    return `/proc/self/fd/${this.#handle.fd}`;
  }

  #at(name: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`${this.procPath}/`), name]);
  }

  /** Entry names (raw bytes, any encoding), sorted bytewise like Go's filepath.Walk. */
  async names(): Promise<Buffer[]> {
    const list = await readdir(this.procPath, { encoding: 'buffer' });
    return list.sort(Buffer.compare);
  }

  /** lstat of an entry (nanosecond times); undefined if it is gone. */
  async lstat(name: Buffer): Promise<BigIntStats | undefined> {
    try {
      return await lstat(this.#at(name), { bigint: true });
    } catch (err) {
      if (gone(err)) return undefined;
      throw err;
    }
  }

  /** Pins a subdirectory; undefined if it is gone or no longer a directory (e.g. swapped for a symlink). */
  async dir(name: Buffer): Promise<PinnedDir | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.#at(name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      if (gone(err)) return undefined;
      throw err;
    }
    try {
      return new PinnedDir(handle, await handle.stat());
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Opens a regular file for reading; undefined if it is gone or not a regular file any more.
   * The returned stat is of the opened inode.
   */
  async file(name: Buffer): Promise<{ handle: FileHandle; stat: Stats } | undefined> {
    let pathHandle: FileHandle;
    try {
      pathHandle = await open(this.#at(name), O_PATH | C.O_NOFOLLOW);
    } catch (err) {
      if (gone(err)) return undefined;
      throw err;
    }
    try {
      const st = await pathHandle.stat();
      if (!st.isFile()) return undefined;
      const handle = await open(`/proc/self/fd/${pathHandle.fd}`, C.O_RDONLY | C.O_NOCTTY);
      return { handle, stat: st };
    } catch (err) {
      if (gone(err)) return undefined;
      throw err;
    } finally {
      await pathHandle.close();
    }
  }

  /** The target of a symlink entry (raw bytes); undefined if it is gone or not a symlink. */
  async readlink(name: Buffer): Promise<Buffer | undefined> {
    try {
      return await readlink(this.#at(name), { encoding: 'buffer' });
    } catch (err) {
      if (gone(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => {});
  }
}
