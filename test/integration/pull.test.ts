/**
 * `docker pull`, `docker run` of a missing image and `docker login` against a real registry
 * (docker-registry on 127.0.0.1) in three modes: plain HTTP, TLS + htpasswd Basic, Bearer tokens.
 * Images are OCI layouts built by the harness and pushed with skopeo.
 */
import assert from 'node:assert/strict';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';
import { PASSWORD, setUpRegistry, tearDownRegistry, USER, type Images, type TestRegistry } from './registry-harness.js';


async function dataRootState(d: TestDaemon): Promise<{ layers: string[]; blobs: string[]; ingest: string[] }> {
  const ls = async (p: string) => (await readdir(join(d.dataRoot, p))).sort();
  return { layers: await ls('layers'), blobs: await ls('blobs/sha256'), ingest: await ls('ingest') };
}

async function inspect(d: TestDaemon, ref: string): Promise<{ Id: string; Architecture: string; RepoDigests: string[]; RepoTags: string[] }> {
  const r = await d.http('GET', `/images/${ref}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json() as { Id: string; Architecture: string; RepoDigests: string[]; RepoTags: string[] };
}

describe('pull from a plain HTTP registry', () => {
  let tmp: string;
  let reg: TestRegistry;
  let images: Images;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, images, d } = await setUpRegistry('plain', 'pull-', { pushes: [['simple', 'test/busybox:1'], ['simple', 'test/other:1'], ['multi', 'test/multi:1', true], ['baddiff', 'test/baddiff:1'], ['simple', 'test/corrupt:1']], daemon: { busybox: false } })));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('docker pull shows progress, records the repo digest, and the image runs', async () => {
    const ref = `${reg.host}/test/busybox:1`;
    const r = await d.docker(['pull', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1: Pulling from test\/busybox/);
    for (const l of images.simple.layerDigests) assert.match(r.stdout, new RegExp(`${l.slice(7, 19)}: Pull complete`));
    assert.match(r.stdout, new RegExp(`Digest: ${images.simple.digest}`));
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/test/busybox:1`));
    const img = await inspect(d, ref);
    assert.equal(img.Id, images.simple.configDigests[0]);
    assert.deepEqual(img.RepoDigests, [`${reg.host}/test/busybox@${images.simple.digest}`]);
    const run = await d.docker(['run', '--rm', ref, 'cat', '/hello.txt']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello from layer 2\n');
    const again = await d.docker(['pull', ref]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/test/busybox:1`));
  });

  test('the raw progress stream has Docker\'s JSON messages', async () => {
    const r = await d.http('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/test/busybox`)}&tag=1`);
    assert.equal(r.status, 200);
    const msgs = r.body.trim().split('\n').map((l) => JSON.parse(l) as { status: string; id?: string });
    assert.deepEqual(msgs[0], { status: 'Pulling from test/busybox', id: '1' });
    assert.ok(msgs.some((m) => m.status === 'Already exists' && m.id === images.simple.layerDigests[0]!.slice(7, 19)));
    assert.equal(msgs.at(-1)!.status, `Status: Image is up to date for ${reg.host}/test/busybox:1`);
  });

  test('pull by digest; shared layers are stored once ("Already exists")', async () => {
    const before = await dataRootState(d);
    const r = await d.docker(['pull', `${reg.host}/test/other@${images.simple.digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Already exists/);
    const after = await dataRootState(d);
    assert.deepEqual(after.layers, before.layers, 'no new layer directories');
    assert.equal(after.layers.length, 2);
    const img = await inspect(d, `${reg.host}/test/other@${images.simple.digest}`);
    assert.ok(img.RepoDigests.includes(`${reg.host}/test/other@${images.simple.digest}`));
  });

  test('docker run of a missing image pulls it first', async () => {
    const r = await d.docker(['run', '--rm', `${reg.host}/test/other:1`, 'cat', '/hello.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Unable to find image '${reg.host}/test/other:1' locally`));
    assert.match(r.stdout, /hello from layer 2\n$/);
  });

  test('a multi-arch index picks the host platform, or --platform', async () => {
    const ref = `${reg.host}/test/multi:1`;
    const r = await d.docker(['pull', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await inspect(d, ref)).Architecture, 'amd64');
    assert.deepEqual((await inspect(d, ref)).RepoDigests, [`${reg.host}/test/multi@${images.multi.digest}`]);
    const arm = await d.docker(['pull', '--platform', 'linux/arm64', ref]);
    assert.equal(arm.code, 0, arm.stderr);
    const img = await inspect(d, ref);
    assert.equal(img.Architecture, 'arm64');
    assert.equal(img.Id, images.multi.arm64Config);
    const none = await d.docker(['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  test('unknown tags and repositories are Docker\'s errors', async () => {
    const tag = await d.docker(['pull', `${reg.host}/test/busybox:nope`]);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, new RegExp(`manifest for ${reg.host}/test/busybox:nope not found: manifest unknown`));
    const repo = await d.docker(['pull', `${reg.host}/nosuch/repo:1`]);
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /not found/);
    const raw = await d.http('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/test/busybox`)}&tag=nope`);
    assert.equal(raw.status, 404);
  });

  test('two concurrent pulls of images sharing layers both succeed and leave one copy of each layer', async () => {
    const d3 = await startDaemon({ busybox: false });
    try {
      const [a, b] = await Promise.all([
        d3.docker(['pull', `${reg.host}/test/busybox:1`]),
        d3.docker(['pull', `${reg.host}/test/other:1`]),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const state = await dataRootState(d3);
      assert.equal(state.layers.length, 2, JSON.stringify(state));
      assert.deepEqual(state.ingest, []);
      const run = await d3.docker(['run', '--rm', `${reg.host}/test/other:1`, 'cat', '/hello.txt']);
      assert.equal(run.stdout, 'hello from layer 2\n', run.stderr);
    } finally {
      await d3.stop();
    }
  });

  test('a wrong diff ID or a corrupted blob is refused and leaves nothing behind', async () => {
    const before = await dataRootState(d);
    const bad = await d.docker(['pull', `${reg.host}/test/baddiff:1`]).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${d.log}`);
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unpacks to sha256:[0-9a-f]{64}, but the image config says/);
    assert.deepEqual(await dataRootState(d), before);
    assert.equal((await d.http('GET', `/images/${reg.host}/test/baddiff:1/json`)).status, 404);

    // Corrupt the top layer's blob in the registry's storage: same length, different bytes.
    const top = images.simple.layerDigests[1]!;
    const path = reg.blobPath(top);
    const { readFile } = await import('node:fs/promises');
    const data = await readFile(path);
    data[data.length - 10] = data[data.length - 10]! ^ 0xff;
    await writeFile(path, data);
    try {
      // A fresh daemon, so no layer is there already.
      const d2 = await startDaemon({ busybox: false });
      try {
        const r = await d2.docker(['pull', `${reg.host}/test/corrupt:1`]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /digest mismatch|invalid gzip data|unexpected end/);
        assert.deepEqual(await dataRootState(d2), { layers: [], blobs: [], ingest: [] });
        assert.equal((await d2.http('GET', '/images/json')).body, '[]');
      } catch (err) {
        throw new Error(`${(err as Error).message}\ndaemon log:\n${d2.log}`, { cause: err });
      } finally {
        await d2.stop();
      }
    } finally {
      data[data.length - 10] = data[data.length - 10]! ^ 0xff;
      await writeFile(path, data);
    }
  });
});

describe('pull from a TLS registry with Basic auth', () => {
  let tmp: string;
  let reg: TestRegistry;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, d } = await setUpRegistry('tls-basic', 'pull-tls-', { pushes: [['simple', 'test/busybox:1']], daemon: { busybox: false } })));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('pull without login is denied; login with a wrong password fails; login then pull works', async () => {
    const ref = `${reg.host}/test/busybox:1`;
    const denied = await d.docker(['pull', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, new RegExp(`pull access denied for ${reg.host}/test/busybox, repository does not exist or may require 'docker login'`));
    const wrong = await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: 'wrong\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 Unauthorized/);
    const ok = await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const pulled = await d.docker(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /Pull complete/);
    const run = await d.docker(['run', '--rm', ref, 'cat', '/hello.txt']);
    assert.equal(run.stdout, 'hello from layer 2\n', run.stderr);
  });

  test('without the CA in the certs dir the certificate is refused (no fallback to HTTP)', async () => {
    const dir = join(reg.certsDir, reg.host);
    await rename(dir, `${dir}.off`);
    try {
      const r = await d.docker(['pull', `${reg.host}/test/busybox:1`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /TLS certificate verification failed/);
    } finally {
      await rename(`${dir}.off`, dir);
    }
  });
});

describe('pull from a registry with Bearer tokens', () => {
  let tmp: string;
  let reg: TestRegistry;
  let images: Images;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, images, d } = await setUpRegistry('bearer', 'pull-tok-', { pushes: [['simple', 'test/busybox:1']], daemon: { busybox: false } })));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('anonymous pull is denied; login asks a token without scope; pull asks repository:…:pull', async () => {
    const ref = `${reg.host}/test/busybox:1`;
    const denied = await d.docker(['pull', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /pull access denied/);
    const wrong = await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: 'nope\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /incorrect username or password/);
    reg.tokenRequests.length = 0;
    const ok = await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(reg.tokenRequests, [{ scopes: [], account: USER, authenticated: true }]);
    const pulled = await d.docker(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(reg.tokenRequests.some((t) => t.authenticated && (t.scopes as string[]).includes('repository:test/busybox:pull')), JSON.stringify(reg.tokenRequests));
    const img = await inspect(d, ref);
    assert.equal(img.Id, images.simple.configDigests[0]);
  });
});
