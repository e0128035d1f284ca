/**
 * brig's native addon (`native/`, C over N-API, built by node-gyp): the syscalls Node lacks.
 *
 * - Path-safe file system calls: `openat2` with RESOLVE_* confinement and the `*at` family, so a
 *   walk can start at a pinned directory fd and never follow a symlink out of a root
 *   (CVE-2018-15664, CVE-2021-30465 class). Helpers on top are in `safe-fs.ts`.
 * - `peerCred`: SO_PEERCRED of a connected UNIX socket (who is calling the API socket).
 * - SOCK_SEQPACKET sockets and a libuv `Poller`, used by `seqpacket.ts` (conmon's attach socket).
 *
 * Contract of every function here:
 * - synchronous (the calls are local and short; an open of a FIFO without O_NONBLOCK or O_PATH
 *   would block, so callers walking untrusted trees pass one of them);
 * - arguments are validated before any syscall: a wrong type is a TypeError
 *   (`ERR_INVALID_ARG_TYPE`), an out-of-range number a RangeError (`ERR_OUT_OF_RANGE`), a path
 *   with a NUL byte `ERR_INVALID_ARG_VALUE`, a path of PATH_MAX bytes or more `ENAMETOOLONG`;
 * - a failing syscall throws a Node-style {@link SystemError}: `code` is the errno name (`ELOOP`,
 *   `EXDEV`, `ENOENT`…), `errno` its negative number, `syscall`, and `path` where there is one;
 * - every fd returned is O_CLOEXEC, so none leaks into runc, conmon or a container;
 * - paths are strings (UTF-8) or Buffers (any bytes but NUL).
 *
 * The module is a leaf: it imports nothing of brig but `errors.ts`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.js';

/** A path argument: text is encoded as UTF-8; a Buffer passes any bytes except NUL. */
export type PathArg = string | Uint8Array;

/** The error every failing syscall throws. */
export interface SystemError extends Error {
  /** errno name: `ENOENT`, `ELOOP`, `EXDEV`… */
  code: string;
  /** Negative errno, as in Node's own errors. */
  errno: number;
  syscall: string;
  path?: string;
}

/** Result of {@link fstatat}. Times are nanoseconds since the epoch. */
export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  dev: number;
  ino: bigint;
  rdev: number;
  rdevMajor: number;
  rdevMinor: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * Readiness of one fd on Node's event loop (libuv `uv_poll_t`, level-triggered). The callback gets
 * `(status, events)`: status 0 or a negative libuv error (`UV_EBADF` when the kernel reports
 * POLLERR); events a mask of POLL_READABLE / POLL_WRITABLE / POLL_DISCONNECT. The poller never
 * reads, writes or closes the fd. One poller per fd; `close()` is idempotent, safe inside the
 * callback, and the fd may be closed right after it. Internal to `seqpacket.ts`.
 */
