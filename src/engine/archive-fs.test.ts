/**
 * archive-fs on temporary directories: Docker's path and naming semantics for stat and read, and
 * the write rules: `..`, absolute names and devices refused, nothing written through a planted
 * symlink at any depth, hard links only inside the destination, noOverwriteDirNonDir, ownership,
 * modes and times, compression; plus symlink-swap races against both directions. Runs as root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { tarOf, type TarOfEntry } from '../image/testdata/tar-fixtures.js';
import { isEngineError } from '../errors.js';
import { close, constants as C, isSystemError, mknodat, openat2 } from '../native/index.js';
import {
  archivePinned,
  containerPath,
  extractArchive,
  goBase,
  openExtractionPoint,
  pinPath,
  statPath,
  type ExtractOptions,
} from './archive-fs.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';
const VICTIM = 'victim: must never be read or written\n';

interface Fx {
  base: string;
  root: string;
  rootFd: number;
  /** A directory beside the root: the "host". */
  outside: string;
}

function fixture(t: TestContext): Fx {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'brig-archive-fs-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), VICTIM);
  utimesSync(join(outside, 'victim'), 1_000_000, 1_000_000);
  const rootFd = openat2(C.AT_FDCWD, root, C.O_PATH | C.O_DIRECTORY);
  t.after(() => {
    close(rootFd);
    rmSync(base, { recursive: true, force: true });
  });
  return { base, root, rootFd, outside };
}

function assertVictimUntouched(fx: Fx): void {
  assert.equal(readFileSync(join(fx.outside, 'victim'), 'utf8'), VICTIM);
  const st = statSync(join(fx.outside, 'victim'));
  assert.equal(st.mtimeMs, 1_000_000_000);
  assert.equal(st.mode & 0o7777, 0o644);
  assert.deepEqual(readdirSync(fx.outside), ['victim'], 'nothing may appear outside the root');
}


interface Listed {
  header: Header;
  body: Buffer;
}

