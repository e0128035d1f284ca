/**
 * Images: resolving references, listing, and creating images from layer tarballs (`docker import`).
 * Blobs go to the content store, unpacked layers to the layer store, records to the metadata store.
 */
import type { Readable } from 'node:stream';
import { EngineError, errors } from '../errors.js';
import type { Digest, ImageConfig, ImageRecord, LayerRecord } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import type { LayerStore } from '../store/layers/layer-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { isDigest, sha256 } from '../util/digest.js';
import { RwLock } from '../util/rw-lock.js';
import { applyChanges } from './changes.js';
import { emptyRunConfig, serializeImageConfig } from './config-format.js';
import { applyLayer, type Compression } from './layer-apply.js';
import type { LoadTarget } from './image-load.js';
import { familiarName, fullName, parseReference, parseReferenceWithDefaultTag } from './reference.js';

export interface ImportOptions {
  /** `name[:tag]` to tag the new image with; none = untagged. */
  repo?: string;
  changes?: string[];
  message?: string;
  architecture?: string;
}

export class ImageStore {
  private readonly meta: MetadataStore;
  private readonly content: FsContentStore;
  private readonly layers: LayerStore;
  /**
   * Held shared by everything that adds blobs or layers before an image references them (import,
   * pull, load, build) and exclusively by garbage collection, which thus never sweeps the
   * not-yet-referenced work of an operation in progress.
   */
  readonly storeLock = new RwLock();

  constructor(meta: MetadataStore, content: FsContentStore, layers: LayerStore) {
    this.meta = meta;
    this.content = content;
    this.layers = layers;
  }

  /**
   * Finds an image by full or short ID (`sha256:…`, hex prefix) or by reference (`busybox`,
   * `busybox:latest`, `docker.io/library/busybox:latest`). Throws ERR_NO_SUCH_IMAGE.
   */
  resolve(ref: string): ImageRecord {
    const found = this.find(ref);
    if (!found) throw errors.noSuchImage(missingName(ref));
    return found;
  }

  find(ref: string): ImageRecord | undefined {
    if (isDigest(ref)) return this.meta.isRetained(ref) ? undefined : this.meta.getImage(ref);
    let byTag: Digest | undefined;
    try {
      const parsed = parseReferenceWithDefaultTag(ref);
      byTag = parsed.digest ? this.meta.imageIdForRepoDigest(fullName(parsed)) : this.meta.imageIdForTag(fullName(parsed));
    } catch {
      byTag = undefined;
    }
    if (byTag) return this.meta.getImage(byTag);
    const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
    if (/^[0-9a-f]{1,64}$/.test(hex)) {
      const ids = this.meta.imageIdsByPrefix(hex);
      if (ids.length > 1) throw new EngineError('ERR_INVALID_ARGUMENT', `multiple images found with provided prefix: ${hex}`);
      if (ids[0]) return this.meta.getImage(ids[0]);
    }
    return undefined;
  }

  list(): ImageRecord[] {
    return this.meta.listImages();
  }

  /** Display names of an image's tags (`busybox:latest`). */
  familiarTags(image: ImageRecord): string[] {
    return image.repoTags.map(familiarName);
  }

