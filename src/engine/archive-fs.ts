/**
 * The file-system half of `docker cp` (`GET`/`HEAD`/`PUT /containers/{id}/archive`) and of
 * `docker export` (`GET /containers/{id}/export`, the read side on the whole root), written
 * against a **root directory fd** so that it can be unit-tested on temporary directories and so
 * that nothing here ever resolves a container-controlled path on the host.
 *
 * The attack class is `security-research.md` §2 B (CVE-2018-15664 symlink-swap race,
 * CVE-2019-14271, GHSA-x86f-5xw2-fm2r, CVE-2021-41089): the container is running, owns every file
 * of its root filesystem, and may swap any directory for a symlink (to `/`, to a host path, to
 * `../../..`) at any moment, with `renameat2(RENAME_EXCHANGE)` in a tight loop. The rules:
 *
 * - **The requested path** is resolved by the kernel with openat2 `RESOLVE_IN_ROOT` from the root
 *   fd (`openInRoot`): absolute symlinks, `..` and racing renames are clamped to the container's
 *   root. The result is pinned by an fd; everything after works on fds.
 * - **Below that**, every lookup is one component relative to a pinned directory fd with
 *   `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV` and `O_NOFOLLOW`: a symlink is never
 *   followed, it is archived as a link (read) or refuses the entry (write).
 * - **Reading** (`openArchive`): a directory tree is walked with `readdirFd` on pinned fds;
 *   regular files are first pinned `O_PATH`, checked with fstat, and re-opened through their own
 *   fd (`/proc/self/fd/N`), so the bytes read belong to the inode that was checked and a FIFO or
 *   device swapped in is never opened. Devices and FIFOs are archived as headers only; sockets
 *   are skipped (as dockerd does).
 * - **Writing** (`extractArchive`): the upload is decompressed in this process (gzip only: xz,
 *   bzip2 and zstd are refused, no decompressor binary is ever run) and parsed by brig's strict
 *   tar reader. Each entry is applied relative to the destination directory fd: names that are
 *   absolute or contain `..` are refused; parents are created with `mkdirat` and re-opened with
 *   `RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS` (so a symlink planted by the container refuses the entry
 *   instead of redirecting it); an existing non-directory is `unlinkat`-ed and the file re-created
 *   with `O_CREAT|O_EXCL|O_NOFOLLOW`; owner, mode, xattrs and times are set through the new fd, or
 *   with `AT_SYMLINK_NOFOLLOW` on (pinned parent, one component). Hard links must point at an
 *   existing regular file or symlink inside the destination; device nodes are refused.
 *
 * Names: archive entries are rebased on the basename of the requested path, as dockerd does
 * (`/etc/hostname` → `hostname`; `/etc` → `etc/`, `etc/passwd`; `/etc/.` → `./`, `./passwd`;
 * `/` → `/`, `/bin/`). `docker export` (`archiveRootfs`) is the same walk of the root, named
 * relative to it (`bin/`, `bin/busybox`). Names that are not UTF-8 are archived lossily
 * (tar-stream writes UTF-8).
 */
import { fchmodSync, fchownSync, fstatSync, openSync, closeSync, read as fsRead, write as fsWrite, writeSync, constants as FS } from 'node:fs';
import { Readable } from 'node:stream';
import tar, { type Header, type Pack } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { EngineError, isEngineError } from '../errors.js';
import { LayerDecoder } from '../image/decompress.js';
import { TarReader, display, type TarHeader } from '../image/tar-reader.js';
import {
  close,
  constants as C,
  fchownat,
  fchmodat,
  fsetxattr,
  fstatat,
  isSystemError,
  linkat,
  mkdirat,
  mknodat,
  openat2,
  readdirFd,
  readlinkat,
  symlinkat,
  unlinkat,
  utimensat,
  type Stat,
} from '../native/index.js';
import { openInRoot } from '../native/safe-fs.js';

/** Lookups of one component below a pinned directory: never a symlink, never `..`, never another mount. */
const BENEATH = C.RESOLVE_BENEATH | C.RESOLVE_NO_SYMLINKS | C.RESOLVE_NO_XDEV;
const NAME_MAX = 255;
const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to chown
const MAX_USTAR_ID = 0o777777;
/** Directory depth the reader and the remover go down to (each level holds one fd). */
const MAX_DEPTH = 1024;
/** Files up to this size are written with synchronous writes. */
const SYNC_WRITE_MAX = 256 * 1024;
const READ_CHUNK = 64 * 1024;
/** The extractor yields to the event loop at least this often. */
const YIELD_EVERY_MS = 10;
const RATIO_GRACE_BYTES = 1024 * 1024;
const XATTR_VALUE_MAX = 64 * 1024;

const unsafe = (message: string) => new EngineError('ERR_UNSAFE_ARCHIVE', message);

// ── paths (Go's path semantics, as dockerd applies them to container paths) ────────────────────

/** Go's `filepath.Base`: trailing slashes dropped; `/` for the root, `.` for empty. */
export function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's `path.Clean` of `/` + path: absolute, no `.`/`..`/empty components (`..` above `/` stays at `/`). */
function cleanAbs(path: string): string {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
}

/**
 * A container path as dockerd sees it: made absolute and cleaned, but keeping a trailing `/`
 * (must be a directory; a final symlink is followed) or `/.` (the directory's contents), like
 * moby's `PreserveTrailingDotOrSeparator`.
 */
export function containerPath(path: string): string {
  let p = cleanAbs(path);
  if (goBase(p) !== '.' && goBase(path) === '.') p += p.endsWith('/') ? '.' : '/.';
  if (!p.endsWith('/') && path.endsWith('/')) p += '/';
  return p;
}

