import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromDockerCreate } from '../../api/docker/container-create.js';
import { isEngineError } from '../../errors.js';
import { emptyState } from '../../model/container.js';
import type { ContainerRecord } from '../../model/container.js';
import type { Digest, ImageConfig, LayerRecord } from '../../model/image.js';
import { emptyRunConfig } from '../../image/config-format.js';
import { chainIds, sha256 } from '../../util/digest.js';
import { MetadataStore } from './metadata-store.js';

async function dbPath(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'brig-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'metadata.db');
}

async function open(t: TestContext): Promise<{ store: MetadataStore; path: string }> {
  const path = await dbPath(t);
  const store = new MetadataStore(path);
  t.after(() => store.close());
  return { store, path };
}

const IMG = sha256('image config') as Digest;

function container(id: string, name: string, created = '2026-11-28T14:00:00.000Z'): ContainerRecord {
  return {
    id, name, created, imageId: IMG,
    spec: fromDockerCreate({ Image: 'busybox', Cmd: ['echo', 'hi'], Labels: { a: 'b' } }).spec,
    path: 'echo', args: ['hi'], state: emptyState(), restartCount: 0,
  };
}

const hex = (c: string, rest = '0') => c + rest.repeat(64 - c.length);

function image(seed: string, created = '2026-11-28T10:00:00Z'): { id: Digest; config: ImageConfig; chainIds: Digest[]; size: number; comment: string } {
  const diff = sha256(`layer ${seed}`);
  const config: ImageConfig = {
    architecture: 'amd64', os: 'linux', created, author: '', config: { ...emptyRunConfig(), cmd: ['sh'] },
    rootfs: { type: 'layers', diffIds: [diff] }, history: [],
  };
  return { id: sha256(`config ${seed}`), config, chainIds: chainIds([diff]), size: 1234, comment: `image ${seed}` };
}

function layersOf(img: { config: ImageConfig; chainIds: Digest[] }): LayerRecord[] {
  return img.chainIds.map((c, i) => ({ chainId: c, diffId: img.config.rootfs.diffIds[i]!, parent: i ? img.chainIds[i - 1]! : null, size: 1234 }));
}

// ── containers ───────────────────────────────────────────────────────────────────────────────────

test('containers: insert, then get and find by full id, name and /name', async (t) => {
  const { store } = await open(t);
  const c = container(hex('abc'), 'web');
  store.insertContainer(c);
  assert.deepEqual(store.getContainer(c.id), c);
  assert.deepEqual(store.findContainer(c.id), c);
  assert.deepEqual(store.findContainer('web'), c);
  assert.deepEqual(store.findContainer('/web'), c);
  assert.equal(store.getContainer(hex('fff')), undefined);
  assert.equal(store.findContainer('nosuch'), undefined);
  assert.equal(store.findContainer(''), undefined);
});

