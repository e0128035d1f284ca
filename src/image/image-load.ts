/**
 * `docker load`: reads a Docker image archive (`manifest.json`, old `<id>/layer.tar` or Docker 25+
 * `blobs/sha256/…` names) or an OCI image layout (`index.json`) from an untrusted stream.
 *
 * - The archive is read once, entry by entry (never held in memory): `blobs/sha256/<hex>` entries
 *   go into the content store verified against their name as they are read; legacy `<hex>.json` and
 *   `<dir>/layer.tar` entries are stored and checked later against what references them; the small
 *   metadata files (`manifest.json`, `index.json`, `repositories`) are read with a size cap;
 *   anything else is skipped.
 * - Entry names never become paths: only validated digests (`sha256:` + 64 hex) do. Names with
 *   `..`, absolute names, hard links and devices are refused; symlinks (old Docker wrote them for
 *   repeated layers) are only aliases between names inside the archive.
 * - Every referenced blob must be present; every layer is unpacked path-safely and its diff ID,
 *   computed while unpacking, must equal the config's; the image ID is the config's digest.
 *
 * Errors: ERR_UNSAFE_ARCHIVE for malformed or refused archives, ERR_INVALID_ARGUMENT for
 * inconsistent ones. The caller holds the store lock shared and, on error, collects garbage so
 * nothing of a refused archive stays.
 */
import { Readable } from 'node:stream';
import { EngineError, isEngineError } from '../errors.js';
import type { Digest, ImageConfig, LayerRecord } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import { isDigest, isHex64 } from '../util/digest.js';
import { parseImageConfig } from './config-format.js';
import type { Compression } from './decompress.js';
import { readSmallBlob } from './image-save.js';
import { hostArchitecture } from './image-store.js';
import { fullName, parseReference, parseReferenceWithDefaultTag } from './reference.js';
import { TarReader } from './tar-reader.js';

/** What the loader needs from the image store. */
export interface LoadTarget {
  content: FsContentStore;
  /** Unpacks a stored layer blob on top of `parent`; the diff ID is computed, never trusted. */
  unpack(blob: Digest, parent: Digest | null, expectedDiffId: Digest): Promise<{ layer: LayerRecord; compression: Compression }>;
  /** Records the image with its layers, layer blobs and tags (full names) in one go. */
  commit(image: { id: Digest; config: ImageConfig; layers: { layer: LayerRecord; blob: Digest; blobSize: number; compression: Compression }[] }, tags: string[]): void;
}

export interface LoadedImage {
  id: Digest;
  /** Full names (`docker.io/library/busybox:latest`). */
  tags: string[];
}

const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024 * 1024;
const MAX_IMAGES = 1000;

const unsafe = (message: string) => new EngineError('ERR_UNSAFE_ARCHIVE', `invalid archive: ${message}`);
const invalid = (message: string) => new EngineError('ERR_INVALID_ARGUMENT', `invalid archive: ${message}`);

