/**
 * `docker push`: local tags of a repository → blobs and manifest in a registry.
 *
 * For each layer (in `rootfs.diff_ids` order) the local blob comes from `layer_blobs` (repo ''); a
 * layer stored only uncompressed is gzip-compressed into the content store first (deterministic
 * bytes, so pushing twice gives the same digests). Each blob is then checked with HEAD (`Layer
 * already exists`), cross-mounted from another repository of the same registry it is known to be
 * in (`Mounted from …`), or uploaded monolithically, streamed from the content store. The config
 * follows, then the manifest: the original one of a pulled image when every blob it names is local
 * (so the digest does not change), or one built deterministically. Afterwards the blobs are recorded
 * as being in the target repository (later pushes can mount them) and the repo digest is recorded.
 *
 * The push holds the image store's lock shared, so garbage collection never sweeps a blob it reads
 * or creates; a blob it creates is recorded before the lock is released.
 */
import { Transform, type Readable } from 'node:stream';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { EngineError } from '../errors.js';
import type { Digest, ImageRecord, LayerBlob } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { digestHex } from '../util/digest.js';
import type { RwLock } from '../util/rw-lock.js';
import { progressBar, type ProgressMessage } from './pull.js';
import { familiarName, parseReference, repositoryName, type ImageRef } from './reference.js';
import type { Credentials } from './registry/auth.js';
import type { RegistryClient } from './registry/client.js';
import { RegistryError } from './registry/errors.js';
import { MAX_MANIFEST_BYTES, MEDIA_TYPES, parseManifest, type Descriptor, type ImageManifest } from './registry/manifest.js';
import type { Registries } from './registry/registries.js';

/** The message that ends a pushed tag (`docker push` prints nothing for it; API clients read it). */
export interface PushAux {
  progressDetail: Record<string, never>;
  aux: { Tag: string; Digest: Digest; Size: number };
}

export type PushMessage = ProgressMessage | PushAux;

export interface PushRequest {
  /** The repository (`127.0.0.1:5000/test/x`); a tag in it is used when `tag` is empty. */
  name: string;
  /** The tag to push; empty = every local tag of the repository (`docker push --all-tags`). */
  tag?: string;
  credentials?: Credentials;
  signal?: AbortSignal;
  /** Receives progress; called once the push has started (after the local checks passed). */
  progress?: (m: PushMessage) => void;
}

export interface PushedTag {
  tag: string;
  digest: Digest;
  size: number;
}

export interface PusherDeps {
  meta: MetadataStore;
  content: FsContentStore;
  storeLock: RwLock;
  registries: Registries;
  /** Blobs uploaded at the same time (default 3). */
  concurrency?: number;
}

const PROGRESS_INTERVAL_MS = 100;
const GZIP_LAYER = { oci: 'application/vnd.oci.image.layer.v1.tar+gzip', docker: 'application/vnd.docker.image.rootfs.diff.tar.gzip' };

/** OCI ↔ Docker layer media types of the same content. */
const LAYER_TYPE_PAIRS: [oci: string, docker: string][] = [
  ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar'],
  [GZIP_LAYER.oci, GZIP_LAYER.docker],
  ['application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.docker.image.rootfs.diff.tar.zstd'],
];

/** A blob to get into the target repository, and how it went. */
interface BlobJob {
  /** Progress ID: 12 hex digits of the layer's diff ID (Docker's), '' for the config (silent). */
  id: string;
  desc: Descriptor;
  diffId?: Digest;
}

/**
 * Gzip as brig pushes layers: level 6 and a header with mtime 0 and no file name (Node's zlib
 * writes exactly that), so the same tar always gives the same bytes and digest.
 */
