import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Digest, ImageConfig } from '../model/image.js';
import { emptyState } from '../model/container.js';
import { fromDockerCreate } from '../api/docker/container-create.js';
import { FsContentStore } from '../store/content/content-store.js';
import { LayerStore } from '../store/layers/layer-store.js';
import { MetadataStore } from '../store/metadata/metadata-store.js';
import { chainIds, digestHex } from '../util/digest.js';
import { RwLock } from '../util/rw-lock.js';
import { emptyRunConfig } from './config-format.js';
import { GarbageCollector } from './gc.js';

async function setup(t: TestContext) {
  const root = await mkdtemp(join(tmpdir(), 'brig-gc-'));
  const meta = new MetadataStore(join(root, 'brig.db'));
  const content = new FsContentStore(root);
  await content.init();
  const layers = new LayerStore(root);
  await layers.init();
  const lock = new RwLock();
  t.after(async () => {
    meta.close();
    await rm(root, { recursive: true, force: true });
  });
  /** An image of `n` layers whose contents are `seed-i`; blobs and layer dirs really exist. */
  const addImage = async (seed: string, layerSeeds: string[], tag?: string) => {
    const diffIds: Digest[] = [];
    for (const s of layerSeeds) {
      const blob = await content.put(Buffer.from(`layer ${s}`));
      diffIds.push(blob.digest);
      meta.addLayerBlob({ diffId: blob.digest, digest: blob.digest, mediaType: 'application/vnd.oci.image.layer.v1.tar', size: blob.size, repo: '' });
    }
    const chains = chainIds(diffIds);
    for (const c of chains) await mkdir(join(layers.diffDir(c)), { recursive: true });
    const config: ImageConfig = {
      architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', author: '', config: emptyRunConfig(),
      rootfs: { type: 'layers', diffIds }, history: [],
    };
    const id = (await content.put(Buffer.from(`config ${seed}`))).digest;
    meta.putImage({ id, config, chainIds: chains, size: 10, comment: '' },
      chains.map((c, i) => ({ chainId: c, diffId: diffIds[i]!, parent: i ? chains[i - 1]! : null, size: 5 })), tag);
    return { id, diffIds, chains };
  };
  return { root, meta, content, layers, lock, gc: new GarbageCollector(meta, content, layers, lock), addImage };
}

test('gc keeps what images reference and sweeps the rest, blobs, layer dirs and rows', async (t) => {
  const s = await setup(t);
  const a = await s.addImage('a', ['base', 'a1'], 'docker.io/library/a:latest');
  const b = await s.addImage('b', ['base', 'b1'], 'docker.io/library/b:latest');
  const stray = await s.content.put(Buffer.from('unreferenced'));
  await mkdir(s.layers.diffDir(stray.digest), { recursive: true });

  let r = await s.gc.collect();
  assert.deepEqual(r.blobs, [stray.digest]);
  assert.deepEqual(r.layers, [stray.digest]);

  s.meta.deleteImage(b.id);
  r = await s.gc.collect();
  // b's config, its own layer blob and its top chain go; the shared base stays.
  assert.deepEqual(new Set(r.blobs), new Set([b.id, b.diffIds[1]]));
  assert.deepEqual(r.layers, [b.chains[1]]);
  assert.deepEqual(new Set(await s.content.list()), new Set([a.id, ...a.diffIds]));
  assert.deepEqual(new Set(await s.layers.list()), new Set(a.chains));
  assert.deepEqual(new Set(s.meta.listLayers().map((l) => l.chainId)), new Set(a.chains));
  assert.deepEqual(s.meta.layerBlobs(b.diffIds[1]!), []);
  assert.equal(s.meta.layerBlobs(a.diffIds[0]!).length, 1);
});

test('gc keeps manifests named by repo digests', async (t) => {
  const s = await setup(t);
  const manifest = await s.content.put(Buffer.from('{"manifest":1}'));
  const a = await s.addImage('a', ['x']);
  s.meta.putImage({ ...s.meta.getImage(a.id)!, chainIds: a.chains }, [], undefined, `docker.io/library/a@${manifest.digest}`);
  const r = await s.gc.collect();
  assert.deepEqual(r.blobs, []);
  assert.ok((await s.content.list()).includes(manifest.digest));
});

test('a retained image stays while a container uses it and goes after', async (t) => {
  const s = await setup(t);
  const a = await s.addImage('a', ['x'], 'docker.io/library/a:latest');
  s.meta.insertContainer({
    id: 'c'.repeat(64), name: 'user', created: '2026-01-01T00:00:00Z', imageId: a.id,
    spec: fromDockerCreate({ Image: 'a', Cmd: ['true'] }).spec, path: 'true', args: [], state: emptyState(), restartCount: 0,
  });
  s.meta.retainImage(a.id);
  assert.deepEqual(s.meta.listImages(), []);
  assert.ok(s.meta.getImage(a.id), 'the container can still read its image');
  assert.deepEqual((await s.gc.collect()).blobs, []);
  s.meta.deleteContainer('c'.repeat(64));
  const r = await s.gc.collect();
  assert.deepEqual(r.images, [a.id]);
  assert.deepEqual(new Set(r.blobs), new Set([a.id, a.diffIds[0]]));
  assert.deepEqual(await s.layers.list(), []);
});

test('sweepOrphans removes ingest temp files and staging dirs of a previous run', async (t) => {
  const s = await setup(t);
  await writeFile(join(s.root, 'ingest', 'abc123'), 'partial');
  await mkdir(join(s.root, 'layers', '.tmp-deadbeef', 'diff'), { recursive: true });
  const r = await s.gc.sweepOrphans();
  assert.equal(r.leftovers, 2);
  assert.deepEqual(await readdir(join(s.root, 'ingest')), []);
  assert.deepEqual(await readdir(join(s.root, 'layers')), []);
});

test('gc waits for a writer holding the lock shared and keeps what it wrote', async (t) => {
  const s = await setup(t);
  let release!: () => void;
  let written!: Digest;
  const writer = s.lock.shared(async () => {
    written = (await s.content.put(Buffer.from('layer being pulled'))).digest;
    await new Promise<void>((r) => (release = r));
    await s.addImage('pulled', ['being pulled']);
  });
  while (written === undefined) await new Promise((r) => setTimeout(r, 5));
  let done = false;
  const collecting = s.gc.collect().then((r) => ((done = true), r));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(done, false, 'gc must wait for the writer');
  release();
  await writer;
  const r = await collecting;
  assert.deepEqual(r.blobs, []);
  assert.ok((await s.content.list()).includes(written));
  assert.equal(digestHex(written).length, 64);
});
