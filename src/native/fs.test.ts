/**
 * The native file system primitives, one by one, with their errors. Runs as root (mknod, chown,
 * trusted.* xattrs).
 */
import assert from 'node:assert/strict';
import { closeSync, fchmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  close,
  constants as C,
  fchmodat,
  fchownat,
  fgetxattr,
  flistxattr,
  fsetxattr,
  fstatat,
  isSystemError,
  linkat,
  lsetxattr,
  mkdirat,
  mknodat,
  openat2,
  readdirFd,
  readlinkat,
  renameat2,
  symlinkat,
  unlinkat,
  utimensat,
} from './index.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';

function tempDir(t: TestContext): { dir: string; fd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'brig-native-fs-'));
  const fd = openat2(C.AT_FDCWD, dir, C.O_RDONLY | C.O_DIRECTORY);
  t.after(() => {
    close(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, fd };
}

function sysErr(code: string, syscall?: string) {
  return (err: unknown) => {
    assert.ok(isSystemError(err, code), `expected ${code}, got ${String(err)}`);
    if (syscall) assert.equal(err.syscall, syscall);
    assert.ok(err.errno < 0);
    assert.match(err.message, new RegExp(`^${code}: `));
    return true;
  };
}

test('openat2: opens relative to a dir fd, always O_CLOEXEC; errors are Node-style', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  writeFileSync(join(dir, 'f'), 'hello');
  const f = openat2(fd, 'f', C.O_RDONLY);
  try {
    assert.equal(readFileSync(f, 'utf8'), 'hello');
    const flags = readFileSync(`/proc/self/fdinfo/${f}`, 'utf8');
    const octal = /flags:\s*([0-7]+)/.exec(flags)![1]!;
    assert.ok(parseInt(octal, 8) & C.O_CLOEXEC, 'O_CLOEXEC is set');
  } finally {
    close(f);
  }
  assert.throws(() => openat2(fd, 'missing', C.O_RDONLY), (err: unknown) => {
    sysErr('ENOENT', 'openat2')(err);
    assert.equal((err as { path: string }).path, 'missing');
    assert.equal((err as { errno: number }).errno, -2);
    return true;
  });
  assert.throws(() => openat2(fd, 'f', C.O_RDONLY, 0o644), sysErr('EINVAL'), 'mode without O_CREAT');
  assert.throws(() => openat2(fd, 'f', C.O_RDONLY, 0, 1 << 20), sysErr('EINVAL'), 'unknown resolve flag');
  const created = openat2(fd, 'new', C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
  close(created);
  assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o600);
  assert.throws(() => openat2(fd, 'new', C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600), sysErr('EEXIST'));
});

test('openat2 RESOLVE_* flags: BENEATH, NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV, O_PATH', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub/f'), 'x');
  symlinkSync('sub/f', join(dir, 'link'));
  assert.throws(() => openat2(fd, '../etc/passwd', C.O_RDONLY, 0, C.RESOLVE_BENEATH), sysErr('EXDEV'));
  assert.throws(() => openat2(fd, '/etc/passwd', C.O_RDONLY, 0, C.RESOLVE_BENEATH), sysErr('EXDEV'));
  assert.throws(() => openat2(fd, 'link', C.O_RDONLY, 0, C.RESOLVE_NO_SYMLINKS), sysErr('ELOOP'));
  assert.throws(() => openat2(C.AT_FDCWD, `/proc/self/fd/${fd}`, C.O_RDONLY, 0, C.RESOLVE_NO_MAGICLINKS), sysErr('ELOOP'));
  assert.throws(() => openat2(C.AT_FDCWD, '/proc/self/status', C.O_RDONLY, 0, C.RESOLVE_NO_XDEV), sysErr('EXDEV'));
  assert.throws(() => openat2(fd, 'link', C.O_RDONLY | C.O_NOFOLLOW), sysErr('ELOOP'));
  const p = openat2(fd, 'link', C.O_PATH | C.O_NOFOLLOW);
  try {
    assert.equal(readlinkat(p, ''), 'sub/f', 'readlinkat on an O_PATH fd of the link itself');
    assert.equal(fstatat(p, '', C.AT_EMPTY_PATH).mode & C.S_IFMT, C.S_IFLNK);
  } finally {
    close(p);
  }
});