export function deterministicGzip(): Transform {
  return createGzip({ level: 6, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
}

/** Whether a layer media type is compressed (gzip or zstd). */
function isCompressed(mediaType: string): boolean {
  return /gzip|zstd/.test(mediaType);
}

function isDockerType(mediaType: string): boolean {
  return mediaType.startsWith('application/vnd.docker.');
}

/** The same layer type in the OCI or the Docker family. */
export function layerTypeFor(mediaType: string, family: 'oci' | 'docker'): string {
  const pair = LAYER_TYPE_PAIRS.find(([o, d]) => o === mediaType || d === mediaType);
  if (!pair) return mediaType;
  return family === 'oci' ? pair[0] : pair[1];
}

/**
 * A manifest for a config and layers, built deterministically: Docker schema 2 types when every
 * layer blob is of a Docker type, OCI types otherwise (layer types converted to the family chosen).
 */
export function buildManifest(config: { digest: Digest; size: number }, layers: readonly Descriptor[]): { mediaType: string; bytes: Buffer } {
  const family = layers.length > 0 && layers.every((l) => isDockerType(l.mediaType)) ? 'docker' : 'oci';
  const mediaType = family === 'docker' ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
  const doc = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: family === 'docker' ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: layerTypeFor(l.mediaType, family), digest: l.digest, size: l.size })),
  };
  return { mediaType, bytes: Buffer.from(JSON.stringify(doc, null, 3)) };
}

/**
 * The repository (path only, on the same registry as `target`) to cross-mount `digest` from: one
 * `layer_blobs` says has it, other than the target itself. Undefined = upload.
 */
export function mountSource(known: readonly LayerBlob[], digest: Digest, target: ImageRef): string | undefined {
  for (const b of known) {
    if (b.digest !== digest || b.repo === '') continue;
    let ref: ImageRef;
    try {
      ref = parseReference(b.repo);
    } catch {
      continue;
    }
    if (ref.domain === target.domain && ref.path !== target.path) return ref.path;
  }
  return undefined;
}

/** The local blob of a layer to push: a compressed one when there is one, else the plain tar. */
export function pickLocalBlob(known: readonly LayerBlob[]): LayerBlob | undefined {
  const local = known.filter((b) => b.repo === '');
  return local.find((b) => isCompressed(b.mediaType)) ?? local[0];
}

export class ImagePusher {
  readonly #d: PusherDeps;

  constructor(deps: PusherDeps) {
    this.#d = deps;
  }