export interface Poller {
  /** Polls for `events`; 0 stops. A no-op after close. */
  start(events: number): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface NativeConstants {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_TRUNC: number;
  readonly O_APPEND: number;
  readonly O_NONBLOCK: number;
  readonly O_NOCTTY: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_CLOEXEC: number;
  readonly O_PATH: number;
  readonly O_TMPFILE: number;
  readonly O_NOATIME: number;
  readonly RESOLVE_NO_XDEV: number;
  readonly RESOLVE_NO_MAGICLINKS: number;
  readonly RESOLVE_NO_SYMLINKS: number;
  readonly RESOLVE_BENEATH: number;
  readonly RESOLVE_IN_ROOT: number;
  readonly AT_FDCWD: number;
  readonly AT_EMPTY_PATH: number;
  readonly AT_SYMLINK_NOFOLLOW: number;
  readonly AT_SYMLINK_FOLLOW: number;
  readonly AT_REMOVEDIR: number;
  readonly RENAME_NOREPLACE: number;
  readonly RENAME_EXCHANGE: number;
  readonly RENAME_WHITEOUT: number;
  readonly S_IFMT: number;
  readonly S_IFREG: number;
  readonly S_IFDIR: number;
  readonly S_IFLNK: number;
  readonly S_IFCHR: number;
  readonly S_IFBLK: number;
  readonly S_IFIFO: number;
  readonly S_IFSOCK: number;
  readonly XATTR_CREATE: number;
  readonly XATTR_REPLACE: number;
  readonly MNT_DETACH: number;
  readonly UMOUNT_NOFOLLOW: number;
  readonly SHUT_RD: number;
  readonly SHUT_WR: number;
  readonly SHUT_RDWR: number;
  readonly POLL_READABLE: number;
  readonly POLL_WRITABLE: number;
  readonly POLL_DISCONNECT: number;
}

/** The raw binding (argument order and count as the C side requires them). */
interface Addon {
  constants: NativeConstants;
  openat2(dirfd: number, path: PathArg, flags: number, mode: number, resolve: number): number;
  mkdirat(dirfd: number, path: PathArg, mode: number): void;
  mknodat(dirfd: number, path: PathArg, mode: number, major: number, minor: number): void;
  symlinkat(target: PathArg, dirfd: number, path: PathArg): void;
  linkat(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags: number): void;
  unlinkat(dirfd: number, path: PathArg, flags: number): void;
  renameat2(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags: number): void;
  fchownat(dirfd: number, path: PathArg, uid: number, gid: number, flags: number): void;
  fchmodat(dirfd: number, path: PathArg, mode: number, flags: number): void;
  utimensat(dirfd: number, path: PathArg, atimeNs: bigint | null, mtimeNs: bigint | null, flags: number): void;
  fstatat(dirfd: number, path: PathArg, flags: number): Stat;
  readlinkat(dirfd: number, path: PathArg, asBuffer: boolean): string | Buffer;
  readdirFd(fd: number, asBuffer: boolean): string[] | Buffer[];
  close(fd: number): void;
  mountOverlay(target: PathArg, options: string): void;
  umount2(target: PathArg, flags: number): void;
  createNetns(path: PathArg): void;
  removeNetns(path: PathArg): boolean;
  fsetxattr(fd: number, name: PathArg, value: Uint8Array, flags: number): void;
  lsetxattr(path: PathArg, name: PathArg, value: Uint8Array, flags: number): void;
  fgetxattr(fd: number, name: PathArg): Buffer;
  flistxattr(fd: number): string[];
  peerCred(fd: number): PeerCred;
  seqpacketConnect(path: PathArg): number;
  seqpacketListen(path: PathArg, backlog: number): number;
  accept(fd: number): number;
  recvMessage(fd: number): Buffer | null;
  sendMessage(fd: number, data: Uint8Array): boolean;
  shutdown(fd: number, how: number): void;
  Poller: new (fd: number, callback: (status: number, events: number) => void) => Poller;
}

const ADDON_FILE = join('native', 'build', 'Release', 'brig_native.node');

/** The repository root: the nearest ancestor holding `native/binding.gyp` (from src/ or dist/src/). */
function findRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

function load(): Addon {
  const root = findRoot();
  const file = root === undefined ? ADDON_FILE : join(root, ADDON_FILE);
  try {
    return createRequire(import.meta.url)(file) as Addon;
  } catch (err) {
    throw new EngineError('ERR_UNAVAILABLE', `brig's native addon could not be loaded from ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'build it with `npm run setup` (or `npm run build:native`); it needs gcc, make and python3',
    });
  }
}

const addon = load();

/** open(2) flags (incl. O_PATH), RESOLVE_*, AT_*, RENAME_*, S_IF*, XATTR_*, SHUT_*, POLL_*. */
export const constants: NativeConstants = addon.constants;

/** True when `err` is a {@link SystemError}, optionally with the given errno name. */
export function isSystemError(err: unknown, code?: string): err is SystemError {
  return err instanceof Error && typeof (err as SystemError).syscall === 'string' && (code === undefined || (err as SystemError).code === code);
}

/**
 * openat2(2): opens `path` relative to `dirfd` (or AT_FDCWD) and returns the new fd (O_CLOEXEC is
 * always added). `resolve` confines the lookup: RESOLVE_IN_ROOT treats `dirfd` as `/` (absolute
 * symlinks and `..` are clamped to it), RESOLVE_BENEATH refuses to leave it (EXDEV),
 * RESOLVE_NO_SYMLINKS / RESOLVE_NO_MAGICLINKS refuse links (ELOOP), RESOLVE_NO_XDEV refuses mount
 * crossings (EXDEV). Under IN_ROOT/BENEATH the kernel answers EAGAIN when a concurrent rename
 * could have let `..` escape; retrying is safe (see `openInRoot`). `mode` must be 0 unless
 * O_CREAT or O_TMPFILE is given (EINVAL).
 */
export function openat2(dirfd: number, path: PathArg, flags: number, mode = 0, resolve = 0): number {
  return addon.openat2(dirfd, path, flags, mode, resolve);
}

/** mkdirat(2); the umask applies to `mode`. */
export function mkdirat(dirfd: number, path: PathArg, mode = 0o755): void {
  addon.mkdirat(dirfd, path, mode);
}

/**
 * mknodat(2): `mode` includes the type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG, S_IFSOCK). major ≤ 4095
 * and minor ≤ 1048575 (the kernel's encoding), so no number is silently truncated into another
 * device. An overlayfs whiteout is `mknodat(dir, name, S_IFCHR, 0, 0)` (see `makeWhiteout`).
 */
export function mknodat(dirfd: number, path: PathArg, mode: number, major = 0, minor = 0): void {
  addon.mknodat(dirfd, path, mode, major, minor);
}

/** symlinkat(2): creates `path` (relative to `dirfd`) pointing to `target`; the target is not resolved. */
export function symlinkat(target: PathArg, dirfd: number, path: PathArg): void {
  addon.symlinkat(target, dirfd, path);
}

/**
 * linkat(2): flags AT_SYMLINK_FOLLOW (follow a final symlink in `oldpath`) and AT_EMPTY_PATH (link
 * the file `olddirfd` itself, with `oldpath` ''; works on O_PATH fds, needs CAP_DAC_READ_SEARCH).
 */
export function linkat(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags = 0): void {
  addon.linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

/** unlinkat(2); AT_REMOVEDIR removes an empty directory. */
export function unlinkat(dirfd: number, path: PathArg, flags = 0): void {
  addon.unlinkat(dirfd, path, flags);
}

/** renameat2(2): RENAME_NOREPLACE (EEXIST instead of replacing), RENAME_EXCHANGE (atomic swap). */
export function renameat2(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags = 0): void {
  addon.renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

/**
 * fchownat(2): `uid`/`gid` -1 leave the id unchanged. With AT_SYMLINK_NOFOLLOW a symlink itself
 * is changed; with AT_EMPTY_PATH and path '' the file `dirfd` refers to (an O_PATH fd works).
 */
export function fchownat(dirfd: number, path: PathArg, uid: number, gid: number, flags = 0): void {
  addon.fchownat(dirfd, path, uid, gid, flags);
}

/**
 * Changes a mode without ever following a swapped-in symlink: fchmodat2(2) (Linux ≥ 6.6), which,
 * unlike fchmodat(2), honours AT_SYMLINK_NOFOLLOW (a symlink itself answers EOPNOTSUPP: Linux has
 * no lchmod) and AT_EMPTY_PATH (path '' = the file `dirfd` refers to, even an O_PATH fd, so a FIFO
 * or device node is never opened). On older kernels (ENOSYS) use `fs.fchmodSync` on a non-O_PATH
 * fd opened with O_NOFOLLOW.
 */
export function fchmodat(dirfd: number, path: PathArg, mode: number, flags = 0): void {
  addon.fchmodat(dirfd, path, mode, flags);
}

/**
 * utimensat(2) with nanosecond times (BigInt ns since the epoch; null leaves that time unchanged).
 * Flags AT_SYMLINK_NOFOLLOW (a symlink's own times) and AT_EMPTY_PATH (path '' = `dirfd` itself).
 */
export function utimensat(dirfd: number, path: PathArg, atimeNs: bigint | null, mtimeNs: bigint | null, flags = 0): void {
  addon.utimensat(dirfd, path, atimeNs, mtimeNs, flags);
}

/** fstatat(2); flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (path '' = `dirfd` itself, O_PATH works). */
export function fstatat(dirfd: number, path: PathArg, flags = 0): Stat {
  return addon.fstatat(dirfd, path, flags);
}

/** readlinkat(2); path '' reads the symlink an O_PATH|O_NOFOLLOW fd refers to. */
export function readlinkat(dirfd: number, path: PathArg): string;
export function readlinkat(dirfd: number, path: PathArg, encoding: 'buffer'): Buffer;
export function readlinkat(dirfd: number, path: PathArg, encoding?: 'buffer'): string | Buffer {
  return addon.readlinkat(dirfd, path, encoding === 'buffer');
}

/**
 * The entry names of the directory `fd` (opened O_RDONLY|O_DIRECTORY; an O_PATH fd is EBADF),
 * without `.` and `..`, read with getdents64(2). The listing is of the directory the fd pins, not
 * of whatever a path leads to now. The fd's offset is rewound first, so it can be listed again.
 * Use `'buffer'` for names that may not be UTF-8.
 */
export function readdirFd(fd: number): string[];
export function readdirFd(fd: number, encoding: 'buffer'): Buffer[];
export function readdirFd(fd: number, encoding?: 'buffer'): string[] | Buffer[] {
  return addon.readdirFd(fd, encoding === 'buffer');
}

/** close(2). */
export function close(fd: number): void {
  addon.close(fd);
}

/** mount(2) of an overlay filesystem at `target` with `options` (lowerdir=…,upperdir=…,workdir=…; ≤ 4095 bytes). */
export function mountOverlay(target: PathArg, options: string): void {
  addon.mountOverlay(target, options);
}

/** umount2(2); flags MNT_DETACH / UMOUNT_NOFOLLOW. */
export function umount2(target: PathArg, flags = 0): void {
  addon.umount2(target, flags);
}

/**
 * Makes `path` (which must not exist: EEXIST) a network namespace file: a fresh net namespace,
 * created in a short-lived thread (never Node's own) and bind-mounted onto the new file. Join it by
 * path (runc's `{"type":"network","path":…}`, `nsenter --net=PATH`, netavark). Failing calls throw a
 * SystemError naming `open`, `unshare` or `mount`; the file is removed again on failure.
 */
export function createNetns(path: PathArg): void {
  addon.createNetns(path);
}

/**
 * Removes a network namespace file made by {@link createNetns}: lazy unmount, then unlink.
 * Idempotent: a missing or unmounted file is fine. Returns whether anything was removed.
 */
export function removeNetns(path: PathArg): boolean {
  return addon.removeNetns(path);
}

/** fsetxattr(2) with a binary value (≤ 64 KiB); flags XATTR_CREATE / XATTR_REPLACE. Needs a non-O_PATH fd. */
export function fsetxattr(fd: number, name: string, value: Uint8Array, flags = 0): void {
  addon.fsetxattr(fd, name, value, flags);
}

/**
 * lsetxattr(2): by path, not following a final symlink (trusted.* xattrs can be set on symlinks).
 * A path is only as safe as its lookup: to reach `name` in a directory pinned by fd N, pass
 * `/proc/self/fd/N/name` (the magic link jumps to the pinned directory; `name` is not followed).
 */
export function lsetxattr(path: PathArg, name: string, value: Uint8Array, flags = 0): void {
  addon.lsetxattr(path, name, value, flags);
}

/** fgetxattr(2): the value as a Buffer; a missing attribute throws ENODATA. */
export function fgetxattr(fd: number, name: string): Buffer {
  return addon.fgetxattr(fd, name);
}

/** flistxattr(2): the attribute names. */
export function flistxattr(fd: number): string[] {
  return addon.flistxattr(fd);
}

/** SO_PEERCRED of a connected UNIX socket fd: the peer's pid, uid and gid at connect time. */
export function peerCred(fd: number): PeerCred {
  return addon.peerCred(fd);
}

/**
 * The fd of a Node UNIX socket, e.g. one an `http.Server` or `net.Server` accepted
 * (`server.on('connection', (socket) => peerCredOf(socket))`): Node keeps it at
 * `socket._handle.fd` (a Pipe handle). Throws ERR_INVALID_ARGUMENT when the socket has no fd
 * (not connected yet, destroyed, or not fd-backed).
 */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'the socket has no file descriptor (not connected, destroyed, or not fd-backed)');
  }
  return fd;
}

/** {@link peerCred} of an accepted `net.Socket` (see {@link socketFd}). */
export function peerCredOf(socket: Socket): PeerCred {
  return addon.peerCred(socketFd(socket));
}

/** The raw socket calls and the Poller, for `seqpacket.ts` (and its tests). */
export const sockets = {
  seqpacketConnect: (path: PathArg): number => addon.seqpacketConnect(path),
  seqpacketListen: (path: PathArg, backlog: number): number => addon.seqpacketListen(path, backlog),
  accept: (fd: number): number => addon.accept(fd),
  recvMessage: (fd: number): Buffer | null => addon.recvMessage(fd),
  sendMessage: (fd: number, data: Uint8Array): boolean => addon.sendMessage(fd, data),
  shutdown: (fd: number, how: number): void => addon.shutdown(fd, how),
  Poller: addon.Poller,
};