// ── stat ────────────────────────────────────────────────────────────────────────────────────────

/** What `HEAD /containers/{id}/archive` reports (the API maps `mode` to Go's FileMode bits). */
export interface PathStat {
  /** The requested path's basename (Go `filepath.Base`): `hostname`, `.`, `/`. */
  name: string;
  size: number;
  /** POSIX `st_mode` (type and permission bits) of the path itself (a final symlink is not followed). */
  mode: number;
  mtimeNs: bigint;
  /** For a symlink: its target fully resolved inside the container, as an absolute path; else ''. */
  linkTarget: string;
}

/** A path of the container pinned by an `O_PATH|O_NOFOLLOW` fd (caller closes `fd`). */
export interface PinnedPath {
  fd: number;
  stat: Stat;
  /** The normalised container path (see {@link containerPath}). */
  path: string;
  /** The name the archive's entries are rebased on (`goBase(path)`). */
  base: string;
}

const isType = (st: Stat, type: number) => (st.mode & C.S_IFMT) === type;
const isDir = (st: Stat) => isType(st, C.S_IFDIR);

function statOf(fd: number): Stat {
  return fstatat(fd, '', C.AT_EMPTY_PATH);
}

/**
 * Pins the container path `path` inside the root `rootFd`, the way dockerd's `ResolvePath` +
 * `Lstat` see it: every directory component is resolved inside the root (symlinks followed and
 * clamped to it), the final component is not followed (a symlink is the link itself), and a
 * trailing `/` or `/.` names the directory (a final symlink followed; a non-directory fails with
 * ENOTDIR). Throws openat2's SystemError: ENOENT, ENOTDIR, ELOOP, EXDEV, ENAMETOOLONG.
 */
export function pinPath(rootFd: number, path: string): PinnedPath {
  const p = containerPath(path);
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash + 1);
  const last = p.slice(slash + 1);
  let fd: number;
  if (last === '' || last === '.') {
    fd = openInRoot(rootFd, dir, C.O_PATH | C.O_DIRECTORY, 0, C.RESOLVE_NO_XDEV);
  } else {
    const dirFd = openInRoot(rootFd, dir, C.O_PATH | C.O_DIRECTORY, 0, C.RESOLVE_NO_XDEV);
    try {
      fd = openat2(dirFd, last, C.O_PATH | C.O_NOFOLLOW, 0, BENEATH);
    } finally {
      close(dirFd);
    }
  }
  try {
    return { fd, stat: statOf(fd), path: p, base: goBase(p) };
  } catch (err) {
    close(fd);
    throw err;
  }
}

/**
 * Resolves `path` inside the root as dockerd's `FollowSymlinkInScope` does, for the `linkTarget`
 * of a symlink's stat: symlinks are followed (absolute ones from the root, `..` never above it),
 * missing components are kept lexically. The answer is only a string for the client (which asks
 * again with it, resolved again in the root); every probe it makes is an `openInRoot`.
 */
export function resolveInScope(rootFd: number, path: string): string {
  const stack: string[] = [];
  const queue = path.split('/');
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      stack.pop();
      continue;
    }
    let fd: number;
    try {
      fd = openInRoot(rootFd, `/${[...stack, c].join('/')}`, C.O_PATH | C.O_NOFOLLOW, 0, C.RESOLVE_NO_XDEV);
    } catch (err) {
      if (!isSystemError(err)) throw err;
      stack.push(c); // missing (or not a directory): the rest is lexical, as in moby's symlink package
      continue;
    }
    try {
      if (isType(statOf(fd), C.S_IFLNK)) {
        if (++links > 40) throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP', syscall: 'readlink' });
        const target = readlinkat(fd, '');
        if (target.startsWith('/')) stack.length = 0;
        queue.unshift(...target.split('/'));
      } else {
        stack.push(c);
      }
    } finally {
      close(fd);
    }
  }
  return `/${stack.join('/')}`;
}

/** The stat of a pinned path (see {@link PathStat}). */
export function pathStat(rootFd: number, pinned: PinnedPath): PathStat {
  const st = pinned.stat;
  return {
    name: pinned.base,
    size: st.size,
    mode: st.mode,
    mtimeNs: st.mtimeNs,
    linkTarget: isType(st, C.S_IFLNK) ? resolveInScope(rootFd, pinned.path) : '',
  };
}

/** `stat` of a container path: pins it, reports it, unpins it. */
export function statPath(rootFd: number, path: string): PathStat {
  const pinned = pinPath(rootFd, path);
  try {
    return pathStat(rootFd, pinned);
  } finally {
    close(pinned.fd);
  }
}

// ── read: a pinned path as a tar stream ─────────────────────────────────────────────────────────

export interface ReadOptions {
  /** Aborting destroys the stream with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Runs once the walk is over, after every fd of the walk is closed: before the end of the tar
   * when it succeeds (a failure then fails the stream), or after a failure or abort.
   */
  onEnd?: () => Promise<void> | void;
}

/**
 * Lets the walk wait for the reader: streamx calls `_read` when the pack's buffer is below its
 * high-water mark; tar-stream's own `_read` (which releases a file body waiting for drain) still
 * runs. The walk adds an entry only after such a call, so a client that stops reading stops the
 * walk instead of piling headers up in memory.
 */