  /**
   * Pushes one tag or every tag of a repository. Checks that fail before anything is sent throw
   * (ERR_NOT_FOUND when nothing is tagged); later failures throw after progress was emitted.
   */
  async push(req: PushRequest): Promise<PushedTag[]> {
    const named = parseReference(req.name);
    if (named.digest) throw new EngineError('ERR_INVALID_REFERENCE', 'cannot push a digest reference');
    const tag = req.tag || named.tag || '';
    const ref: ImageRef = { ...named, tag: null, digest: null };
    if (tag !== '') parseReference(`${repositoryName(ref)}:${tag}`); // validates the tag
    const repo = repositoryName(ref);
    const all = this.#d.meta.tagsOfRepository(repo);
    if (all.length === 0) throw new EngineError('ERR_NOT_FOUND', `An image does not exist locally with the tag: ${familiarName(repo)}`);
    const emit = req.progress ?? (() => {});
    return this.#d.storeLock.shared(async () => {
      emit({ status: `The push refers to repository [${repo}]` });
      const todo = tag === '' ? all : all.filter((t) => t.ref === `${repo}:${tag}`);
      if (todo.length === 0) throw new EngineError('ERR_NOT_FOUND', `tag does not exist: ${familiarName(`${repo}:${tag}`)}`);
      const client = await this.#d.registries.client(ref.domain, req.credentials ?? {});
      const out: PushedTag[] = [];
      try {
        for (const t of todo) {
          const image = this.#d.meta.getImage(t.imageId);
          if (!image) throw new EngineError('ERR_NOT_FOUND', `tag does not exist: ${familiarName(t.ref)}`);
          out.push(await this.#pushTag(client, ref, t.ref.slice(repo.length + 1), image, emit, req.signal));
        }
      } catch (err) {
        throw translatePushError(err);
      }
      return out;
    });
  }

  async #pushTag(client: RegistryClient, ref: ImageRef, tag: string, image: ImageRecord, emit: (m: PushMessage) => void, signal?: AbortSignal): Promise<PushedTag> {
    const repo = repositoryName(ref);
    const diffIds = image.config.rootfs.diffIds;
    const original = await this.#originalManifest(image);
    const layers: Descriptor[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      const fromOriginal = original?.manifest.layers[i];
      layers.push(fromOriginal ?? await this.#localLayer(diffIds[i]!));
    }
    const configInfo = await this.#d.content.info(image.id);
    if (!configInfo) throw new EngineError('ERR_NOT_FOUND', `the config blob of image ${image.id} is missing from the content store`);

    const jobs: BlobJob[] = layers.map((desc, i) => ({ id: digestHex(diffIds[i]!).slice(0, 12), desc, diffId: diffIds[i]! }));
    // Docker lists layers top-down, each once even when an image repeats a layer.
    const seen = new Set<string>();
    const unique = jobs.filter((j) => !seen.has(j.desc.digest) && seen.add(j.desc.digest));
    for (const j of unique) emit({ status: 'Preparing', id: j.id, progressDetail: {} });
    const limit = Math.max(1, this.#d.concurrency ?? 3);
    for (const j of unique.slice(limit)) emit({ status: 'Waiting', id: j.id, progressDetail: {} });
    await runLimited(unique, limit, (j) => this.#pushBlob(client, ref, j, emit, signal), signal);
    await this.#pushBlob(client, ref, { id: '', desc: { mediaType: MEDIA_TYPES.ociConfig, digest: image.id, size: configInfo.size } }, emit, signal);

    const manifest = original ?? { ...buildManifest({ digest: image.id, size: configInfo.size }, layers), digest: undefined };
    const digest = await client.putManifest(ref.path, tag, manifest.mediaType, manifest.bytes, signal);
    if (!(await this.#d.content.info(digest))) await this.#d.content.put(manifest.bytes);
    for (const j of jobs) {
      this.#d.meta.addLayerBlob({ diffId: j.diffId!, digest: j.desc.digest, mediaType: j.desc.mediaType, size: j.desc.size, repo });
    }
    this.#d.meta.addRepoDigest(`${repo}@${digest}`, image.id);
    emit({ status: `${tag}: digest: ${digest} size: ${manifest.bytes.length}` });
    emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.bytes.length } });
    return { tag, digest, size: manifest.bytes.length };
  }

  /**
   * The manifest a pulled image came with (named by one of its repo digests, or the entry of such
   * an index whose config is this image), when every blob it lists is in the local content store.
   */
  async #originalManifest(image: ImageRecord): Promise<{ manifest: ImageManifest; mediaType: string; bytes: Buffer } | undefined> {
    const candidates: Digest[] = [];
    for (const rd of image.repoDigests) {
      const d = rd.slice(rd.lastIndexOf('@') + 1) as Digest;
      const parsed = await this.#readManifest(d);
      if (parsed?.manifest.kind === 'manifest') candidates.push(d);
      else if (parsed?.manifest.kind === 'index') candidates.push(...parsed.manifest.manifests.map((m) => m.digest));
    }
    for (const d of candidates) {
      const parsed = await this.#readManifest(d);
      if (parsed?.manifest.kind !== 'manifest') continue;
      const m = parsed.manifest;
      if (m.config.digest !== image.id || m.layers.length !== image.config.rootfs.diffIds.length) continue;
      let complete = true;
      for (const l of m.layers) if (!(await this.#d.content.info(l.digest))) complete = false;
      if (complete) return { manifest: m, mediaType: m.mediaType, bytes: parsed.bytes };
    }
    return undefined;
  }

  async #readManifest(d: Digest): Promise<{ manifest: ReturnType<typeof parseManifest>; bytes: Buffer } | undefined> {
    const info = await this.#d.content.info(d);
    if (!info || info.size > MAX_MANIFEST_BYTES) return undefined;
    const chunks: Buffer[] = [];
    for await (const c of this.#d.content.reader(d) as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    try {
      return { manifest: parseManifest(bytes, undefined), bytes };
    } catch {
      return undefined; // not a manifest (an index entry may name anything); build one instead
    }
  }

  /** The local blob of a layer, compressing a plain tar into the content store first. */
  async #localLayer(diffId: Digest): Promise<Descriptor> {
    const known = this.#d.meta.layerBlobs(diffId).filter((b) => b.repo === '');
    const present: LayerBlob[] = [];
    for (const b of known) if (await this.#d.content.info(b.digest)) present.push(b);
    const pick = pickLocalBlob(present);
    if (!pick) throw new EngineError('ERR_NOT_FOUND', `no local blob of layer ${diffId}: the image cannot be pushed (pull or load it again)`);
    if (isCompressed(pick.mediaType)) return { mediaType: pick.mediaType, digest: pick.digest, size: pick.size };
    const source = this.#d.content.reader(pick.digest);
    const gz = deterministicGzip();
    source.on('error', (err) => gz.destroy(err));
    const stored = await this.#d.content.ingest(source.pipe(gz));
    const mediaType = isDockerType(pick.mediaType) ? GZIP_LAYER.docker : GZIP_LAYER.oci;
    this.#d.meta.addLayerBlob({ diffId, digest: stored.digest, mediaType, size: stored.size, repo: '' });
    return { mediaType, digest: stored.digest, size: stored.size };
  }

  async #pushBlob(client: RegistryClient, ref: ImageRef, job: BlobJob, emit: (m: PushMessage) => void, signal?: AbortSignal): Promise<void> {
    const say = (status: string, extra: Partial<ProgressMessage> = {}) => {
      if (job.id) emit({ status, id: job.id, progressDetail: {}, ...extra });
    };
    const { digest, size } = job.desc;
    if (await client.headBlob(ref.path, digest, signal, 'pull,push')) {
      say('Layer already exists');
      return;
    }
    const from = job.diffId ? mountSource(this.#d.meta.layerBlobs(job.diffId), digest, ref) : undefined;
    const started = await client.startUpload(ref.path, from ? { digest, from } : undefined, signal);
    if (started.mounted) {
      say(`Mounted from ${from}`);
      return;
    }
    let last = 0;
    let sent = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        const now = Date.now();
        if (now - last >= PROGRESS_INTERVAL_MS || sent === size) {
          last = now;
          say('Pushing', { progressDetail: { current: sent, total: size }, progress: progressBar(sent, size) });
        }
        cb(null, chunk);
      },
    });
    const body: Readable = this.#d.content.reader(digest);
    body.on('error', (err) => count.destroy(err));
    await client.putBlob(ref.path, started.location!, digest, body.pipe(count), size, signal);
    say('Pushed');
  }
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure stops the rest. */
async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const queue = [...items];
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !failed; item = queue.shift()) {
      if (signal?.aborted) throw new EngineError('ERR_UNAVAILABLE', 'the push was cancelled');
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.err;
}

/**
 * Registry refusals as Docker words them: a 401/403 without a body (HEAD answers have none) is
 * `unauthorized: authentication required` / `denied: requested access to the resource is denied`.
 */
export function translatePushError(err: unknown): unknown {
  if (!(err instanceof RegistryError) || err.entries.length > 0) return err;
  if (err.status === 401) return new RegistryError('ERR_UNAUTHORIZED', 'unauthorized: authentication required', 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }]);
  if (err.status === 403) return new RegistryError('ERR_FORBIDDEN', 'denied: requested access to the resource is denied', 403, [{ code: 'DENIED', message: 'requested access to the resource is denied' }]);
  return err;
}
