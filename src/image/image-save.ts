/**
 * `docker save`: the Docker image archive as Docker 25+ writes it, which is an OCI image layout too:
 *
 *   blobs/sha256/<config hex>     the image config, byte for byte (its digest is the image ID)
 *   blobs/sha256/<diff ID hex>    each layer as an uncompressed tar (its sha256 is the diff ID)
 *   blobs/sha256/<manifest hex>   an OCI manifest per image
 *   index.json                    OCI index: one descriptor per tag (or one untagged)
 *   manifest.json                 Docker's list of {Config, RepoTags, Layers}
 *   oci-layout                    OCI layout marker
 *   repositories                  legacy {repo: {tag: top layer}} (only when something is tagged)
 *
 * Deterministic: entries in lexical order, fixed times (epoch), owner root, modes 0644/0755, so
 * saving the same images twice gives the same bytes. Layer blobs stored compressed are decompressed
 * on the fly; each layer is decompressed once up front (size for the tar header, digest checked
 * against the diff ID) and verified again while it streams. The result is a pull-based Readable:
 * nothing is produced faster than the client reads.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { Digest, ImageRecord, LayerBlob } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import { digestHex } from '../util/digest.js';
import { LayerDecoder } from './decompress.js';
import { familiarName, parseReference } from './reference.js';
import { tarEnd, tarHeader, tarPadding } from './tar-writer.js';

/** An image to save, with the tag (full name) it is saved under, if any. */
export interface SaveTarget {
  image: ImageRecord;
  tag?: string;
}

export interface SaveSources {
  content: FsContentStore;
  layerBlobs(diffId: Digest): LayerBlob[];
}

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MEDIA_LAYER = 'application/vnd.oci.image.layer.v1.tar';

type Entry =
  | { name: string; data: Buffer }
  | { name: string; layer: { blob: Digest; diffId: Digest; size: number } };

