/**
 * A busybox root filesystem as a tar stream, built from the host's static busybox: what
 * `brig image builtin` imports, and what tests and benchmarks use as a small offline image.
 *
 * The tar is reproducible: entries come in a fixed order, all owned 0:0 with one fixed mtime, so the
 * same busybox binary always gives the same bytes (and so the same image ID). Nothing touches the
 * disk but the busybox binary itself, which is streamed into the tar with back-pressure.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header, type Pack } from 'tar-stream';
import { EngineError } from '../errors.js';
import { execFileChecked } from '../util/exec.js';

/** The mtime of every entry (2024-01-01T00:00:00Z). */
export const ROOTFS_MTIME = new Date(Date.UTC(2024, 0, 1));

/** Docker's busybox image's accounts. */
export const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

/** Docker's busybox groups, plus `nobody` so that `--user nobody:nobody` resolves too. */
export const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
nobody:x:65534:
`;

/** Directories besides `bin/`, with their modes, in tar order. */
const DIRECTORIES: readonly [string, number][] = [
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o755],
  ['root', 0o700],
  ['sys', 0o755],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
  ['var/spool', 0o755],
  ['var/spool/mail', 0o755],
  ['var/www', 0o755],
];

const PT_INTERP = 3;

function missingBusybox(path: string, cause?: unknown): EngineError {
  return new EngineError('ERR_NOT_FOUND', `busybox not found at ${path}`, {
    cause,
    hint: 'install a static busybox (Debian: apt-get install busybox-static) or pass --busybox PATH',
  });
}

/**
 * Checks that `path` is a statically linked ELF executable: an ELF file whose program headers have
 * no PT_INTERP (a dynamic binary would not run in a rootfs without its loader and libraries).
 * Throws ERR_NOT_FOUND if missing, ERR_INVALID_ARGUMENT if not ELF or dynamically linked.
 */
export async function assertStaticElf(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw missingBusybox(path, err);
  }
  try {
    const ident = Buffer.alloc(64);
    const { bytesRead } = await fh.read(ident, 0, 64, 0);
    if (bytesRead < 52 || ident.readUInt32BE(0) !== 0x7f454c46) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `${path} is not an ELF executable`);
    }
    const is64 = ident[4] === 2;
    const le = ident[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const uword = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = uword(ident, is64 ? 32 : 28);
    const phentsize = u16(ident, is64 ? 54 : 42);
    const phnum = u16(ident, is64 ? 56 : 44);
    const table = Buffer.alloc(phentsize * phnum);
    await fh.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
      if (u32(ph, 0) !== PT_INTERP) continue;
      const offset = uword(ph, is64 ? 8 : 4);
      const size = uword(ph, is64 ? 32 : 16);
      const interp = Buffer.alloc(Math.min(size, 4096));
      await fh.read(interp, 0, interp.length, offset);
      throw new EngineError(
        'ERR_INVALID_ARGUMENT',
        `${path} is dynamically linked (program interpreter ${interp.toString('latin1').replace(/\0.*$/s, '')}); the image needs a static busybox`,
        { hint: 'install busybox-static (Debian) or pass --busybox PATH to a static build' },
      );
    }
  } finally {
    await fh.close();
  }
}

/** The applet names `<busybox> --list` prints, sorted, without `busybox` itself and without unsafe names. */
export async function listApplets(busyboxPath: string): Promise<string[]> {
  const out = await execFileChecked(busyboxPath, ['--list']);
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const name = line.trim();
    if (name === '' || name === 'busybox' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) continue;
    names.add(name);
  }
  return [...names].sort();
}

type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

function header(name: string, extra: Partial<Header>): EntryHeader {
  return { name, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: ROOTFS_MTIME, ...extra };
}

async function addFile(pack: Pack, name: string, content: string, mode = 0o644): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry(header(name, { type: 'file', mode }), content, (err) => (err ? reject(err) : resolve()));
  });
}

async function addVoid(pack: Pack, h: EntryHeader): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // a void entry (directory, symlink) is written and done as soon as it is opened
    pack.entry(h, (err) => (err ? reject(err) : resolve()));
  });
}

async function fillRootfs(pack: Pack, busyboxPath: string): Promise<void> {
  let size: number;
  try {
    const st = await stat(busyboxPath);
    if (!st.isFile()) throw new EngineError('ERR_INVALID_ARGUMENT', `${busyboxPath} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw missingBusybox(busyboxPath, err);
  }
  await assertStaticElf(busyboxPath);
  const applets = await listApplets(busyboxPath);

  await addVoid(pack, header('bin', { type: 'directory', mode: 0o755 }));
  // The binary goes straight from the file into the tar; the entry waits while the tar is unread.
  // (tar-stream's entries are streamx Writables, which Node's pipeline drives like its own.)
  const entry = pack.entry(header('bin/busybox', { type: 'file', mode: 0o755, size })) as unknown as Writable;
  await pipeline(createReadStream(busyboxPath), entry);
  for (const applet of applets) {
    await addVoid(pack, header(`bin/${applet}`, { type: 'symlink', linkname: 'busybox', mode: 0o777 }));
  }
  for (const [dir, mode] of DIRECTORIES) {
    await addVoid(pack, header(dir, { type: 'directory', mode }));
    if (dir === 'etc') {
      await addFile(pack, 'etc/group', GROUP);
      await addFile(pack, 'etc/passwd', PASSWD);
    }
  }
  pack.finalize();
}

/**
 * The rootfs tar of a busybox image made from the static binary at `busyboxPath`: `bin/busybox`
 * (0755), one `bin/<applet>` → `busybox` symlink per applet of `busybox --list`, the usual top-level
 * directories (`tmp` 1777, `root` 0700), and Docker busybox's `etc/passwd` and `etc/group`.
 *
 * Returns at once; a missing, non-ELF or dynamically linked binary fails the stream (ERR_NOT_FOUND,
 * ERR_INVALID_ARGUMENT). Destroying the stream stops the build.
 */
export function busyboxRootfsTar(busyboxPath: string): Readable {
  const pack = tar.pack();
  const out = Readable.from(pack, { objectMode: false });
  fillRootfs(pack, busyboxPath).catch((err: unknown) => {
    if (!out.destroyed) out.destroy(err as Error);
    pack.destroy(err as Error);
  });
  return out;
}

/** Writes the busybox rootfs tar to `outPath` (for fixtures and benchmarks). */
export async function writeBusyboxRootfsTar(busyboxPath: string, outPath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  await pipeline(busyboxRootfsTar(busyboxPath), createWriteStream(outPath), { signal: options.signal });
}