test('arguments are validated before any syscall', { skip }, (t) => {
  const { fd } = tempDir(t);
  const call = openat2 as unknown as (...a: unknown[]) => number;
  assert.throws(() => call(NaN, 'f', 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => call(1.5, 'f', 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => call(-2, 'f', 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => call('3', 'f', 0), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => call(fd, 42, 0), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => call(fd, 'a\0b', 0), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => call(fd, Buffer.from('a\0b'), 0), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => call(fd, 'x'.repeat(4096), 0), sysErr('ENAMETOOLONG'));
  assert.throws(() => call(fd, 'f', 2 ** 40), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => call(fd, 'f', 0, 0o10000), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => mknodat(fd, 'd', C.S_IFCHR, 4096, 0), { code: 'ERR_OUT_OF_RANGE' }, 'major beyond the kernel encoding');
  assert.throws(() => mknodat(fd, 'd', C.S_IFCHR, 0, 1 << 20), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => fchownat(fd, 'f', 2 ** 32 - 1, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => (close as unknown as () => void)(), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => utimensat(fd, '', 1 as unknown as bigint, null, C.AT_EMPTY_PATH), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => utimensat(fd, '', 2n ** 64n, null, C.AT_EMPTY_PATH), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => fsetxattr(fd, 'user.x', 'text' as unknown as Buffer), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => fsetxattr(fd, 'user.x', Buffer.alloc(65537)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => fsetxattr(fd, 'u'.repeat(256), Buffer.from('v')), sysErr('ERANGE'));
});

test('Buffer paths pass bytes that are not UTF-8; readdirFd and readlinkat return them as Buffers', { skip }, (t) => {
  const { fd } = tempDir(t);
  const name = Buffer.from([0x66, 0xff, 0xfe, 0x2e]);
  const f = openat2(fd, name, C.O_WRONLY | C.O_CREAT, 0o644);
  close(f);
  symlinkat(name, fd, 'l');
  const list = openat2(fd, '.', C.O_RDONLY | C.O_DIRECTORY);
  try {
    const names = readdirFd(list, 'buffer');
    assert.ok(names.some((n) => n.equals(name)));
  } finally {
    close(list);
  }
  assert.ok(readlinkat(fd, 'l', 'buffer').equals(name));
  unlinkat(fd, name);
});

test('mkdirat, unlinkat(AT_REMOVEDIR), renameat2 NOREPLACE and EXCHANGE', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  mkdirat(fd, 'a', 0o700);
  assert.ok(statSync(join(dir, 'a')).isDirectory());
  assert.throws(() => mkdirat(fd, 'a', 0o700), sysErr('EEXIST', 'mkdirat'));
  writeFileSync(join(dir, 'b'), 'b');
  assert.throws(() => renameat2(fd, 'b', fd, 'a', C.RENAME_NOREPLACE), sysErr('EEXIST', 'renameat2'));
  renameat2(fd, 'a', fd, 'b', C.RENAME_EXCHANGE);
  assert.ok(statSync(join(dir, 'b')).isDirectory());
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'b');
  assert.throws(() => unlinkat(fd, 'b'), sysErr('EISDIR'));
  unlinkat(fd, 'b', C.AT_REMOVEDIR);
  unlinkat(fd, 'a');
  assert.deepEqual(readdirSync(dir), []);
  assert.throws(() => unlinkat(fd, 'a'), sysErr('ENOENT', 'unlinkat'));
});

test('mknodat: whiteouts (char 0:0), FIFOs; fstatat reports type and device numbers', { skip }, (t) => {
  const { fd } = tempDir(t);
  mknodat(fd, 'wh', C.S_IFCHR | 0o000, 0, 0);
  const st = fstatat(fd, 'wh', C.AT_SYMLINK_NOFOLLOW);
  assert.equal(st.mode & C.S_IFMT, C.S_IFCHR);
  assert.equal(st.rdev, 0);
  assert.deepEqual([st.rdevMajor, st.rdevMinor], [0, 0]);
  mknodat(fd, 'null', C.S_IFCHR | 0o666, 1, 3);
  const n = fstatat(fd, 'null', 0);
  assert.deepEqual([n.rdevMajor, n.rdevMinor], [1, 3]);
  mknodat(fd, 'fifo', C.S_IFIFO | 0o600);
  assert.equal(fstatat(fd, 'fifo', 0).mode & C.S_IFMT, C.S_IFIFO);
  assert.throws(() => mknodat(fd, 'wh', C.S_IFCHR, 0, 0), sysErr('EEXIST', 'mknodat'));
});

test('symlinkat, readlinkat, linkat (incl. AT_EMPTY_PATH on an O_PATH fd)', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  symlinkat('/etc/passwd', fd, 'abs');
  assert.equal(readlinkat(fd, 'abs'), '/etc/passwd');
  assert.throws(() => readlinkat(fd, '.'), sysErr('EINVAL', 'readlinkat'));
  writeFileSync(join(dir, 'f'), 'data');
  linkat(fd, 'f', fd, 'hard');
  assert.equal(statSync(join(dir, 'f')).nlink, 2);
  linkat(fd, 'abs', fd, 'link-to-link');
  assert.ok(lstatSync(join(dir, 'link-to-link')).isSymbolicLink(), 'without AT_SYMLINK_FOLLOW the link itself is linked');
  const p = openat2(fd, 'f', C.O_PATH);
  try {
    linkat(p, '', fd, 'from-fd', C.AT_EMPTY_PATH);
  } finally {
    close(p);
  }
  assert.equal(readFileSync(join(dir, 'from-fd'), 'utf8'), 'data');
  assert.throws(() => linkat(fd, 'missing', fd, 'x'), sysErr('ENOENT', 'linkat'));
});

test('fchownat and fchmodat change a symlink or the O_PATH file itself, never the target', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'v', { mode: 0o644 });
  symlinkat(victim, fd, 'l');
  fchownat(fd, 'l', 1234, 5678, C.AT_SYMLINK_NOFOLLOW);
  assert.deepEqual([lstatSync(join(dir, 'l')).uid, lstatSync(join(dir, 'l')).gid], [1234, 5678]);
  assert.deepEqual([statSync(victim).uid, statSync(victim).gid], [0, 0]);
  assert.throws(() => fchmodat(fd, 'l', 0o777, C.AT_SYMLINK_NOFOLLOW), sysErr('EOPNOTSUPP', 'fchmodat2'));
  assert.equal(statSync(victim).mode & 0o7777, 0o644);
  // A FIFO's mode, set through an O_PATH fd: the FIFO is never opened.
  mknodat(fd, 'fifo', C.S_IFIFO | 0o600);
  const p = openat2(fd, 'fifo', C.O_PATH | C.O_NOFOLLOW);
  try {
    fchmodat(p, '', 0o640, C.AT_EMPTY_PATH);
    fchownat(p, '', 42, -1, C.AT_EMPTY_PATH);
  } finally {
    close(p);
  }
  const st = lstatSync(join(dir, 'fifo'));
  assert.equal(st.mode & 0o7777, 0o640);
  assert.deepEqual([st.uid, st.gid], [42, 0], 'gid -1 is left unchanged');
  // The documented alternative: fs.fchmodSync on a real (non-O_PATH) fd opened with O_NOFOLLOW.
  const real = openat2(fd, 'victim', C.O_RDONLY | C.O_NOFOLLOW);
  try {
    fchmodSync(real, 0o600);
  } finally {
    closeSync(real);
  }
  assert.equal(statSync(victim).mode & 0o7777, 0o600);
});

