/**
 * Path-safe helpers on top of the native `*at` calls: every lookup starts at a pinned root
 * directory fd and is confined to it by the kernel (openat2 RESOLVE_IN_ROOT), so a symlink or a
 * rename racing with us (CVE-2018-15664: a container swapping a directory for a symlink to `/`)
 * can at worst make a lookup fail or land elsewhere *inside* the root, never outside it.
 */
import { readlinkSync } from 'node:fs';
import { EngineError } from '../errors.js';
import { close, constants as C, fsetxattr, isSystemError, mkdirat, mknodat, openat2, type PathArg, type Stat } from './index.js';

/** Resolution used for every lookup inside a root: `/`, `..` and absolute symlinks stay at the root; no /proc magic links. */
export const IN_ROOT = C.RESOLVE_IN_ROOT | C.RESOLVE_NO_MAGICLINKS;

/** How often a lookup is retried when the kernel answers EAGAIN (a rename raced with `..`). */
const EAGAIN_RETRIES = 128;

/**
 * Opens `path` as if `rootFd` were `/`: absolute paths, `..` and symlinks (absolute or relative)
 * are resolved inside the root and can never leave it. Returns a new O_CLOEXEC fd. `flags` are
 * open(2) flags: add O_NOFOLLOW to refuse a final symlink, O_PATH to pin without opening (safe for
 * FIFOs and devices), O_NONBLOCK when opening files of an untrusted tree for reading.
 * `extraResolve` may add RESOLVE_NO_SYMLINKS or RESOLVE_NO_XDEV. Retries EAGAIN (see openat2).
 * Throws the SystemError of openat2: ENOENT, ENOTDIR, ELOOP, EXDEV…
 */
export function openInRoot(rootFd: number, path: PathArg, flags: number, mode = 0, extraResolve = 0): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return openat2(rootFd, path, flags, mode, IN_ROOT | extraResolve);
    } catch (err) {
      if (!isSystemError(err, 'EAGAIN') || attempt >= EAGAIN_RETRIES) throw err;
    }
  }
}

/** The components of a path, without empty ones and `.`. */
function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** The fd of the deepest existing directory along `parts`, resolved inside the root, and its depth. */
function deepestExisting(rootFd: number, parts: string[]): { fd: number; depth: number } {
  for (let depth = parts.length; depth > 0; depth--) {
    try {
      return { fd: openInRoot(rootFd, parts.slice(0, depth).join('/'), C.O_PATH | C.O_DIRECTORY), depth };
    } catch (err) {
      if (!isSystemError(err, 'ENOENT')) throw err;
    }
  }
  return { fd: openInRoot(rootFd, '.', C.O_PATH | C.O_DIRECTORY), depth: 0 };
}

/** Creates `name` in `dirFd` (if missing) and opens it; a symlink put there instead fails (ELOOP/ENOTDIR). */
function makeChildDir(dirFd: number, name: string, mode: number): number {
  try {
    mkdirat(dirFd, name, mode);
  } catch (err) {
    if (!isSystemError(err, 'EEXIST')) throw err;
  }
  return openat2(dirFd, name, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW, 0, C.RESOLVE_BENEATH | C.RESOLVE_NO_SYMLINKS);
}

/**
 * `mkdir -p` inside a root; returns an O_RDONLY|O_DIRECTORY fd of the final directory.
 *
 * The part of `path` that exists is resolved like {@link openInRoot} (symlinks followed, clamped
 * to the root). Each missing component is then created with mkdirat in the directory fd pinned
 * one step before and opened with O_NOFOLLOW + RESOLVE_NO_SYMLINKS, so a component swapped for a
 * symlink in between makes the call fail (ELOOP / ENOTDIR) instead of creating anything
 * elsewhere. A dangling symlink on the way fails the same way (its target is not created).
 * `mode` is subject to the umask. Throws ERR_INVALID_ARGUMENT for `..` in the missing part (it has
 * no single meaning there), otherwise the SystemError of the failing call.
 */
export function mkdirAllInRoot(rootFd: number, path: string, mode = 0o755): number {
  const parts = components(path);
  let { fd, depth } = deepestExisting(rootFd, parts);
  try {
    const missing = parts.slice(depth);
    if (missing.includes('..')) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `cannot create ${JSON.stringify(path)}: ".." in a part that does not exist`);
    }
    for (const name of missing) {
      const next = makeChildDir(fd, name, mode);
      close(fd);
      fd = next;
    }
    return openat2(fd, '.', C.O_RDONLY | C.O_DIRECTORY);
  } finally {
    close(fd);
  }
}

/** Creates an overlayfs whiteout `name` in `dirFd`: a character device 0:0. */
export function makeWhiteout(dirFd: number, name: PathArg): void {
  mknodat(dirFd, name, C.S_IFCHR, 0, 0);
}

/** Marks the directory `dirFd` (a non-O_PATH fd) opaque for overlayfs: `trusted.overlay.opaque=y`. */
export function setOpaque(dirFd: number): void {
  fsetxattr(dirFd, 'trusted.overlay.opaque', Buffer.from('y'));
}

/** True for an overlayfs whiteout (character device 0:0). */
export function isWhiteout(st: Stat): boolean {
  return (st.mode & C.S_IFMT) === C.S_IFCHR && st.rdevMajor === 0 && st.rdevMinor === 0;
}

/** Where an fd points now, per /proc/self/fd (for checks and messages, never for a new lookup). */
export function fdPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}
