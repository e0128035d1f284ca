/**
 * `docker diff`: what changed in a container's root filesystem, read from its overlay upper dir.
 *
 * The rules are dockerd's (moby `pkg/archive/changes.go` over overlay2), in the same order (a
 * depth-first walk of the upper dir, names sorted bytewise):
 * - a character device 0:0 is a whiteout: the path was deleted (Kind 2, `D`);
 * - any other entry is new (Kind 1, `A`) unless the path exists in the image's lower layers, then it
 *   is modified (Kind 0, `C`); a directory that exists in the image with the same type, mode,
 *   owner and mtime is not reported itself (it is only there because something below it changed);
 * - the parent of an added or deleted path is reported modified, once, before its first child.
 *
 * Where brig differs, on purpose:
 * - An opaque directory (`trusted.overlay.opaque=y`: the directory was removed and made again) is
 *   `C` when the image had it (dockerd says `D` for a directory that still exists), and each entry
 *   of the image that it hides is reported `D`, which is what happened to those entries. Inside it,
 *   entries are `A` or `C` by whether the image had them.
 * - Existence in the image follows overlayfs' own lookup over the layers (whiteouts, opaque
 *   directories, a file hiding a directory below it), where dockerd stats each layer on its own.
 * - Mount points the runtime made for the container (`/etc/hosts`, `/etc/hostname`,
 *   `/etc/resolv.conf`, `/proc`, `/sys`, `/dev`, … when the image lacks them) are not changes:
 *   dockerd keeps them in a separate init layer. The mtime of their parent directory is not compared
 *   either (making them changed it).
 * - Directory sizes are not compared: the upper dir may live on another file system (tmpfs) than
 *   the layers, where the same directory has another size.
 */
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { close, constants as C, fstatat, isSystemError, openat2, readdirFd, type Stat } from '../native/index.js';
import { isWhiteout } from '../native/safe-fs.js';
import { execFileResult } from '../util/exec.js';

export const CHANGE_MODIFY = 0;
export const CHANGE_ADD = 1;
export const CHANGE_DELETE = 2;

export interface Change {
  /** Absolute path in the container (`/etc/passwd`). */
  path: string;
  kind: 0 | 1 | 2;
}

/** What the diff needs to know about one entry. */
export interface EntryInfo {
  type: 'dir' | 'file' | 'symlink' | 'whiteout' | 'other';
  /** st_mode, type bits included */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
}

/** One directory of the upper (writable) layer. */
export interface UpperDir {
  /** Entry names, sorted bytewise. */
  names(): Promise<string[]>;
  info(name: string): Promise<EntryInfo | undefined>;
  dir(name: string): Promise<UpperDir | undefined>;
  /** Whether this directory is marked opaque. */
  opaque(): Promise<boolean>;
  close(): Promise<void>;
}

/** The image's file system as overlayfs would show it without the upper layer. */
export interface LowerView {
  /** The entry at `path` (absolute), undefined if the image does not have it. */
  lookup(path: string): Promise<EntryInfo | undefined>;
  /** The names visible in the directory `path` of the image (empty if it has none). */
  children(path: string): Promise<string[]>;
}

/** Runtime-made mount points: not changes when the image lacks them and they are empty. */
const RUNTIME_MOUNTPOINTS = new Set([
  '/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console',
  '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv',
]);

const child = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const parentOf = (path: string) => path.slice(0, Math.max(1, path.lastIndexOf('/')));
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Go's sameFsTime: equal, or equal seconds when either has no sub-second part. */
function sameTime(a: bigint, b: bigint): boolean {
  if (a === b) return true;
  const s = 1_000_000_000n;
  return a / s === b / s && (a % s === 0n || b % s === 0n);
}

/** An overlayfs whiteout seen by Node's lstat: a character device 0:0. */
const isWhiteoutStats = (st: BigIntStats) => st.isCharacterDevice() && st.rdev === 0n;

/** The entry info of a Node lstat (image layers). */
export function infoOf(st: BigIntStats): EntryInfo {
  let type: EntryInfo['type'] = 'other';
  if (st.isDirectory()) type = 'dir';
  else if (st.isFile()) type = 'file';
  else if (st.isSymbolicLink()) type = 'symlink';
  else if (isWhiteoutStats(st)) type = 'whiteout';
  return { type, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs, size: Number(st.size) };
}