test('utimensat: nanosecond times on a symlink itself; null leaves a time unchanged; pre-1970 times', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  writeFileSync(join(dir, 'target'), 't');
  const before = fstatat(fd, 'target', 0);
  symlinkat('target', fd, 'l');
  utimensat(fd, 'l', 1_000_000_001_123_456_789n, 1_500_000_000_987_654_321n, C.AT_SYMLINK_NOFOLLOW);
  const st = fstatat(fd, 'l', C.AT_SYMLINK_NOFOLLOW);
  assert.equal(st.atimeNs, 1_000_000_001_123_456_789n);
  assert.equal(st.mtimeNs, 1_500_000_000_987_654_321n);
  assert.equal(fstatat(fd, 'target', 0).mtimeNs, before.mtimeNs, 'the target is untouched');
  utimensat(fd, 'target', null, -1_500_000_000n, 0);
  const t2 = fstatat(fd, 'target', 0);
  assert.equal(t2.mtimeNs, -1_500_000_000n);
  assert.equal(t2.atimeNs, before.atimeNs);
  assert.equal(lstatSync(join(dir, 'target'), { bigint: true }).mtimeNs, -1_500_000_000n);
  assert.throws(() => utimensat(fd, 'missing', null, 0n, 0), sysErr('ENOENT', 'utimensat'));
});