/** Prepares the archive (all checks happen here, before any byte is sent) and returns its stream. */
export async function saveImageArchive(targets: SaveTarget[], src: SaveSources): Promise<Readable> {
  // One manifest.json item per image, in the order first named; tags merged.
  const byId = new Map<Digest, { image: ImageRecord; tags: string[] }>();
  for (const t of targets) {
    const cur = byId.get(t.image.id) ?? { image: t.image, tags: [] };
    if (t.tag && !cur.tags.includes(t.tag)) cur.tags.push(t.tag);
    byId.set(t.image.id, cur);
  }
  const blobs = new Map<string, Entry>();
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const descriptors: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags } of byId.values()) {
    const config = await readSmallBlob(src.content, image.id);
    blobs.set(digestHex(image.id), { name: digestHex(image.id), data: config });
    const layers: { digest: Digest; size: number }[] = [];
    for (const diffId of image.config.rootfs.diffIds) {
      let entry = blobs.get(digestHex(diffId));
      if (!entry) {
        entry = { name: digestHex(diffId), layer: await locateLayer(diffId, src) };
        blobs.set(entry.name, entry);
      }
      layers.push({ digest: diffId, size: 'layer' in entry ? entry.layer.size : entry.data.length });
    }
    const platform = { architecture: image.config.architecture, os: image.config.os };
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: { mediaType: MEDIA_CONFIG, digest: image.id, size: config.length },
      layers: layers.map((l) => ({ mediaType: MEDIA_LAYER, digest: l.digest, size: l.size })),
    }));
    const manifestHex = createHash('sha256').update(manifest).digest('hex');
    blobs.set(manifestHex, { name: manifestHex, data: manifest });
    const descriptor = { mediaType: MEDIA_MANIFEST, digest: `sha256:${manifestHex}`, size: manifest.length };
    if (tags.length === 0) descriptors.push({ ...descriptor, platform });
    const top = image.config.rootfs.diffIds.at(-1);
    for (const tag of tags) {
      const ref = parseReference(tag);
      const familiar = familiarName(tag);
      descriptors.push({
        ...descriptor,
        annotations: { 'io.containerd.image.name': tag, 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' },
        platform,
      });
      const repo = familiar.slice(0, familiar.lastIndexOf(':'));
      if (top) (repositories[repo] ??= {})[ref.tag ?? 'latest'] = digestHex(top);
    }
    manifestJson.push({
      Config: `blobs/sha256/${digestHex(image.id)}`,
      RepoTags: tags.length ? tags.map(familiarName) : null,
      Layers: image.config.rootfs.diffIds.map((d) => `blobs/sha256/${digestHex(d)}`),
    });
  }
  const tail: Entry[] = [
    { name: 'index.json', data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: descriptors })) },
    { name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifestJson)}\n`) },
    { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion": "1.0.0"}') },
  ];
  if (Object.keys(repositories).length > 0) tail.push({ name: 'repositories', data: Buffer.from(`${JSON.stringify(repositories)}\n`) });
  const sorted = [...blobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return Readable.from(generate(sorted, tail, src.content), { objectMode: false });
}

async function* generate(blobs: Entry[], tail: Entry[], content: FsContentStore): AsyncGenerator<Buffer> {
  const dir = (name: string) => tarHeader({ name, type: 'directory', size: 0, mode: 0o755, mtime: 0 });
  yield dir('blobs/');
  yield dir('blobs/sha256/');
  for (const e of blobs) yield* entry({ ...e, name: `blobs/sha256/${e.name}` }, content);
  for (const e of tail) yield* entry(e, content);
  yield tarEnd();
}

async function* entry(e: Entry, content: FsContentStore): AsyncGenerator<Buffer> {
  if ('data' in e) {
    yield tarHeader({ name: e.name, type: 'file', size: e.data.length, mode: 0o644, mtime: 0 });
    yield e.data;
    yield tarPadding(e.data.length);
    return;
  }
  const { blob, diffId, size } = e.layer;
  yield tarHeader({ name: e.name, type: 'file', size, mode: 0o644, mtime: 0 });
  const hash = createHash('sha256');
  let n = 0;
  const reader = content.reader(blob);
  try {
    for await (const chunk of new LayerDecoder().decode(reader)) {
      n += chunk.length;
      if (n > size) break;
      hash.update(chunk);
      yield chunk;
    }
  } finally {
    reader.destroy();
  }
  if (n !== size || `sha256:${hash.digest('hex')}` !== diffId) {
    throw new EngineError('ERR_INTERNAL', `layer ${diffId} changed while it was being saved (blob ${blob})`);
  }
  yield tarPadding(size);
}

/** Finds a local blob of the layer and measures (and verifies) its uncompressed tar. */
async function locateLayer(diffId: Digest, src: SaveSources): Promise<{ blob: Digest; diffId: Digest; size: number }> {
  const candidates = src.layerBlobs(diffId).filter((b) => b.repo === '');
  // An uncompressed copy streams without decompression: prefer it.
  candidates.sort((a, b) => Number(b.digest === diffId) - Number(a.digest === diffId));
  for (const c of candidates) {
    if (!(await src.content.info(c.digest))) continue;
    const hash = createHash('sha256');
    let size = 0;
    const reader = src.content.reader(c.digest);
    try {
      for await (const chunk of new LayerDecoder().decode(reader)) {
        hash.update(chunk);
        size += chunk.length;
      }
    } finally {
      reader.destroy();
    }
    if (`sha256:${hash.digest('hex')}` !== diffId) {
      throw new EngineError('ERR_INTERNAL', `stored blob ${c.digest} does not decompress to layer ${diffId}`);
    }
    return { blob: c.digest, diffId, size };
  }
  throw new EngineError('ERR_NOT_FOUND', `no stored blob for layer ${diffId}: the image cannot be saved`);
}

/** Reads a config blob (bounded: configs are small). */
export async function readSmallBlob(content: FsContentStore, digest: Digest, max = MAX_CONFIG_BYTES): Promise<Buffer> {
  const info = await content.info(digest);
  if (!info) throw new EngineError('ERR_NOT_FOUND', `blob ${digest} is missing from the content store`);
  if (info.size > max) throw new EngineError('ERR_LIMIT_EXCEEDED', `blob ${digest} is larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  for await (const c of content.reader(digest)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
