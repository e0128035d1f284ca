/**
 * `docker push` (and brig's own `push`, `pull`, `login`, `logout`, and `run` of a missing image)
 * against a real registry (docker-registry on 127.0.0.1): plain HTTP, TLS + htpasswd Basic, Bearer
 * tokens. What brig pushed is read back by `docker pull` through brig and by skopeo.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runProcess, type TestDaemon } from './harness.js';
import { PASSWORD, setUpRegistry, tearDownRegistry, USER, type Images, type TestRegistry } from './registry-harness.js';


interface Inspect { Id: string; RepoDigests: string[]; RepoTags: string[]; RootFS: { Layers: string[] } }

async function inspect(d: TestDaemon, ref: string): Promise<Inspect> {
  const r = await d.http('GET', `/images/${ref}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json() as Inspect;
}

/** The `<tag>: digest: sha256:… size: N` line of a push. */
function pushedDigest(stdout: string, tag: string): string {
  const m = new RegExp(`${tag}: digest: (sha256:[0-9a-f]{64}) size: \\d+`).exec(stdout);
  assert.ok(m, `no digest line for ${tag} in:\n${stdout}`);
  return m[1]!;
}

async function skopeoDigest(ref: string, extra: string[] = ['--tls-verify=false']): Promise<string> {
  const r = await runProcess('skopeo', ['inspect', ...extra, `docker://${ref}`], { ...process.env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { Digest: string }).Digest;
}

const short = (d: string) => d.slice(7, 19);

describe('push to a plain HTTP registry', () => {
  let tmp: string;
  let reg: TestRegistry;
  let images: Images;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, images, d } = await setUpRegistry('plain', 'push-', { pushes: [['simple', 'test/simple:1']] })));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('docker push of an imported image; pull back by tag and digest gives the same image', async () => {
    const ref = `${reg.host}/test/bb:1`;
    const local = await inspect(d, 'busybox:latest');
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const r = await d.docker(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`The push refers to repository \\[${reg.host}/test/bb\\]`));
    for (const l of local.RootFS.Layers) assert.match(r.stdout, new RegExp(`${short(l)}: Pushed`));
    const digest = pushedDigest(r.stdout, '1');
    assert.ok((await inspect(d, ref)).RepoDigests.includes(`${reg.host}/test/bb@${digest}`));
    assert.equal(await skopeoDigest(ref), digest);

    const again = await d.docker(['push', ref]);
    assert.equal(again.code, 0, again.stderr);
    for (const l of local.RootFS.Layers) assert.match(again.stdout, new RegExp(`${short(l)}: Layer already exists`));
    assert.equal(pushedDigest(again.stdout, '1'), digest, 'a second push gives the same manifest (deterministic gzip)');

    const rmi = await d.docker(['rmi', ref, 'busybox:latest']);
    assert.equal(rmi.code, 0, rmi.stderr);
    const pulled = await d.docker(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    const back = await inspect(d, ref);
    assert.equal(back.Id, local.Id);
    assert.deepEqual(back.RepoDigests, [`${reg.host}/test/bb@${digest}`]);
    const byDigest = await d.docker(['pull', `${reg.host}/test/bb@${digest}`]);
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.equal((await inspect(d, `${reg.host}/test/bb@${digest}`)).Id, local.Id);
    const run = await d.docker(['run', '--rm', ref, 'echo', 'round trip']);
    assert.equal(run.stdout, 'round trip\n', run.stderr);
  });

  test('push to another repository of the same registry mounts the layers', async () => {
    const src = `${reg.host}/test/bb:1`;
    const ref = `${reg.host}/test/bb-copy:1`;
    assert.equal((await d.docker(['tag', src, ref])).code, 0);
    const r = await d.docker(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    const layers = (await inspect(d, ref)).RootFS.Layers;
    for (const l of layers) assert.match(r.stdout, new RegExp(`${short(l)}: Mounted from test/bb`));
  });

  test('a pulled image is pushed with its original manifest (same digest), mounted from its source', async () => {
    const src = `${reg.host}/test/simple:1`;
    assert.equal((await d.docker(['pull', src])).code, 0);
    const ref = `${reg.host}/test/simple-copy:2`;
    assert.equal((await d.docker(['tag', src, ref])).code, 0);
    const r = await d.docker(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pushedDigest(r.stdout, '2'), images.simple.digest);
    assert.match(r.stdout, /Mounted from test\/simple/);
    assert.equal(await skopeoDigest(ref), images.simple.digest);
  });

  test('push --all-tags pushes every tag; the raw stream ends with aux {Tag, Digest, Size}', async () => {
    for (const t of ['a', 'b']) assert.equal((await d.docker(['tag', `${reg.host}/test/bb:1`, `${reg.host}/test/tags:${t}`])).code, 0);
    const r = await d.docker(['push', '--all-tags', `${reg.host}/test/tags`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pushedDigest(r.stdout, 'a'), pushedDigest(r.stdout, 'b'));
    const raw = await d.http('POST', `/images/${reg.host}/test/tags/push?tag=a`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(raw.status, 200, raw.body);
    const msgs = raw.body.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; aux?: { Tag: string; Digest: string; Size: number } });
    assert.deepEqual(msgs[0], { status: `The push refers to repository [${reg.host}/test/tags]` });
    const aux = msgs.at(-1)!.aux!;
    assert.equal(aux.Tag, 'a');
    assert.equal(aux.Digest, pushedDigest(r.stdout, 'a'));
    assert.ok(aux.Size > 0);
  });

  test('pushing a name that is not tagged locally fails as in Docker', async () => {
    const r = await d.docker(['push', `${reg.host}/test/nothing:1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`An image does not exist locally with the tag: ${reg.host}/test/nothing`));
    const t = await d.docker(['push', `${reg.host}/test/bb:nosuchtag`]);
    assert.equal(t.code, 1);
    assert.match(t.stderr, new RegExp(`tag does not exist: ${reg.host}/test/bb:nosuchtag`));
  });
});

describe('push to a TLS registry with Basic auth', () => {
  let tmp: string;
  let reg: TestRegistry;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, d } = await setUpRegistry('tls-basic', 'push-tls-')));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('push without login is refused; after docker login it works and skopeo reads it', async () => {
    const ref = `${reg.host}/test/bb:1`;
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const denied = await d.docker(['push', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized: authentication required/);
    const ok = await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    const r = await d.docker(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    const digest = pushedDigest(r.stdout, '1');
    const cert = ['--cert-dir', join(reg.certsDir, reg.host), '--creds', `${USER}:${PASSWORD}`];
    assert.equal(await skopeoDigest(ref, cert), digest);
  });
});

describe('brig login, push, pull, logout and run of a missing image (TLS + Basic registry)', () => {
  let tmp: string;
  let reg: TestRegistry;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, d } = await setUpRegistry('tls-basic', 'push-cli-')));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('round trip through brig\'s own CLI; credentials in $DOCKER_CONFIG/config.json (0600), never in the daemon', async () => {
    const ref = `${reg.host}/test/cli:1`;
    assert.equal((await d.brig(['tag', 'busybox:latest', ref])).code, 0);
    const denied = await d.brig(['push', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized: authentication required/);

    const wrong = await d.brig(['login', '-u', USER, '--password-stdin', reg.host], { input: 'wrong\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 Unauthorized/);
    const login = await d.brig(['login', '-u', USER, '--password-stdin', reg.host], { input: `${PASSWORD}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const cfgPath = join(d.configDir, 'config.json');
    assert.equal((await stat(cfgPath)).mode & 0o777, 0o600);
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(), `${USER}:${PASSWORD}`);

    const pushed = await d.brig(['push', ref]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /: Pushed/);
    const digest = pushedDigest(pushed.stdout, '1');
    const id = (await inspect(d, ref)).Id;
    // the docker CLI reads what brig login wrote
    const viaDocker = await d.docker(['push', ref]);
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.match(viaDocker.stdout, /Layer already exists/);

    assert.equal((await d.brig(['rmi', ref, 'busybox:latest'])).code, 0);
    const pulled = await d.brig(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /: Pull complete/);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal((await inspect(d, ref)).Id, id);

    assert.equal((await d.brig(['rmi', ref])).code, 0);
    const run = await d.brig(['run', '--rm', ref, 'echo', 'pulled by run']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'pulled by run\n');
    assert.match(run.stderr, new RegExp(`Unable to find image '${ref}' locally`));
    assert.match(run.stderr, /Pull complete/);

    const logout = await d.brig(['logout', reg.host]);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, new RegExp(`Removing login credentials for ${reg.host}`));
    const after = JSON.parse(await readFile(cfgPath, 'utf8')) as { auths: Record<string, unknown> };
    assert.equal(after.auths[reg.host], undefined);
    const again = await d.brig(['pull', ref]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /pull access denied/);
  });
});

