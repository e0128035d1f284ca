/**
 * `brig cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-` and `brig cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH`,
 * with the docker CLI's semantics (its `cp.go` and moby's `archive/copy.go`), so that the same
 * daemon requests are sent:
 *
 * - **from a container**: `GET /containers/{id}/archive?path=` (no HEAD first; with `-L` a HEAD
 *   resolves a symlink source first). `-` writes the tar to stdout. Otherwise the tar is extracted
 *   on the host: into DEST if it is a directory, or renamed to DEST's name in DEST's parent (which
 *   must exist); DEST is followed if it is a symlink.
 * - **to a container**: `HEAD …?path=DEST` (a symlink DEST is followed, a missing one is fine if
 *   its parent exists), then `PUT …?noOverwriteDirNonDir=1&path=<dir>` with the tar of SRC, whose
 *   entries are renamed to DEST's name when DEST does not exist or is a file. `-` sends stdin (a
 *   tar) to an existing directory. `-a` asks the daemon to keep the archive's uid/gid (otherwise
 *   files belong to the container's root).
 *
 * The host side never trusts the names in the daemon's archive more than the daemon trusts the
 * client's: names are normalised, `..` and names below a symlink are refused, files are created
 * with `O_EXCL|O_NOFOLLOW` after removing what was there. Files land owned by the invoking user
 * (the docker CLI does not chown either); device nodes, FIFOs and sockets are skipped on the host.
 */
import {
  closeSync,
  constants as FS,
  fchmodSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  chmodSync,
  statSync,
  symlinkSync,
  utimesSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header, type Pack } from 'tar-stream';
import { isApiError } from '../../client/api-error.js';
import type { ContainerPathStat, EngineClient } from '../../client/client.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {
  archive: { type: 'boolean', short: 'a', description: 'Archive mode (copy all uid/gid information)' },
  'follow-link': { type: 'boolean', short: 'L', description: 'Always follow symbol link in SRC_PATH' },
  quiet: { type: 'boolean', short: 'q', description: 'Suppress progress output during copy (brig prints none)' },
} as const satisfies OptionSpecs;

// Go os.FileMode type bits, as numbers (bit 31 does not fit a signed 32-bit operation).
const bit = (mode: number, n: number) => Math.floor(mode / 2 ** n) % 2 === 1;
export const goIsDir = (mode: number) => bit(mode, 31);
export const goIsSymlink = (mode: number) => bit(mode, 27);
const goIsDeviceOrIrregular = (mode: number) => bit(mode, 26) || bit(mode, 19);

// ── path helpers (Go filepath semantics used by docker cp) ────────────────────────────────────

/** Go's `filepath.Base`. */
function base(path: string): string {
  if (path === '') return '.';
  const t = path.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** Go's `filepath.Clean`. */
function clean(path: string): string {
  const abs = path.startsWith('/');
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(c);
  }
  const s = out.join('/');
  return abs ? `/${s}` : s === '' ? '.' : s;
}

const specifiesCurrentDir = (path: string) => base(path) === '.';
const hasTrailingSeparator = (path: string) => path.endsWith('/');

/** moby's `SplitPathDirEntry`: cleaned dir and base, keeping a trailing `/.`. */
export function splitPathDirEntry(path: string): { dir: string; base: string } {
  let cleaned = clean(path);
  if (specifiesCurrentDir(path)) cleaned += cleaned.endsWith('/') ? '.' : '/.';
  const i = cleaned.lastIndexOf('/');
  const dir = i < 0 ? '.' : i === 0 ? '/' : cleaned.slice(0, i);
  return { dir, base: base(cleaned) };
}

/** moby's `PreserveTrailingDotOrSeparator`. */
function preserveTrailing(cleaned: string, original: string): string {
  let p = cleaned;
  if (!specifiesCurrentDir(p) && specifiesCurrentDir(original)) p += p.endsWith('/') ? '.' : '/.';
  if (!hasTrailingSeparator(p) && hasTrailingSeparator(original)) p += '/';
  return p;
}

function resolveLocalPath(path: string): string {
  return preserveTrailing(resolve(path), path);
}

