import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import type { Digest, ImageConfig, ImageRecord, LayerBlob } from '../model/image.js';
import { FsContentStore } from '../store/content/content-store.js';
import { chainIds, sha256 } from '../util/digest.js';
import { emptyRunConfig, serializeImageConfig } from './config-format.js';
import { archiveName, loadImageArchive, type LoadTarget } from './image-load.js';
import { readSmallBlob, saveImageArchive } from './image-save.js';
import { tarEnd, tarHeader, tarPadding } from './tar-writer.js';

/** A tar of the given files (built with brig's own writer). */
function tarOf(files: [string, Buffer | string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, d] of files) {
    const data = Buffer.from(d);
    parts.push(tarHeader({ name, type: 'file', size: data.length, mode: 0o644, mtime: 0 }), data, tarPadding(data.length));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

const hexOf = (b: Buffer | string) => sha256(Buffer.from(b)).slice(7);

async function store(t: TestContext) {
  const root = await mkdtemp(join(tmpdir(), 'brig-load-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const content = new FsContentStore(root);
  await content.init();
  const committed: { id: Digest; tags: string[] }[] = [];
  // Unpacking is faked: layers are plain tars, so the diff ID is the blob's own digest.
  const target: LoadTarget = {
    content,
    unpack: async (blob, parent) => {
      const diffId = sha256(await readSmallBlob(content, blob));
      return { layer: { chainId: parent ? sha256(`${parent} ${diffId}`) : diffId, diffId, parent, size: 1 }, compression: 'none' };
    },
    commit: (image, tags) => void committed.push({ id: image.id, tags }),
  };
  return { content, target, committed };
}

function imageFiles(layers: Buffer[], diffIds = layers.map((l) => sha256(l))) {
  const config: ImageConfig = {
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', author: '', config: emptyRunConfig(),
    rootfs: { type: 'layers', diffIds }, history: [],
  };
  const bytes = serializeImageConfig(config);
  return { config, bytes, id: sha256(bytes) };
}

test('archive names: absolute, .. and NUL are refused; ./ and // are normalised', () => {
  assert.equal(archiveName('./blobs//sha256/x/'), 'blobs/sha256/x');
  for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'blobs/sha256/../../x', 'a\0b']) {
    assert.throws(() => archiveName(bad), (e: Error & { code?: string }) => e.code === 'ERR_UNSAFE_ARCHIVE', bad);
  }
});

test('a Docker archive loads; digests are verified as blobs are read', async (t) => {
  const s = await store(t);
  const layer = tarOf([['f', 'hello']]);
  const img = imageFiles([layer]);
  const archive = tarOf([
    [`blobs/sha256/${hexOf(layer)}`, layer],
    [`blobs/sha256/${img.id.slice(7)}`, img.bytes],
    ['manifest.json', JSON.stringify([{ Config: `blobs/sha256/${img.id.slice(7)}`, RepoTags: ['me/app:v1'], Layers: [`blobs/sha256/${hexOf(layer)}`] }])],
  ]);
  const loaded = await loadImageArchive(Readable.from([archive]), s.target);
  assert.deepEqual(loaded, [{ id: img.id, tags: ['docker.io/me/app:v1'] }]);
});

test('an OCI layout loads with its containerd name; nested index picks this host', async (t) => {
  const s = await store(t);
  const layer = tarOf([['f', 'oci']]);
  const img = imageFiles([layer]);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: img.id, size: img.bytes.length }, layers: [{ digest: sha256(layer), size: layer.length }] }));
  const index = { manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/library/oci:1' } }] };
  const archive = tarOf([
    [`blobs/sha256/${hexOf(layer)}`, layer], [`blobs/sha256/${img.id.slice(7)}`, img.bytes], [`blobs/sha256/${hexOf(manifest)}`, manifest],
    ['index.json', JSON.stringify(index)], ['oci-layout', '{"imageLayoutVersion":"1.0.0"}'],
  ]);
  assert.deepEqual(await loadImageArchive(Readable.from([archive]), s.target), [{ id: img.id, tags: ['docker.io/library/oci:1'] }]);
});

