/**
 * Garbage collection of the image store: a mark-and-sweep over the content store (blobs) and the
 * layer store (unpacked layers).
 *
 * Roots are the image records (retained ones included: stopped containers still mount them):
 * - blobs: every image's config (its ID), the local blob of each of its layers (`layer_blobs`,
 *   repo ''), and the manifests named by repo digests (`name@sha256:…`);
 * - layers: every image's chain IDs.
 * Everything else is swept, along with the metadata rows describing it.
 *
 * The sweep runs under the image store's lock held exclusively. Writers (import, pull, load) hold
 * it shared from their first blob until their image record exists, so a collection either runs
 * before they start or after they have made their work reachable; it never sees a half-done pull.
 */
import type { Digest } from '../model/image.js';
import type { FsContentStore } from '../store/content/content-store.js';
import type { LayerStore } from '../store/layers/layer-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import type { RwLock } from '../util/rw-lock.js';

/** What one collection removed. */
export interface GcResult {
  blobs: Digest[];
  /** Chain IDs of the removed unpacked layers. */
  layers: Digest[];
  /** Retained images (deleted while stopped containers used them) dropped now that none does. */
  images: Digest[];
  /** Bytes freed: blob sizes plus the unpacked sizes of removed layers. */
  bytes: number;
}

export class GarbageCollector {
  readonly #meta: MetadataStore;
  readonly #content: FsContentStore;
  readonly #layers: LayerStore;
  readonly #lock: RwLock;

  constructor(meta: MetadataStore, content: FsContentStore, layers: LayerStore, lock: RwLock) {
    this.#meta = meta;
    this.#content = content;
    this.#layers = layers;
    this.#lock = lock;
  }

  /** One mark-and-sweep; waits for writers in progress to finish first. */
  collect(): Promise<GcResult> {
    return this.#lock.exclusive(() => this.#collect());
  }

  /**
   * At daemon start: removes interrupted ingests and layer staging dirs of a previous run, then
   * collects. Exclusive too, so it is safe even if a request arrives meanwhile.
   */
  sweepOrphans(): Promise<GcResult & { leftovers: number }> {
    return this.#lock.exclusive(async () => {
      const leftovers = (await this.#content.removeIngestLeftovers()) + (await this.#layers.removeStagingLeftovers());
      return { ...(await this.#collect()), leftovers };
    });
  }

  async #collect(): Promise<GcResult> {
    const result: GcResult = { blobs: [], layers: [], images: [], bytes: 0 };
    for (const id of this.#meta.retainedImageIds()) {
      if (this.#meta.countContainersByImage(id) === 0) {
        this.#meta.deleteImage(id);
        result.images.push(id);
      }
    }

    // mark
    const liveBlobs = new Set<string>();
    const liveDiffs = new Set<string>();
    const liveChains = new Set<string>();
    for (const img of this.#meta.allImageRecords()) {
      liveBlobs.add(img.id);
      for (const d of img.config.rootfs.diffIds) liveDiffs.add(d);
      for (const c of img.chainIds) liveChains.add(c);
    }
    const layerBlobs = this.#meta.localLayerBlobs();
    for (const b of layerBlobs) if (liveDiffs.has(b.diffId)) liveBlobs.add(b.digest);
    for (const ref of this.#meta.allRepoDigestRefs()) {
      const at = ref.lastIndexOf('@');
      if (at >= 0) liveBlobs.add(ref.slice(at + 1));
    }

    // sweep: metadata first (a crash in between leaves only unreferenced files, swept next time)
    for (const b of layerBlobs) if (!liveBlobs.has(b.digest)) this.#meta.deleteLocalLayerBlob(b.digest);
    const layerSizes = new Map<string, number>();
    for (const l of this.#meta.listLayers()) {
      layerSizes.set(l.chainId, l.size);
      if (!liveChains.has(l.chainId)) this.#meta.deleteLayer(l.chainId);
    }
    for (const digest of await this.#content.list()) {
      if (liveBlobs.has(digest)) continue;
      const info = await this.#content.info(digest);
      await this.#content.delete(digest);
      result.blobs.push(digest);
      result.bytes += info?.size ?? 0;
    }
    for (const chainId of await this.#layers.list()) {
      if (liveChains.has(chainId)) continue;
      await this.#layers.remove(chainId);
      result.layers.push(chainId);
      result.bytes += layerSizes.get(chainId) ?? 0;
    }
    return result;
  }
}
