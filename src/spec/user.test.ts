import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseGroup, parsePasswd, resolveUser, resolveUserFromEntries } from './user.js';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/bin/false
+nisuser::::::
broken:x:abc:1::/:/bin/sh
app:x:1000:1000:App,,,:/home/app:/bin/sh
nohome:x:1001:1001::
`;
const GROUP = `root:x:0:root
daemon:x:1:
wheel:x:10:root,app
app:x:1000:
audio:x:29:app, nohome
staff:x:50:
`;

const P = parsePasswd(PASSWD);
const G = parseGroup(GROUP);
const r = (user: string) => resolveUserFromEntries(user, P, G);

function rejects(fn: () => unknown, message: string) {
  assert.throws(fn, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
    assert.equal(err.message, message);
    return true;
  });
}

test('parsing skips comments, NIS entries and malformed lines', () => {
  assert.deepEqual(P.map((p) => p.name), ['root', 'daemon', 'app', 'nohome']);
  assert.deepEqual(P[2], { name: 'app', uid: 1000, gid: 1000, home: '/home/app' });
  assert.deepEqual(G.find((g) => g.name === 'audio')!.members, ['app', 'nohome']);
});

test("Docker's --user forms", () => {
  assert.deepEqual(r(''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(r('root'), r(''));
  assert.deepEqual(r('app'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
  assert.deepEqual(r('1000'), r('app'), 'a numeric user found in passwd is that user');
  assert.deepEqual(r('nohome'), { uid: 1001, gid: 1001, additionalGids: [29], home: '/' });
  assert.deepEqual(r('1234'), { uid: 1234, gid: 0, additionalGids: [], home: '/' }, 'numeric ids need no passwd entry');
  assert.deepEqual(r('app:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' }, 'an explicit group: no supplementary groups');
  assert.deepEqual(r('app:29'), { uid: 1000, gid: 29, additionalGids: [], home: '/home/app' });
  assert.deepEqual(r('1234:5678'), { uid: 1234, gid: 5678, additionalGids: [], home: '/' });
  assert.deepEqual(r('daemon:'), { uid: 1, gid: 1, additionalGids: [], home: '/usr/sbin' });
  assert.deepEqual(r(':wheel'), { uid: 0, gid: 10, additionalGids: [], home: '/root' });
});

test("unknown names fail with Docker's messages", () => {
  rejects(() => r('xyz'), 'unable to find user xyz: no matching entries in passwd file');
  rejects(() => r('app:nogroup'), 'unable to find group nogroup: no matching entries in group file');
  rejects(() => r('2147483648'), 'uids and gids must be in range 0-2147483647');
  rejects(() => r('1:99999999999'), 'uids and gids must be in range 0-2147483647');
  rejects(() => resolveUserFromEntries('app', [], []), 'unable to find user app: no matching entries in passwd file');
  assert.deepEqual(resolveUserFromEntries('', [], []), { uid: 0, gid: 0, additionalGids: [], home: '/' });
});

async function rootfs(t: TestContext) {
  const base = await mkdtemp(join(tmpdir(), 'brig-user-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'rootfs');
  await mkdir(join(root, 'etc'), { recursive: true });
  // A host file an image must never reach: it would make "evil" resolvable.
  await mkdir(join(base, 'host-etc'));
  await writeFile(join(base, 'host-etc', 'passwd'), 'evil:x:4242:4242::/evil:/bin/sh\n');
  await writeFile(join(base, 'secret'), 'evil:x:4242:4242::/evil:/bin/sh\n');
  return { base, root };
}

test('resolveUser reads the rootfs files', async (t) => {
  const { root } = await rootfs(t);
  await writeFile(join(root, 'etc/passwd'), PASSWD);
  await writeFile(join(root, 'etc/group'), GROUP);
  assert.deepEqual(await resolveUser(root, 'app'), r('app'));
  assert.deepEqual(await resolveUser(root, ''), r(''));
});

test('missing passwd and group: numeric ids work, names do not', async (t) => {
  const { root } = await rootfs(t);
  assert.deepEqual(await resolveUser(root, '1234:99'), { uid: 1234, gid: 99, additionalGids: [], home: '/' });
  await assert.rejects(resolveUser(root, 'app'), { code: 'ERR_INVALID_ARGUMENT', message: 'unable to find user app: no matching entries in passwd file' });
});

test('hostile symlinks are resolved inside the rootfs, never on the host', async (t) => {
  const { base, root } = await rootfs(t);
  const notFound = { code: 'ERR_INVALID_ARGUMENT', message: 'unable to find user evil: no matching entries in passwd file' };

  // /etc/passwd -> ../../secret (relative, climbing out of the rootfs)
  await symlink('../../secret', join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'evil'), notFound);
  // The clamped target is read if it exists inside the rootfs.
  await writeFile(join(root, 'secret'), 'evil:x:7:7::/in-root:/bin/sh\n');
  assert.deepEqual(await resolveUser(root, 'evil'), { uid: 7, gid: 7, additionalGids: [], home: '/in-root' });
  await rm(join(root, 'secret'));
  await rm(join(root, 'etc/passwd'));

  // /etc/passwd -> /../../<absolute host path>
  await symlink(`/../..${join(base, 'secret')}`, join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'evil'), notFound);
  await rm(join(root, 'etc/passwd'));

  // /etc itself -> the host's directory (absolute)
  await rm(join(root, 'etc'), { recursive: true });
  await symlink(join(base, 'host-etc'), join(root, 'etc'));
  await assert.rejects(resolveUser(root, 'evil'), notFound);
  await rm(join(root, 'etc'));
  await mkdir(join(root, 'etc'));

  // A loop is an error, not a hang.
  await symlink('passwd', join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'evil'), { code: 'ERR_INVALID_ARGUMENT', message: /too many levels of symbolic links/ });
});