/** The entry info of a native fstatat (the upper dir). */
function infoOfStat(st: Stat): EntryInfo {
  const types: Record<number, EntryInfo['type']> = { [C.S_IFDIR]: 'dir', [C.S_IFREG]: 'file', [C.S_IFLNK]: 'symlink' };
  const type = types[st.mode & C.S_IFMT] ?? (isWhiteout(st) ? 'whiteout' : 'other');
  return { type, mode: st.mode, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs, size: st.size };
}

/** Computes the changes of an upper dir against the image (see the module comment for the rules). */
export async function diffUpper(upper: UpperDir, lower: LowerView): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();

  const record = (path: string, kind: 0 | 1 | 2, isDir: boolean) => {
    if (isDir) changedDirs.add(path);
    if (kind !== CHANGE_MODIFY) {
      const parent = parentOf(path);
      if (parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ path: parent, kind: CHANGE_MODIFY });
        changedDirs.add(parent);
      }
    }
    changes.push({ path, kind });
  };

  /** Is `name` in `dir` a runtime mount point that the image lacks (and the container left empty)? */
  const isMountpointStub = async (dir: UpperDir, path: string, info: EntryInfo, name: string): Promise<boolean> => {
    if (!RUNTIME_MOUNTPOINTS.has(path)) return false;
    if (info.type === 'file' ? info.size !== 0 : info.type !== 'dir') return false;
    if (info.type === 'dir') {
      const sub = await dir.dir(name);
      if (!sub) return false;
      try {
        if ((await sub.names()).length !== 0) return false;
      } finally {
        await sub.close();
      }
    }
    return (await lower.lookup(path)) === undefined;
  };

  /**
   * Walks one upper directory. `hidesLower`: the image's entries of this directory are hidden (it or
   * an ancestor is opaque), so those missing from the upper dir were deleted.
   */
  const walk = async (dir: UpperDir, path: string, hidesLower: boolean): Promise<void> => {
    const names = await dir.names();
    const infos = new Map<string, EntryInfo>();
    for (const name of names) {
      const info = await dir.info(name);
      if (!info) continue;
      if (await isMountpointStub(dir, child(path, name), info, name)) continue;
      infos.set(name, info);
    }
    let all = [...infos.keys()];
    const hidden = new Set<string>();
    if (hidesLower) {
      for (const name of await lower.children(path)) {
        if (!infos.has(name)) hidden.add(name);
      }
      all = [...all, ...hidden].sort(byteOrder);
    }
    for (const name of all) {
      const p = child(path, name);
      if (hidden.has(name)) {
        record(p, CHANGE_DELETE, false);
        continue;
      }
      const info = infos.get(name)!;
      if (info.type === 'whiteout') {
        record(p, CHANGE_DELETE, false);
        continue;
      }
      const before = await lower.lookup(p);
      if (info.type !== 'dir') {
        record(p, before ? CHANGE_MODIFY : CHANGE_ADD, false);
        continue;
      }
      const sub = await dir.dir(name);
      if (!sub) continue;
      try {
        const opaque = await sub.opaque();
        if (!before) {
          record(p, CHANGE_ADD, true);
        } else if (opaque || before.type !== 'dir' || !(await sameDir(sub, p, info, before))) {
          record(p, CHANGE_MODIFY, true);
        }
        // A directory that replaced something else in the image hides whatever the image had below.
        await walk(sub, p, hidesLower || opaque || (before !== undefined && before.type !== 'dir'));
      } finally {
        await sub.close();
      }
    }
  };

  /** Same type, mode, owner and (unless runtime mount points were made in it) mtime as in the image. */
  const sameDir = async (dir: UpperDir, path: string, now: EntryInfo, before: EntryInfo): Promise<boolean> => {
    if (now.mode !== before.mode || now.uid !== before.uid || now.gid !== before.gid) return false;
    if (sameTime(now.mtimeNs, before.mtimeNs)) return true;
    for (const name of await dir.names()) {
      const p = child(path, name);
      if (!RUNTIME_MOUNTPOINTS.has(p)) continue;
      const info = await dir.info(name);
      if (info && (await isMountpointStub(dir, p, info, name))) return true;
    }
    return false;
  };

  await walk(upper, '/', false);
  return changes;
}

