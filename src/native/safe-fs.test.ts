/**
 * openInRoot / mkdirAllInRoot: clamping of absolute and `..` symlinks, a symlink-swap race
 * (CVE-2018-15664: a container exchanging a directory and a symlink to the host while the engine
 * works inside its root), and a fuzz of hostile path strings. Every fd opened is checked through
 * /proc/self/fd to lie under the root. Runs as root.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isEngineError } from '../errors.js';
import { close, constants as C, fgetxattr, fstatat, isSystemError, openat2, readdirFd, utimensat } from './index.js';
import { fdPath, isWhiteout, makeWhiteout, mkdirAllInRoot, openInRoot, setOpaque } from './safe-fs.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';
const VICTIM = 'victim: must never be read or written\n';

interface Layout {
  base: string;
  root: string;
  rootFd: number;
  outside: string;
}

/** <base>/root (the confined tree, opened as rootFd) beside <base>/outside (the host). */
function layout(t: TestContext): Layout {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'brig-safe-fs-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  const rootFd = openat2(C.AT_FDCWD, root, C.O_PATH | C.O_DIRECTORY);
  t.after(() => {
    close(rootFd);
    rmSync(base, { recursive: true, force: true });
  });
  return { base, root, rootFd, outside };
}

function assertUnder(fd: number, root: string, what: string): void {
  const p = fdPath(fd);
  assert.ok(p === root || p.startsWith(root + '/'), `${what} opened ${p}, outside ${root}`);
}

/** Opens, checks the location, closes; returns the path or the error code. */
function probe(l: Layout, path: string | Buffer, flags = C.O_PATH): string {
  let fd: number;
  try {
    fd = openInRoot(l.rootFd, path, flags);
  } catch (err) {
    return `!${(err as { code?: string }).code}`;
  }
  try {
    assertUnder(fd, l.root, JSON.stringify(path.toString()));
    return fdPath(fd);
  } finally {
    close(fd);
  }
}

test('openInRoot clamps absolute paths, `..` and symlinks to the root', { skip }, (t) => {
  const l = layout(t);
  writeFileSync(join(l.outside, 'victim'), VICTIM);
  mkdirSync(join(l.root, 'sub/deeper'), { recursive: true });
  symlinkSync('/', join(l.root, 'etc'));
  symlinkSync(l.outside, join(l.root, 'abs'));
  symlinkSync('../../../../..', join(l.root, 'sub/deeper/up'));
  symlinkSync('../outside/victim', join(l.root, 'rel'));
  symlinkSync('/proc/self/root', join(l.root, 'magic'));
  // A naive path walk escapes through every one of these links:
  assert.ok(existsSync(join(l.root, 'etc', l.outside, 'victim')));
  assert.ok(existsSync(join(l.root, 'abs/victim')));

  assert.equal(probe(l, 'etc'), l.root, '/etc -> / is the root itself');
  assert.equal(probe(l, '/etc/etc/etc'), l.root);
  assert.equal(probe(l, '/'), l.root);
  assert.equal(probe(l, '../../..'), l.root);
  assert.equal(probe(l, 'sub/deeper/up'), l.root);
  assert.equal(probe(l, 'sub/deeper/up/sub'), join(l.root, 'sub'));
  assert.equal(probe(l, `etc${l.outside}/victim`), '!ENOENT');
  assert.equal(probe(l, l.outside + '/victim'), '!ENOENT');
  assert.equal(probe(l, 'abs/victim'), '!ENOENT', 'an absolute link target is rooted at the root');
  assert.equal(probe(l, 'rel'), '!ENOENT', '../outside from the root stays in the root');
  assert.equal(probe(l, 'sub/deeper/up/../../outside/victim'), '!ENOENT');
  assert.equal(probe(l, 'magic'), '!ENOENT', '/proc inside the root does not exist');
  assert.equal(probe(l, 'etc', C.O_PATH | C.O_NOFOLLOW), join(l.root, 'etc'), 'O_NOFOLLOW pins the link itself');

  // Once the target exists inside the root, the same links lead there.
  mkdirSync(join(l.root, 'outside'));
  writeFileSync(join(l.root, 'outside/victim'), 'inside');
  const fd = openInRoot(l.rootFd, 'rel', C.O_RDONLY);
  try {
    assert.equal(readFileSync(fd, 'utf8'), 'inside');
  } finally {
    close(fd);
  }
  assert.equal(readFileSync(join(l.outside, 'victim'), 'utf8'), VICTIM);
});