test('fstatat: fields match Node lstat; AT_EMPTY_PATH stats the fd itself', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  writeFileSync(join(dir, 'f'), 'twelve bytes');
  const st = fstatat(fd, 'f', C.AT_SYMLINK_NOFOLLOW);
  const ref = lstatSync(join(dir, 'f'), { bigint: true });
  assert.equal(st.size, 12);
  assert.equal(st.mode, Number(ref.mode));
  assert.equal(st.ino, ref.ino);
  assert.equal(st.dev, Number(ref.dev));
  assert.equal(st.nlink, 1);
  assert.equal(st.mtimeNs, ref.mtimeNs);
  assert.equal(st.ctimeNs, ref.ctimeNs);
  assert.equal(fstatat(fd, '', C.AT_EMPTY_PATH).mode & C.S_IFMT, C.S_IFDIR);
  assert.throws(() => fstatat(fd, '', 0), sysErr('ENOENT', 'fstatat'));
});

test('xattrs: binary values by fd, lsetxattr on a symlink through /proc/self/fd of an O_PATH fd', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  mkdirat(fd, 'd');
  const d = openat2(fd, 'd', C.O_RDONLY | C.O_DIRECTORY);
  try {
    const bin = Buffer.from([0, 1, 2, 255, 0]);
    fsetxattr(d, 'trusted.brig-test', bin);
    assert.ok(fgetxattr(d, 'trusted.brig-test').equals(bin));
    fsetxattr(d, 'trusted.overlay.opaque', Buffer.from('y'));
    assert.deepEqual(flistxattr(d).filter((n) => n.startsWith('trusted.')).sort(), ['trusted.brig-test', 'trusted.overlay.opaque']);
    assert.throws(() => fsetxattr(d, 'trusted.brig-test', bin, C.XATTR_CREATE), sysErr('EEXIST', 'fsetxattr'));
    assert.throws(() => fsetxattr(d, 'trusted.nope', bin, C.XATTR_REPLACE), sysErr('ENODATA'));
    assert.throws(() => fgetxattr(d, 'trusted.nope'), sysErr('ENODATA', 'fgetxattr'));
    fsetxattr(d, 'trusted.empty', Buffer.alloc(0));
    assert.equal(fgetxattr(d, 'trusted.empty').length, 0);
  } finally {
    close(d);
  }
  writeFileSync(join(dir, 'target'), 't');
  symlinkat('target', fd, 'l');
  const p = openat2(fd, 'l', C.O_PATH | C.O_NOFOLLOW);
  try {
    assert.throws(() => fsetxattr(p, 'trusted.x', Buffer.from('1')), sysErr('EBADF'), 'O_PATH fds refuse f*xattr');
    // Path-safe: /proc/self/fd/<dir fd> jumps to the pinned directory; the final name is not followed.
    lsetxattr(`/proc/self/fd/${fd}/l`, 'trusted.on-link', Buffer.from('1'));
  } finally {
    close(p);
  }
  const t2 = openat2(fd, 'target', C.O_RDONLY);
  try {
    assert.deepEqual(flistxattr(t2).filter((n) => n.startsWith('trusted.')), [], 'the target got nothing');
  } finally {
    close(t2);
  }
  assert.throws(() => lsetxattr(join(dir, 'missing'), 'trusted.x', Buffer.from('1')), sysErr('ENOENT', 'lsetxattr'));
});

test('readdirFd lists the pinned directory, skips . and .., can list again; O_PATH is EBADF', { skip }, (t) => {
  const { dir, fd } = tempDir(t);
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, `file-with-a-long-name-${i}`), '');
  const names = readdirFd(fd);
  assert.equal(names.length, 2000, 'more than one getdents64 batch');
  assert.ok(!names.includes('.') && !names.includes('..'));
  assert.deepEqual(readdirFd(fd).sort(), names.sort(), 'rewinds before listing');
  assert.deepEqual(names.sort(), readdirSync(dir).sort());
  const p = openat2(fd, '.', C.O_PATH | C.O_DIRECTORY);
  try {
    assert.throws(() => readdirFd(p), sysErr('EBADF'));
  } finally {
    close(p);
  }
  const f = openat2(C.AT_FDCWD, '/etc/hostname', C.O_RDONLY);
  try {
    assert.throws(() => readdirFd(f), sysErr('ENOTDIR'));
  } finally {
    close(f);
  }
});

test('close: a closed fd is EBADF', { skip }, () => {
  const fd = openat2(C.AT_FDCWD, '/', C.O_PATH);
  close(fd);
  assert.throws(() => close(fd), sysErr('EBADF', 'close'));
});