// ── the real file system ──────────────────────────────────────────────────────────────────────────

/** Lookups of one component below a pinned directory: never a symlink, never `..`. */
const BENEATH = C.RESOLVE_BENEATH | C.RESOLVE_NO_SYMLINKS;

/** What a lookup in the upper dir meets when the container removed or swapped the entry meanwhile. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EXDEV', 'ENXIO', 'EACCES', 'EPERM']);
const isGone = (err: unknown) => isSystemError(err) && GONE.has(err.code);

/**
 * An upper dir walked through pinned directory fds, like the `docker cp` walker: every lookup is
 * one component below a pinned directory (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, O_NOFOLLOW),
 * so a directory swapped for a symlink mid-walk is reported as what it is now and never followed;
 * the fd of a directory opened before the swap still lists the original. `opaqueDirs` are absolute
 * paths. Owns `fd` (an O_RDONLY|O_DIRECTORY fd) until `close()`.
 */
export class PinnedUpperDir implements UpperDir {
  readonly #fd: number;
  readonly #path: string;
  readonly #opaqueDirs: ReadonlySet<string>;
  #names: Map<string, Buffer> | undefined;
  #closed = false;

  constructor(fd: number, path: string, opaqueDirs: ReadonlySet<string>) {
    this.#fd = fd;
    this.#path = path;
    this.#opaqueDirs = opaqueDirs;
  }

  #raw(name: string): Buffer | undefined {
    if (!this.#names) this.#list();
    return this.#names!.get(name);
  }