function demandGate(pack: Pack): () => Promise<void> {
  let wanted = true;
  let wake: (() => void) | undefined;
  const p = pack as unknown as { _read(cb: (err?: Error | null) => void): void };
  const original = p._read.bind(pack);
  const signal = () => {
    wanted = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  p._read = (cb) => {
    signal();
    original(cb);
  };
  pack.on('close', signal);
  return async () => {
    if (!wanted) await new Promise<void>((resolve) => (wake = resolve));
    wanted = false;
  };
}

/**
 * Adds a header-only entry. Every entry gets an 'error' listener: when the pack is destroyed (the
 * client went away, the container stopped), tar-stream destroys the pending entries with the
 * error, and an unheard 'error' event would crash the daemon.
 */
function addVoid(pack: Pack, header: Headers): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve())).on('error', reject);
  });
}

/** Writes `size` bytes of the file `fd` into a tar entry: a shrunk file is padded with zeros, a grown one cut. */
async function copyBody(pack: Pack, header: Headers, fd: number, size: number, signal: AbortSignal | undefined): Promise<void> {
  let finished!: () => void;
  let failed!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  done.catch(() => {}); // awaited below; a failure before that is reported by the next write
  // tar-stream's entries are streamx Writables: write() answers false when full, then 'drain'
  const entry = pack.entry(header, (err) => (err ? failed(err) : finished()));
  entry.on('error', failed);
  const drained = () =>
    new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        entry.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        entry.off('drain', onDrain);
        reject(new Error('the tar stream was closed'));
      };
      // The pack may have been destroyed (client gone, abort) while the file was being read: the
      // entry's 'close' is then already past, and waiting for it would hold the walk, its fds and
      // a stopped container's mount forever.
      if (entry.destroyed) return onClose();
      entry.once('drain', onDrain);
      entry.once('close', onClose);
    });
  let left = size;
  let eof = false;
  const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(size, 1)));
  while (left > 0) {
    signal?.throwIfAborted();
    const want = Math.min(left, buf.length);
    let chunk: Buffer;
    if (eof) {
      chunk = Buffer.alloc(want);
    } else {
      const n = await new Promise<number>((resolve, reject) => fsRead(fd, buf, 0, want, null, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) {
        eof = true;
        continue;
      }
      chunk = Buffer.from(buf.subarray(0, n)); // the entry keeps it; buf is reused
    }
    left -= chunk.length;
    if (!entry.write(chunk)) await drained();
  }
  entry.end(undefined);
  await done;
}

/** Seconds since the epoch (floored) of a nanosecond time, as a Date. */
function secondsDate(ns: bigint): Date {
  let s = ns / 1_000_000_000n;
  if (ns < 0n && ns % 1_000_000_000n !== 0n) s -= 1n;
  return new Date(Number(s) * 1000);
}

interface Walk {
  pack: Pack;
  gate: () => Promise<void>;
  /** dev:ino → first archived name, for files with more than one link. */
  links: Map<string, string>;
  signal: AbortSignal | undefined;
}

function devMinor(st: Stat): { devmajor: number; devminor: number } {
  return { devmajor: st.rdevMajor, devminor: st.rdevMinor };
}

/** The common header fields: Docker truncates mtimes to seconds and drops atime/ctime. */
function baseHeader(name: string, st: Stat): Headers {
  const h: Headers = {
    name,
    // tar-stream masks the mode with 0o7777 but treats 0 as "default", so pass the type bits too
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    mtime: secondsDate(st.mtimeNs),
  };
  if (st.uid > MAX_USTAR_ID || st.gid > MAX_USTAR_ID) h.pax = { uid: String(st.uid), gid: String(st.gid) };
  return h;
}

/**
 * Archives the entries of the directory pinned by `fd` (any fd of it, O_PATH included) as
 * `${prefix}${name}`, sorted bytewise, depth-first; `header` (the directory's own entry, if any)
 * is added once the directory is open for listing. Each entry is looked up as one component below
 * the directory's fd: one that is gone, or was swapped for something not to be followed, is left out.
 */
async function addChildren(w: Walk, fd: number, prefix: string, depth: number, header?: () => Promise<void>): Promise<void> {
  if (depth > MAX_DEPTH) throw new EngineError('ERR_LIMIT_EXCEEDED', `${display(prefix)}: directory tree deeper than ${MAX_DEPTH} levels`);
  const dirFd = openat2(fd, '.', C.O_RDONLY | C.O_DIRECTORY, 0, BENEATH);
  try {
    await header?.();
    for (const raw of readdirFd(dirFd, 'buffer').sort(Buffer.compare)) {
      let child: number;
      try {
        child = openat2(dirFd, raw, C.O_PATH | C.O_NOFOLLOW, 0, BENEATH);
      } catch (err) {
        if (isSystemError(err)) continue; // gone, or swapped for something we do not follow
        throw err;
      }
      try {
        await addNode(w, child, statOf(child), `${prefix}${raw.toString('utf8')}`, depth + 1);
      } finally {
        close(child);
      }
    }
  } finally {
    close(dirFd);
  }
}