async function untar(stream: Readable): Promise<Listed[]> {
  const ex = tar.extract();
  const out: Listed[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  stream.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

async function read(fx: Fx, path: string): Promise<Listed[]> {
  return untar(archivePinned(pinPath(fx.rootFd, path)));
}

async function write(fx: Fx, path: string, data: Buffer | TarOfEntry[], options: ExtractOptions = {}) {
  const buf = Buffer.isBuffer(data) ? data : await tarOf(data);
  const dest = openExtractionPoint(fx.rootFd, path);
  try {
    return await extractArchive(dest, containerPath(path), Readable.from([buf]), options);
  } finally {
    close(dest);
  }
}

async function refused(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isEngineError(err), `expected an EngineError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

function errno(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    return isSystemError(err) ? err.code : String(err);
  }
}

// ── paths ───────────────────────────────────────────────────────────────────────────────────────

test('container paths keep a trailing / or /. like dockerd; names are Go basenames', () => {
  assert.equal(containerPath('etc/hostname'), '/etc/hostname');
  assert.equal(containerPath('/etc/../etc//hostname'), '/etc/hostname');
  assert.equal(containerPath('/../../x'), '/x');
  assert.equal(containerPath('/tmp/'), '/tmp/');
  assert.equal(containerPath('/tmp/.'), '/tmp/.');
  assert.equal(containerPath('/tmp/./'), '/tmp/./');
  assert.equal(containerPath('/'), '/');
  assert.equal(containerPath('/.'), '/.');
  assert.equal(goBase('/etc/hostname'), 'hostname');
  assert.equal(goBase('/tmp/'), 'tmp');
  assert.equal(goBase('/tmp/.'), '.');
  assert.equal(goBase('/'), '/');
});

// ── stat ────────────────────────────────────────────────────────────────────────────────────────

test('stat: files, directories, symlinks (not followed, target resolved in the root), trailing slash', { skip }, (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'etc'));
  writeFileSync(join(fx.root, 'etc/hostname'), 'container\n');
  chmodSync(join(fx.root, 'etc/hostname'), 0o4755);
  utimesSync(join(fx.root, 'etc/hostname'), 1_700_000_000.25, 1_700_000_000.25);
  symlinkSync('/', join(fx.root, 'rootlink'));
  symlinkSync('../../..', join(fx.root, 'etc/up'));
  symlinkSync(fx.outside, join(fx.root, 'hostlink'));
  symlinkSync('up/etc/hostname', join(fx.root, 'etc/chain'));
  symlinkSync('/nowhere/x', join(fx.root, 'dangling'));

  const f = statPath(fx.rootFd, '/etc/hostname');
  assert.deepEqual({ ...f, mtimeNs: undefined }, { name: 'hostname', size: 10, mode: 0o104755, mtimeNs: undefined, linkTarget: '' });
  assert.equal(f.mtimeNs, 1_700_000_000_250_000_000n);
  assert.equal(statPath(fx.rootFd, '/etc').mode & C.S_IFMT, C.S_IFDIR);
  assert.equal(statPath(fx.rootFd, '/etc/').name, 'etc');
  assert.equal(statPath(fx.rootFd, '/etc/.').name, '.');
  assert.equal(statPath(fx.rootFd, '/').name, '/');

  const l = statPath(fx.rootFd, '/rootlink');
  assert.equal(l.mode & C.S_IFMT, C.S_IFLNK, 'a final symlink is not followed');
  assert.equal(l.linkTarget, '/');
  assert.equal(statPath(fx.rootFd, '/etc/up').linkTarget, '/');
  assert.equal(statPath(fx.rootFd, '/etc/chain').linkTarget, '/etc/hostname');
  assert.equal(statPath(fx.rootFd, '/hostlink').linkTarget, fx.outside, 'a host path is only a path inside the container');
  assert.equal(statPath(fx.rootFd, '/dangling').linkTarget, '/nowhere/x');
  assert.equal(statPath(fx.rootFd, '/rootlink/').mode & C.S_IFMT, C.S_IFDIR, 'a trailing slash follows the link');

  // intermediate symlinks are resolved inside the root, never on the host
  assert.equal(statPath(fx.rootFd, '/rootlink/etc/hostname').size, 10);
  assert.equal(statPath(fx.rootFd, '/etc/up/etc/hostname').size, 10);
  assert.equal(errno(() => statPath(fx.rootFd, '/hostlink/victim')), 'ENOENT');
  assert.equal(errno(() => statPath(fx.rootFd, `/rootlink${fx.outside}/victim`)), 'ENOENT');
  assert.equal(errno(() => statPath(fx.rootFd, '/etc/hostname/')), 'ENOTDIR');
  assert.equal(errno(() => statPath(fx.rootFd, '/etc/hostname/.')), 'ENOTDIR');
  assert.equal(errno(() => statPath(fx.rootFd, '/missing')), 'ENOENT');
});

// ── read ────────────────────────────────────────────────────────────────────────────────────────

test('read: entries rebased on the basename; contents, modes, owners, second mtimes; links archived as links', { skip }, async (t) => {
  const fx = fixture(t);
  const d = join(fx.root, 'data');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'a.txt'), 'alpha\n');
  chmodSync(join(d, 'a.txt'), 0o640);
  chownSync(join(d, 'a.txt'), 1234, 5678);
  utimesSync(join(d, 'a.txt'), 1_600_000_000.9, 1_600_000_000.9);
  writeFileSync(join(d, 'sub/b'), Buffer.alloc(200_000, 7));
  chmodSync(join(d, 'sub/b'), 0o4755);
  linkSync(join(d, 'a.txt'), join(d, 'sub/hard'));
  symlinkSync('/', join(d, 'root'));
  symlinkSync(fx.outside, join(d, 'host'));
  mknodat(openat2(C.AT_FDCWD, d, C.O_PATH | C.O_DIRECTORY), 'fifo', C.S_IFIFO | 0o600);
  mknodat(openat2(C.AT_FDCWD, d, C.O_PATH | C.O_DIRECTORY), 'null', C.S_IFCHR | 0o666, 1, 3);
  const sock = createServer();
  await new Promise<void>((resolve) => sock.listen(join(d, 'sock'), resolve));
  t.after(() => sock.close());

  const list = await read(fx, '/data');
  const names = list.map((e) => `${e.header.type}:${e.header.name}`);
  assert.deepEqual(names, [
    'directory:data/',
    'file:data/a.txt',
    'fifo:data/fifo',
    'symlink:data/host',
    'character-device:data/null',
    'symlink:data/root',
    'directory:data/sub/',
    'file:data/sub/b',
    'link:data/sub/hard',
  ]);
  const by = new Map(list.map((e) => [e.header.name, e]));
  const a = by.get('data/a.txt')!;
  assert.equal(a.body.toString(), 'alpha\n');
  assert.equal(a.header.mode, 0o640);
  assert.equal(a.header.uid, 1234);
  assert.equal(a.header.gid, 5678);
  assert.equal(a.header.mtime.getTime(), 1_600_000_000_000, 'mtimes are truncated to seconds, as dockerd does');
  assert.equal(by.get('data/sub/b')!.body.length, 200_000);
  assert.equal(by.get('data/sub/b')!.header.mode, 0o4755);
  assert.equal(by.get('data/sub/hard')!.header.linkname, 'data/a.txt');
  assert.equal(by.get('data/root')!.header.linkname, '/');
  assert.equal(by.get('data/host')!.header.linkname, fx.outside);
  assert.equal(by.get('data/null')!.header.devmajor, 1);
  assert.equal(by.get('data/null')!.header.devminor, 3);

  // a single file, the contents of a directory, the root
  assert.deepEqual((await read(fx, '/data/a.txt')).map((e) => e.header.name), ['a.txt']);
  assert.deepEqual((await read(fx, '/data/sub/.')).map((e) => e.header.name), ['./', './b', './hard']);
  assert.deepEqual((await read(fx, '/data/sub/')).map((e) => e.header.name), ['sub/', 'sub/b', 'sub/hard']);
  assert.deepEqual((await read(fx, '/')).map((e) => e.header.name).slice(0, 3), ['/', '/data/', '/data/a.txt']);
  // a final symlink is archived as the link; a trailing slash follows it (inside the root)
  assert.deepEqual((await read(fx, '/data/root')).map((e) => `${e.header.name}>${e.header.linkname}`), ['root>/']);
  assert.equal((await read(fx, '/data/root/')).map((e) => e.header.name)[1], 'root/data/');
  // links on the way resolve inside the root: /data/root/data/a.txt is the container's file
  assert.equal((await read(fx, '/data/root/data/a.txt'))[0]!.body.toString(), 'alpha\n');
  assert.equal(errno(() => pinPath(fx.rootFd, '/data/host/victim')), 'ENOENT');
  assertVictimUntouched(fx);
});

test('read: a directory swapped for a symlink to the host during the walk is never followed', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'dir'));
  writeFileSync(join(fx.root, 'dir/victim'), 'container\n');
  symlinkSync(fx.outside, join(fx.root, 'swap'));
  const stop = swapper(t, join(fx.root, 'dir'), join(fx.root, 'swap'));
  let seen = 0;
  let missing = 0;
  for (let i = 0; i < 300; i++) {
    for (const path of ['/dir/victim', '/dir', '/dir/.']) {
      let pinned;
      try {
        pinned = pinPath(fx.rootFd, path);
      } catch (err) {
        assert.ok(isSystemError(err), String(err));
        missing++;
        continue;
      }
      for (const e of await untar(archivePinned(pinned))) {
        assert.notEqual(e.body.toString(), VICTIM, `read the host's file through ${path}`);
        if (e.body.length > 0) seen++;
      }
    }
  }
  await stop();
  assert.ok(seen > 0, 'the container file was never read');
  t.diagnostic(`read the container file ${seen} times, ${missing} lookups failed while swapped`);
  assertVictimUntouched(fx);
});