/** docker's `splitCpArg`: `container:path`, unless the argument is an explicit local path. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** moby's `GetRebaseName`: keeps a trailing `/` or `/.` and the requested basename after a link was resolved. */
function getRebaseName(path: string, resolved: string): { resolved: string; rebaseName: string } {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += '/';
  return { resolved: r, rebaseName: base(path) !== base(r) ? base(path) : '' };
}

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/**
 * moby's `PrepareArchiveCopy`: the directory to extract into, and the name the archive's top
 * entry must get there (`undefined`: keep the names).
 */
function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dir: string; from: string; to: string | undefined } {
  const d = splitPathDirEntry(dst.path);
  const from = src.rebaseName !== '' ? src.rebaseName : splitPathDirEntry(src.path).base;
  if (dst.exists && dst.isDir) return { dir: dst.path, from, to: undefined };
  if (dst.exists && src.isDir) throw new Error('cannot copy a directory to a file');
  if (dst.exists || src.isDir) return { dir: d.dir, from, to: d.base };
  if (hasTrailingSeparator(dst.path) || specifiesCurrentDir(dst.path)) throw new Error(`no such directory: ${dst.path}`);
  return { dir: d.dir, from, to: d.base };
}

/** Renames the first component of archive names from `from` to `to` (moby's `RebaseArchiveEntries`). */
function rebaser(from: string, to: string | undefined): (name: string) => string {
  if (to === undefined || from === to) return (name) => name;
  if (from === '/') return (name) => `${to}${name.startsWith('/') ? name : `/${name}`}`;
  return (name) => (name === from || name.startsWith(`${from}/`) ? `${to}${name.slice(from.length)}` : name);
}

// ── host side: packing a local path ─────────────────────────────────────────────────────────────

/** moby's `CopyInfoSourcePath`: the parent is resolved, the last element only with -L. */
function copyInfoSourcePath(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    const r = getRebaseName(path, realpathSync(path));
    resolved = r.resolved;
    rebaseName = r.rebaseName;
  } else {
    const i = path.lastIndexOf('/');
    const dir = path.slice(0, i + 1) || '.';
    const last = path.slice(i + 1);
    resolved = `${realpathSync(dir).replace(/\/$/, '')}/${last}`;
    if (hasTrailingSeparator(path) && base(path) !== base(resolved)) rebaseName = base(path);
  }
  const st = lstatSync(resolved);
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

function secondsDate(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function entryDone(pack: Pack, header: Partial<Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve())).on('error', reject);
  });
}

async function packFile(pack: Pack, header: Partial<Header> & { name: string }, path: string, size: number): Promise<void> {
  const handle = await open(path, FS.O_RDONLY | FS.O_NOFOLLOW);
  try {
    let finished!: () => void;
    let failed!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => {
      finished = res;
      failed = rej;
    });
    done.catch(() => {});
    const entry = pack.entry({ ...header, size }, (err) => (err ? failed(err) : finished()));
    entry.on('error', failed);
    let left = size;
    const buf = Buffer.allocUnsafe(64 * 1024);
    while (left > 0) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(left, buf.length), null);
      const chunk = bytesRead === 0 ? Buffer.alloc(Math.min(left, buf.length)) : Buffer.from(buf.subarray(0, bytesRead));
      left -= chunk.length;
      if (!entry.write(chunk)) {
        await new Promise<void>((res, rej) => {
          const onDrain = () => {
            entry.off('close', onClose);
            res();
          };
          const onClose = () => {
            entry.off('drain', onDrain);
            rej(new Error('the tar stream was closed'));
          };
          entry.once('drain', onDrain);
          entry.once('close', onClose);
        });
      }
    }
    entry.end(undefined);
    await done;
  } finally {
    await handle.close();
  }
}