/** Archives the node pinned by `fd` (O_PATH|O_NOFOLLOW, stat `st`) under `name`; closes nothing it did not open. */
async function addNode(w: Walk, fd: number, st: Stat, name: string, depth: number): Promise<void> {
  w.signal?.throwIfAborted();
  const h = baseHeader(name, st);
  // Wait for the reader right before each entry (and only then: streamx asks for more data only
  // after something was pushed, so a wait before a skipped node would never end).
  const add = async (header: Headers) => {
    await w.gate();
    await addVoid(w.pack, header);
  };
  switch (st.mode & C.S_IFMT) {
    case C.S_IFDIR: {
      const prefix = name.endsWith('/') ? name : `${name}/`;
      await addChildren(w, fd, prefix, depth, () => add({ ...h, name: prefix, type: 'directory' }));
      return;
    }
    case C.S_IFREG: {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        const first = w.links.get(key);
        if (first !== undefined) {
          await add({ ...h, type: 'link', linkname: first });
          return;
        }
      }
      // Re-open the pinned inode itself (the magic link never resolves a path again).
      let file: number;
      try {
        file = openSync(`/proc/self/fd/${fd}`, FS.O_RDONLY | FS.O_NOCTTY | FS.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      try {
        const now = fstatSync(file, { bigint: true });
        if (now.ino !== st.ino || Number(now.dev) !== st.dev || !now.isFile()) return;
        if (st.nlink > 1) w.links.set(key, name);
        await w.gate();
        await copyBody(w.pack, { ...h, type: 'file', size: st.size }, file, st.size, w.signal);
      } finally {
        closeSync(file);
      }
      return;
    }
    case C.S_IFLNK: {
      let target: Buffer;
      try {
        target = readlinkat(fd, '', 'buffer');
      } catch (err) {
        if (isSystemError(err)) return;
        throw err;
      }
      await add({ ...h, type: 'symlink', linkname: target.toString('utf8') });
      return;
    }
    case C.S_IFCHR:
    case C.S_IFBLK:
      await add({ ...h, type: isType(st, C.S_IFCHR) ? 'character-device' : 'block-device', ...devMinor(st) });
      return;
    case C.S_IFIFO:
      await add({ ...h, type: 'fifo' });
      return;
    default:
      return; // sockets: not archivable (dockerd skips them)
  }
}

/**
 * The tar stream of a pinned path (takes ownership of `pinned.fd`), named as `docker cp` names it
 * (see the module comment). The walk starts at once and runs as fast as the stream is read;
 * errors destroy the stream.
 */
export function archivePinned(pinned: PinnedPath, options: ReadOptions = {}): Readable {
  const top = pinned.base === '/' ? '/' : pinned.base;
  return archiveWalk(pinned.fd, options, (w) => addNode(w, pinned.fd, pinned.stat, top, 0));
}

/**
 * The tar stream of a whole root filesystem, as `docker export` writes it (takes ownership of
 * `rootFd`, a directory fd; O_PATH is enough): the entries below the root, named relative to it
 * (`bin/`, `bin/busybox`, `etc/passwd`: no leading `/` or `./`, no entry for the root itself, as
 * dockerd's `TarWithOptions(rootfs)`), with the same rules as {@link archivePinned}. Lookups stay
 * on the root's file system (RESOLVE_NO_XDEV): a mount below it is left out.
 */
export function archiveRootfs(rootFd: number, options: ReadOptions = {}): Readable {
  return archiveWalk(rootFd, options, (w) => addChildren(w, rootFd, '', 0));
}

/**
 * Runs `walk` into a tar stream over the tree pinned by `fd` (closed by it). Every fd of the walk
 * is closed and `onEnd` done (a stopped container's rootfs unmounted) before the tar's end marker
 * goes out: a client that has the whole archive sees it released. On a failure or abort the stream
 * is destroyed, and `onEnd` runs once the walk has let go of its fds.
 */
function archiveWalk(fd: number, options: ReadOptions, walk: (w: Walk) => Promise<void>): Readable {
  const pack = tar.pack();
  const out = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  const gate = demandGate(pack);
  const signal = options.signal;
  let ended: Promise<void> | undefined;
  const end = () => (ended ??= (async () => {
    close(fd);
    await options.onEnd?.();
  })());
  const run = async () => {
    signal?.throwIfAborted();
    await walk({ pack, gate, links: new Map(), signal });
    await end();
    pack.finalize();
  };
  const fail = (err: unknown) => {
    if (!out.destroyed) out.destroy(err as Error);
    pack.destroy(err as Error);
  };
  const abort = () => fail(signal?.reason ?? new Error('archive aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  out.on('close', () => {
    if (!pack.destroyed) pack.destroy();
  });
  run()
    .catch(fail)
    .finally(() => {
      signal?.removeEventListener('abort', abort);
      end().catch(() => {});
    });
  return out;
}

// ── write: extracting an uploaded tar below a directory ────────────────────────────────────────

export interface ExtractLimits {
  /** Maximum uncompressed bytes. Default 32 GiB. */
  maxBytes: number;
  /** Maximum entries. Default 1,000,000. */
  maxEntries: number;
  /** Maximum uncompressed:compressed ratio for gzip uploads (after 1 MiB). Default 1000. */
  maxCompressionRatio: number;
  /** Maximum entry name / link target length in bytes. Default 4096. */
  maxPathLength: number;
  /** Maximum PAX header size. Default 1 MiB. */
  maxPaxHeaderSize: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxBytes: 32 * 1024 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxCompressionRatio: 1000,
  maxPathLength: 4096,
  maxPaxHeaderSize: 1024 * 1024,
};

export interface ExtractOptions {
  /** Refuse to replace a directory by a non-directory or the reverse (what the docker CLI always asks). */
  noOverwriteDirNonDir?: boolean;
  /** Keep the archive's uid/gid; otherwise everything is owned by `rootIds`. */
  copyUIDGID?: boolean;
  /** The container's root user on the host (0:0 without user namespaces). */
  rootIds?: { uid: number; gid: number };
  limits?: Partial<ExtractLimits>;
  signal?: AbortSignal;
}

export interface ExtractResult {
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  /** Extended attributes not applied (only `user.*` and a file's `security.capability` are). */
  ignoredXattrs: number;
}

/**
 * Opens the extraction point `path` (resolved inside the root, a final symlink followed, like
 * dockerd's `GetResourcePath`) as an `O_RDONLY|O_DIRECTORY` fd. Throws ERR_INVALID_ARGUMENT
 * "extraction point is not a directory", or openat2's SystemError (ENOENT, ENOTDIR, ELOOP…).
 */
export function openExtractionPoint(rootFd: number, path: string): number {
  const fd = openInRoot(rootFd, containerPath(path), C.O_PATH, 0, C.RESOLVE_NO_XDEV);
  try {
    if (!isDir(statOf(fd))) throw new EngineError('ERR_INVALID_ARGUMENT', 'extraction point is not a directory');
    return openat2(fd, '.', C.O_RDONLY | C.O_DIRECTORY, 0, BENEATH);
  } finally {
    close(fd);
  }
}

const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2 = [0x42, 0x5a, 0x68];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(buf: Buffer, bytes: readonly number[]): boolean {
  return buf.length >= bytes.length && bytes.every((b, i) => buf[i] === b);
}

/**
 * The upload as uncompressed tar bytes: gzip is decoded in-process (zlib), an uncompressed tar is
 * passed through, and xz, bzip2 and zstd are refused up front (dockerd ran a decompressor binary
 * for them, which GHSA-x86f-5xw2-fm2r found in the container's PATH).
 */
async function* uncompressed(input: AsyncIterable<Buffer>, limits: ExtractLimits): AsyncGenerator<Buffer, void, undefined> {
  const it = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    head.push(chunk);
    headLength += chunk.length;
  }
  const magic = Buffer.concat(head, headLength);
  const refuse = (what: string) =>
    new EngineError('ERR_INVALID_ARGUMENT', `${what}-compressed archives are not supported: brig decompresses uploads in its own process and only reads gzip; send an uncompressed or gzip-compressed tar`);
  if (startsWith(magic, XZ)) throw refuse('xz');
  if (startsWith(magic, BZIP2)) throw refuse('bzip2');
  if (startsWith(magic, ZSTD)) throw refuse('zstd');
  async function* replay(): AsyncGenerator<Buffer, void, undefined> {
    yield* head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
  }
  const decoder = new LayerDecoder();
  let total = 0;
  for await (const chunk of decoder.decode(replay())) {
    total += chunk.length;
    if (total > limits.maxBytes) throw new EngineError('ERR_LIMIT_EXCEEDED', `archive exceeds the limit of ${limits.maxBytes} uncompressed bytes`);
    if (decoder.compression === 'gzip' && total >= RATIO_GRACE_BYTES) {
      const consumed = Math.max(1, decoder.compressedBytesConsumed);
      if (total > limits.maxCompressionRatio * consumed) {
        throw new EngineError('ERR_LIMIT_EXCEEDED', `archive decompression ratio exceeds ${limits.maxCompressionRatio}:1; refusing a decompression bomb`);
      }
    }
    yield chunk;
  }
}