// ── write ───────────────────────────────────────────────────────────────────────────────────────

test('write: files and trees with modes (setuid kept), times; owner root unless copyUIDGID', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'tmp'));
  const mtime = new Date(1_500_000_000_000);
  const entries: TarOfEntry[] = [
    { name: 'dir', type: 'directory', mode: 0o750, uid: 1000, gid: 1001, mtime },
    { name: 'dir/f', body: 'hello\n', mode: 0o4755, uid: 1000, gid: 1001, mtime },
    { name: 'dir/deep/er/g', body: 'g', mode: 0o600, mtime },
    { name: 'dir/l', type: 'symlink', linkname: '/etc/passwd', mtime, uid: 1000, gid: 1001 },
    { name: 'dir/h', type: 'link', linkname: 'dir/f' },
    { name: 'dir/p', type: 'fifo', mode: 0o640, mtime },
  ];
  const r = await write(fx, '/tmp', entries);
  assert.equal(r.entries, 6);
  const p = (s: string) => join(fx.root, 'tmp', s);
  assert.equal(readFileSync(p('dir/f'), 'utf8'), 'hello\n');
  assert.equal(statSync(p('dir/f')).mode & 0o7777, 0o4755);
  assert.equal(statSync(p('dir')).mode & 0o7777, 0o750);
  assert.equal(statSync(p('dir/f')).uid, 0, 'owned by the container root without copyUIDGID');
  assert.equal(statSync(p('dir/f')).mtimeMs, 1_500_000_000_000);
  assert.equal(statSync(p('dir')).mtimeMs, 1_500_000_000_000, 'directory times are set after its children');
  assert.equal(statSync(p('dir/deep')).mode & 0o777, 0o755, 'missing parents are created 0755');
  assert.equal(lstatSync(p('dir/l')).isSymbolicLink(), true);
  assert.equal(lstatSync(p('dir/l')).mtimeMs, 1_500_000_000_000);
  assert.equal(statSync(p('dir/h')).ino, statSync(p('dir/f')).ino);
  assert.equal(lstatSync(p('dir/p')).isFIFO(), true);
  assert.equal(lstatSync(p('dir/p')).mode & 0o777, 0o640);

  await write(fx, '/tmp', entries, { copyUIDGID: true });
  assert.equal(statSync(p('dir/f')).uid, 1000);
  assert.equal(statSync(p('dir/f')).gid, 1001);
  assert.equal(statSync(p('dir/f')).mode & 0o7777, 0o4755, 'setuid survives the chown');
  assert.equal(lstatSync(p('dir/l')).uid, 1000);

  // an existing file is replaced; an existing symlink at the name is replaced, never followed
  symlinkSync(join(fx.outside, 'victim'), p('dir/f2'));
  await write(fx, '/tmp/dir/', [{ name: 'f', body: 'new' }, { name: 'f2', body: 'not the victim' }]);
  assert.equal(readFileSync(p('dir/f'), 'utf8'), 'new');
  assert.equal(readFileSync(p('dir/f2'), 'utf8'), 'not the victim');
  assert.equal(lstatSync(p('dir/f2')).isFile(), true);
  assertVictimUntouched(fx);
});

