import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Digest, LayerBlob } from '../model/image.js';
import { buildManifest, deterministicGzip, layerTypeFor, mountSource, pickLocalBlob, translatePushError } from './push.js';
import { parseReference } from './reference.js';
import { RegistryError } from './registry/errors.js';
import { parseManifest } from './registry/manifest.js';

const dg = (c: string) => `sha256:${c.repeat(64)}` as Digest;

async function gzipOf(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Chunked differently each time: the output must not depend on how the input arrives.
  const parts = [data.subarray(0, 7), data.subarray(7, 100_000), data.subarray(100_000)];
  for await (const c of Readable.from(parts).pipe(deterministicGzip())) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('deterministic gzip: same bytes every time, mtime 0, no name, decompresses to the input', async () => {
  const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
  const a = await gzipOf(data);
  const b = await gzipOf(data);
  assert.deepEqual(a, b);
  assert.equal(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
  assert.deepEqual([...a.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'gzip magic, deflate, no flags (no file name)');
  assert.equal(a.readUInt32LE(4), 0, 'mtime 0');
  assert.deepEqual(gunzipSync(a), data);
});

test('buildManifest: OCI types for OCI layers, Docker schema 2 for Docker layers, stable bytes', () => {
  const config = { digest: dg('c'), size: 123 };
  const oci = buildManifest(config, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: dg('a'), size: 10 }]);
  assert.equal(oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const parsed = parseManifest(oci.bytes, oci.mediaType);
  assert.equal(parsed.kind, 'manifest');
  assert.deepEqual(parsed.kind === 'manifest' && parsed.config, { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg('c'), size: 123 });
  assert.deepEqual(buildManifest(config, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: dg('a'), size: 10 }]).bytes, oci.bytes);

  const docker = buildManifest(config, [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: dg('a'), size: 10 }]);
  assert.equal(docker.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const d = JSON.parse(docker.bytes.toString()) as { config: { mediaType: string }; layers: { mediaType: string }[] };
  assert.equal(d.config.mediaType, 'application/vnd.docker.container.image.v1+json');

  // a mix is written in the OCI family, converting the Docker layer type
  const mixed = JSON.parse(buildManifest(config, [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: dg('a'), size: 1 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: dg('b'), size: 2 },
  ]).bytes.toString()) as { mediaType: string; layers: { mediaType: string }[] };
  assert.equal(mixed.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(mixed.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd']);
  assert.equal(layerTypeFor('application/vnd.oci.image.layer.v1.tar', 'docker'), 'application/vnd.docker.image.rootfs.diff.tar');
});

test('push plan: pick the compressed local blob; mount only from another repository of the same registry', () => {
  const blob = (digest: Digest, repo: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): LayerBlob => ({ diffId: dg('d'), digest, mediaType, size: 1, repo });
  const plain = blob(dg('d'), '', 'application/vnd.oci.image.layer.v1.tar');
  const gz = blob(dg('e'), '');
  assert.equal(pickLocalBlob([plain, gz]), gz);
  assert.equal(pickLocalBlob([plain]), plain, 'a plain tar only: compressed by the pusher');
  assert.equal(pickLocalBlob([blob(dg('e'), '127.0.0.1:5000/x')]), undefined, 'remote rows are not local blobs');

  const target = parseReference('127.0.0.1:5000/test/new');
  const known = [gz, blob(dg('e'), '127.0.0.1:5001/test/other'), blob(dg('e'), '127.0.0.1:5000/test/new'), blob(dg('f'), '127.0.0.1:5000/test/wrongblob'), blob(dg('e'), '127.0.0.1:5000/test/src')];
  assert.equal(mountSource(known, dg('e'), target), 'test/src');
  assert.equal(mountSource(known.slice(0, 4), dg('e'), target), undefined, 'other registry, same repo, other blob: upload');
  assert.equal(mountSource([blob(dg('e'), 'docker.io/library/busybox')], dg('e'), parseReference('me/app')), 'library/busybox');
});

test('push errors: bodiless 401/403 (HEAD answers) get Docker\'s words; others pass through', () => {
  const u = translatePushError(new RegistryError('ERR_UNAUTHORIZED', 'HEAD blob x: unexpected status 401', 401, [])) as Error;
  assert.equal(u.message, 'unauthorized: authentication required');
  const f = translatePushError(new RegistryError('ERR_FORBIDDEN', 'x', 403, [])) as Error;
  assert.equal(f.message, 'denied: requested access to the resource is denied');
  const withBody = new RegistryError('ERR_UNAUTHORIZED', 'unauthorized: nope', 401, [{ code: 'UNAUTHORIZED', message: 'nope' }]);
  assert.equal(translatePushError(withBody), withBody);
});
