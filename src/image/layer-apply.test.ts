/**
 * Layer application: a breakout corpus named after containerd's `TestBreakouts` and Moby's
 * `testBreakout` classes (ideas only, written from scratch for brig's policy), plus positive tests.
 *
 * Every corpus case extracts into `<tmp>/dest` next to `<tmp>/victim` (a directory holding a file of
 * known content and mode) and asserts the expected outcome, that the victim is unchanged (content,
 * mode, owner, times, inode, link count, ctime and xattrs) and that nothing new exists in `<tmp>`.
 * Needs root (chown, mknod, trusted.* xattrs).
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { isEngineError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { execFileChecked, execFileResult } from '../util/exec.js';
import { applyLayer } from './layer-apply.js';
import type { ApplyOptions, ApplyResult } from './layer-apply.js';
import * as fx from './testdata/tar-fixtures.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';
const VICTIM_CONTENT = 'victim-content: must never change\n';
const MTIME_S = fx.MTIME.getTime() / 1000;
/** vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (bit 13). */
const CAP_NET_RAW_EP = Buffer.from('0100000200200000000000000000000000000000', 'hex');

interface Sandbox {
  root: string;
  dest: string;
  victim: string;
  /** victim/secret */
  secret: string;
}

async function sandbox(t: TestContext): Promise<Sandbox> {
  const root = await mkdtemp('/tmp/brig-test-layer-');
  t.after(() => rm(root, { recursive: true, force: true }));
  const dest = join(root, 'dest');
  const victim = join(root, 'victim');
  await mkdir(dest);
  await mkdir(victim);
  await chmod(victim, 0o750);
  const secret = join(victim, 'secret');
  await writeFile(secret, VICTIM_CONTENT);
  await chmod(secret, 0o640);
  await mkdir(join(victim, 'sub'));
  await writeFile(join(victim, 'sub', 'inner'), 'inner\n');
  return { root, dest, victim, secret };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function kind(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/** Everything about a tree except atimes: names, types, modes, owners, sizes, mtimes, content, xattrs. */
async function snapshot(dir: string, strict: boolean): Promise<string> {
  const lines: string[] = [];
  async function walk(rel: string): Promise<void> {
    const p = rel === '' ? dir : join(dir, rel);
    const st = await lstat(p);
    let extra = '';
    if (st.isFile()) extra = sha256(await readFile(p));
    else if (st.isSymbolicLink()) extra = await readlink(p);
    const meta: unknown[] = [rel || '.', kind(st), (st.mode & 0o7777).toString(8), st.uid, st.gid, st.size, st.mtimeMs, extra];
    if (strict) meta.push(st.ino, st.nlink, st.ctimeMs);
    lines.push(meta.join(' '));
    if (st.isDirectory()) {
      for (const name of (await readdir(p)).sort()) await walk(rel === '' ? name : `${rel}/${name}`);
    }
  }
  await walk('');
  const xattrs = await execFileResult('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir]);
  lines.push(xattrs.stdout);
  return lines.join('\n');
}

/** All xattrs of one path, hex-encoded values. */
async function xattrsOf(path: string): Promise<Record<string, string>> {
  const out = await execFileChecked('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path]);
  const map: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line.trim());
    if (m) map[m[1]!] = m[2]!;
  }
  return map;
}

const hex = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s).toString('hex');

async function assertWhiteout(path: string): Promise<void> {
  const st = await lstat(path);
  assert.ok(st.isCharacterDevice(), `${path} should be a whiteout char device`);
  assert.equal(st.rdev, 0);
}

async function assertSameInode(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([lstat(a), lstat(b)]);
  assert.equal(x.ino, y.ino, `${a} and ${b} should be the same inode`);
}

async function assertMissing(path: string): Promise<void> {
  await assert.rejects(lstat(path), { code: 'ENOENT' }, `${path} should not exist`);
}

type Expect = { ok: true } | { code: ErrorCode; match?: RegExp };
const ok: Expect = { ok: true };
const refused = (match?: RegExp, code: ErrorCode = 'ERR_UNSAFE_ARCHIVE'): Expect => ({ code, match });
const limited = (match?: RegExp): Expect => ({ code: 'ERR_LIMIT_EXCEEDED', match });

interface BreakoutCase {
  name: string;
  /** Content the destination already has (an existing layer directory). */
  setup?: (s: Sandbox) => Promise<void>;
  entries: (s: Sandbox) => fx.FixtureEntry[];
  expect: Expect;
  options?: ApplyOptions;
  gzip?: boolean;
  check?: (s: Sandbox, result: ApplyResult | undefined) => Promise<void>;
  /** Set when the setup hardlinks the victim into dest: only its link count and ctime may change. */
  victimInodeShared?: boolean;
}

async function runCase(t: TestContext, c: BreakoutCase): Promise<void> {
  const s = await sandbox(t);
  await c.setup?.(s);
  const strict = !c.victimInodeShared;
  const before = await snapshot(s.victim, strict);
  let data = await fx.buildTar(c.entries(s));
  if (c.gzip) data = gzipSync(data);
  let result: ApplyResult | undefined;
  let error: unknown;
  try {
    // 1000-byte chunks: headers and bodies straddle chunk boundaries.
    result = await applyLayer(fx.streamOf(data, 1000), s.dest, c.options);
  } catch (err) {
    error = err;
  }
  if ('ok' in c.expect) {
    assert.equal(error, undefined, `expected success, got ${String(error)}`);
  } else {
    assert.ok(isEngineError(error), `expected an EngineError ${c.expect.code}, got ${String(error)}`);
    assert.equal(error.code, c.expect.code, error.message);
    if (c.expect.match) assert.match(error.message, c.expect.match);
  }
  assert.equal(await snapshot(s.victim, strict), before, 'the victim directory changed');
  assert.deepEqual((await readdir(s.root)).sort(), ['dest', 'victim'], 'something was created next to dest');
  await c.check?.(s, result);
}

const CASES: BreakoutCase[] = [
  // ---- symlinks used as path components (CVE-2014-6407, CVE-2014-9356) ----
  {
    name: 'SymlinkAbsolute',
    entries: (s) => [fx.dir('etc'), fx.symlink('localetc', s.victim), fx.file('/localetc/secret', 'pwned')],
    expect: refused(/localetc\/secret".*"localetc" is a symlink/),
  },
  {
    // containerd's case points at the host's /etc; here the absolute target is the sandbox root, so
    // a broken extractor writes next to dest (and fails the "nothing new in root" check), never /etc.
    name: 'SymlinkAbsoluteToParent',
    entries: (s) => [fx.dir('etc'), fx.symlink('localetc', s.root), fx.file('/localetc/unbroken', 'unbroken')],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkUpAndOut',
    entries: () => [fx.dir('etc'), fx.dir('dummy'), fx.symlink('localetc', '/dummy/../../victim'), fx.file('/localetc/secret', 'x')],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkRelativeUpAndOut',
    entries: () => [fx.symlink('localetc', '../victim'), fx.file('localetc/secret', 'pwned')],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkMultipleAbsolute',
    entries: (s) => [
      fx.dir('dummy'),
      fx.symlink('/dummy/etc', s.victim),
      fx.symlink('localetc', '/dummy/etc'),
      fx.file('/dummy/etc/secret', 'pwned'),
    ],
    expect: refused(/"dummy\/etc" is a symlink/),
  },
  {
    name: 'SymlinkMultipleRelative',
    entries: () => [
      fx.dir('dummy'),
      fx.symlink('/dummy/etc', '../../victim'),
      fx.symlink('localetc', './dummy/etc'),
      fx.file('localetc/secret', 'pwned'),
    ],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkEmptyFile',
    entries: (s) => [
      fx.dir('etc'),
      fx.file('etc/emptied', 'notempty'),
      fx.symlink('localetc', s.victim),
      fx.file('/localetc/secret', ''),
    ],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkEmpty',
    entries: () => [fx.symlink('empty-target', '')],
    expect: refused(/empty target/),
  },
  {
    name: 'SymlinkParentDirectory',
    entries: () => [fx.dir('etc'), fx.file('/etc/brig-passwd', 'inside'), fx.symlink('..', '/etc/')],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'SymlinkEmptyFilename',
    entries: () => [fx.dir('etc'), fx.file('/etc/brig-passwd', 'inside'), fx.symlink('', '/etc/')],
    expect: refused(/names the layer root/),
  },
  {
    name: 'SymlinkParentRelative',
    entries: () => [
      fx.dir('etc'),
      fx.file('/etc/brig-passwd', 'inside'),
      fx.symlink('localetc/sub/..', '../victim'),
      fx.hardlink('/localetc/localpasswd', '/etc/brig-passwd'),
    ],
    expect: refused(/"localetc" is a symlink/),
  },
  {
    name: 'SymlinkSlashEnded',
    entries: () => [
      fx.dir('etc', 0o770),
      fx.file('/etc/brig-passwd', 'inside'),
      fx.dir('localetc/', 0o770),
      fx.hardlink('/localetc/localpasswd', '/etc/brig-passwd'),
    ],
    expect: ok,
    check: async (s) => assertSameInode(join(s.dest, 'localetc/localpasswd'), join(s.dest, 'etc/brig-passwd')),
  },
  {
    name: 'SymlinkOverrideDirectory',
    setup: async (s) => {
      await mkdir(join(s.dest, 'etc'));
      await writeFile(join(s.dest, 'etc/brig-passwd'), 'inside');
      await mkdir(join(s.dest, 'localetc'));
    },
    entries: (s) => [fx.symlink('localetc', s.victim), fx.hardlink('/localetc/localpasswd', '/etc/brig-passwd')],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkOverrideDirectoryRelative',
    setup: async (s) => {
      await mkdir(join(s.dest, 'localetc'));
    },
    entries: () => [fx.symlink('localetc', '../victim'), fx.file('/localetc/secret', 'pwned')],
    expect: refused(/symlink/),
  },
  {
    name: 'DirectoryOverrideSymlink',
    setup: async (s) => {
      await mkdir(join(s.dest, 'etc'));
      await writeFile(join(s.dest, 'etc/brig-passwd'), 'inside');
      await symlink(s.victim, join(s.dest, 'localetc'));
    },
    entries: () => [fx.dir('/localetc/', 0o777), fx.hardlink('/localetc/localpasswd', '/etc/brig-passwd')],
    expect: ok,
    check: async (s) => {
      const st = await lstat(join(s.dest, 'localetc'));
      assert.ok(st.isDirectory() && !st.isSymbolicLink());
      assert.equal(st.mode & 0o7777, 0o777);
      await assertSameInode(join(s.dest, 'localetc/localpasswd'), join(s.dest, 'etc/brig-passwd'));
    },
  },
  {
    name: 'DirectoryOverrideSymlinkAndHardlink',
    setup: async (s) => {
      await mkdir(join(s.dest, 'etc'));
      await writeFile(join(s.dest, 'etc/brig-passwd'), 'inside');
      await symlink('etc', join(s.dest, 'localetc'));
    },
    entries: () => [fx.dir('/localetc/'), fx.file('/localetc/localpasswd', 'different')],
    expect: ok,
    check: async (s) => {
      assert.equal(await readFile(join(s.dest, 'etc/brig-passwd'), 'utf8'), 'inside');
      assert.equal(await readFile(join(s.dest, 'localetc/localpasswd'), 'utf8'), 'different');
    },
  },
  {
    name: 'SymlinkThenFileSameName',
    entries: () => [fx.symlink('x', '../victim/secret'), fx.file('x', 'pwned', 0o777)],
    expect: ok,
    check: async (s) => {
      const st = await lstat(join(s.dest, 'x'));
      assert.ok(st.isFile());
      assert.equal(await readFile(join(s.dest, 'x'), 'utf8'), 'pwned');
    },
  },
  {
    name: 'SymlinkThenDirectoryThrough',
    entries: () => [fx.symlink('d', '../victim'), fx.dir('d/sub2', 0o777)],
    expect: refused(/"d" is a symlink/),
  },
  {
    name: 'SymlinkThenSymlinkThrough',
    entries: (s) => [fx.symlink('d', s.victim), fx.symlink('d/evil', '/etc/shadow')],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkDirectoryChmod',
    entries: () => [fx.symlink('d', '../victim'), fx.dir('d', 0o777, { uid: 1000, gid: 1000 })],
    expect: ok,
    check: async (s) => {
      const st = await lstat(join(s.dest, 'd'));
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o7777, 0o777);
      assert.equal(st.uid, 1000);
    },
  },
  {
    name: 'SymlinkChainLoophole',
    entries: () => [
      fx.symlink('loophole-victim', '../victim'),
      fx.symlink('symlink-chain', 'loophole-victim/..'),
      fx.file('symlink-chain/victim/secret', 'pwned'),
    ],
    expect: refused(/symlink/),
  },
  {
    name: 'SymlinkFollowedByNestedWrite',
    entries: () => [fx.symlink('loophole', '../victim'), fx.file('loophole/newdir/newfile', 'pwned')],
    expect: refused(/symlink/),
    check: async (s) => assertMissing(join(s.victim, 'newdir')),
  },

  // ---- hardlinks ----
  {
    name: 'HardlinkRelative',
    entries: () => [
      fx.dir('etc', 0o770),
      fx.file('/etc/brig-passwd', 'inside'),
      fx.dir('breakouts'),
      fx.symlink('breakouts/d1', '../../victim'),
      fx.hardlink('breakouts/mypasswd', '/breakouts/d1/secret'),
    ],
    expect: refused(/"breakouts\/d1" is a symlink/),
  },
  {
    name: 'HardlinkDownAndOut',
    entries: () => [
      fx.dir('breakouts'),
      fx.dir('downandout'),
      fx.symlink('breakouts/d1', '../downandout/../../victim'),
      fx.hardlink('breakouts/mypasswd', '/breakouts/d1/secret'),
    ],
    expect: refused(/symlink/),
  },
  {
    name: 'HardlinkAbsolute',
    entries: (s) => [fx.symlink('localetc', s.victim), fx.hardlink('localpasswd', '/localetc/secret')],
    expect: refused(/symlink/),
  },
  {
    name: 'HardlinkRelativeLong',
    entries: (s) => [fx.symlink('localetc', `../../../../../../../..${s.victim}`), fx.hardlink('localpasswd', '/localetc/secret')],
    expect: refused(/symlink/),
  },
  {
    name: 'HardlinkRelativeUpAndOut',
    entries: () => [fx.symlink('localetc', 'upandout/../../victim'), fx.hardlink('localpasswd', '/localetc/secret')],
    expect: refused(/symlink/),
  },
  {
    name: 'HardlinkDirectRelative',
    entries: () => [fx.hardlink('localpasswd', '../victim/secret')],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'HardlinkDirectAbsolute',
    entries: () => [fx.dir('etc', 0o770), fx.file('/etc/brig-passwd', 'inside'), fx.hardlink('localpasswd', '/etc/brig-passwd')],
    expect: ok,
    check: async (s) => assertSameInode(join(s.dest, 'localpasswd'), join(s.dest, 'etc/brig-passwd')),
  },
  {
    name: 'HardlinkAbsoluteHostPath',
    entries: (s) => [fx.hardlink('localpasswd', join(s.victim, 'secret'))],
    expect: refused(/does not exist in the layer/),
  },
  {
    name: 'HardlinkSymlinkRelative',
    entries: () => [
      fx.dir('etc'),
      fx.file('/etc/brig-passwd', 'inside'),
      fx.symlink('passwdlink', '../../../../../victim/secret'),
      fx.hardlink('localpasswd', '/passwdlink'),
    ],
    expect: ok,
    check: async (s) => {
      assert.ok((await lstat(join(s.dest, 'localpasswd'))).isSymbolicLink());
      assert.equal(await readlink(join(s.dest, 'localpasswd')), '../../../../../victim/secret');
      await assertSameInode(join(s.dest, 'localpasswd'), join(s.dest, 'passwdlink'));
    },
  },
  {
    name: 'HardlinkSymlinkAbsolute',
    entries: (s) => [fx.symlink('passwdlink', s.secret), fx.hardlink('localpasswd', '/passwdlink')],
    expect: ok,
    check: async (s) => {
      assert.ok((await lstat(join(s.dest, 'localpasswd'))).isSymbolicLink());
      await assertSameInode(join(s.dest, 'localpasswd'), join(s.dest, 'passwdlink'));
    },
  },
  {
    // CVE-2021-32760: a chmod applied to a hardlink of a symlink followed the symlink out of the root.
    name: 'HardlinkSymlinkChmod',
    entries: (s) => [fx.symlink('also-exists-outside-root', s.secret), fx.hardlink('sketchylink', 'also-exists-outside-root', 0o777)],
    expect: ok,
    check: async (s) => {
      assert.equal((await stat(s.secret)).mode & 0o7777, 0o640);
      assert.ok((await lstat(join(s.dest, 'sketchylink'))).isSymbolicLink());
    },
  },
  {
    name: 'HardlinkSymlinkBeforeCreateTarget',
    entries: () => [
      fx.dir('etc', 0o770),
      fx.symlink('localpasswd', '/etc/brig-passwd'),
      fx.hardlink('localpasswd-dup', 'localpasswd'),
      fx.file('/etc/brig-passwd', 'after'),
    ],
    expect: ok,
    check: async (s) => {
      assert.ok((await lstat(join(s.dest, 'localpasswd-dup'))).isSymbolicLink());
      assert.equal(await readFile(join(s.dest, 'etc/brig-passwd'), 'utf8'), 'after');
    },
  },
  {
    name: 'HardlinkToDirectory',
    entries: () => [fx.dir('etc'), fx.hardlink('etc-link', 'etc')],
    expect: refused(/not a regular file or symlink/),
  },
  {
    name: 'HardlinkMissingTarget',
    entries: () => [fx.hardlink('x', 'not/there')],
    expect: refused(/does not exist in the layer/),
  },
  {
    name: 'HardlinkToItself',
    entries: () => [fx.file('a', 'a'), fx.hardlink('a', './a')],
    expect: refused(/points at itself/),
  },
  {
    name: 'HardlinkThenOverwrite',
    entries: () => [fx.file('a', 'original'), fx.hardlink('b', 'a'), fx.file('b', 'replaced', 0o777)],
    expect: ok,
    check: async (s) => {
      assert.equal(await readFile(join(s.dest, 'a'), 'utf8'), 'original');
      assert.equal((await stat(join(s.dest, 'a'))).mode & 0o7777, 0o644);
      assert.equal(await readFile(join(s.dest, 'b'), 'utf8'), 'replaced');
    },
  },
  {
    // An existing destination entry that shares the victim's inode is replaced, never written through.
    name: 'ExistingHardlinkIsReplacedNotWritten',
    setup: async (s) => link(s.secret, join(s.dest, 'shared')),
    entries: () => [fx.file('shared', 'pwned', 0o777, { uid: 1000 })],
    expect: ok,
    victimInodeShared: true,
    check: async (s) => {
      assert.equal(await readFile(s.secret, 'utf8'), VICTIM_CONTENT);
      assert.equal(await readFile(join(s.dest, 'shared'), 'utf8'), 'pwned');
    },
  },
  {
    name: 'ExistingSymlinkIsReplacedNotFollowed',
    setup: async (s) => symlink(s.secret, join(s.dest, 'link')),
    entries: () => [fx.file('link', 'pwned', 0o777)],
    expect: ok,
    check: async (s) => assert.ok((await lstat(join(s.dest, 'link'))).isFile()),
  },

  // ---- whiteouts and opaque directories ----
  {
    name: 'WhiteoutRootParent',
    setup: async (s) => mkdir(join(s.dest, 'etc')),
    entries: () => [fx.file('.wh...')],
    expect: refused(/whiteout/),
  },
  {
    name: 'WhiteoutParent',
    setup: async (s) => mkdir(join(s.dest, 'etc')),
    entries: () => [fx.file('etc/.wh...')],
    expect: refused(/whiteout/),
    check: async (s) => assert.ok((await lstat(join(s.dest, 'etc'))).isDirectory()),
  },
  {
    name: 'WhiteoutRoot',
    entries: () => [fx.file('.wh..')],
    expect: refused(/whiteout/),
  },
  {
    name: 'WhiteoutCurrentDirectory',
    setup: async (s) => mkdir(join(s.dest, 'etc')),
    entries: () => [fx.file('etc/.wh..')],
    expect: refused(/whiteout/),
  },
  {
    name: 'WhiteoutEmptyName',
    entries: () => [fx.file('etc/.wh.')],
    expect: refused(/whiteout/),
  },
  {
    name: 'WhiteoutSymlink',
    setup: async (s) => {
      await mkdir(join(s.dest, 'etc'));
      await writeFile(join(s.dest, 'etc/brig-passwd'), 'all users');
      await symlink(s.victim, join(s.dest, 'localetc'));
    },
    entries: () => [fx.file('.wh.localetc')],
    expect: ok,
    check: async (s) => {
      await assertWhiteout(join(s.dest, 'localetc'));
      assert.equal(await readFile(join(s.dest, 'etc/brig-passwd'), 'utf8'), 'all users');
    },
  },
  {
    name: 'WhiteoutSymlinkPath',
    setup: async (s) => symlink(s.victim, join(s.dest, 'localetc')),
    entries: () => [fx.file('localetc/.wh.secret')],
    expect: refused(/"localetc" is a symlink/),
  },
  {
    name: 'WhiteoutSymlinkInSameLayer',
    entries: () => [fx.symlink('d', '../victim'), fx.file('d/.wh.secret')],
    expect: refused(/symlink/),
  },
  {
    name: 'WhiteoutDirectoryName',
    entries: () => [fx.file('.wh.etc/somefile', 'non-empty')],
    expect: ok,
    check: async (s) => assert.equal(await readFile(join(s.dest, '.wh.etc/somefile'), 'utf8'), 'non-empty'),
  },
  {
    name: 'WhiteoutDeadSymlinkParent',
    setup: async (s) => symlink(join(s.root, 'dne'), join(s.dest, 'localetc')),
    entries: () => [fx.file('localetc/.wh.etc')],
    expect: refused(/symlink/),
  },
  {
    name: 'WhiteoutRelativePath',
    setup: async (s) => {
      await mkdir(join(s.dest, 'etc'));
      await writeFile(join(s.dest, 'etc/brig-passwd'), 'all users');
      await symlink(join(s.root, 'dne'), join(s.dest, 'localetc'));
    },
    entries: () => [fx.file('dne/../.wh.etc')],
    expect: ok,
    check: async (s) => assertWhiteout(join(s.dest, 'etc')),
  },
  {
    name: 'WhiteoutDotDotIntoVictim',
    entries: () => [fx.file('../victim/.wh.secret')],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'WhiteoutExistingDirectory',
    setup: async (s) => {
      await mkdir(join(s.dest, 'data/deep'), { recursive: true });
      await writeFile(join(s.dest, 'data/deep/f'), 'x');
      await symlink(s.victim, join(s.dest, 'data/escape'));
    },
    entries: () => [fx.file('.wh.data')],
    expect: ok,
    check: async (s) => assertWhiteout(join(s.dest, 'data')),
  },
  {
    name: 'OpaqueThroughSymlink',
    entries: () => [fx.symlink('d', '../victim'), fx.file('d/.wh..wh..opq')],
    expect: refused(/"d" is a symlink/),
  },
  {
    name: 'OpaqueThroughExistingAbsoluteSymlink',
    setup: async (s) => symlink(s.victim, join(s.dest, 'd')),
    entries: () => [fx.file('d/.wh..wh..opq')],
    expect: refused(/symlink/),
  },
  {
    name: 'OpaqueDotDot',
    entries: () => [fx.file('../victim/.wh..wh..opq')],
    expect: refused(/climbs above the layer root/),
  },

  // ---- names ----
  {
    name: 'DotDotPath',
    entries: () => [fx.file('../victim/secret', 'pwned')],
    expect: refused(/"\.\.\/victim\/secret".*climbs above the layer root/),
  },
  {
    name: 'DotDotDeep',
    entries: () => [fx.dir('a'), fx.dir('a/b'), fx.file('a/b/../../../victim/secret', 'pwned')],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'DotDotInUstarPrefix',
    entries: () => [fx.raw(fx.rawFile('victim/secret', 'pwned', { prefix: '..' }))],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'DotDotInGnuLongName',
    entries: () => [fx.raw(fx.rawGnuLong('../victim/secret'), fx.rawFile('placeholder', 'pwned'))],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'DotDotInPaxPath',
    entries: () => [fx.raw(fx.rawPax([['path', '../victim/secret']]), fx.rawFile('placeholder', 'pwned'))],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'AbsolutePath',
    entries: (s) => [fx.file(s.secret, 'pwned')],
    expect: ok,
    check: async (s) => assert.equal(await readFile(join(s.dest, s.secret), 'utf8'), 'pwned'),
  },
  {
    name: 'AbsoluteDotDotPath',
    entries: () => [fx.file('/../victim/secret', 'pwned')],
    expect: refused(/climbs above the layer root/),
  },
  {
    name: 'NulByteInPaxPath',
    entries: () => [fx.raw(fx.rawPax([['path', 'ok\0/../../victim/secret']]), fx.rawFile('placeholder', 'pwned'))],
    expect: refused(/NUL/),
  },
  {
    name: 'NulByteInPaxLinkpath',
    entries: () => [fx.raw(fx.rawPax([['linkpath', '/etc\0/shadow']]), fx.rawHeader({ name: 'l', typeflag: '2' }))],
    expect: refused(/NUL/),
  },
  {
    name: 'NulByteInGnuLongNameTruncates',
    entries: () => [fx.raw(fx.rawGnuLong(Buffer.from('evil\0/../../victim/secret')), fx.rawFile('placeholder', 'contained'))],
    expect: ok,
    check: async (s) => assert.equal(await readFile(join(s.dest, 'evil'), 'utf8'), 'contained'),
  },
  {
    name: 'LongName',
    entries: () => [fx.raw(fx.rawPax([['path', 'a/'.repeat(2100) + 'f']]), fx.rawFile('placeholder', 'x'))],
    expect: limited(/longer than 4096 bytes/),
  },
  {
    name: 'LongComponent',
    entries: () => [fx.file('x'.repeat(300), 'x')],
    expect: refused(/component longer than 255/),
  },
  {
    name: 'LongLinkTarget',
    entries: () => [fx.symlink('l', 'a'.repeat(5000))],
    expect: limited(/longer than 4096/),
  },
  {
    name: 'HugePaxHeader',
    entries: () => [fx.raw(fx.rawPax([['comment', 'z'.repeat(2 * 1024 * 1024)]]), fx.rawFile('f', 'x'))],
    expect: limited(/extended header/),
  },
  {
    name: 'RootAsRegularFile',
    entries: () => [fx.file('./', 'x')],
    expect: refused(/names the layer root/),
  },
  {
    name: 'RootDirectoryEntryIgnored',
    entries: () => [fx.dir('./', 0o777, { uid: 1000 }), fx.file('f', 'x')],
    expect: ok,
    check: async (s, r) => {
      const st = await stat(s.dest);
      assert.equal(st.mode & 0o7777, 0o755);
      assert.equal(st.uid, 0);
      assert.equal(r?.skippedEntries, 1);
    },
  },
  {
    name: 'FileAsPathComponent',
    entries: () => [fx.file('f', 'x'), fx.file('f/g', 'y')],
    expect: refused(/"f" is not a directory/),
  },

  // ---- entry types and metadata ----
  {
    name: 'DeviceNode',
    entries: () => [fx.dir('dev'), fx.device('dev/mem', 'character-device', 1, 1), fx.device('dev/sda', 'block-device', 8, 0)],
    expect: ok,
    check: async (s, r) => {
      assert.equal(r?.skippedDevices, 2);
      assert.equal(r?.warnings.filter((w) => w.includes('device')).length, 2);
      await assertMissing(join(s.dest, 'dev/mem'));
      await assertMissing(join(s.dest, 'dev/sda'));
    },
  },
  {
    name: 'RawWhiteoutDevice',
    entries: () => [fx.device('gone', 'character-device', 0, 0)],
    expect: ok,
    check: async (s, r) => {
      await assertWhiteout(join(s.dest, 'gone'));
      assert.equal(r?.whiteouts, 1);
    },
  },
  {
    name: 'Fifo',
    entries: () => [fx.fifo('run/initctl', 0o620, { uid: 1000, gid: 5 })],
    expect: ok,
    check: async (s) => {
      const st = await lstat(join(s.dest, 'run/initctl'));
      assert.ok(st.isFIFO());
      assert.equal(st.mode & 0o7777, 0o620);
      assert.equal(st.uid, 1000);
      assert.equal(st.gid, 5);
    },
  },
  {
    name: 'FifoOverSymlink',
    setup: async (s) => symlink(s.secret, join(s.dest, 'p')),
    entries: () => [fx.fifo('p', 0o777)],
    expect: ok,
    check: async (s) => assert.ok((await lstat(join(s.dest, 'p'))).isFIFO()),
  },
  {
    name: 'SetuidFile',
    entries: () => [
      fx.file('usr/bin/su', 'elf', 0o4755),
      fx.file('usr/bin/wall', 'elf', 0o2755, { gid: 5 }),
      fx.dir('tmp', 0o1777),
      fx.dir('srv/shared', 0o2775, { uid: 1000, gid: 1000 }),
    ],
    expect: ok,
    check: async (s) => {
      assert.equal((await stat(join(s.dest, 'usr/bin/su'))).mode & 0o7777, 0o4755);
      const wall = await stat(join(s.dest, 'usr/bin/wall'));
      assert.equal(wall.mode & 0o7777, 0o2755);
      assert.equal(wall.gid, 5);
      assert.equal((await stat(join(s.dest, 'tmp'))).mode & 0o7777, 0o1777);
      assert.equal((await stat(join(s.dest, 'srv/shared'))).mode & 0o7777, 0o2775);
      assert.equal((await stat(join(s.dest, 'usr'))).mode & 0o7777, 0o755, 'implicit parents are 0755');
    },
  },
  {
    name: 'XattrFiltering',
    entries: () => [
      fx.raw(
        fx.rawPax([
          ['SCHILY.xattr.user.foo', 'bar'],
          ['SCHILY.xattr.user.binary', Buffer.from([0xff, 0x00, 0x80, 0x7f])],
          ['SCHILY.xattr.security.capability', CAP_NET_RAW_EP],
          ['SCHILY.xattr.trusted.overlay.opaque', 'y'],
          ['SCHILY.xattr.trusted.overlay.redirect', '/victim'],
          ['SCHILY.xattr.security.selinux', 'system_u:object_r:shadow_t:s0'],
          ['SCHILY.xattr.user.overlay.opaque', 'y'],
        ]),
        fx.rawFile('ping', 'elf', { mode: 0o755 }),
        fx.rawPax([
          ['SCHILY.xattr.user.dir', '1'],
          ['SCHILY.xattr.security.capability', CAP_NET_RAW_EP],
        ]),
        fx.rawHeader({ name: 'd', typeflag: '5', mode: 0o755 }),
      ),
    ],
    expect: ok,
    check: async (s, r) => {
      const x = await xattrsOf(join(s.dest, 'ping'));
      assert.deepEqual(x, {
        'user.foo': hex('bar'),
        'user.binary': 'ff00807f',
        'security.capability': CAP_NET_RAW_EP.toString('hex'),
      });
      assert.deepEqual(await xattrsOf(join(s.dest, 'd')), { 'user.dir': hex('1') });
      assert.equal(r?.ignoredXattrs, 5);
    },
  },
  {
    name: 'SparseFileRefused',
    entries: () => [fx.raw(fx.rawHeader({ name: 'sparse', typeflag: 'S', size: 0 }))],
    expect: refused(/sparse/),
  },
  {
    name: 'UnknownTypeRefused',
    entries: () => [fx.raw(fx.rawHeader({ name: 'volume', typeflag: 'V' }))],
    expect: refused(/unsupported entry type/),
  },
  {
    name: 'BadChecksum',
    entries: () => [fx.raw(fx.rawHeader({ name: 'f', typeflag: '0', badChecksum: true }))],
    expect: refused(/checksum/),
  },
  {
    name: 'InvalidUid',
    entries: () => [fx.raw(fx.rawPax([['uid', '4294967295']]), fx.rawFile('f', 'x'))],
    expect: refused(/invalid uid/),
  },

  // ---- limits ----
  {
    name: 'TooManyEntries',
    entries: () => Array.from({ length: 101 }, (_, i) => fx.file(`f${i}`, 'x')),
    options: { maxEntries: 100 },
    expect: limited(/more than 100 entries/),
  },
  {
    name: 'DeclaredSizeOverCap',
    entries: () => [fx.raw(fx.rawHeader({ name: 'big', typeflag: '0', size: 10_000_000_000 }))],
    options: { maxUncompressedBytes: 1024 * 1024 },
    expect: limited(/would exceed/),
    check: async (s) => assertMissing(join(s.dest, 'big')),
  },
  {
    name: 'TrailingDataOverCap',
    entries: () => [fx.file('f', 'x'), fx.raw(Buffer.alloc(3 * 1024 * 1024))],
    options: { maxUncompressedBytes: 2 * 1024 * 1024 },
    expect: limited(/uncompressed bytes/),
  },
  {
    name: 'GzipLayerContained',
    entries: () => [fx.symlink('d', '../victim'), fx.file('d/secret', 'pwned')],
    gzip: true,
    expect: refused(/symlink/),
  },
];

describe('applyLayer breakout corpus', { skip }, () => {
  test('the corpus has at least 40 cases with unique names', () => {
    assert.ok(CASES.length >= 40, `only ${CASES.length} cases`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
  });
  for (const c of CASES) test(c.name, (t) => runCase(t, c));
});

describe('applyLayer streams and limits', { skip }, () => {
  test('GzipBomb: 10 GB of zeros is refused after a few MB, without producing it', async (t) => {
    const s = await sandbox(t);
    const bomb = fx.zeroBomb(10_000_000_000);
    const started = Date.now();
    await assert.rejects(applyLayer(bomb.stream, s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_LIMIT_EXCEEDED'), String(err));
      assert.match(err.message, /ratio/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(bomb.produced() < 256 * 1024 * 1024, `generated ${bomb.produced()} bytes`);
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    assert.ok((await stat(join(s.dest, 'bomb'))).size < 64 * 1024 * 1024);
    assert.ok(bomb.stream.destroyed, 'the input stream is destroyed');
  });

  test('GzipBombUnderByteCap: a low byte cap stops a low-ratio bomb', async (t) => {
    const s = await sandbox(t);
    const bomb = fx.zeroBomb(10_000_000_000);
    await assert.rejects(applyLayer(bomb.stream, s.dest, { maxUncompressedBytes: 64 * 1024 * 1024 }), (err: unknown) =>
      isEngineError(err, 'ERR_LIMIT_EXCEEDED'),
    );
    assert.ok(bomb.produced() < 256 * 1024 * 1024);
  });

  test('ZstdBomb: 30 GB of zeros in zstd frames is refused after a few MB, without producing it', async (t) => {
    const s = await sandbox(t);
    const total = 30_000_000_000; // under the default 32 GiB layer cap: the ratio cap must catch it
    const zeros = zstdCompress(Buffer.alloc(64 * 1024 * 1024));
    let frames = 0;
    async function* gen(): AsyncGenerator<Buffer> {
      frames++;
      yield zstdCompress(fx.rawHeader({ name: 'bomb', typeflag: '0', size: total }));
      for (let left = total; left > 0; left -= 64 * 1024 * 1024) {
        frames++;
        yield zeros;
      }
    }
    const input = Readable.from(gen(), { objectMode: false });
    const started = Date.now();
    await assert.rejects(applyLayer(input, s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_LIMIT_EXCEEDED'), String(err));
      assert.match(err.message, /ratio/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.ok(frames <= 4, `read ${frames} frames (${frames * 64} MiB of zeros)`);
    assert.ok((await stat(join(s.dest, 'bomb')).catch(() => ({ size: 0 }))).size < 64 * 1024 * 1024);
    assert.ok(input.destroyed, 'the input stream is destroyed');
  });

  test('corrupt, truncated and oversized-window zstd are refused', async (t) => {
    const s = await sandbox(t);
    const z = zstdCompress(await fx.buildTar([fx.file('a', 'x'.repeat(100_000)), fx.file('b', randomBytes(100_000))]), { checksumFlag: true });
    const corrupt = Buffer.from(z);
    corrupt[Math.floor(z.length / 2)]! ^= 0x01;
    const hugeWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x09, 0x00, 0x00, 0x41]);
    for (const [data, message] of [[corrupt, /invalid zstd data/], [z.subarray(0, z.length - 8), /truncated/], [hugeWindow, /window exceeds/]] as const) {
      await assert.rejects(applyLayer(fx.streamOf(data, 777), s.dest), (err: unknown) => {
        assert.ok(isEngineError(err, 'ERR_UNSAFE_ARCHIVE'), String(err));
        assert.match(err.message, message);
        return true;
      });
    }
  });

  test('corrupt and truncated gzip are refused', async (t) => {
    const s = await sandbox(t);
    const gz = gzipSync(await fx.buildTar([fx.file('a', 'x'.repeat(100_000)), fx.file('b', 'y'.repeat(100_000))]));
    const corrupt = Buffer.from(gz);
    corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
    await assert.rejects(applyLayer(fx.streamOf(corrupt, 777), join(s.dest)), (err: unknown) =>
      isEngineError(err, 'ERR_UNSAFE_ARCHIVE'),
    );
    await rm(s.dest, { recursive: true });
    await mkdir(s.dest);
    await assert.rejects(applyLayer(fx.streamOf(gz.subarray(0, gz.length - 20)), s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_UNSAFE_ARCHIVE'), String(err));
      assert.match(err.message, /gzip/);
      return true;
    });
  });

  test('a truncated tar is refused', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar([fx.file('a', 'x'.repeat(5000))]);
    await assert.rejects(applyLayer(fx.streamOf(data.subarray(0, 3000)), s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_UNSAFE_ARCHIVE'), String(err));
      assert.match(err.message, /unexpected end of data/);
      return true;
    });
  });

  test('on a refused entry the input is destroyed and the error names the entry', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar([fx.file('ok', 'x'), fx.file('../escape', 'x'), fx.file('big', Buffer.alloc(4 * 1024 * 1024))]);
    const input = fx.streamOf(data, 4096);
    await assert.rejects(applyLayer(input, s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_UNSAFE_ARCHIVE'));
      assert.match(err.message, /"\.\.\/escape"/);
      return true;
    });
    assert.ok(input.destroyed);
    await assertMissing(join(s.dest, 'big'));
  });

  for (const compressed of [false, true]) {
    test(`abort while the input stalls rejects promptly (${compressed ? 'gzip' : 'plain'})`, async (t) => {
      const s = await sandbox(t);
      const input = new PassThrough();
      const head = await fx.buildTar([fx.file('a', 'x'), fx.file('b', 'y'.repeat(100_000))], { end: false });
      const partial = head.subarray(0, 40_000);
      input.write(compressed ? gzipSync(partial).subarray(0, 200) : partial);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(applyLayer(input, s.dest, { signal: controller.signal }), (err: unknown) =>
        isEngineError(err, 'ERR_UNAVAILABLE'),
      );
      assert.ok(input.destroyed);
    });
  }

  test('an input stream error is reported as ERR_UNAVAILABLE', async (t) => {
    const s = await sandbox(t);
    const input = new PassThrough();
    input.write(await fx.buildTar([fx.file('a', 'x')], { end: false }));
    setTimeout(() => input.destroy(new Error('connection reset')), 20);
    await assert.rejects(applyLayer(input, s.dest), (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_UNAVAILABLE'), String(err));
      assert.match(err.message, /connection reset/);
      return true;
    });
  });

  test('bad destinations and options are refused', async (t) => {
    const s = await sandbox(t);
    await symlink(s.victim, join(s.root, 'dest-link'));
    t.after(() => rm(join(s.root, 'dest-link'), { force: true }));
    const data = await fx.buildTar([fx.file('a', 'x')]);
    await assert.rejects(applyLayer(fx.streamOf(data), join(s.root, 'dest-link')), (err: unknown) =>
      isEngineError(err, 'ERR_INVALID_ARGUMENT'),
    );
    await assert.rejects(applyLayer(fx.streamOf(data), s.dest, { maxEntries: -1 }), (err: unknown) =>
      isEngineError(err, 'ERR_INVALID_ARGUMENT'),
    );
    assert.deepEqual(await readdir(s.victim), ['secret', 'sub']);
  });
});

describe('applyLayer positive cases', { skip }, () => {
  const layer = (): fx.FixtureEntry[] => [
    fx.dir('./', 0o700),
    fx.dir('etc', 0o755),
    fx.file('etc/hosts', '127.0.0.1 localhost\n', 0o644),
    fx.hardlink('etc/hosts.allow', 'etc/hosts'),
    fx.file('etc/old.conf', 'old'),
    fx.dir('usr/local/lib', 0o755),
    fx.file('usr/local/lib/libnothing.so', Buffer.from([0, 0]), 0o755),
    fx.symlink('usr/local/lib/libnothing.so.2', 'libnothing.so'),
    fx.dir('home', 0o755),
    fx.dir('home/derek', 0o700, { uid: 1000, gid: 1000 }),
    fx.file('home/derek/.profile', 'export A=1\n', 0o600, { uid: 1000, gid: 1000 }),
    fx.symlink('home/derek/hosts', '/etc/hosts', { uid: 1000, gid: 1000 }),
    fx.dir('tmp', 0o1777),
    fx.file('usr/bin/sudo', 'elf', 0o4755),
    fx.fifo('run/initctl', 0o600),
    fx.file('.wh.deleted'),
    fx.file('etc/.wh.old.conf'),
    fx.dir('data', 0o750),
    fx.file('data/.wh..wh..opq'),
    fx.file('data/new', 'new\n'),
    fx.file('x'.repeat(120) + '/long-name-' + 'y'.repeat(150), 'pax path'),
    fx.symlink('long-target', 'z'.repeat(300)),
    fx.file('.wh..wh.plnk/123', 'aufs'),
  ];
  const fileBytes = 20 + 3 + 2 + 11 + 3 + 4 + 8; // .wh.* and AUFS entries write nothing

  async function checkTree(dest: string, r: ApplyResult): Promise<void> {
    const st = async (p: string) => lstat(join(dest, p));
    // files, modes, owners, times
    assert.equal(await readFile(join(dest, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
    assert.equal((await st('etc/hosts')).mode & 0o7777, 0o644);
    assert.equal((await st('etc/hosts')).mtimeMs / 1000, MTIME_S);
    assert.equal((await st('usr/bin/sudo')).mode & 0o7777, 0o4755);
    const profile = await st('home/derek/.profile');
    assert.deepEqual([profile.uid, profile.gid, profile.mode & 0o7777], [1000, 1000, 0o600]);
    // directories: modes, owners and mtimes (applied after their children)
    const derek = await st('home/derek');
    assert.deepEqual([derek.uid, derek.gid, derek.mode & 0o7777], [1000, 1000, 0o700]);
    assert.equal(derek.mtimeMs / 1000, MTIME_S);
    assert.equal((await st('etc')).mtimeMs / 1000, MTIME_S);
    assert.equal((await st('tmp')).mode & 0o7777, 0o1777);
    assert.equal((await st('usr')).mode & 0o7777, 0o755);
    // the root keeps its own metadata
    assert.equal((await stat(dest)).mode & 0o7777, 0o755);
    // links
    await assertSameInode(join(dest, 'etc/hosts.allow'), join(dest, 'etc/hosts'));
    assert.equal(await readlink(join(dest, 'usr/local/lib/libnothing.so.2')), 'libnothing.so');
    const hostsLink = await st('home/derek/hosts');
    assert.ok(hostsLink.isSymbolicLink());
    assert.deepEqual([hostsLink.uid, hostsLink.gid], [1000, 1000]);
    assert.equal(hostsLink.mtimeMs / 1000, MTIME_S);
    assert.equal(await readlink(join(dest, 'home/derek/hosts')), '/etc/hosts');
    assert.equal(await readlink(join(dest, 'long-target')), 'z'.repeat(300));
    assert.equal(await readFile(join(dest, 'x'.repeat(120), 'long-name-' + 'y'.repeat(150)), 'utf8'), 'pax path');
    // fifo
    assert.ok((await st('run/initctl')).isFIFO());
    // whiteouts and opaque directory
    await assertWhiteout(join(dest, 'deleted'));
    await assertWhiteout(join(dest, 'etc/old.conf'));
    await assertMissing(join(dest, '.wh.deleted'));
    const opaque = await execFileChecked('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', '--absolute-names', join(dest, 'data')]);
    assert.equal(opaque, 'y');
    assert.equal(await readFile(join(dest, 'data/new'), 'utf8'), 'new\n');
    await assertMissing(join(dest, '.wh..wh.plnk'));
    // result
    assert.equal(r.whiteouts, 2);
    assert.equal(r.opaqueDirs, 1);
    assert.equal(r.size, fileBytes);
    assert.equal(r.entries, layer().length);
    assert.equal(r.skippedEntries, 2); // './' and the AUFS metadata
    assert.equal(r.skippedDevices, 0);
  }

  test('a normal layer: tree, metadata, whiteouts, opaque dir and digests', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar(layer());
    const r = await applyLayer(fx.streamOf(data, 4093), s.dest);
    await checkTree(s.dest, r);
    const digest = `sha256:${sha256(data)}`;
    assert.equal(r.diffId, digest);
    assert.equal(r.compressedDigest, digest);
    assert.equal(r.compressedSize, data.length);
    assert.equal(r.uncompressedSize, data.length);
    assert.equal(r.compression, 'none');
    assert.deepEqual((await readdir(s.root)).sort(), ['dest', 'victim']);
  });

  test('the same layer gzip-compressed gives the same diffId', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar(layer());
    const gz = gzipSync(data);
    const r = await applyLayer(fx.streamOf(gz, 999), s.dest);
    await checkTree(s.dest, r);
    assert.equal(r.diffId, `sha256:${sha256(data)}`);
    assert.equal(r.compressedDigest, `sha256:${sha256(gz)}`);
    assert.equal(r.compressedSize, gz.length);
    assert.equal(r.uncompressedSize, data.length);
    assert.equal(r.compression, 'gzip');
  });

  test('the same layer zstd-compressed gives the same diffId', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar(layer());
    const z = zstdCompress(data, { compressionLevel: 19 });
    const r = await applyLayer(fx.streamOf(z, 999), s.dest);
    await checkTree(s.dest, r);
    assert.equal(r.diffId, `sha256:${sha256(data)}`);
    assert.equal(r.compressedDigest, `sha256:${sha256(z)}`);
    assert.equal(r.compressedSize, z.length);
    assert.equal(r.uncompressedSize, data.length);
    assert.equal(r.compression, 'zstd');
  });

  test('an existing directory keeps its identity; mode and owner are updated', async (t) => {
    const s = await sandbox(t);
    await mkdir(join(s.dest, 'etc'), { mode: 0o700 });
    await writeFile(join(s.dest, 'etc/keep'), 'kept');
    const ino = (await stat(join(s.dest, 'etc'))).ino;
    await applyLayer(fx.streamOf(await fx.buildTar([fx.dir('etc', 0o755, { uid: 7, gid: 8 }), fx.file('etc/new', 'n')])), s.dest);
    const st = await stat(join(s.dest, 'etc'));
    assert.deepEqual([st.ino, st.mode & 0o7777, st.uid, st.gid], [ino, 0o755, 7, 8]);
    assert.equal(await readFile(join(s.dest, 'etc/keep'), 'utf8'), 'kept');
  });

  test('non-UTF-8 names are kept byte for byte (files, whiteouts, symlink targets)', async (t) => {
    const s = await sandbox(t);
    const latin1Name = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    const data = await fx.buildTar([
      fx.raw(
        fx.rawFile(latin1Name, 'bytes'),
        fx.rawFile(Buffer.concat([Buffer.from('.wh.'), latin1Name, Buffer.from('2')])),
        fx.rawHeader({ name: 'ln', typeflag: '2', linkname: latin1Name }),
      ),
    ]);
    await applyLayer(fx.streamOf(data), s.dest);
    const names = (await readdir(Buffer.from(s.dest), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort();
    assert.deepEqual(names, [Buffer.from('ln').toString('hex'), latin1Name.toString('hex'), Buffer.concat([latin1Name, Buffer.from('2')]).toString('hex')].sort());
    const content = await readFile(Buffer.concat([Buffer.from(`${s.dest}/`), latin1Name]), 'utf8');
    assert.equal(content, 'bytes');
    const target = await readlink(Buffer.from(join(s.dest, 'ln')), { encoding: 'buffer' });
    assert.deepEqual(target, latin1Name);
  });

  test('an empty stream is an empty layer', async (t) => {
    const s = await sandbox(t);
    const r = await applyLayer(fx.streamOf(Buffer.alloc(0)), s.dest);
    assert.equal(r.entries, 0);
    assert.equal(r.diffId, `sha256:${sha256(Buffer.alloc(0))}`);
  });

  test('PAX global headers are ignored; GNU and v7 headers are read', async (t) => {
    const s = await sandbox(t);
    const data = await fx.buildTar([
      fx.raw(
        fx.rawPax([['comment', 'git archive'], ['path', 'ignored']], 'g'),
        fx.rawFile('gnu-file', 'g', { format: 'gnu', mode: 0o600 }),
        fx.rawFile('v7-file', 'v', { format: 'v7' }),
      ),
    ]);
    const r = await applyLayer(fx.streamOf(data), s.dest);
    assert.equal(r.entries, 2);
    assert.equal(await readFile(join(s.dest, 'gnu-file'), 'utf8'), 'g');
    assert.equal(await readFile(join(s.dest, 'v7-file'), 'utf8'), 'v');
    await assertMissing(join(s.dest, 'ignored'));
  });
});