test('write: a root entry (./) applies to the destination itself; a non-directory root entry is refused', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'd'));
  await write(fx, '/d/', [{ name: './', type: 'directory', mode: 0o711 }, { name: './x', body: 'x' }]);
  assert.equal(statSync(join(fx.root, 'd')).mode & 0o777, 0o711);
  assert.equal(readFileSync(join(fx.root, 'd/x'), 'utf8'), 'x');
  await refused(write(fx, '/d', [{ name: '.', body: 'x' }]), 'ERR_UNSAFE_ARCHIVE', /non-directory entry as the archive root/);
});

test('write: `..`, absolute names and devices are refused; nothing lands outside', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'in'));
  const rel = `../../outside/victim`;
  await refused(write(fx, '/in', [{ name: rel, body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE', /contains "\.\."/);
  await refused(write(fx, '/in', [{ name: 'a/../../x', body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE', /contains "\.\."/);
  await refused(write(fx, '/in', [{ name: 'ok/..', type: 'directory' }]), 'ERR_UNSAFE_ARCHIVE');
  await refused(write(fx, '/in', [{ name: join(fx.outside, 'victim'), body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE', /absolute path/);
  await refused(write(fx, '/in', [{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]), 'ERR_UNSAFE_ARCHIVE', /device node/);
  await refused(write(fx, '/in', [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), 'ERR_UNSAFE_ARCHIVE', /device node/);
  await refused(write(fx, '/in', [{ name: 'h', type: 'link', linkname: '../../outside/victim' }]), 'ERR_UNSAFE_ARCHIVE', /"\.\."/);
  await refused(write(fx, '/in', [{ name: 'h', type: 'link', linkname: join(fx.outside, 'victim') }]), 'ERR_UNSAFE_ARCHIVE', /absolute/);
  assert.deepEqual(readdirSync(join(fx.root, 'in')), []);
  assertVictimUntouched(fx);
});

test('write: nothing is written through a symlink, whoever planted it and at any depth', { skip }, async (t) => {
  const fx = fixture(t);
  const dest = join(fx.root, 'dest');
  mkdirSync(join(dest, 'a/b/c'), { recursive: true });
  // planted by "the container"
  symlinkSync(fx.outside, join(dest, 'top'));
  symlinkSync(fx.outside, join(dest, 'a/b/c/deep'));
  symlinkSync('/', join(dest, 'a/rootlink'));
  symlinkSync('../../../../../..', join(dest, 'a/b/up'));
  for (const name of ['top/victim', 'top/new', 'a/b/c/deep/victim', 'a/b/c/deep/x/y', 'a/rootlink/in-root', 'a/b/up/x']) {
    await refused(write(fx, '/dest', [{ name, body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE', /symbolic link; brig never extracts through a link/);
    await refused(write(fx, '/dest', [{ name, type: 'directory' }]), 'ERR_UNSAFE_ARCHIVE');
    await refused(write(fx, '/dest', [{ name, type: 'symlink', linkname: '/' }]), 'ERR_UNSAFE_ARCHIVE');
  }
  // planted by the archive itself: a symlink entry, then an entry through it
  await refused(write(fx, '/dest', [{ name: 'evil', type: 'symlink', linkname: fx.outside }, { name: 'evil/victim', body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE');
  await refused(write(fx, '/dest', [{ name: 'evil2', type: 'symlink', linkname: '/' }, { name: 'evil2/etc/x', body: 'pwned' }]), 'ERR_UNSAFE_ARCHIVE');
  assert.equal(lstatSync(join(dest, 'evil')).isSymbolicLink(), true, 'the link itself is kept: it only ever resolves inside the container');
  // a hard link through a link, or to one outside
  await refused(write(fx, '/dest', [{ name: 'h', type: 'link', linkname: 'top/victim' }]), 'ERR_UNSAFE_ARCHIVE');
  // the destination itself may be a link: it is resolved inside the root (dockerd follows it too)
  symlinkSync(`/dest/a`, join(fx.root, 'alias'));
  await write(fx, '/alias', [{ name: 'via-alias', body: 'ok' }]);
  assert.equal(readFileSync(join(dest, 'a/via-alias'), 'utf8'), 'ok');
  symlinkSync(fx.outside, join(fx.root, 'hostalias'));
  assert.equal(errno(() => openExtractionPoint(fx.rootFd, '/hostalias')), 'ENOENT');
  assertVictimUntouched(fx);
});

test('write: hard links only to regular files or symlinks already inside the destination', { skip }, async (t) => {
  const fx = fixture(t);
  const d = join(fx.root, 'd');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(fx.root, 'above'), 'above');
  writeFileSync(join(d, 'existing'), 'e');
  symlinkSync('/etc/shadow', join(d, 'sl'));
  await write(fx, '/d', [{ name: 'h1', type: 'link', linkname: 'existing' }, { name: 'h2', type: 'link', linkname: 'sl' }]);
  assert.equal(statSync(join(d, 'h1')).ino, statSync(join(d, 'existing')).ino);
  assert.equal(lstatSync(join(d, 'h2')).isSymbolicLink(), true, 'a link to a symlink links the symlink itself');
  await refused(write(fx, '/d', [{ name: 'h', type: 'link', linkname: 'missing' }]), 'ERR_UNSAFE_ARCHIVE', /does not exist/);
  await refused(write(fx, '/d', [{ name: 'h', type: 'link', linkname: 'sub' }]), 'ERR_UNSAFE_ARCHIVE', /not a regular file/);
  await refused(write(fx, '/d', [{ name: 'h', type: 'link', linkname: '../above' }]), 'ERR_UNSAFE_ARCHIVE');
  await refused(write(fx, '/d', [{ name: 'h', type: 'link', linkname: '.' }]), 'ERR_UNSAFE_ARCHIVE');
  await write(fx, '/d', [{ name: 'h1', type: 'link', linkname: 'existing' }]); // onto itself: a no-op
  assert.equal(readFileSync(join(d, 'h1'), 'utf8'), 'e');
});

test('write: noOverwriteDirNonDir conflicts in both directions; without it a directory is replaced (links inside not followed)', { skip }, async (t) => {
  const fx = fixture(t);
  const d = join(fx.root, 'd');
  mkdirSync(join(d, 'dir/inner'), { recursive: true });
  symlinkSync(fx.outside, join(d, 'dir/inner/host'));
  writeFileSync(join(d, 'file'), 'f');
  const opts = { noOverwriteDirNonDir: true };
  await refused(write(fx, '/d', [{ name: 'dir', body: 'x' }], opts), 'ERR_INVALID_ARGUMENT', /^cannot overwrite directory "\/d\/dir" with non-directory "\/d"$/);
  await refused(write(fx, '/d', [{ name: 'dir', type: 'symlink', linkname: '/' }], opts), 'ERR_INVALID_ARGUMENT', /cannot overwrite directory/);
  await refused(write(fx, '/d/', [{ name: 'file', type: 'directory' }], opts), 'ERR_INVALID_ARGUMENT', /^cannot overwrite non-directory "\/d\/file" with directory "\/d"$/);
  await write(fx, '/d', [{ name: 'dir', type: 'directory', mode: 0o700 }, { name: 'file', body: 'g' }], opts);
  assert.equal(readFileSync(join(d, 'file'), 'utf8'), 'g');

  await write(fx, '/d', [{ name: 'dir', body: 'now a file' }, { name: 'file', type: 'directory' }]);
  assert.equal(readFileSync(join(d, 'dir'), 'utf8'), 'now a file');
  assert.equal(statSync(join(d, 'file')).isDirectory(), true);
  assertVictimUntouched(fx);
});

test('write: the extraction point must exist and be a directory', { skip }, async (t) => {
  const fx = fixture(t);
  writeFileSync(join(fx.root, 'f'), 'f');
  assert.equal(errno(() => openExtractionPoint(fx.rootFd, '/missing/dir')), 'ENOENT');
  assert.throws(() => openExtractionPoint(fx.rootFd, '/f'), /extraction point is not a directory/);
  assert.equal(errno(() => openExtractionPoint(fx.rootFd, '/f/')), 'ENOTDIR');
});

test('write: gzip is decompressed in-process; xz, bzip2 and zstd are refused; limits apply', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'd'));
  await write(fx, '/d', gzipSync(await tarOf([{ name: 'gz', body: 'from gzip' }])));
  assert.equal(readFileSync(join(fx.root, 'd/gz'), 'utf8'), 'from gzip');
  const junk = Buffer.alloc(600, 1);
  await refused(write(fx, '/d', Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), junk])), 'ERR_INVALID_ARGUMENT', /^xz-compressed archives are not supported/);
  await refused(write(fx, '/d', Buffer.concat([Buffer.from('BZh91AY'), junk])), 'ERR_INVALID_ARGUMENT', /^bzip2-compressed/);
  await refused(write(fx, '/d', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), junk])), 'ERR_INVALID_ARGUMENT', /^zstd-compressed/);
  await refused(write(fx, '/d', Buffer.from('this is not a tar archive at all'.repeat(20))), 'ERR_UNSAFE_ARCHIVE');
  const many = Array.from({ length: 5 }, (_, i) => ({ name: `n${i}`, body: '' }));
  await refused(write(fx, '/d', many, { limits: { maxEntries: 4 } }), 'ERR_LIMIT_EXCEEDED');
  await refused(write(fx, '/d', [{ name: 'big', body: Buffer.alloc(10_000) }], { limits: { maxBytes: 4096 } }), 'ERR_LIMIT_EXCEEDED');
  const bomb = gzipSync(await tarOf([{ name: 'zeros', body: Buffer.alloc(8 * 1024 * 1024) }]));
  await refused(write(fx, '/d', bomb, { limits: { maxCompressionRatio: 100 } }), 'ERR_LIMIT_EXCEEDED', /decompression bomb/);
  assert.deepEqual((await write(fx, '/d', Buffer.alloc(0))).entries, 0, 'an empty upload changes nothing');
});

test('write: a directory swapped for a symlink to the host during extraction is never written through', { skip }, async (t) => {
  const fx = fixture(t);
  mkdirSync(join(fx.root, 'dir'));
  symlinkSync(fx.outside, join(fx.root, 'swap'));
  const stop = swapper(t, join(fx.root, 'dir'), join(fx.root, 'swap'));
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    try {
      if (i % 2 === 0) await write(fx, '/', [{ name: 'dir/victim', body: 'pwned' }, { name: 'dir/new/x', body: 'pwned' }]);
      else await write(fx, '/dir/', [{ name: 'victim', body: 'pwned' }, { name: 'sub/x', body: 'pwned' }]);
      ok++;
    } catch (err) {
      assert.ok(isEngineError(err) || isSystemError(err), String(err));
      failed++;
    }
  }
  await stop();
  t.diagnostic(`${ok} extractions succeeded inside the root, ${failed} were refused while swapped`);
  assert.ok(ok > 0);
  assertVictimUntouched(fx);
});

/**
 * Exchanges `a` and `b` (renameat2 RENAME_EXCHANGE) in a tight loop in another process until the
 * returned function is called.
 */
function swapper(t: TestContext, a: string, b: string): () => Promise<void> {
  const native = fileURLToPath(new URL('../native/index.js', import.meta.url));
  const code = `
    const n = await import(${JSON.stringify(native)});
    const end = Date.now() + 60000;
    let i = 0;
    while (Date.now() < end) { n.renameat2(n.constants.AT_FDCWD, ${JSON.stringify(a)}, n.constants.AT_FDCWD, ${JSON.stringify(b)}, n.constants.RENAME_EXCHANGE); i++; }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  t.after(stop);
  return stop;
}