/** Normalises an entry name (`./a//b/` → `a/b`); refuses absolute names, `..` and NUL. */
export function archiveName(raw: string): string {
  if (raw.includes('\0')) throw unsafe(`entry name contains NUL: ${JSON.stringify(raw)}`);
  if (raw.startsWith('/')) throw unsafe(`absolute entry name: ${raw}`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(`entry name escapes the archive: ${raw}`);
  return parts.join('/');
}

/** A symlink target resolved against the link's directory, inside the archive. */
function resolveLink(from: string, target: string): string {
  if (target.startsWith('/')) throw unsafe(`absolute symlink ${from} -> ${target}`);
  const parts = from.split('/').slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw unsafe(`symlink escapes the archive: ${from} -> ${target}`);
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

/** Loads every image of the archive; returns them in archive order. */
export async function loadImageArchive(input: Readable, target: LoadTarget): Promise<LoadedImage[]> {
  const files = new Map<string, Digest>(); // archive name → stored blob
  const links = new Map<string, string>();
  const metadata = new Map<string, Buffer>();
  // Not destroyed when the reader stops: on an HTTP request that would kill the connection before
  // the answer is written. The rest of the input is drained instead.
  const source = input.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
  const reader = new TarReader(source, { maxEntries: MAX_ENTRIES, maxPaxHeaderSize: 1024 * 1024, maxArchiveBytes: MAX_ARCHIVE_BYTES });
  try {
    for await (const { header, body } of reader.entries()) {
      const name = archiveName(header.name);
      if (header.type === 'directory') continue;
      if (header.type === 'symlink') {
        links.set(name, resolveLink(name, header.linkname));
        continue;
      }
      if (header.type !== 'file') throw unsafe(`entry ${name} is a ${header.type}; an image archive holds only files, directories and symlinks`);
      const blob = /^blobs\/sha256\/(.*)$/.exec(name);
      if (blob) {
        if (!isHex64(blob[1]!)) throw unsafe(`blob name is not a sha256 digest: ${name}`);
        const info = await target.content.ingest(bodyStream(body), `sha256:${blob[1]!}` as Digest).catch((err: unknown) => {
          throw isEngineError(err, 'ERR_INVALID_ARGUMENT') ? invalid(`${name}: ${err.message}`) : err;
        });
        files.set(name, info.digest);
      } else if (['manifest.json', 'index.json', 'repositories', 'oci-layout'].includes(name)) {
        metadata.set(name, await readCapped(body, header.size, name));
      } else if (/^[^/]+\.json$/.test(name) || /^[^/]+\/layer\.tar$/.test(name)) {
        files.set(name, (await target.content.ingest(bodyStream(body))).digest);
      }
      // Anything else (legacy `<id>/json`, `<id>/VERSION`) is skipped unread.
    }
  } finally {
    await source.return?.();
    input.resume();
  }

  const blobOf = (name: unknown, what: string): Digest => {
    if (typeof name !== 'string') throw invalid(`${what} is not a file name`);
    let n = archiveName(name);
    for (let hops = 0; links.has(n); hops++) {
      if (hops > 16) throw unsafe(`too many symlinks resolving ${name}`);
      n = links.get(n)!;
    }
    const d = files.get(n);
    if (!d) throw invalid(`${what} ${name} is missing from the archive`);
    return d;
  };

  const manifest = metadata.get('manifest.json');
  const images: { config: Digest; layers: Digest[]; tags: string[] }[] = [];
  if (manifest) {
    const items = parseJson(manifest, 'manifest.json');
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_IMAGES) throw invalid('manifest.json must be a non-empty list');
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'object' || item === null) throw invalid(`manifest.json item ${i} is not an object`);
      const { Config, RepoTags, Layers } = item as Record<string, unknown>;
      const config = blobOf(Config, 'config');
      // A legacy `<hex>.json` config was stored unverified: its name is the image ID it claims.
      const legacy = /^([0-9a-f]{64})\.json$/.exec(String(Config));
      if (legacy && config !== `sha256:${legacy[1]!}`) throw invalid(`config ${String(Config)} does not match its digest`);
      if (!Array.isArray(Layers)) throw invalid(`manifest.json item ${i} has no Layers list`);
      if (RepoTags !== null && RepoTags !== undefined && (!Array.isArray(RepoTags) || !RepoTags.every((t) => typeof t === 'string'))) {
        throw invalid(`manifest.json item ${i} has an invalid RepoTags list`);
      }
      images.push({ config, layers: Layers.map((l, j) => blobOf(l, `layer ${j}`)), tags: ((RepoTags as string[] | null) ?? []).map(tagName) });
    }
  } else if (metadata.has('index.json')) {
    const index = parseJson(metadata.get('index.json')!, 'index.json') as { manifests?: unknown };
    if (!Array.isArray(index.manifests) || index.manifests.length === 0 || index.manifests.length > MAX_IMAGES) throw invalid('index.json has no manifests');
    const byManifest = new Map<Digest, { config: Digest; layers: Digest[]; tags: string[] }>();
    for (const desc of index.manifests) {
      const m = await manifestOf(desc, target.content, files, 0);
      const name = ociName(desc);
      const prev = byManifest.get(m.digest);
      if (prev) {
        if (name && !prev.tags.includes(name)) prev.tags.push(name);
        continue;
      }
      const entry = { config: m.config, layers: m.layers, tags: name ? [name] : [] };
      byManifest.set(m.digest, entry);
      images.push(entry);
    }
  } else {
    throw invalid('neither manifest.json nor index.json found (not a docker save archive or OCI image layout)');
  }

  // Check everything before unpacking anything.
  const configs = new Map<Digest, ImageConfig>();
  for (const img of images) {
    const config = parseImageConfig(await readSmallBlob(target.content, img.config));
    if (config.rootfs.diffIds.length !== img.layers.length) {
      throw invalid(`image ${img.config} lists ${img.layers.length} layers but its config has ${config.rootfs.diffIds.length} diff IDs`);
    }
    configs.set(img.config, config);
  }

  const loaded: LoadedImage[] = [];
  for (const img of images) {
    const config = configs.get(img.config)!;
    const layers = [];
    let parent: Digest | null = null;
    for (const [i, blob] of img.layers.entries()) {
      const expected = config.rootfs.diffIds[i]!;
      const u = await target.unpack(blob, parent, expected);
      if (u.layer.diffId !== expected) {
        throw invalid(`layer ${i} of image ${img.config} has diff ID ${u.layer.diffId}, but its config says ${expected}`);
      }
      const info = await target.content.info(blob);
      layers.push({ layer: u.layer, blob, blobSize: info?.size ?? 0, compression: u.compression });
      parent = u.layer.chainId;
    }
    target.commit({ id: img.config, config, layers }, img.tags);
    loaded.push({ id: img.config, tags: img.tags });
  }
  return loaded;
}

