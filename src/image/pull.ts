/**
 * `docker pull`: reference → manifest (an index picks the platform) → config (verified, parsed) →
 * layers, downloaded in parallel (bounded), each verified by digest while it streams, unpacked
 * while it downloads and stored in the content store at the same time. Diff IDs are computed and
 * must equal the config's `rootfs.diff_ids`. Only then is the image recorded.
 *
 * A failed pull leaves nothing behind: staged dirs and partial blobs are removed by the stores, and
 * layers and blobs this pull created are removed unless another image or pull in progress uses them.
 * The whole pull holds the image store's lock shared, so garbage collection never runs meanwhile.
 */
import { PassThrough, type Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { Digest, ImageConfig, LayerBlob, LayerRecord } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import type { LayerStore } from '../store/layers/layer-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { chainIds, digestHex } from '../util/digest.js';
import { diskUsage } from '../util/fs.js';
import type { RwLock } from '../util/rw-lock.js';
import { parseImageConfig } from './config-format.js';
import { applyLayer } from './layer-apply.js';
import { familiarName, fullName, repositoryName, type ImageRef } from './reference.js';
import type { Credentials } from './registry/auth.js';
import type { RegistryClient } from './registry/client.js';
import { RegistryError } from './registry/errors.js';
import {
  checkLayerTypes, formatPlatform, hostPlatform, parseManifest, platformMatches, selectPlatform,
  type Descriptor, type ImageManifest, type Platform,
} from './registry/manifest.js';
import type { Registries } from './registry/registries.js';

/** One message of Docker's JSON progress stream. */
export interface ProgressMessage {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
}

export interface PullRequest {
  /** Must carry a tag or a digest. */
  ref: ImageRef;
  platform?: Platform;
  credentials?: Credentials;
  signal?: AbortSignal;
  progress?: (m: ProgressMessage) => void;
}

export interface PullResult {
  imageId: Digest;
  /** `repo@sha256:…` of the manifest (or index) pulled. */
  repoDigest: string;
  /** False when the image was there already and the tag did not move. */
  updated: boolean;
}

export interface PullerDeps {
  meta: MetadataStore;
  content: FsContentStore;
  layers: LayerStore;
  storeLock: RwLock;
  registries: Registries;
  /** Layers downloaded at the same time (default 3). */
  concurrency?: number;
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

/** Claims on layers by pulls in progress: a failing pull never removes what another one uses. */
interface LayerClaim {
  users: number;
  /** Set while one pull unpacks the layer; others wait for it instead of unpacking it again. */
  unpacking?: Promise<LayerRecord>;
}

export class ImagePuller {
  readonly #d: PullerDeps;
  readonly #claims = new Map<Digest, LayerClaim>();

  constructor(deps: PullerDeps) {
    this.#d = deps;
  }

  /** Pulls an image and tags it; see the module comment. Errors are Docker's messages. */
  async pull(req: PullRequest): Promise<PullResult> {
    if (!req.ref.tag && !req.ref.digest) throw new EngineError('ERR_INVALID_REFERENCE', 'pull needs a tag or a digest');
    return this.#d.storeLock.shared(async () => {
      try {
        return await this.#pull(req);
      } catch (err) {
        throw translatePullError(err, req.ref);
      }
    });
  }

  async #pull(req: PullRequest): Promise<PullResult> {
    const { ref, signal } = req;
    const emit = req.progress ?? (() => {});
    const want = req.platform ?? hostPlatform();
    const client = await this.#d.registries.client(ref.domain, req.credentials ?? {});
    const repo = ref.path;
    const wanted = (ref.digest ?? ref.tag)!;

    const top = await client.getManifest(repo, wanted, signal);
    const manifests: { digest: Digest; bytes: Buffer }[] = [{ digest: top.digest, bytes: top.bytes }];
    let parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind === 'index') {
      const desc = selectPlatform(parsed, want);
      const m = await client.getManifest(repo, desc.digest, signal);
      if (m.bytes.length !== desc.size) throw new EngineError('ERR_INVALID_ARGUMENT', `manifest ${desc.digest} is not the size its index says`);
      parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.kind !== 'manifest') throw new EngineError('ERR_INVALID_ARGUMENT', `the index entry ${desc.digest} is not an image manifest`);
      manifests.push({ digest: m.digest, bytes: m.bytes });
    }
    const manifest: ImageManifest = parsed;
    checkLayerTypes(manifest);
    emit({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag! });

    const configBytes = await client.getBlobBytes(repo, manifest.config.digest, manifest.config.size, MAX_CONFIG_BYTES, signal);
    const config = parseImageConfig(configBytes);
    validateConfig(config, manifest, want, req.platform !== undefined);
    const imageId = manifest.config.digest;
    const chains = chainIds(config.rootfs.diffIds);

    const created: { chain: Digest; blob: Digest | undefined }[] = [];
    const claimed: Digest[] = [];
    const createdBlobs: Digest[] = [];
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      for (const c of chains) {
        this.#claim(c);
        claimed.push(c);
      }
      const ids = manifest.layers.map((l) => shortId(l.digest));
      const records: LayerRecord[] = new Array(manifest.layers.length);
      const blobs: LayerBlob[] = [];
      const todo: number[] = [];
      for (let i = 0; i < manifest.layers.length; i++) {
        if (await this.#d.layers.has(chains[i]!) && !this.#claims.get(chains[i]!)?.unpacking) {
          emit({ status: 'Already exists', id: ids[i]!, progressDetail: {} });
          records[i] = await this.#existingRecord(chains[i]!, config.rootfs.diffIds[i]!, i === 0 ? null : chains[i - 1]!);
        } else {
          emit({ status: 'Pulling fs layer', id: ids[i]!, progressDetail: {} });
          todo.push(i);
        }
      }
      const limit = Math.max(1, this.#d.concurrency ?? 3);
      for (const i of todo.slice(limit)) emit({ status: 'Waiting', id: ids[i]!, progressDetail: {} });

      const queue = [...todo];
      let firstError: unknown;
      const worker = async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          if (firstError !== undefined) return;
          try {
            const layer = manifest.layers[i]!;
            const out = await this.#layer(client, repo, layer, config.rootfs.diffIds[i]!, chains[i]!, i === 0 ? null : chains[i - 1]!, ids[i]!, emit, abort.signal);
            records[i] = out.record;
            if (out.created) created.push({ chain: chains[i]!, blob: out.createdBlob });
          } catch (err) {
            if (firstError === undefined) firstError = err;
            abort.abort(err);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, worker));
      if (firstError !== undefined) throw firstError;
      if (signal?.aborted) throw new EngineError('ERR_UNAVAILABLE', 'the pull was cancelled');

      const source = repositoryName(ref);
      for (let i = 0; i < manifest.layers.length; i++) {
        const l = manifest.layers[i]!;
        const diffId = config.rootfs.diffIds[i]!;
        blobs.push({ diffId, digest: l.digest, mediaType: l.mediaType, size: l.size, repo: source });
        if (await this.#d.content.info(l.digest)) blobs.push({ diffId, digest: l.digest, mediaType: l.mediaType, size: l.size, repo: '' });
      }
      for (const b of [{ digest: imageId, bytes: configBytes }, ...manifests]) {
        if (await this.#d.content.info(b.digest)) continue;
        await this.#d.content.ingest(bufferStream(b.bytes), b.digest);
        createdBlobs.push(b.digest);
      }
      const tag = ref.digest ? undefined : fullName(ref);
      const previous = tag ? this.#d.meta.imageIdForTag(tag) : undefined;
      const existed = this.#d.meta.getImage(imageId) !== undefined;
      const repoDigest = `${source}@${top.digest}`;
      const size = records.reduce((s, r) => s + r.size, 0);
      this.#d.meta.putImage({ id: imageId, config, chainIds: chains, size, comment: '' }, records, tag, repoDigest, blobs);
      const updated = !existed || (tag !== undefined && previous !== imageId) || created.length > 0;
      emit({ status: `Digest: ${top.digest}` });
      emit({ status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(ref.digest ? `${source}@${ref.digest}` : fullName(ref))}` });
      return { imageId, repoDigest, updated };
    } catch (err) {
      abort.abort(err);
      for (const b of createdBlobs) await this.#d.content.delete(b);
      for (const c of claimed) this.#release(c);
      claimed.length = 0;
      for (const { chain, blob } of created) {
        // Another pull may have started to rely on it, or an image references it by now: keep it then.
        if (this.#claims.has(chain) || this.#d.meta.layer(chain)) continue;
        await this.#d.layers.remove(chain);
        if (blob) await this.#d.content.delete(blob);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
      for (const c of claimed) this.#release(c);
    }
  }

  #claim(chain: Digest): void {
    const c = this.#claims.get(chain);
    if (c) c.users++;
    else this.#claims.set(chain, { users: 1 });
  }

  #release(chain: Digest): void {
    const c = this.#claims.get(chain);
    if (!c) return;
    if (--c.users <= 0) this.#claims.delete(chain);
  }

  async #existingRecord(chain: Digest, diffId: Digest, parent: Digest | null): Promise<LayerRecord> {
    const known = this.#d.meta.layer(chain);
    if (known) return known;
    return { chainId: chain, diffId, parent, size: await diskUsage(this.#d.layers.diffDir(chain)) };
  }

  /**
   * Gets one layer unpacked: waits for a pull already unpacking it, or downloads it. Returns the
   * record and whether this call created the layer (and its blob) so a failure can remove them.
   */
  async #layer(client: RegistryClient, repo: string, desc: Descriptor, diffId: Digest, chain: Digest, parent: Digest | null, id: string,
    emit: (m: ProgressMessage) => void, signal: AbortSignal): Promise<{ record: LayerRecord; created: boolean; createdBlob?: Digest }> {
    const claim = this.#claims.get(chain)!;
    while (claim.unpacking) {
      try {
        const record = await claim.unpacking;
        emit({ status: 'Pull complete', id, progressDetail: {} });
        return { record, created: false };
      } catch {
        // The other pull failed; try ourselves (the loop re-checks whether a third one started).
      }
    }
    // No await between the check above and publishing `claim.unpacking`: a concurrent pull of the
    // same layer must find it and wait rather than unpack a second copy.
    let createdBlob: Digest | undefined;
    let existed = false;
    const work = (async (): Promise<LayerRecord> => {
      if (await this.#d.layers.has(chain)) {
        existed = true;
        return this.#existingRecord(chain, diffId, parent);
      }
      const r = await this.#download(client, repo, desc, diffId, chain, parent, id, emit, signal);
      createdBlob = r.createdBlob;
      return r.record;
    })();
    claim.unpacking = work;
    try {
      const record = await work;
      if (existed) {
        emit({ status: 'Already exists', id, progressDetail: {} });
        return { record, created: false };
      }
      return { record, created: true, ...(createdBlob ? { createdBlob } : {}) };
    } finally {
      if (claim.unpacking === work) delete claim.unpacking;
    }
  }

  async #download(client: RegistryClient, repo: string, desc: Descriptor, diffId: Digest, chain: Digest, parent: Digest | null, id: string,
    emit: (m: ProgressMessage) => void, signal: AbortSignal): Promise<{ record: LayerRecord; createdBlob?: Digest }> {
    const haveBlob = (await this.#d.content.info(desc.digest)) !== undefined;
    let size = 0;
    let blobStored = false;
    try {
      await this.#d.layers.createStaged(async (dir) => {
        let source: Readable;
        let stored: Promise<unknown> = Promise.resolve();
        let kill: (err: unknown) => void = () => {};
        if (haveBlob) {
          source = this.#d.content.reader(desc.digest);
          emit({ status: 'Download complete', id, progressDetail: {} });
        } else {
          let last = 0;
          source = await client.getBlob(repo, desc.digest, desc.size, {
            signal,
            onBytes: (n) => {
              const now = Date.now();
              if (now - last < PROGRESS_INTERVAL_MS && n !== desc.size) return;
              last = now;
              emit({ status: 'Downloading', id, progressDetail: { current: n, total: desc.size }, progress: progressBar(n, desc.size) });
            },
          });
          // Tee: one copy is unpacked, the other goes to the content store (verified by digest again).
          // Either side failing stops the download and the other side.
          const verified = source;
          const toStore = new PassThrough({ highWaterMark: 64 * 1024 });
          const toApply = new PassThrough({ highWaterMark: 64 * 1024 });
          kill = (err: unknown) => {
            verified.destroy(err as Error);
            toStore.destroy(err as Error);
            toApply.destroy(err as Error);
          };
          verified.on('error', (err) => kill(err));
          // Failures surface through the two promises below; these only keep an error on a side that
          // has already stopped reading from becoming an unhandled 'error' event.
          toStore.on('error', () => {});
          toApply.on('error', () => {});
          verified.pipe(toStore);
          verified.pipe(toApply);
          verified.on('end', () => {
            emit({ status: 'Verifying Checksum', id, progressDetail: {} });
            emit({ status: 'Download complete', id, progressDetail: {} });
          });
          stored = this.#d.content.ingest(toStore, desc.digest).then(() => {
            blobStored = true;
          }, (err: unknown) => {
            kill(err);
            throw err;
          });
          source = toApply;
        }
        const applied = applyLayer(source, dir, { signal }).catch((err: unknown) => {
          kill(err);
          throw err;
        });
        const [a, s] = await Promise.allSettled([applied, stored]);
        if (a.status === 'rejected') throw a.reason;
        if (s.status === 'rejected') throw s.reason;
        emit({ status: 'Extracting', id, progressDetail: { current: desc.size, total: desc.size } });
        if (a.value.compressedDigest !== desc.digest) {
          throw new EngineError('ERR_INVALID_ARGUMENT', `digest mismatch for layer ${desc.digest}: got ${a.value.compressedDigest}`);
        }
        if (a.value.diffId !== diffId) {
          throw new EngineError('ERR_INVALID_ARGUMENT',
            `layer ${desc.digest} unpacks to ${a.value.diffId}, but the image config says ${diffId}; the image is corrupt and was refused`);
        }
        size = a.value.size;
        return chain;
      });
    } catch (err) {
      if (blobStored) await this.#d.content.delete(desc.digest);
      throw err;
    }
    emit({ status: 'Pull complete', id, progressDetail: {} });
    return { record: { chainId: chain, diffId, parent, size }, ...(blobStored ? { createdBlob: desc.digest } : {}) };
  }
}

function validateConfig(config: ImageConfig, manifest: ImageManifest, want: Platform, explicit: boolean): void {
  if (config.rootfs.diffIds.length !== manifest.layers.length) {
    throw new EngineError('ERR_INVALID_ARGUMENT',
      `invalid image: the manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diffIds.length} diff IDs`);
  }
  if (config.os !== 'linux') throw new EngineError('ERR_INVALID_ARGUMENT', `image operating system "${config.os}" cannot be used on this platform`);
  const have: Platform = { os: config.os, architecture: config.architecture };
  if (explicit && !platformMatches(want, have)) {
    throw new EngineError('ERR_NOT_FOUND', `image was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
  }
}