test('containers: a unique hex prefix finds the container, an ambiguous one is an error', async (t) => {
  const { store } = await open(t);
  store.insertContainer(container(hex('abc1'), 'one'));
  store.insertContainer(container(hex('abc2'), 'two'));
  assert.equal(store.findContainer('abc1')?.name, 'one');
  assert.equal(store.findContainer('abc2')?.name, 'two');
  assert.throws(
    () => store.findContainer('abc'),
    (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && err.message === 'multiple IDs found with provided prefix: abc',
  );
  assert.equal(store.findContainer('abd'), undefined);
  // Prefixes are hex only: LIKE wildcards are never passed through.
  assert.equal(store.findContainer('%'), undefined);
  assert.equal(store.findContainer('ab_1'), undefined);
});

test('containers: a full id wins over a name, a name over an id prefix (Docker\'s order)', async (t) => {
  const { store } = await open(t);
  const a = container(hex('beef'), 'first');
  const b = container(hex('cafe'), 'beef');
  const c = container(hex('dd'), a.id); // a name that is another container's full id
  for (const x of [a, b, c]) store.insertContainer(x);
  assert.equal(store.findContainer('beef')?.id, b.id);
  assert.equal(store.findContainer(a.id)?.id, a.id);
  assert.equal(store.findContainer('caf')?.id, b.id);
});

test('containers: a taken name is Docker\'s conflict message', async (t) => {
  const { store } = await open(t);
  const first = container(hex('1'), 'xweb');
  store.insertContainer(first);
  assert.throws(
    () => store.insertContainer(container(hex('2'), 'xweb')),
    (err: unknown) => {
      assert.ok(isEngineError(err, 'ERR_NAME_IN_USE'), String(err));
      assert.equal(err.category, 'already-exists'); // → 409
      assert.equal(err.message,
        `Conflict. The container name "/xweb" is already in use by container "${first.id}". ` +
        'You have to remove (or rename) that container to be able to reuse that name.');
      return true;
    },
  );
  assert.equal(store.getContainer(hex('2')), undefined);
  store.deleteContainer(first.id);
  assert.doesNotThrow(() => store.insertContainer(container(hex('2'), 'xweb')));
});

test('containers: state updates, restart count, list order and delete', async (t) => {
  const { store } = await open(t);
  store.insertContainer(container(hex('1'), 'old', '2026-11-28T10:00:00.000Z'));
  store.insertContainer(container(hex('2'), 'new', '2026-11-28T11:00:00.000Z'));
  const running = { ...emptyState(), status: 'running' as const, pid: 4242, startedAt: '2026-11-28T11:00:01Z' };
  store.updateContainerState(hex('1'), running);
  assert.deepEqual(store.getContainer(hex('1'))?.state, running);
  assert.equal(store.getContainer(hex('1'))?.restartCount, 0);
  const exited = { ...running, status: 'exited' as const, pid: 0, exitCode: 3, finishedAt: '2026-11-28T11:00:02Z' };
  store.updateContainerState(hex('1'), exited, 2);
  assert.deepEqual(store.getContainer(hex('1'))?.state, exited);
  assert.equal(store.getContainer(hex('1'))?.restartCount, 2);
  assert.deepEqual(store.listContainers().map((c) => c.name), ['new', 'old']);
  assert.equal(store.countContainersByImage(IMG), 2);
  store.deleteContainer(hex('1'));
  store.deleteContainer(hex('1')); // idempotent
  assert.deepEqual(store.listContainers().map((c) => c.name), ['new']);
  assert.equal(store.countContainersByImage(IMG), 1);
});

// ── images ───────────────────────────────────────────────────────────────────────────────────────

test('images: put with layers and a tag, then get, tag lookup, prefix lookup and layers', async (t) => {
  const { store } = await open(t);
  const img = image('a');
  assert.equal(store.putImage(img, layersOf(img), 'docker.io/library/busybox:latest'), undefined);
  const rec = store.getImage(img.id)!;
  assert.equal(rec.id, img.id);
  assert.deepEqual(rec.config, img.config);
  assert.deepEqual(rec.chainIds, img.chainIds);
  assert.deepEqual(rec.repoTags, ['docker.io/library/busybox:latest']);
  assert.equal(rec.comment, 'image a');
  assert.equal(rec.created, img.config.created);
  assert.equal(store.imageIdForTag('docker.io/library/busybox:latest'), img.id);
  assert.equal(store.imageIdForTag('docker.io/library/busybox:1.36'), undefined);
  assert.deepEqual(store.imageIdsByPrefix(img.id.slice(7, 19)), [img.id]);
  assert.deepEqual(store.imageIdsByPrefix('zz'), []);
  assert.deepEqual(store.layer(img.chainIds[0]!), layersOf(img)[0]);
  assert.equal(store.layer(sha256('nope')), undefined);
});

test('images: a tag moving to another image returns the previous id; re-tagging the same image does not', async (t) => {
  const { store } = await open(t);
  const a = image('a');
  const b = image('b');
  const tag = 'docker.io/library/app:v1';
  assert.equal(store.putImage(a, layersOf(a), tag), undefined);
  assert.equal(store.putImage(a, layersOf(a), tag), undefined);
  assert.equal(store.putImage(b, layersOf(b), tag), a.id);
  assert.equal(store.imageIdForTag(tag), b.id);
  assert.deepEqual(store.getImage(a.id)?.repoTags, []); // a is now dangling
  assert.deepEqual(store.getImage(b.id)?.repoTags, [tag]);
  assert.equal(store.putImage(a, layersOf(a), tag), b.id);
});

test('images: several tags per image, sorted; putting an image again keeps its record', async (t) => {
  const { store } = await open(t);
  const a = image('a');
  store.putImage(a, layersOf(a), 'docker.io/library/z:1');
  store.putImage({ ...a, comment: 'changed', size: 1 }, layersOf(a), 'docker.io/library/a:1');
  store.putImage(a, layersOf(a));
  const rec = store.getImage(a.id)!;
  assert.deepEqual(rec.repoTags, ['docker.io/library/a:1', 'docker.io/library/z:1']);
  assert.equal(rec.comment, 'image a');
  assert.equal(rec.size, 1234);
});

test('images: an ambiguous prefix returns (at least) two ids; list is newest first', async (t) => {
  const { store } = await open(t);
  const imgs = Array.from({ length: 40 }, (_, i) => image(String(i), `2026-11-28T10:00:${String(i).padStart(2, '0')}Z`));
  for (const img of imgs) store.putImage(img, layersOf(img));
  // 40 random ids: some pair shares its first hex digit.
  const first = imgs.map((i) => i.id[7]!);
  const shared = first.find((c, i) => first.indexOf(c) !== i)!;
  assert.equal(store.imageIdsByPrefix(shared).length, 2);
  assert.deepEqual(store.listImages().map((i) => i.id), [...imgs].reverse().map((i) => i.id));
});

test('repo digests are listed with their image; layer blobs are found by diff id, local ones first', async (t) => {
  const { store } = await open(t);
  const img = image('d');
  store.putImage(img, layersOf(img), 'docker.io/library/d:1', 'docker.io/library/d@sha256:' + 'e'.repeat(64));
  assert.deepEqual(store.getImage(img.id)?.repoDigests, ['docker.io/library/d@sha256:' + 'e'.repeat(64)]);
  const diffId = sha256('layer') as Digest;
  const remote = { diffId, digest: sha256('gz') as Digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 9, repo: '127.0.0.1:5000/x' };
  const local = { ...remote, repo: '' };
  store.addLayerBlob(remote);
  store.addLayerBlob(local);
  store.addLayerBlob(local);
  assert.deepEqual(store.layerBlobs(diffId), [local, remote]);
  assert.deepEqual(store.layerBlobs(sha256('other') as Digest), []);
});

// ── the database file ────────────────────────────────────────────────────────────────────────────

test('re-opening the same file keeps the data; the daemon id is stable', async (t) => {
  const path = await dbPath(t);
  const s1 = new MetadataStore(path);
  const id = s1.daemonId();
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(s1.daemonId(), id);
  s1.insertContainer(container(hex('1'), 'kept'));
  const img = image('a');
  s1.putImage(img, layersOf(img), 'docker.io/library/kept:1');
  s1.close();

  const s2 = new MetadataStore(path); // migrations must not run again
  t.after(() => s2.close());
  assert.equal(s2.daemonId(), id);
  assert.equal(s2.findContainer('kept')?.id, hex('1'));
  assert.equal(s2.imageIdForTag('docker.io/library/kept:1'), img.id);
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), 4);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
});

