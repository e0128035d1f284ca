import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCKER_HUB_SERVER, loadAuth, registryAuthHeader, registryOf, saveAuth, serverKey } from './registry-auth.js';

test('registryOf / serverKey: the docker CLI\'s registry of a name and key of a server', () => {
  assert.equal(registryOf('busybox'), DOCKER_HUB_SERVER);
  assert.equal(registryOf('me/app:1'), DOCKER_HUB_SERVER);
  assert.equal(registryOf('127.0.0.1:5000/test/x:1'), '127.0.0.1:5000');
  assert.equal(registryOf('localhost/x'), 'localhost');
  assert.equal(registryOf('docker.io/library/busybox'), DOCKER_HUB_SERVER);
  assert.equal(serverKey(undefined), DOCKER_HUB_SERVER);
  assert.equal(serverKey('https://127.0.0.1:5001/'), '127.0.0.1:5001');
  assert.equal(serverKey('index.docker.io'), DOCKER_HUB_SERVER);
});

test('saveAuth/loadAuth: docker config.json format, mode 0600, other keys kept, logout removes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'brig-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { DOCKER_CONFIG: dir };
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'other:1': { auth: 'eDp5' } }, psFormat: 'x' }));
  assert.equal(await saveAuth(env, 'reg:5000', { username: 'u', password: 'p:w' }), true);
  const path = join(dir, 'config.json');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const doc = JSON.parse(await readFile(path, 'utf8')) as { auths: Record<string, { auth: string }>; psFormat: string };
  assert.equal(doc.auths['reg:5000']!.auth, Buffer.from('u:p:w').toString('base64'));
  assert.equal(doc.psFormat, 'x');
  assert.deepEqual(await loadAuth(env, 'reg:5000'), { username: 'u', password: 'p:w' });
  const header = JSON.parse(Buffer.from(await registryAuthHeader(env, 'reg:5000/a/b:1'), 'base64url').toString()) as Record<string, string>;
  assert.deepEqual(header, { username: 'u', password: 'p:w', serveraddress: 'reg:5000' });
  assert.equal(Buffer.from(await registryAuthHeader(env, 'busybox'), 'base64url').toString(), '{}');
  assert.equal(await saveAuth(env, 'reg:5000', undefined), true);
  assert.equal(await loadAuth(env, 'reg:5000'), undefined);
  assert.equal(await saveAuth(env, 'reg:5000', undefined), false);
  assert.deepEqual(await loadAuth(env, 'other:1'), { username: 'x', password: 'y' });
});

test('saveAuth refuses to bypass a configured credential helper', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'brig-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
  await assert.rejects(saveAuth({ DOCKER_CONFIG: dir }, 'reg:5000', { username: 'u', password: 'p' }), /credential helper/);
});