describe('push to a registry with Bearer tokens', () => {
  let tmp: string;
  let reg: TestRegistry;
  let d: TestDaemon;
  before(async () => ({ tmp, reg, d } = await setUpRegistry('bearer', 'push-tok-')));
  after(() => tearDownRegistry({ tmp, reg, d }));

  test('anonymous push is refused; after login tokens ask pull,push (and pull on the mount source)', async () => {
    const ref = `${reg.host}/test/bb:1`;
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const denied = await d.docker(['push', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized|denied/);
    assert.equal((await d.docker(['login', reg.host, '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` })).code, 0);
    reg.tokenRequests.length = 0;
    const r = await d.docker(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: Pushed/);
    assert.ok(reg.tokenRequests.some((t) => t.authenticated && t.scopes.includes('repository:test/bb:pull,push')), JSON.stringify(reg.tokenRequests));
    assert.ok(reg.tokenRequests.every((t) => !t.scopes.includes('repository:test/bb:pull')), JSON.stringify(reg.tokenRequests));

    const copy = `${reg.host}/test/copy:1`;
    assert.equal((await d.docker(['tag', ref, copy])).code, 0);
    reg.tokenRequests.length = 0;
    const m = await d.docker(['push', copy]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /Mounted from test\/bb/);
    assert.ok(reg.tokenRequests.some((t) => t.scopes.includes('repository:test/copy:pull,push') && t.scopes.includes('repository:test/bb:pull')), JSON.stringify(reg.tokenRequests));
    assert.equal(pushedDigest(m.stdout, '1'), pushedDigest(r.stdout, '1'));
  });
});
