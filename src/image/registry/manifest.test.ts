import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLayerTypes, MANIFEST_ACCEPT, MEDIA_TYPES, parseManifest, parsePlatform, platformMatches, selectPlatform, type ImageIndex } from './manifest.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
  schemaVersion: 2,
  config: { mediaType: MEDIA_TYPES.ociConfig, digest: D('a'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('b'), size: 20 }],
  ...extra,
}));

test('the Accept list names all four manifest types', () => {
  for (const t of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]) assert.ok(MANIFEST_ACCEPT.includes(t));
});

test('parseManifest takes the type from Content-Type; OCI bodies may omit mediaType', () => {
  const m = parseManifest(manifest(), `${MEDIA_TYPES.ociManifest}; charset=utf-8`);
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MEDIA_TYPES.ociManifest);
  const byShape = parseManifest(manifest(), 'application/json');
  assert.equal(byShape.kind, 'manifest');
  const docker = parseManifest(manifest({ mediaType: MEDIA_TYPES.dockerManifest }), MEDIA_TYPES.dockerManifest);
  assert.equal(docker.mediaType, MEDIA_TYPES.dockerManifest);
});

test('parseManifest refuses schema 1, mismatched types and bad descriptors', () => {
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"name":"x","fsLayers":[]}'), MEDIA_TYPES.dockerSchema1Signed), /schema 1 manifest/);
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}'), 'application/json'), /schema 1 manifest/);
  assert.throws(() => parseManifest(manifest({ mediaType: MEDIA_TYPES.ociIndex }), MEDIA_TYPES.ociManifest), /differs from the Content-Type/);
  assert.throws(() => parseManifest(Buffer.from('not json'), MEDIA_TYPES.ociManifest), /not valid JSON/);
  const bad = JSON.parse(manifest().toString()) as { layers: { digest: string }[] };
  bad.layers[0]!.digest = 'sha256:../../etc/passwd';
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify(bad)), MEDIA_TYPES.ociManifest), /not a sha256 digest/);
  const neg = JSON.parse(manifest().toString()) as { config: { size: number } };
  neg.config.size = -1;
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify(neg)), MEDIA_TYPES.ociManifest), /non-negative integer/);
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2,"mediaType":"application/x-other"}'), 'application/x-other'), /unsupported manifest media type/);
});

test('checkLayerTypes refuses foreign layers and non-image configs', () => {
  const m = parseManifest(manifest(), MEDIA_TYPES.ociManifest);
  if (m.kind !== 'manifest') throw new Error('expected a manifest');
  checkLayerTypes(m);
  assert.throws(() => checkLayerTypes({ ...m, layers: [{ ...m.layers[0]!, mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' }] }), { code: 'ERR_NOT_IMPLEMENTED' });
  assert.throws(() => checkLayerTypes({ ...m, config: { ...m.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }), /not a container image/);
});

test('platforms: parsing, aliases, variant matching and selection from an index', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm/7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.throws(() => parsePlatform('linux/../x'), /invalid platform/);
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }));
  const index: ImageIndex = {
    kind: 'index', mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, digest: D('1') as never, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: D('2') as never, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: D('3') as never, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: D('4') as never, size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    ],
  };
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'amd64' }).digest, D('1'));
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, D('3'));
  assert.throws(() => selectPlatform(index, { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x in the manifest list entries/);
});
