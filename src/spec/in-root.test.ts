import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MAX_SYMLINKS, ensureDirInRoot, readFileInRoot, resolveInRoot } from './in-root.js';

async function layout(t: TestContext) {
  const base = await mkdtemp(join(tmpdir(), 'brig-inroot-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(base, 'outside'));
  return { base, root };
}

test('plain paths, dot-dot and missing components stay under the root', async (t) => {
  const { root } = await layout(t);
  assert.equal(await resolveInRoot(root, '/etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, 'etc//./passwd'), join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, '/../../../etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, '/no/such/../dir'), join(root, 'no/dir'));
  assert.equal(await resolveInRoot(root, '/'), root);
  assert.equal(await resolveInRoot(root, '..'), root);
});

test('relative and absolute symlinks are clamped at the root', async (t) => {
  const { base, root } = await layout(t);
  await symlink('../../outside/x', join(root, 'etc/rel'));
  await symlink(join(base, 'outside'), join(root, 'abs'));
  await symlink('/etc', join(root, 'etc-link'));
  await symlink('../..', join(root, 'etc/up'));
  assert.equal(await resolveInRoot(root, '/etc/rel'), join(root, 'outside/x'));
  assert.equal(await resolveInRoot(root, '/abs/file'), join(root, base.slice(1), 'outside/file'));
  assert.equal(await resolveInRoot(root, '/etc-link/passwd'), join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, '/etc/up/etc/passwd'), join(root, 'etc/passwd'));
});

test(`a chain of ${MAX_SYMLINKS} links resolves, one more is refused, a loop is refused`, async (t) => {
  const { root } = await layout(t);
  await writeFile(join(root, 'target'), 'ok');
  for (let i = 0; i < MAX_SYMLINKS + 1; i++) await symlink(i === 0 ? '/target' : `/l${i - 1}`, join(root, `l${i}`));
  assert.equal(await resolveInRoot(root, `/l${MAX_SYMLINKS - 1}`), join(root, 'target'));
  await assert.rejects(resolveInRoot(root, `/l${MAX_SYMLINKS}`), { code: 'ERR_INVALID_ARGUMENT' });
  await symlink('b', join(root, 'a'));
  await symlink('a', join(root, 'b'));
  await assert.rejects(resolveInRoot(root, '/a/x'), { code: 'ERR_INVALID_ARGUMENT' });
});

test('readFileInRoot: missing is null; FIFOs and directories are refused, never read', async (t) => {
  const { root } = await layout(t);
  assert.equal(await readFileInRoot(root, '/etc/passwd'), null);
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(await readFileInRoot(root, '/etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  execFileSync('mkfifo', [join(root, 'etc/group')]);
  await assert.rejects(readFileInRoot(root, '/etc/group'), { code: 'ERR_INVALID_ARGUMENT', message: /not a regular file/ });
  await assert.rejects(readFileInRoot(root, '/etc'), { code: 'ERR_INVALID_ARGUMENT', message: /not a regular file/ });
  await writeFile(join(root, 'big'), Buffer.alloc(100));
  await assert.rejects(readFileInRoot(root, '/big', 99), { code: 'ERR_INVALID_ARGUMENT', message: /larger than 99 bytes/ });
});

test('ensureDirInRoot creates the directory inside the root, through clamped links', async (t) => {
  const { base, root } = await layout(t);
  await symlink(join(base, 'outside'), join(root, 'work'));
  const made = await ensureDirInRoot(root, '/work/app/data');
  assert.equal(made, join(root, base.slice(1), 'outside/app/data'));
  assert.ok((await stat(made)).isDirectory());
  await assert.rejects(stat(join(base, 'outside/app')), { code: 'ENOENT' });
  assert.equal(await ensureDirInRoot(root, '/etc'), join(root, 'etc'));
  await writeFile(join(root, 'file'), '');
  await assert.rejects(ensureDirInRoot(root, '/file/sub'), { code: 'ERR_INVALID_ARGUMENT' });
  await assert.rejects(ensureDirInRoot(root, '/file'), { code: 'ERR_INVALID_ARGUMENT' });
});