test('two stores get different daemon ids', async (t) => {
  const { store: a } = await open(t);
  const { store: b } = await open(t);
  assert.notEqual(a.daemonId(), b.daemonId());
});

test('a database from a newer brig is refused, not downgraded', async (t) => {
  const path = await dbPath(t);
  new MetadataStore(path).close();
  const db = new Database(path);
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => new MetadataStore(path), (err: unknown) => isEngineError(err, 'ERR_INTERNAL') && /refusing to downgrade/.test(err.message));
});

test('images: tag, remove references, retain and delete', async (t) => {
  const { store } = await open(t);
  const img = image('z');
  store.putImage(img, layersOf(img), 'docker.io/library/z:latest', `docker.io/library/z@${sha256('manifest')}`);
  assert.equal(store.tagImage('docker.io/library/z:v2', img.id), undefined);
  assert.deepEqual(store.getImage(img.id)?.repoTags, ['docker.io/library/z:latest', 'docker.io/library/z:v2']);
  assert.equal(store.imageIdForRepoDigest(`docker.io/library/z@${sha256('manifest')}`), img.id);
  assert.equal(store.removeReference('docker.io/library/z:v2'), true);
  assert.equal(store.removeReference('docker.io/library/z:v2'), false);
  store.retainImage(img.id);
  assert.equal(store.isRetained(img.id), true);
  assert.deepEqual(store.listImages(), []);
  assert.deepEqual(store.imageIdsByPrefix(img.id.slice(7, 12)), []);
  assert.deepEqual(store.getImage(img.id)?.repoTags, []);
  assert.deepEqual(store.allRepoDigestRefs(), []);
  store.deleteImage(img.id);
  assert.equal(store.getImage(img.id), undefined);
  assert.deepEqual(store.retainedImageIds(), []);
  assert.equal(store.listLayers().length, 1, 'layer rows stay for the garbage collector');
});