  #list(): string[] {
    const raw = readdirFd(this.#fd, 'buffer').sort(Buffer.compare);
    this.#names = new Map(raw.map((b) => [b.toString('utf8'), b]));
    return [...this.#names.keys()];
  }

  async names(): Promise<string[]> {
    return this.#list();
  }

  async info(name: string): Promise<EntryInfo | undefined> {
    const raw = this.#raw(name);
    if (raw === undefined) return undefined;
    try {
      return infoOfStat(fstatat(this.#fd, raw, C.AT_SYMLINK_NOFOLLOW));
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  }

  async dir(name: string): Promise<UpperDir | undefined> {
    const raw = this.#raw(name);
    if (raw === undefined) return undefined;
    let fd: number;
    try {
      fd = openat2(this.#fd, raw, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW, 0, BENEATH);
    } catch (err) {
      if (isGone(err)) return undefined; // gone, or no longer a directory (e.g. swapped for a symlink)
      throw err;
    }
    return new PinnedUpperDir(fd, child(this.#path, name), this.#opaqueDirs);
  }

  async opaque(): Promise<boolean> {
    return this.#opaqueDirs.has(this.#path);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    close(this.#fd);
  }
}

/**
 * The image's layers (topmost first) as one tree, with overlayfs' lookup rules. Layers are
 * immutable, and a path is only looked up in a layer once its parent was found to be a real
 * directory there, so no symlink inside a layer is ever followed.
 */
export class LayersView implements LowerView {
  readonly #layers: readonly string[];
  readonly #opaque: (layer: string) => Promise<ReadonlySet<string>>;
  readonly #stats = new Map<string, Promise<BigIntStats | undefined>>();

  constructor(layers: readonly string[], opaque: (layer: string) => Promise<ReadonlySet<string>> = layerOpaqueDirs) {
    this.#layers = layers;
    this.#opaque = opaque;
  }

  #lstat(layer: string, path: string): Promise<BigIntStats | undefined> {
    const key = `${layer}\0${path}`;
    let p = this.#stats.get(key);
    if (!p) {
      p = lstat(join(layer, path), { bigint: true }).catch(() => undefined);
      this.#stats.set(key, p);
    }
    return p;
  }

  /** The entry at `path` and the layers whose directory at `path` is merged into it. */
  async #resolve(path: string): Promise<{ found: BigIntStats; layers: string[] } | undefined> {
    let layers = [...this.#layers];
    let found: BigIntStats | undefined;
    let prefix = '';
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.length === 0) return undefined;
    for (const part of parts) {
      if (found && !found.isDirectory()) return undefined;
      prefix = `${prefix}/${part}`;
      found = undefined;
      const next: string[] = [];
      for (const layer of layers) {
        const st = await this.#lstat(layer, prefix);
        if (!st) continue;
        if (isWhiteoutStats(st)) break;
        found ??= st;
        if (!st.isDirectory() || !found.isDirectory()) break;
        next.push(layer);
        if ((await this.#opaque(layer)).has(prefix)) break;
      }
      if (!found) return undefined;
      layers = next;
    }
    return found ? { found, layers } : undefined;
  }

  async lookup(path: string): Promise<EntryInfo | undefined> {
    const r = await this.#resolve(path);
    return r ? infoOf(r.found) : undefined;
  }

  async children(path: string): Promise<string[]> {
    let layers: string[];
    if (path === '/') {
      layers = [];
      for (const layer of this.#layers) {
        layers.push(layer);
        if ((await this.#opaque(layer)).has('/')) break;
      }
    } else {
      const r = await this.#resolve(path);
      if (!r || !r.found.isDirectory()) return [];
      layers = r.layers;
    }
    const seen = new Set<string>();
    const visible: string[] = [];
    for (const layer of layers) {
      const names = await readdir(join(layer, path)).catch(() => [] as string[]);
      for (const name of names) {
        if (seen.has(name)) continue;
        seen.add(name);
        const st = await this.#lstat(layer, child(path, name));
        if (st && !isWhiteoutStats(st)) visible.push(name);
      }
    }
    return visible.sort(byteOrder);
  }
}

/** Opaque directories of image layers: layers never change, so each is read once. */
const layerOpaqueCache = new Map<string, Promise<ReadonlySet<string>>>();

export function layerOpaqueDirs(layer: string): Promise<ReadonlySet<string>> {
  let p = layerOpaqueCache.get(layer);
  if (!p) {
    p = opaqueDirs(layer);
    layerOpaqueCache.set(layer, p);
    p.catch(() => layerOpaqueCache.delete(layer));
  }
  return p;
}

/**
 * The directories under `root` marked `trusted.overlay.opaque=y`, as absolute paths in the tree
 * (`/` for the root itself). One `getfattr -R` run (Node has no xattr call): it walks physically
 * (`-P`, never following symlinks) and only prints the matching attribute.
 */
export async function opaqueDirs(root: string): Promise<Set<string>> {
  let r;
  try {
    r = await execFileResult('getfattr', ['-R', '-P', '-h', '--absolute-names', '-d', '-e', 'text', '-m', '^trusted\\.overlay\\.opaque$', root], {
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
  } catch (err) {
    throw new EngineError('ERR_INTERNAL', `reading overlay attributes needs getfattr: ${(err as Error).message}`, {
      cause: err,
      hint: 'install the attr package (apt-get install attr) or run `npm run setup`',
    });
  }
  return parseGetfattr(r.stdout, root);
}

/** Parses `getfattr -d` output (names octal-escaped) into the set of opaque paths relative to `root`. */
export function parseGetfattr(output: string, root: string): Set<string> {
  const out = new Set<string>();
  let file: string | undefined;
  const base = root.replace(/\/+$/, '');
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = unescapeOctal(line.slice('# file: '.length));
    } else if (file !== undefined && /^trusted\.overlay\.opaque="y"$/.test(line)) {
      if (file === base) out.add('/');
      else if (file.startsWith(`${base}/`)) out.add(file.slice(base.length));
    }
  }
  return out;
}

function unescapeOctal(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i, i + 4));
    if (m) {
      bytes.push(parseInt(m[1]!, 8));
      i += 3;
    } else {
      bytes.push(s.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The changes of the container whose writable layer is `upperDir` over the image `layers`
 * (topmost first). The upper dir is walked through pinned fds, never following a symlink.
 */
export async function containerChanges(upperDir: string, layers: readonly string[]): Promise<Change[]> {
  let fd: number;
  try {
    fd = openat2(C.AT_FDCWD, upperDir, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return []; // never started: nothing changed
    throw err;
  }
  let upper: PinnedUpperDir;
  try {
    upper = new PinnedUpperDir(fd, '/', await opaqueDirs(upperDir));
  } catch (err) {
    close(fd);
    throw err;
  }
  try {
    return await diffUpper(upper, new LayersView(layers));
  } finally {
    await upper.close();
  }
}