/** A manifest descriptor of index.json, resolved to its config and layer blobs (nested indexes: this host's platform). */
async function manifestOf(desc: unknown, content: FsContentStore, files: Map<string, Digest>, depth: number): Promise<{ digest: Digest; config: Digest; layers: Digest[] }> {
  if (depth > 2) throw invalid('indexes nested too deep');
  const d = descriptor(desc, files);
  const doc = parseJson(await readSmallBlob(content, d.digest, MAX_METADATA_BYTES), d.digest) as Record<string, unknown>;
  const mediaType = doc['mediaType'] ?? d.mediaType;
  if (Array.isArray(doc['manifests'])) {
    const arch = hostArchitecture();
    const pick = doc['manifests'].find((m) => {
      const p = (m as { platform?: { os?: unknown; architecture?: unknown } }).platform;
      return p?.os === 'linux' && p.architecture === arch;
    });
    if (!pick) throw invalid(`index ${d.digest} has no manifest for linux/${arch}`);
    return manifestOf(pick, content, files, depth + 1);
  }
  if (typeof mediaType === 'string' && !/manifest/.test(mediaType)) throw invalid(`${d.digest} has unsupported media type ${mediaType}`);
  const config = descriptor(doc['config'], files).digest;
  if (!Array.isArray(doc['layers'])) throw invalid(`manifest ${d.digest} has no layers list`);
  return { digest: d.digest, config, layers: doc['layers'].map((l) => descriptor(l, files).digest) };
}

function descriptor(v: unknown, files: Map<string, Digest>): { digest: Digest; mediaType: unknown } {
  if (typeof v !== 'object' || v === null) throw invalid('descriptor is not an object');
  const { digest, mediaType } = v as Record<string, unknown>;
  if (!isDigest(digest)) throw unsafe(`descriptor digest is not sha256:<64 hex>: ${String(digest)}`);
  if (!files.has(`blobs/sha256/${digest.slice(7)}`)) throw invalid(`blob ${digest} is missing from the archive`);
  return { digest, mediaType };
}

/** An OCI descriptor's image name: containerd's full name annotation, else a full `ref.name`. */
function ociName(desc: unknown): string | undefined {
  const a = (desc as { annotations?: Record<string, unknown> }).annotations ?? {};
  const full = a['io.containerd.image.name'];
  if (typeof full === 'string') return tagName(full);
  const ref = a['org.opencontainers.image.ref.name'];
  // A bare tag (`latest`) names no repository: the image stays untagged.
  if (typeof ref === 'string' && /[/:]/.test(ref)) return tagName(ref);
  return undefined;
}

function tagName(raw: string): string {
  const ref = parseReference(raw);
  if (ref.digest) throw invalid(`cannot load image tagged with a digest: ${raw}`);
  return fullName(parseReferenceWithDefaultTag(raw));
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readCapped(body: AsyncIterable<Buffer>, size: number, name: string): Promise<Buffer> {
  if (size > MAX_METADATA_BYTES) throw new EngineError('ERR_LIMIT_EXCEEDED', `invalid archive: ${name} is larger than ${MAX_METADATA_BYTES} bytes`);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The entry body as a byte stream for the content store (pulled as the store writes). */
function bodyStream(body: AsyncIterable<Buffer>): Readable {
  return Readable.from(body, { objectMode: false });
}
