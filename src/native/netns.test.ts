/** The network namespace file primitives (root only: unshare(CLONE_NEWNET) and bind mounts). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createNetns, isSystemError, removeNetns } from './index.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';

/** A temp dir removed after the test, after unmounting any namespace file made in it. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'brig-netns-'));
  t.after(() => {
    for (const f of readdirSync(dir)) removeNetns(join(dir, f));
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function mounted(path: string): boolean {
  return execFileSync('findmnt', ['-n', '-o', 'TARGET', '--target', path], { encoding: 'utf8' }).trim() === path;
}

test('createNetns makes a file holding a new net namespace with only loopback; removeNetns removes it', { skip }, (t) => {
  const file = join(tempDir(t), 'ns1');
  createNetns(file);
  assert.ok(mounted(file), 'the file is a mount point');
  // A different namespace from the daemon's own (nsfs inode differs from /proc/self/ns/net).
  assert.notEqual(statSync(file).ino, statSync('/proc/self/ns/net').ino);
  assert.match(readlinkSync('/proc/self/ns/net'), /^net:\[\d+\]$/);
  const links = JSON.parse(execFileSync('nsenter', [`--net=${file}`, 'ip', '-j', 'link'], { encoding: 'utf8' })) as { ifname: string }[];
  assert.deepEqual(links.map((l) => l.ifname), ['lo']);
  // Node's own thread stayed in the host namespace.
  const hostLinks = JSON.parse(execFileSync('ip', ['-j', 'link'], { encoding: 'utf8' })) as { ifname: string }[];
  assert.ok(hostLinks.length > 1 || hostLinks[0]?.ifname !== 'lo');
  assert.equal(removeNetns(file), true);
  assert.equal(existsSync(file), false);
  assert.equal(removeNetns(file), false, 'second removal is a no-op');
});

test('two namespace files are distinct namespaces', { skip }, (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  createNetns(a);
  createNetns(b);
  assert.notEqual(statSync(a).ino, statSync(b).ino);
});

test('createNetns refuses an existing file (EEXIST) and leaves it alone', { skip }, (t) => {
  const file = join(tempDir(t), 'taken');
  writeFileSync(file, 'keep');
  assert.throws(() => createNetns(file), (err) => isSystemError(err) && err.code === 'EEXIST' && err.syscall === 'open' && err.path === file);
  assert.equal(existsSync(file), true);
  assert.equal(mounted(file), false);
});

test('createNetns in a missing directory fails with ENOENT and creates nothing', { skip }, (t) => {
  const file = join(tempDir(t), 'no', 'such');
  assert.throws(() => createNetns(file), (err) => isSystemError(err) && err.code === 'ENOENT');
});

test('removeNetns of a plain file (not mounted) unlinks it', { skip }, (t) => {
  const file = join(tempDir(t), 'plain');
  writeFileSync(file, '');
  assert.equal(removeNetns(file), true);
  assert.equal(existsSync(file), false);
});

test('argument validation: a path with a NUL byte is a TypeError before any syscall', () => {
  assert.throws(() => createNetns('a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => removeNetns(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
});