function times(h: TarHeader): { atimeNs: bigint; mtimeNs: bigint } {
  const toNs = (s: number) => BigInt(Math.round(s * 1e9));
  const mtime = Number.isFinite(h.mtime) ? h.mtime : 0;
  // dockerd: an access time before the modification time becomes the modification time
  const atime = h.atime !== undefined && Number.isFinite(h.atime) && h.atime > mtime ? h.atime : mtime;
  return { atimeNs: toNs(atime), mtimeNs: toNs(mtime) };
}

function isGone(err: unknown): boolean {
  return isSystemError(err, 'ENOENT');
}

/** Applies tar entries below one destination directory fd (see the module comment for the rules). */
class Extractor {
  readonly result: ExtractResult = { entries: 0, bytes: 0, ignoredXattrs: 0 };
  readonly #dest: number;
  readonly #destPath: string;
  readonly #opts: Required<Pick<ExtractOptions, 'noOverwriteDirNonDir' | 'copyUIDGID' | 'rootIds'>>;
  readonly #limits: ExtractLimits;
  /** Directories from the archive, whose times are set at the end (creating children changes them). */
  readonly #dirTimes: { comps: Buffer[]; atimeNs: bigint; mtimeNs: bigint }[] = [];
  #entry = '';

  constructor(destFd: number, destPath: string, opts: ExtractOptions, limits: ExtractLimits) {
    this.#dest = destFd;
    this.#destPath = destPath.replace(/\/\.?$/, '') || '/';
    this.#opts = { noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? false, copyUIDGID: opts.copyUIDGID ?? false, rootIds: opts.rootIds ?? { uid: 0, gid: 0 } };
    this.#limits = limits;
  }