test('mkdirAllInRoot creates missing parts inside the root; links on the way stay inside', { skip }, (t) => {
  const l = layout(t);
  const fd = mkdirAllInRoot(l.rootFd, '/a/b/c', 0o750);
  try {
    assert.equal(fdPath(fd), join(l.root, 'a/b/c'));
    assert.deepEqual(readdirFd(fd), [], 'an O_RDONLY directory fd');
  } finally {
    close(fd);
  }
  assert.ok(statSync(join(l.root, 'a/b/c')).isDirectory());
  const again = mkdirAllInRoot(l.rootFd, 'a//./b/c/');
  close(again);

  symlinkSync('/', join(l.root, 'etc'));
  symlinkSync(l.outside, join(l.root, 'host'));
  mkdirSync(join(l.root, l.outside), { recursive: true });
  for (const [path, expected] of [
    ['etc/x/y', join(l.root, 'x/y')],
    ['host/v', join(l.root, l.outside, 'v')],
    ['a/../../../z', join(l.root, 'z')],
  ] as const) {
    const d = mkdirAllInRoot(l.rootFd, path);
    try {
      assert.equal(fdPath(d), expected, path);
    } finally {
      close(d);
    }
  }
  assert.deepEqual(readdirSync(l.outside), [], 'nothing created on the host');

  symlinkSync('/does/not/exist', join(l.root, 'dangling'));
  assert.throws(() => mkdirAllInRoot(l.rootFd, 'dangling/x'), (err) => isSystemError(err, 'ENOTDIR') || isSystemError(err, 'ELOOP'));
  writeFileSync(join(l.root, 'file'), '');
  assert.throws(() => mkdirAllInRoot(l.rootFd, 'file/x'), (err) => isSystemError(err, 'ENOTDIR'));
  assert.throws(() => mkdirAllInRoot(l.rootFd, 'file'), (err) => isSystemError(err, 'ENOTDIR'));
  assert.throws(() => mkdirAllInRoot(l.rootFd, 'new/../x'), (err) => isEngineError(err, 'ERR_INVALID_ARGUMENT'));
  assert.ok(!existsSync(join(l.root, 'new')), 'nothing created before the refusal');
  assert.ok(!existsSync(join(l.root, 'does')), 'a dangling link target is not created');
});

test('makeWhiteout, setOpaque and isWhiteout (overlayfs layer format)', { skip }, (t) => {
  const l = layout(t);
  const d = mkdirAllInRoot(l.rootFd, 'etc/app');
  try {
    makeWhiteout(d, 'b.conf');
    setOpaque(d);
    assert.ok(isWhiteout(fstatat(d, 'b.conf', C.AT_SYMLINK_NOFOLLOW)));
    assert.ok(!isWhiteout(fstatat(d, '', C.AT_EMPTY_PATH)));
    assert.equal(fgetxattr(d, 'trusted.overlay.opaque').toString(), 'y');
  } finally {
    close(d);
  }
  const st = statSync(join(l.root, 'etc/app/b.conf'));
  assert.ok(st.isCharacterDevice() && st.rdev === 0);
});