  /**
   * Creates a one-layer image from a root filesystem tarball (plain or gzip), like `docker import`.
   * The tarball is stored as given, verified, and unpacked path-safely.
   */
  async importRootfs(input: Readable, options: ImportOptions = {}): Promise<ImageRecord> {
    return this.storeLock.shared(() => this.#importRootfs(input, options));
  }

  async #importRootfs(input: Readable, options: ImportOptions): Promise<ImageRecord> {
    const tag = options.repo ? fullName(parseReferenceWithDefaultTag(options.repo)) : undefined;
    if (options.repo && parseReference(options.repo).digest) {
      throw new EngineError('ERR_INVALID_REFERENCE', `cannot import to a digest reference: ${options.repo}`);
    }
    const runConfig = applyChanges(emptyRunConfig(), options.changes ?? []);
    const blob = await this.content.ingest(input);
    let layer: LayerRecord;
    try {
      const unpacked = await this.#unpack(blob.digest, null);
      layer = unpacked.layer;
      this.meta.addLayerBlob({ diffId: layer.diffId, digest: blob.digest, mediaType: layerMediaType(unpacked.compression), size: blob.size, repo: '' });
    } catch (err) {
      await this.content.delete(blob.digest);
      throw err;
    }
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: options.architecture ?? hostArchitecture(),
      os: 'linux',
      created: now,
      author: '',
      config: runConfig,
      rootfs: { type: 'layers', diffIds: [layer.diffId] },
      history: [{ created: now, createdBy: '', comment: options.message || 'Imported from -', emptyLayer: false }],
    };
    const bytes = serializeImageConfig(config);
    const configBlob = await this.content.put(bytes);
    const id = configBlob.digest;
    this.meta.putImage({ id, config, chainIds: [layer.chainId], size: layer.size, comment: options.message ?? '' }, [layer], tag);
    return this.meta.getImage(id)!;
  }

  /**
   * What `docker load` writes through (call it under {@link storeLock}, shared). A layer whose blob
   * is already recorded for the expected diff ID and is unpacked is not unpacked again.
   */
  loadTarget(): LoadTarget {
    return {
      content: this.content,
      unpack: async (blob, parent, expectedDiffId) => {
        const known = this.meta.layerBlobs(expectedDiffId).find((b) => b.repo === '' && b.digest === blob);
        const chainId = parent === null ? expectedDiffId : sha256(`${parent} ${expectedDiffId}`);
        const layer = this.meta.layer(chainId);
        if (known && layer && (await this.layers.has(chainId))) {
          return { layer, compression: known.mediaType.endsWith('+gzip') ? 'gzip' : known.mediaType.endsWith('+zstd') ? 'zstd' : 'none' };
        }
        return this.#unpack(blob, parent);
      },
      commit: (image, tags) => {
        for (const l of image.layers) {
          this.meta.addLayerBlob({ diffId: l.layer.diffId, digest: l.blob, mediaType: layerMediaType(l.compression), size: l.blobSize, repo: '' });
        }
        const size = image.layers.reduce((n, l) => n + l.layer.size, 0);
        const record = { id: image.id, config: image.config, chainIds: image.layers.map((l) => l.layer.chainId), size, comment: '' };
        this.meta.putImage(record, image.layers.map((l) => l.layer), tags[0]);
        for (const t of tags.slice(1)) this.meta.tagImage(t, image.id);
      },
    };
  }

  /** Unpacks a stored layer blob on top of `parent` (a chain ID) unless it is already unpacked. */
  async #unpack(blob: Digest, parent: Digest | null): Promise<{ layer: LayerRecord; compression: Compression }> {
    let compression: Compression = 'none';
    let diffId: Digest | undefined;
    let size = 0;
    let chainId: Digest | undefined;
    // The chain ID depends on the diff ID, known only after reading the whole layer; unpack into a
    // staging dir and let the layer store place it.
    await this.layers.createStaged(async (dir) => {
      const r = await applyLayer(this.content.reader(blob), dir);
      diffId = r.diffId;
      size = r.size;
      compression = r.compression;
      const id = parent === null ? r.diffId : sha256(`${parent} ${r.diffId}`);
      chainId = id;
      return id;
    });
    return { layer: { chainId: chainId!, diffId: diffId!, parent, size }, compression };
  }
}

/**
 * How Docker names an image it cannot find: `busybox` → `busybox:latest` (the docker CLI pulls on a
 * 404 "No such image: name:tag" from create); IDs and unparsable input as given.
 */
function missingName(ref: string): string {
  if (isDigest(ref)) return ref;
  try {
    return familiarName(fullName(parseReferenceWithDefaultTag(ref)));
  } catch {
    return ref;
  }
}

/** The OCI media type of a layer blob with the given compression. */
export function layerMediaType(compression: Compression): string {
  const base = 'application/vnd.oci.image.layer.v1.tar';
  return compression === 'none' ? base : `${base}+${compression}`;
}

/** The OCI architecture name of this host (`amd64`, `arm64`, …). */
export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}