  async apply(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    this.#entry = display(h.name);
    this.result.entries++;
    try {
      const comps = this.#split(h.name, 'name');
      if (comps.length === 0) {
        if (h.type !== 'directory') throw unsafe(`tar entry ${this.#entry}: refusing a non-directory entry as the archive root`);
        this.#applyDirMeta(this.#dest, h);
        const t = times(h);
        this.#dirTimes.push({ comps: [], ...t });
        return;
      }
      if (h.type === 'char-device' || h.type === 'block-device') {
        throw unsafe(`tar entry ${this.#entry} is a device node; brig does not create device nodes in containers`);
      }
      const parent = this.#parent(comps);
      try {
        await this.#applyIn(parent, comps, h, body);
      } finally {
        if (parent !== this.#dest) close(parent);
      }
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  /** Sets the times of the directories of the archive (still reached without following links). */
  finish(): void {
    for (const d of this.#dirTimes) {
      try {
        if (d.comps.length === 0) {
          utimensat(this.#dest, '', d.atimeNs, d.mtimeNs, C.AT_EMPTY_PATH);
          continue;
        }
        const parent = this.#parent(d.comps, false);
        try {
          const name = d.comps[d.comps.length - 1]!;
          const st = fstatat(parent, name, C.AT_SYMLINK_NOFOLLOW);
          if (isDir(st)) utimensat(parent, name, d.atimeNs, d.mtimeNs, C.AT_SYMLINK_NOFOLLOW);
        } finally {
          if (parent !== this.#dest) close(parent);
        }
      } catch (err) {
        // replaced or removed meanwhile (by a later entry or by the container): nothing to date
        if (!isSystemError(err) && !isEngineError(err)) throw err;
      }
    }
  }

  async #applyIn(parent: number, comps: Buffer[], h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const name = comps[comps.length - 1]!;
    const existing = this.#lstat(parent, name);
    if (existing !== undefined && h.type === 'hardlink') {
      // linking a name onto its own inode is a no-op (handled in #hardlink)
    } else if (existing !== undefined) {
      const here = this.#containerPath(comps);
      if (this.#opts.noOverwriteDirNonDir && isDir(existing) && h.type !== 'directory') {
        throw new EngineError('ERR_INVALID_ARGUMENT', `cannot overwrite directory ${JSON.stringify(here)} with non-directory ${JSON.stringify(this.#destPath)}`);
      }
      if (this.#opts.noOverwriteDirNonDir && !isDir(existing) && h.type === 'directory') {
        throw new EngineError('ERR_INVALID_ARGUMENT', `cannot overwrite non-directory ${JSON.stringify(here)} with directory ${JSON.stringify(this.#destPath)}`);
      }
      if (!isDir(existing) || h.type !== 'directory') this.#remove(parent, name, existing);
    }
    switch (h.type) {
      case 'file':
        await this.#file(parent, name, h, body);
        return;
      case 'directory':
        this.#dir(parent, name, comps, h);
        return;
      case 'symlink':
        this.#symlink(parent, name, h);
        return;
      case 'hardlink':
        this.#hardlink(parent, name, existing, h);
        return;
      case 'fifo':
        this.#fifo(parent, name, h);
        return;
      default:
        throw unsafe(`tar entry ${this.#entry}: unsupported type ${h.type}`);
    }
  }

  #ids(h: TarHeader): { uid: number; gid: number } {
    if (!this.#opts.copyUIDGID) return this.#opts.rootIds;
    if (!(h.uid >= 0 && h.uid <= MAX_ID && h.gid >= 0 && h.gid <= MAX_ID)) throw unsafe(`tar entry ${this.#entry} has an invalid uid/gid ${h.uid}:${h.gid}`);
    return { uid: h.uid, gid: h.gid };
  }

  async #file(parent: number, name: Buffer, h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const flags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NOCTTY;
    let fd: number | undefined;
    for (let attempt = 0; fd === undefined; attempt++) {
      try {
        fd = openat2(parent, name, flags, 0o600, BENEATH);
      } catch (err) {
        // something (re)appeared there, e.g. the container racing us: remove it, never open it
        if (!isSystemError(err, 'EEXIST') || attempt >= 3) throw err;
        const st = this.#lstat(parent, name);
        if (st) this.#remove(parent, name, st);
      }
    }
    try {
      const sync = h.size <= SYNC_WRITE_MAX;
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) {
          off += sync ? writeSync(fd, chunk, off, chunk.length - off) : await writeAsync(fd, chunk, off, chunk.length - off);
        }
        this.result.bytes += chunk.length;
      }
      const { uid, gid } = this.#ids(h);
      fchownSync(fd, uid, gid); // before chmod: chown clears setuid/setgid
      fchmodSync(fd, h.mode & 0o7777);
      this.#xattrs(fd, h, true);
      const t = times(h);
      utimensat(fd, '', t.atimeNs, t.mtimeNs, C.AT_EMPTY_PATH);
    } finally {
      close(fd);
    }
  }

  #dir(parent: number, name: Buffer, comps: Buffer[], h: TarHeader): void {
    try {
      mkdirat(parent, name, 0o700);
    } catch (err) {
      if (!isSystemError(err, 'EEXIST')) throw err;
    }
    // a symlink or file put there meanwhile fails here (ENOTDIR/ELOOP) instead of being followed
    const fd = openat2(parent, name, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW, 0, BENEATH);
    try {
      this.#applyDirMeta(fd, h);
    } finally {
      close(fd);
    }
    this.#dirTimes.push({ comps, ...times(h) });
  }

