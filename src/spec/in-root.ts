/**
 * Path resolution inside a container root filesystem, as if `root` were `/`: symlinks are followed,
 * but `..` and absolute link targets are clamped at the root, so an image can never make brig open
 * a host file (e.g. `/etc/passwd -> /../../etc/shadow`).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { EngineError } from '../errors.js';

/** Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/**
 * The host path that `path` names inside `root`, with every symlink resolved within the root.
 * Components that do not exist are kept as they are (the result may not exist). The result always
 * lies inside `root` (or is `root`).
 * @throws EngineError ERR_INVALID_ARGUMENT after more than MAX_SYMLINKS symlinks (a loop).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const base = resolve(root);
  const resolved: string[] = [];
  let pending = path.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop(); // `..` of the root is the root
      continue;
    }
    const current = join(base, ...resolved, part);
    let isLink: boolean;
    try {
      isLink = (await lstat(current)).isSymbolicLink();
    } catch (err) {
      if (!isMissing(err)) throw err;
      isLink = false; // the rest of the path is lexical: nothing under a missing entry can be a link
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `too many levels of symbolic links resolving ${path} in the container's root filesystem`);
    }
    const target = await readlink(current);
    if (isAbsolute(target)) resolved.length = 0;
    pending = [...target.split('/'), ...pending];
  }
  return join(base, ...resolved);
}

/**
 * Reads a regular file named by `path` inside `root`, or returns null when it does not exist.
 * Refuses anything but a regular file of at most `maxBytes` (an image could make it a FIFO or
 * /dev/zero), and checks after opening that the file really lies inside the root, in case a
 * directory was swapped for a symlink between resolving and opening.
 * @throws EngineError ERR_INVALID_ARGUMENT for a non-regular, oversized or escaping file.
 */
export async function readFileInRoot(root: string, path: string, maxBytes = 16 * 1024 * 1024): Promise<string | null> {
  const hostPath = await resolveInRoot(root, path);
  let fh;
  try {
    fh = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if (isMissing(err)) return null;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new EngineError('ERR_INVALID_ARGUMENT', `${path} in the container changed while it was being read`, { cause: err });
    }
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new EngineError('ERR_INVALID_ARGUMENT', `${path} in the container is not a regular file`);
    if (st.size > maxBytes) throw new EngineError('ERR_INVALID_ARGUMENT', `${path} in the container is larger than ${maxBytes} bytes`);
    const real = await readlink(`/proc/self/fd/${fh.fd}`);
    const realRoot = await realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot === sep ? sep : realRoot + sep)) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `${path} resolves outside the container's root filesystem`);
    }
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Makes sure `path` (e.g. the working directory) exists as a directory inside `root`, creating the
 * missing components with mode 0755 and root ownership, as Docker does for WORKDIR. Symlinks are
 * resolved inside the root first, so an image cannot make brig create directories on the host.
 * Returns the host path of the directory.
 * @throws EngineError ERR_INVALID_ARGUMENT when an existing component is not a directory.
 */
export async function ensureDirInRoot(root: string, path: string): Promise<string> {
  const hostPath = await resolveInRoot(root, path);
  try {
    await mkdir(hostPath, { recursive: true, mode: 0o755 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw new EngineError('ERR_INVALID_ARGUMENT', `cannot create directory ${path} in the container: not a directory`, { cause: err });
    }
    throw err;
  }
  const [real, realRoot, st] = await Promise.all([realpath(hostPath), realpath(root), stat(hostPath)]);
  if (real !== realRoot && !real.startsWith(realRoot === sep ? sep : realRoot + sep)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `${path} resolves outside the container's root filesystem`);
  }
  if (!st.isDirectory()) throw new EngineError('ERR_INVALID_ARGUMENT', `${path} in the container is not a directory`);
  return hostPath;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