/** A tar of the local path (links not followed), its top entry named `top`. */
export function packLocal(path: string, top: string): Readable {
  const pack = tar.pack();
  const links = new Map<string, string>();
  const add = async (p: string, name: string, st: Stats): Promise<void> => {
    const h = { name, mode: st.mode, uid: st.uid, gid: st.gid, mtime: secondsDate(st.mtimeMs) };
    if (st.isDirectory()) {
      await entryDone(pack, { ...h, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      const prefix = name.endsWith('/') ? name : `${name}/`;
      for (const child of readdirSync(p).sort()) {
        let cst: Stats;
        try {
          cst = lstatSync(join(p, child));
        } catch {
          continue;
        }
        await add(join(p, child), `${prefix}${child}`, cst);
      }
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) {
        await entryDone(pack, { ...h, type: 'link', linkname: links.get(key)! });
        return;
      }
      if (st.nlink > 1) links.set(key, name);
      await packFile(pack, { ...h, type: 'file' }, p, st.size);
    } else if (st.isSymbolicLink()) {
      await entryDone(pack, { ...h, type: 'symlink', linkname: readlinkSync(p) });
    } else if (st.isFIFO()) {
      await entryDone(pack, { ...h, type: 'fifo' });
    }
    // devices and sockets are not sent (the daemon refuses device nodes)
  };
  void (async () => {
    try {
      await add(path, top === '/' ? '/' : top, lstatSync(path));
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  // tar-stream's pack is a streamx stream: the client (and pipeline) need a Node Readable
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

// ── host side: extracting the daemon's tar ─────────────────────────────────────────────────────

/** moby's `CopyInfoDestinationPath`: follows a symlink destination; a missing one needs its parent. */
function copyInfoDestinationPath(path: string): CopyInfo {
  let p = path;
  let st: Stats | undefined;
  try {
    st = lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${path}`);
    let target = readlinkSync(p);
    if (!isAbsolute(target)) target = join(splitPathDirEntry(p).dir, target);
    p = target;
    try {
      st = lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      st = undefined;
    }
  }
  if (st) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  const parent = splitPathDirEntry(p).dir;
  let pst: Stats;
  try {
    pst = statSync(parent);
  } catch {
    throw new Error(`stat ${parent}: no such file or directory`);
  }
  if (!pst.isDirectory()) throw new Error(`stat ${parent}: not a directory`);
  return { path: p, exists: false, isDir: false, rebaseName: '' };
}

function names(raw: string): string[] {
  const out: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new Error(`refusing to extract ${JSON.stringify(raw)}: it leaves the destination`);
    out.push(c);
  }
  return out;
}

/** Makes the parents of `comps` below `dir` real directories (never through a symlink). */
function ensureParents(dir: string, comps: string[], raw: string): void {
  let p = dir;
  for (const c of comps.slice(0, -1)) {
    p = join(p, c);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(p, 0o755);
      continue;
    }
    if (!st.isDirectory()) throw new Error(`refusing to extract ${JSON.stringify(raw)}: ${p} is not a directory`);
  }
}

/**
 * Extracts the daemon's tar below the host directory `dir`, renaming entries with `rename`, never
 * replacing a directory by a non-directory or the reverse (docker's `NoOverwriteDirNonDir`).
 */
async function extractToHost(input: Readable, dir: string, rename: (name: string) => string, warn: (text: string) => Promise<void>): Promise<void> {
  const ex = tar.extract();
  const dirTimes: { path: string; mtime: Date }[] = [];
  const run = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const raw = rename(h.name);
      const comps = names(raw);
      const p = comps.length === 0 ? dir : join(dir, ...comps);
      if (comps.length > 0) ensureParents(dir, comps, raw);
      let existing: Stats | undefined;
      try {
        existing = lstatSync(p);
      } catch {
        existing = undefined;
      }
      const isDir = h.type === 'directory';
      if (existing && comps.length > 0) {
        if (existing.isDirectory() && !isDir) throw new Error(`cannot overwrite directory ${JSON.stringify(p)} with non-directory ${JSON.stringify(raw)}`);
        if (!existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory ${JSON.stringify(p)} with directory ${JSON.stringify(raw)}`);
        if (!isDir) unlinkSync(p);
      }
      const mode = h.mode & 0o7777;
      switch (h.type) {
        case 'directory':
          if (!existing) mkdirSync(p, 0o700);
          chmodSync(p, mode);
          dirTimes.push({ path: p, mtime: h.mtime });
          break;
        case 'file': {
          const fd = openSync(p, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off);
            }
            fchmodSync(fd, mode);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'symlink':
          symlinkSync(h.linkname, p);
          lutimesSync(p, h.mtime, h.mtime);
          break;
        case 'link': {
          const target = names(rename(h.linkname));
          ensureParents(dir, target, h.linkname);
          linkSync(join(dir, ...target), p);
          break;
        }
        default:
          await warn(`brig: skipped ${raw}: a ${h.type} cannot be created on the host by brig cp\n`);
      }
      entry.resume();
    }
  })();
  await Promise.all([pipeline(input, ex as unknown as NodeJS.WritableStream), run]);
  for (const d of dirTimes.reverse()) utimesSync(d.path, d.mtime, d.mtime);
}

// ── the command ─────────────────────────────────────────────────────────────────────────────────

async function copyFromContainer(ctx: CliContext, client: EngineClient, container: string, srcPath: string, destPath: string, followLink: boolean): Promise<number> {
  const dst = destPath === '-' ? '-' : resolveLocalPath(destPath);
  let src = srcPath;
  let rebaseName = '';
  if (followLink) {
    const st = await client.statContainerPath(container, src).catch(() => undefined);
    if (st && goIsSymlink(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = join(splitPathDirEntry(src).dir, target);
      const r = getRebaseName(src, target);
      src = r.resolved;
      rebaseName = r.rebaseName;
    }
  }
  const { stat, tar: content } = await client.getContainerArchive(container, src);
  if (dst === '-') {
    await pipeline(content, ctx.stdout, { end: false });
    return 0;
  }
  try {
    const srcInfo: CopyInfo = { path: src, exists: true, isDir: goIsDir(stat.mode), rebaseName };
    const dstInfo = copyInfoDestinationPath(dst);
    const srcBase = splitPathDirEntry(srcInfo.path).base;
    // the archive is named after the requested path; a -L rebase renames it first
    const first = rebaser(srcBase === '/' ? '/' : srcBase, rebaseName !== '' ? rebaseName : undefined);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    const second = rebaser(plan.from, plan.to);
    await extractToHost(content, plan.dir, (n) => second(first(n)), (text) => write(ctx.stderr, text));
  } catch (err) {
    content.destroy();
    throw err;
  }
  return 0;
}

async function copyToContainer(ctx: CliContext, client: EngineClient, container: string, srcPath: string, destPath: string, followLink: boolean, copyUIDGID: boolean): Promise<number> {
  const dstInfo: CopyInfo = { path: destPath, exists: false, isDir: false, rebaseName: '' };
  let st: ContainerPathStat | undefined;
  try {
    st = await client.statContainerPath(container, destPath);
    if (goIsSymlink(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = join(splitPathDirEntry(destPath).dir, target);
      dstInfo.path = target;
      st = await client.statContainerPath(container, target);
    }
  } catch (err) {
    // like docker: assume the parent exists; the extraction reports any real problem
    if (!isApiError(err)) throw err;
    st = undefined;
  }
  if (st) {
    if (goIsDeviceOrIrregular(st.mode)) throw new Error(`destination "${container}:${destPath}" must be a directory or a regular file`);
    dstInfo.exists = true;
    dstInfo.isDir = goIsDir(st.mode);
  }
  const put = { noOverwriteDirNonDir: true, copyUIDGID };
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new Error(`destination "${container}:${destPath}" must be a directory`);
    await client.putContainerArchive(container, dstInfo.path, ctx.stdin, put);
    return 0;
  }
  const srcInfo = copyInfoSourcePath(resolveLocalPath(srcPath), followLink);
  const plan = prepareArchiveCopy(srcInfo, dstInfo);
  const archive = packLocal(srcInfo.path, plan.to ?? plan.from);
  await client.putContainerArchive(container, plan.dir, archive, put);
  return 0;
}

export const cpCommand: Command = {
  name: 'cp',
  summary: 'Copy files/folders between a container and the local filesystem',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tbrig cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  options,
  extraHelp: () =>
    "Use '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.\n",
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length !== 2) throw new UsageError('"brig cp" requires exactly 2 arguments.');
    const [source, destination] = positionals as [string, string];
    if (source === '') throw new UsageError('source can not be empty');
    if (destination === '') throw new UsageError('destination can not be empty');
    const src = splitCpArg(source);
    const dst = splitCpArg(destination);
    if (src.container !== '' && dst.container !== '') throw new UsageError('copying between containers is not supported');
    if (src.container === '' && dst.container === '') throw new UsageError('must specify at least one container source');
    const client = ctx.client();
    const followLink = values['follow-link'] === true;
    if (src.container !== '') return copyFromContainer(ctx, client, src.container, src.path, dst.path, followLink);
    return copyToContainer(ctx, client, dst.container, src.path, dst.path, followLink, values.archive === true);
  },
};