  #applyDirMeta(fd: number, h: TarHeader): void {
    const { uid, gid } = this.#ids(h);
    fchownSync(fd, uid, gid);
    fchmodSync(fd, h.mode & 0o7777);
    this.#xattrs(fd, h, false);
  }

  #symlink(parent: number, name: Buffer, h: TarHeader): void {
    if (h.linkname === '') throw unsafe(`symlink ${this.#entry} has an empty target`);
    if (h.linkname.length > this.#limits.maxPathLength) throw new EngineError('ERR_LIMIT_EXCEEDED', `symlink ${this.#entry}: target longer than ${this.#limits.maxPathLength} bytes`);
    // The target is stored as the link's content and only ever resolved inside the container.
    symlinkat(Buffer.from(h.linkname, 'latin1'), parent, name);
    const { uid, gid } = this.#ids(h);
    fchownat(parent, name, uid, gid, C.AT_SYMLINK_NOFOLLOW);
    const t = times(h);
    utimensat(parent, name, t.atimeNs, t.mtimeNs, C.AT_SYMLINK_NOFOLLOW);
    this.#ignoreXattrs(h);
  }

  #hardlink(parent: number, name: Buffer, existing: Stat | undefined, h: TarHeader): void {
    const targetComps = this.#split(h.linkname, 'hardlink target');
    if (targetComps.length === 0) throw unsafe(`hardlink ${this.#entry} points at the destination directory`);
    const shown = display(h.linkname);
    let tParent: number;
    try {
      tParent = this.#parent(targetComps, false);
    } catch (err) {
      if (isGone(err)) throw unsafe(`hardlink ${this.#entry}: target ${shown} does not exist in the destination`);
      throw err;
    }
    try {
      let target: number;
      try {
        target = openat2(tParent, targetComps[targetComps.length - 1]!, C.O_PATH | C.O_NOFOLLOW, 0, BENEATH);
      } catch (err) {
        if (isGone(err)) throw unsafe(`hardlink ${this.#entry}: target ${shown} does not exist in the destination`);
        throw err;
      }
      try {
        const st = statOf(target);
        if (!isType(st, C.S_IFREG) && !isType(st, C.S_IFLNK)) throw unsafe(`hardlink ${this.#entry}: target ${shown} is not a regular file or symlink`);
        if (existing !== undefined) {
          if (existing.ino === st.ino && existing.dev === st.dev) return;
          const here = this.#containerPath([...this.#split(h.name, 'name')]);
          if (this.#opts.noOverwriteDirNonDir && isDir(existing)) {
            throw new EngineError('ERR_INVALID_ARGUMENT', `cannot overwrite directory ${JSON.stringify(here)} with non-directory ${JSON.stringify(this.#destPath)}`);
          }
          this.#remove(parent, name, existing);
        }
        // links exactly the inode that was checked (AT_EMPTY_PATH on the pinned fd; never follows)
        linkat(target, '', parent, name, C.AT_EMPTY_PATH);
      } finally {
        close(target);
      }
    } finally {
      if (tParent !== this.#dest) close(tParent);
    }
    this.#ignoreXattrs(h);
  }

  #fifo(parent: number, name: Buffer, h: TarHeader): void {
    mknodat(parent, name, C.S_IFIFO | 0o600);
    const fd = openat2(parent, name, C.O_PATH | C.O_NOFOLLOW, 0, BENEATH);
    try {
      if (!isType(statOf(fd), C.S_IFIFO)) throw unsafe(`fifo ${this.#entry} was replaced during extraction`);
      const { uid, gid } = this.#ids(h);
      fchownat(fd, '', uid, gid, C.AT_EMPTY_PATH);
      fchmodat(fd, '', h.mode & 0o7777, C.AT_EMPTY_PATH);
      const t = times(h);
      utimensat(fd, '', t.atimeNs, t.mtimeNs, C.AT_EMPTY_PATH);
    } finally {
      close(fd);
    }
    this.#ignoreXattrs(h);
  }

  #xattrs(fd: number, h: TarHeader, regular: boolean): void {
    for (const [name, value] of h.xattrs) {
      const allowed =
        /^[\x21-\x7e]{1,255}$/.test(name) &&
        value.length <= XATTR_VALUE_MAX &&
        ((name === 'security.capability' && regular) || (name.startsWith('user.') && !name.startsWith('user.overlay.')));
      if (!allowed) {
        this.result.ignoredXattrs++;
        continue;
      }
      fsetxattr(fd, name, value);
    }
  }

  #ignoreXattrs(h: TarHeader): void {
    this.result.ignoredXattrs += h.xattrs.size;
  }

  /** fstatat without following; undefined if nothing is there. */
  #lstat(dirFd: number, name: Buffer): Stat | undefined {
    try {
      return fstatat(dirFd, name, C.AT_SYMLINK_NOFOLLOW);
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  }

  /** Removes `name` from `dirFd` without following anything (directories recursively, through fds). */
  #remove(dirFd: number, name: Buffer, st: Stat, depth = 0): void {
    if (!isDir(st)) {
      try {
        unlinkat(dirFd, name, 0);
      } catch (err) {
        if (!isGone(err)) throw err;
      }
      return;
    }
    if (depth > MAX_DEPTH) throw new EngineError('ERR_LIMIT_EXCEEDED', `cannot remove ${this.#entry}: directory tree deeper than ${MAX_DEPTH} levels`);
    const fd = openat2(dirFd, name, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW, 0, BENEATH);
    try {
      for (const child of readdirFd(fd, 'buffer')) {
        const cst = this.#lstat(fd, child);
        if (cst) this.#remove(fd, child, cst, depth + 1);
      }
    } finally {
      close(fd);
    }
    unlinkat(dirFd, name, C.AT_REMOVEDIR);
  }

  /**
   * The parent directory of `comps` as an `O_PATH` fd (the destination fd itself for a top-level
   * name: do not close that one). Missing parents are created 0755 and owned by the root ids (as
   * dockerd does) when `create`; a component that is a symlink or not a directory refuses the
   * entry: it is never followed, whoever put it there.
   */
  #parent(comps: Buffer[], create = true): number {
    let cur = this.#dest;
    try {
      for (let i = 0; i < comps.length - 1; i++) {
        const next = this.#childDir(cur, comps, i, create);
        if (cur !== this.#dest) close(cur);
        cur = next;
      }
      return cur;
    } catch (err) {
      if (cur !== this.#dest) close(cur);
      throw err;
    }
  }

  #childDir(cur: number, comps: Buffer[], i: number, create: boolean): number {
    const name = comps[i]!;
    for (let attempt = 0; ; attempt++) {
      try {
        return openat2(cur, name, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW, 0, BENEATH);
      } catch (err) {
        if (isSystemError(err, 'ENOENT') && create && attempt < 3) {
          try {
            mkdirat(cur, name, 0o755);
            const { uid, gid } = this.#opts.rootIds;
            if (uid !== 0 || gid !== 0) fchownat(cur, name, uid, gid, C.AT_SYMLINK_NOFOLLOW);
          } catch (mkErr) {
            if (!isSystemError(mkErr, 'EEXIST')) throw mkErr;
          }
          continue;
        }
        if (isSystemError(err, 'ENOTDIR') || isSystemError(err, 'ELOOP')) {
          const st = this.#lstat(cur, name);
          const what = st && isType(st, C.S_IFLNK) ? 'is a symbolic link; brig never extracts through a link' : 'is not a directory';
          throw unsafe(`tar entry ${this.#entry}: ${JSON.stringify(this.#containerPath(comps.slice(0, i + 1)))} ${what}`);
        }
        throw err;
      }
    }
  }

  /** Normalises an entry name into components; refuses NUL, absolute names and `..`. */
  #split(raw: string, what: string): Buffer[] {
    if (raw.includes('\0')) throw unsafe(`tar entry ${this.#entry}: ${what} contains a NUL byte`);
    if (raw.length > this.#limits.maxPathLength) throw new EngineError('ERR_LIMIT_EXCEEDED', `tar entry ${this.#entry}: ${what} is longer than ${this.#limits.maxPathLength} bytes`);
    if (raw.startsWith('/')) throw unsafe(`tar entry ${this.#entry}: ${what} ${display(raw)} is an absolute path; refusing it`);
    const out: Buffer[] = [];
    for (const c of raw.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') throw unsafe(`tar entry ${this.#entry}: ${what} ${display(raw)} contains ".."; refusing it`);
      if (c.length > NAME_MAX) throw unsafe(`tar entry ${this.#entry}: ${what} has a component longer than ${NAME_MAX} bytes`);
      out.push(Buffer.from(c, 'latin1'));
    }
    return out;
  }

  #containerPath(comps: Buffer[]): string {
    const rel = comps.map((c) => c.toString('utf8')).join('/');
    return this.#destPath === '/' ? `/${rel}` : `${this.#destPath}/${rel}`;
  }

  #wrap(err: unknown): EngineError {
    if (isEngineError(err)) return err;
    const code = (err as { code?: string }).code;
    const message = `tar entry ${this.#entry}: ${(err as Error).message}`;
    if (code === 'ENAMETOOLONG') return new EngineError('ERR_LIMIT_EXCEEDED', message, { cause: err });
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'EXDEV' || code === 'EEXIST' || code === 'ENOENT') {
      return new EngineError('ERR_UNSAFE_ARCHIVE', message, { cause: err });
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') return new EngineError('ERR_INTERNAL', `no space left in the container's file system: ${message}`, { cause: err });
    return new EngineError('ERR_INTERNAL', message, { cause: err });
  }
}

function writeAsync(fd: number, buf: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsWrite(fd, buf, offset, length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * Extracts the tar (or gzip-compressed tar) `input` below the directory `destFd` (see
 * {@link openExtractionPoint}); `destPath` is the container path it stands for (for messages).
 * Rejects with ERR_UNSAFE_ARCHIVE (a refused or malformed entry, naming it), ERR_LIMIT_EXCEEDED,
 * ERR_INVALID_ARGUMENT (unsupported compression, noOverwriteDirNonDir conflicts) or ERR_INTERNAL.
 * Entries applied before an error stay (as with dockerd). `input` is read only as far as needed
 * and destroyed only on abort: the caller owns it (an HTTP request must still carry the answer).
 */
export async function extractArchive(destFd: number, destPath: string, input: Readable | AsyncIterable<Buffer>, options: ExtractOptions = {}): Promise<ExtractResult> {
  const limits = { ...DEFAULT_EXTRACT_LIMITS, ...options.limits };
  const signal = options.signal;
  // Only an abort destroys the input (it may be waiting for data that never comes). On other
  // errors the caller decides: an HTTP request must stay intact for the error response.
  const destroy = () => {
    if (input instanceof Readable) input.destroy();
  };
  if (signal?.aborted) {
    destroy();
    throw abortError(signal);
  }
  const reader = new TarReader(uncompressed(input as AsyncIterable<Buffer>, limits), {
    maxEntries: limits.maxEntries,
    maxPaxHeaderSize: limits.maxPaxHeaderSize,
    maxArchiveBytes: limits.maxBytes,
  });
  const extractor = new Extractor(destFd, destPath, options, limits);
  const entries = reader.entries();
  signal?.addEventListener('abort', destroy, { once: true });
  let lastYield = performance.now();
  try {
    for (;;) {
      const next = await entries.next();
      if (next.done) break;
      signal?.throwIfAborted();
      await extractor.apply(next.value.header, next.value.body);
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    extractor.finish();
  } catch (err) {
    await entries.return(undefined).catch(() => undefined);
    if (signal?.aborted) throw abortError(signal);
    if (isEngineError(err)) throw err;
    throw new EngineError('ERR_UNAVAILABLE', `reading the archive failed: ${(err as Error).message}`, { cause: err });
  } finally {
    signal?.removeEventListener('abort', destroy);
  }
  return extractor.result;
}

function abortError(signal: AbortSignal): EngineError {
  const reason: unknown = signal.reason;
  if (isEngineError(reason)) return reason;
  return new EngineError('ERR_UNAVAILABLE', 'the copy was aborted', { cause: reason });
}