/**
 * Docker's pull errors: an unknown manifest, an unknown repository and a refused access all become
 * not-found errors naming the image (so `docker run` says it cannot find it).
 */
export function translatePullError(err: unknown, ref: ImageRef): unknown {
  if (!(err instanceof RegistryError)) return err;
  const name = familiarRepo(ref);
  const code = err.registryCode;
  if (code === 'MANIFEST_UNKNOWN' || (err.status === 404 && code === undefined)) {
    return new EngineError('ERR_NOT_FOUND', `manifest for ${familiarName(fullName(ref))} not found: ${err.message}`);
  }
  if (code === 'NAME_UNKNOWN') return new EngineError('ERR_NOT_FOUND', `repository ${name} not found: ${err.message}`);
  if (code === 'DENIED' || code === 'UNAUTHORIZED' || err.status === 401 || err.status === 403) {
    return new EngineError('ERR_NOT_FOUND', `pull access denied for ${name}, repository does not exist or may require 'docker login': ${err.message}`);
  }
  return err;
}

/** `busybox`, `me/app`, `127.0.0.1:5000/x` */
function familiarRepo(ref: ImageRef): string {
  return familiarName(repositoryName(ref));
}

/** Docker's layer ID in progress messages: the first 12 hex digits of the blob digest. */
export function shortId(d: Digest): string {
  return digestHex(d).slice(0, 12);
}

function bufferStream(b: Buffer): Readable {
  const s = new PassThrough();
  s.end(b);
  return s;
}

/** The text bar Docker sends alongside progressDetail (`[=====>     ]  1.2MB/3.4MB`). */
export function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1)}${units[u]}`;
}