/** A child process that exchanges <root>/d (a directory) and <root>/l (a symlink to the host) in a tight loop. */
/** Kills the swapper and waits until it is gone, so that no exchange runs into the cleanup. */
async function stopSwapper(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

function startSwapper(t: TestContext, root: string): Promise<ChildProcess> {
  const index = new URL('./index.js', import.meta.url).href;
  const script = `
    import { renameat2, openat2, constants as C } from ${JSON.stringify(index)};
    const fd = openat2(C.AT_FDCWD, ${JSON.stringify(root)}, C.O_PATH | C.O_DIRECTORY);
    renameat2(fd, 'd', fd, 'l', C.RENAME_EXCHANGE);
    process.stdout.write('ready\\n');
    for (;;) renameat2(fd, 'd', fd, 'l', C.RENAME_EXCHANGE);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => stopSwapper(child));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`swapper exited early (${code})`)));
    child.stdout!.once('data', () => resolve(child));
  });
}

test('symlink-swap race: 2000 openInRoot + read/write never touch a host file', { skip, timeout: 120_000 }, async (t) => {
  const l = layout(t);
  const victim = join(l.outside, 'f');
  writeFileSync(victim, VICTIM);
  // atime older than mtime: under relatime, any read of the victim would move its atime.
  utimensat(C.AT_FDCWD, victim, 1_000_000_000_000_000_000n, 1_600_000_000_000_000_000n);
  const before = statSync(victim, { bigint: true });
  mkdirSync(join(l.root, 'd'));
  writeFileSync(join(l.root, 'd/f'), 'inside\n');
  symlinkSync(l.outside, join(l.root, 'l'));

  const swapper = await startSwapper(t, l.root);
  let opened = 0;
  let refused = 0;
  const buf = Buffer.alloc(64);
  for (let i = 0; i < 2000; i++) {
    let fd: number;
    try {
      fd = openInRoot(l.rootFd, 'd/f', C.O_RDWR | C.O_NOFOLLOW);
    } catch (err) {
      assert.ok(isSystemError(err, 'ENOENT') || isSystemError(err, 'EAGAIN'), String(err));
      refused++;
      continue;
    }
    try {
      assertUnder(fd, l.root, 'd/f');
      const n = readSync(fd, buf, 0, buf.length, 0);
      assert.match(buf.subarray(0, n).toString(), /^inside\n/);
      writeSync(fd, `inside\nwrite ${i}\n`, 0);
      opened++;
    } finally {
      close(fd);
    }
    // Give the swapper a chance between operations now and then.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await stopSwapper(swapper);
  const after = statSync(victim, { bigint: true });
  assert.equal(readFileSync(victim, 'utf8'), VICTIM);
  assert.equal(after.atimeNs, before.atimeNs, 'the victim was never read');
  assert.equal(after.mtimeNs, before.mtimeNs, 'the victim was never written');
  assert.equal(after.ctimeNs, before.ctimeNs);
  t.diagnostic(`opened inside the root ${opened}×, refused while swapped ${refused}×`);
  assert.ok(opened > 0 && refused > 0, `the race was exercised (opened ${opened}, refused ${refused})`);
});

test('control: the same race defeats a naive path open (so the race above is real)', { skip, timeout: 120_000 }, async (t) => {
  const l = layout(t);
  writeFileSync(join(l.outside, 'f'), VICTIM);
  mkdirSync(join(l.root, 'd'));
  writeFileSync(join(l.root, 'd/f'), 'inside\n');
  symlinkSync(l.outside, join(l.root, 'l'));
  const swapper = await startSwapper(t, l.root);
  let escaped = 0;
  for (let i = 0; i < 50_000 && escaped === 0; i++) {
    try {
      const fd = openSync(join(l.root, 'd/f'), 'r');
      try {
        if (fdPath(fd).startsWith(l.outside)) escaped++;
      } finally {
        closeSync(fd);
      }
    } catch {
      // ENOENT while a rename is half done
    }
  }
  await stopSwapper(swapper);
  assert.ok(escaped > 0, 'a naive open followed the swapped-in symlink to the host at least once');
});

test('mkdirAllInRoot under the same race creates nothing outside the root', { skip, timeout: 120_000 }, async (t) => {
  const l = layout(t);
  mkdirSync(join(l.root, 'd'));
  symlinkSync(l.outside, join(l.root, 'l'));
  const swapper = await startSwapper(t, l.root);
  let made = 0;
  for (let i = 0; i < 500; i++) {
    try {
      close(mkdirAllInRoot(l.rootFd, `d/n${i}/m`));
      made++;
    } catch (err) {
      assert.ok(isSystemError(err), String(err));
    }
  }
  await stopSwapper(swapper);
  assert.deepEqual(readdirSync(l.outside), [], 'nothing created on the host');
  assert.ok(made > 0);
});

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: 20,000 random paths through openInRoot never open anything outside the root', { skip }, (t) => {
  const l = layout(t);
  writeFileSync(join(l.outside, 'victim'), VICTIM);
  // The host path also exists inside the root, so a clamped lookup opens something there while an
  // escaping one would open the host's: the /proc/self/fd check tells them apart.
  mkdirSync(join(l.root, l.outside), { recursive: true });
  writeFileSync(join(l.root, l.outside, 'victim'), 'inside');
  for (const dir of ['', 'a', 'b', 'a/a', 'a/b', 'b/a', 'b/b']) {
    const d = join(l.root, dir);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'f'), '');
    symlinkSync('/', join(d, 'etc'));
    symlinkSync(l.outside, join(d, 'abs'));
    symlinkSync('../../../..', join(d, 'up'));
    symlinkSync('up/../..', join(d, 'up2'));
    symlinkSync('.', join(d, 'self'));
    symlinkSync('loop', join(d, 'loop'));
    symlinkSync('/proc/self/root', join(d, 'magic'));
    symlinkSync('../outside/victim', join(d, 'rel'));
  }
  const seed = Number(process.env['BRIG_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (replay with BRIG_FUZZ_SEED=${seed})`);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Mostly names that resolve (so that many cases open something), some that do not.
  const common = ['..', '.', '', 'a', 'b', 'etc', 'self', 'up', 'up2', 'abs'];
  const rare = ['f', 'loop', 'magic', 'rel', 'outside', 'victim', 'proc', 'root', '...', ' ', '\\..', '%2e%2e', 'x'.repeat(255), 'y'.repeat(300)];
  const hostParts = l.outside.split('/').filter(Boolean);
  const flagsList = [C.O_PATH, C.O_PATH | C.O_NOFOLLOW, C.O_RDONLY | C.O_NONBLOCK, C.O_PATH | C.O_DIRECTORY];
  const seen = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const parts: string[] = [];
    const n = 1 + Math.floor(rnd() * 10);
    for (let j = 0; j < n; j++) {
      const r = rnd();
      parts.push(r < 0.08 ? pick(hostParts) : r < 0.2 ? pick(rare) : pick(common));
    }
    let path = (rnd() < 0.5 ? '/' : '') + parts.join(rnd() < 0.1 ? '//' : '/');
    const r = rnd();
    if (r < 0.03) path = path.slice(0, Math.floor(rnd() * path.length)) + '\0' + path;
    else if (r < 0.05) path = path.repeat(Math.ceil(5000 / Math.max(path.length, 1)));
    const arg = rnd() < 0.1 ? Buffer.concat([Buffer.from(path), Buffer.from([0x80 + Math.floor(rnd() * 0x7f)])]) : path;
    let outcome: string;
    let fd = -1;
    try {
      fd = openInRoot(l.rootFd, arg, pick(flagsList));
      outcome = 'opened';
    } catch (err) {
      outcome = (err as { code?: string }).code ?? String(err);
      assert.ok(
        ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'ERR_INVALID_ARG_VALUE', 'EISDIR'].includes(outcome),
        `unexpected ${outcome} for ${JSON.stringify(path)}`,
      );
    }
    if (fd >= 0) {
      try {
        assertUnder(fd, l.root, `${JSON.stringify(arg.toString())} (seed ${seed}, case ${i})`);
      } finally {
        close(fd);
      }
    }
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
  }
  t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
  assert.ok((seen.get('opened') ?? 0) > 3000, 'a good share of the cases opened something');
  assert.equal(readFileSync(join(l.outside, 'victim'), 'utf8'), VICTIM);
});