test('networks and sandboxes: records, endpoints as unique address allocations, cascade on sandbox delete', async (t) => {
  const { store, path } = await open(t);
  const net = {
    id: hex('a'), name: 'n1', driver: 'bridge' as const, bridge: 'bt1', subnet: '10.213.9.0/24', gateway: '10.213.9.1', ipRange: '',
    internal: false, dnsEnabled: true, labels: { x: 'y' }, options: {}, created: '2026-11-28T14:00:00.000Z', builtin: false,
  };
  store.insertNetwork(net);
  assert.throws(() => store.insertNetwork({ ...net, id: hex('b') }), (e: unknown) => isEngineError(e, 'ERR_CONFLICT') && /network with name n1 already exists/.test(String(e)));
  assert.deepEqual(store.listNetworks(), [net]);
  const ep = (ip: string) => ({ networkId: net.id, networkName: 'n1', endpointId: hex('e'), ipv4: ip, prefixLen: 24, gateway: '10.213.9.1', mac: '', aliases: ['a'] });
  const sb = { containerId: hex('c'), name: 'web', netnsPath: '/run/x/netns/c', ports: [{ hostIp: '127.0.0.1', hostPort: 28000, containerPort: 80, protocol: 'tcp' as const }], endpoints: [ep('10.213.9.2')] };
  store.putSandbox(sb);
  store.putSandbox({ ...sb, endpoints: [{ ...ep('10.213.9.2'), mac: 'aa:bb:cc:dd:ee:ff' }] });
  assert.throws(() => store.putSandbox({ ...sb, containerId: hex('d'), endpoints: [ep('10.213.9.2')] }), (e: unknown) => isEngineError(e, 'ERR_CONFLICT'));
  assert.throws(() => store.deleteNetwork(net.id), /FOREIGN KEY/);
  store.close();
  const again = new MetadataStore(path);
  t.after(() => again.close());
  assert.deepEqual(again.listSandboxes(), [{ ...sb, endpoints: [{ ...ep('10.213.9.2'), mac: 'aa:bb:cc:dd:ee:ff' }] }]);
  again.deleteSandbox(sb.containerId);
  assert.deepEqual(again.listSandboxes(), []);
  again.deleteNetwork(net.id);
  assert.deepEqual(again.listNetworks(), []);
});