test('bad archives are refused with a clear error', async (t) => {
  const s = await store(t);
  const layer = tarOf([['f', 'x']]);
  const img = imageFiles([layer]);
  const two = imageFiles([layer, layer]);
  const manifest = (config: string, layers: string[]) => ['manifest.json', JSON.stringify([{ Config: config, RepoTags: null, Layers: layers }])] as [string, string];
  const cases: [string, Buffer, RegExp][] = [
    ['non-hex blob name', tarOf([['blobs/sha256/zz', 'x']]), /not a sha256 digest/],
    ['blob not matching its name', tarOf([[`blobs/sha256/${'c'.repeat(64)}`, 'x']]), /digest mismatch/],
    ['traversal', tarOf([['../../escape', 'x']]), /escapes the archive/],
    ['no manifest', tarOf([['hello', 'x']]), /neither manifest.json nor index.json/],
    ['missing config', tarOf([manifest(`blobs/sha256/${img.id.slice(7)}`, [])]), /missing from the archive/],
    ['missing layer', tarOf([[`blobs/sha256/${img.id.slice(7)}`, img.bytes], manifest(`blobs/sha256/${img.id.slice(7)}`, [`blobs/sha256/${hexOf(layer)}`])]), /missing from the archive/],
    ['layer count mismatch', tarOf([[`blobs/sha256/${hexOf(layer)}`, layer], [`blobs/sha256/${two.id.slice(7)}`, two.bytes],
      manifest(`blobs/sha256/${two.id.slice(7)}`, [`blobs/sha256/${hexOf(layer)}`])]), /lists 1 layers but its config has 2/],
    ['diff ID mismatch', (() => {
      const wrong = imageFiles([layer], [sha256('other')]);
      return tarOf([[`blobs/sha256/${hexOf(layer)}`, layer], [`blobs/sha256/${wrong.id.slice(7)}`, wrong.bytes],
        manifest(`blobs/sha256/${wrong.id.slice(7)}`, [`blobs/sha256/${hexOf(layer)}`])]);
    })(), /diff ID .* but its config says/],
    ['OCI descriptor with a bad digest', tarOf([['index.json', JSON.stringify({ manifests: [{ digest: 'sha256:../../etc' }] })]]), /not sha256:<64 hex>/],
    ['legacy config not matching its name', tarOf([[`${'d'.repeat(64)}.json`, img.bytes], manifest(`${'d'.repeat(64)}.json`, [])]), /does not match its digest/],
  ];
  for (const [what, archive, message] of cases) {
    await assert.rejects(loadImageArchive(Readable.from([archive]), s.target), message, what);
  }
  assert.deepEqual(s.committed, []);
});

test('save is deterministic and its output loads back to the same image', async (t) => {
  const s = await store(t);
  const layer = tarOf([['f', 'saved']]);
  const blob = await s.content.put(layer);
  const img = imageFiles([layer]);
  await s.content.put(img.bytes);
  const record: ImageRecord = {
    id: img.id, config: img.config, chainIds: chainIds(img.config.rootfs.diffIds), size: 1, created: img.config.created,
    repoTags: ['docker.io/library/saved:1'], repoDigests: [], comment: '',
  };
  const blobs: LayerBlob[] = [{ diffId: blob.digest, digest: blob.digest, mediaType: 'application/vnd.oci.image.layer.v1.tar', size: blob.size, repo: '' }];
  const save = async () => {
    const chunks: Buffer[] = [];
    for await (const c of await saveImageArchive([{ image: record, tag: 'docker.io/library/saved:1' }], { content: s.content, layerBlobs: () => blobs })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const a = await save();
  assert.ok(a.equals(await save()));
  assert.deepEqual(await loadImageArchive(Readable.from([a]), s.target), [{ id: img.id, tags: ['docker.io/library/saved:1'] }]);
  await assert.rejects(saveImageArchive([{ image: record }], { content: s.content, layerBlobs: () => [] }), /no stored blob for layer/);
});
