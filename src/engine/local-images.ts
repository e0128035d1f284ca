/**
 * Local image management use cases: tag, remove (`rmi`), history, prune, disk usage, save, load and
 * import from a URL. Removal follows dockerd's rules (untag vs delete, soft and hard conflicts with
 * containers, the same messages); garbage collection runs after every removal.
 */
import type { Readable } from 'node:stream';
import { EngineError, errors } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { GarbageCollector, GcResult } from '../image/gc.js';
import type { ImageStore } from '../image/image-store.js';
import { loadImageArchive, type LoadedImage } from '../image/image-load.js';
import { saveImageArchive, type SaveTarget } from '../image/image-save.js';
import { familiarName, fullName, parseReference, parseReferenceWithDefaultTag, repositoryName } from '../image/reference.js';
import type { FsContentStore } from '../store/content/content-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import type { ContainerRecord } from '../model/container.js';
import type { Digest, ImageRecord } from '../model/image.js';
import { unixSeconds } from '../util/time.js';
import type { ContainerService } from './containers.js';

/** One line of the `DELETE /images/{name}` answer. */
export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface HistoryItem {
  id: string;
  created: number;
  createdBy: string;
  tags: string[] | null;
  size: number;
  comment: string;
}

export interface PruneOptions {
  /** Only images without tags (default) or every image no container uses (`-a`). */
  danglingOnly: boolean;
  /** The request's other filters (until, label). */
  keep?: (img: ImageRecord) => boolean;
}

export interface DiskUsage {
  layersSize: number;
  images: { image: ImageRecord; containers: number; sharedSize: number }[];
  containers: { container: ContainerRecord; sizeRw: number; sizeRootFs: number }[];
}

const RUNNING = new Set(['running', 'paused', 'restarting']);

/** Docker's short ID of an image: 12 hex digits, no algorithm. */
const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class LocalImageService {
  readonly #images: ImageStore;
  readonly #meta: MetadataStore;
  readonly #content: FsContentStore;
  readonly #containers: ContainerService;
  readonly #events: EventBus;
  readonly #gc: GarbageCollector;
  readonly #layerSize: (chainId: Digest) => number;

  constructor(deps: { images: ImageStore; meta: MetadataStore; content: FsContentStore; containers: ContainerService; events: EventBus; gc: GarbageCollector }) {
    this.#images = deps.images;
    this.#meta = deps.meta;
    this.#content = deps.content;
    this.#containers = deps.containers;
    this.#events = deps.events;
    this.#gc = deps.gc;
    this.#layerSize = (c) => this.#meta.layer(c)?.size ?? 0;
  }

  /** Resolves like dockerd: unknown names are reported with their default tag (`No such image: x:latest`). */
  resolve(ref: string): ImageRecord {
    const img = this.#images.find(ref);
    if (img) return img;
    let shown = ref;
    try {
      shown = familiarName(fullName(parseReferenceWithDefaultTag(ref)));
    } catch {
      /* not a name: show it as given */
    }
    throw errors.noSuchImage(shown);
  }

  /** `docker tag SOURCE REPO[:TAG]`. */
  tag(source: string, repo: string, tag: string): void {
    const img = this.resolve(source);
    if (repo === '') throw errors.invalid('repository name must have at least one component');
    const target = tag ? `${repo}:${tag}` : repo;
    const ref = parseReference(target);
    if (ref.digest) throw new EngineError('ERR_INVALID_REFERENCE', 'refusing to create a tag with a digest reference');
    if (/^[0-9a-f]{64}$/.test(ref.tag ?? '')) throw new EngineError('ERR_INVALID_REFERENCE', 'refusing to create an ambiguous tag using digest algorithm as name');
    const full = fullName(parseReferenceWithDefaultTag(target));
    this.#meta.tagImage(full, img.id);
    this.#events.publish('image', 'tag', img.id, { name: familiarName(full) });
  }

  /**
   * `docker rmi`: untags a name, or deletes the image when its last reference goes (or it was named
   * by ID). Conflicts: a running container can never be forced past; a stopped one must be forced
   * (the image record is then kept hidden for it); several references by ID must be forced.
   */
  async remove(ref: string, options: { force: boolean; prune: boolean }): Promise<DeleteItem[]> {
    const img = this.resolve(ref);
    const records: DeleteItem[] = [];
    const users = this.#containers.list().filter((c) => c.imageId === img.id);
    const running = users.find((c) => RUNNING.has(c.state.status));
    const stopped = users.find((c) => !RUNNING.has(c.state.status));
    const refs = () => {
      const cur = this.#meta.getImage(img.id)!;
      return [...cur.repoTags, ...cur.repoDigests];
    };
    const conflict = (must: boolean, message: string) =>
      new EngineError('ERR_IMAGE_IN_USE', `conflict: unable to delete ${shortId(img.id)} (${must ? 'must be forced' : 'cannot be forced'}) - ${message}`);

    if (!isIdPrefix(img.id, ref)) {
      if (!options.force && isSingleReference(refs()) && users[0]) {
        throw new EngineError('ERR_IMAGE_IN_USE',
          `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0].id)} is using its referenced image ${shortId(img.id)}`);
      }
      const parsed = parseReferenceWithDefaultTag(ref);
      const full = fullName(parsed);
      this.#meta.removeReference(full);
      records.push({ Untagged: familiarName(full) });
      this.#events.publish('image', 'untag', img.id, { name: familiarName(full) });
      if (!parsed.digest) {
        // The last tag of a repository takes that repository's digest references with it.
        const repo = repositoryName(parsed);
        const left = refs();
        if (!left.some((r) => !r.includes('@') && repoOf(r) === repo)) {
          for (const r of left.filter((x) => x.includes('@') && repoOf(x) === repo)) {
            this.#meta.removeReference(r);
            records.push({ Untagged: familiarName(r) });
          }
        }
      }
      if (refs().length > 0) return records;
      // The image just lost its last name: delete it unless a container uses it (then it stays, dangling).
      if (running || (stopped && !options.force)) return records;
    } else {
      if (isSingleReference(refs())) {
        if (running) throw conflict(false, `image is being used by running container ${shortId(running.id)}`);
        if (stopped && !options.force) throw conflict(true, `image is being used by stopped container ${shortId(stopped.id)}`);
        for (const r of refs()) {
          this.#meta.removeReference(r);
          records.push({ Untagged: familiarName(r) });
          this.#events.publish('image', 'untag', img.id, { name: familiarName(r) });
        }
      }
      if (running) throw conflict(false, `image is being used by running container ${shortId(running.id)}`);
      if (!options.force && refs().length > 0) throw conflict(true, 'image is referenced in multiple repositories');
      if (stopped && !options.force) throw conflict(true, `image is being used by stopped container ${shortId(stopped.id)}`);
      for (const r of refs()) {
        this.#meta.removeReference(r);
        records.push({ Untagged: familiarName(r) });
      }
    }
    if (stopped) this.#meta.retainImage(img.id);
    else this.#meta.deleteImage(img.id);
    this.#events.publish('image', 'delete', img.id, {});
    records.push({ Deleted: img.id });
    const swept = await this.#gc.collect();
    for (const chainId of [...img.chainIds].reverse()) if (swept.layers.includes(chainId)) records.push({ Deleted: chainId });
    return records;
  }

  /** `docker history`: newest entry first; only the top one carries the image ID and tags. */
  history(ref: string): HistoryItem[] {
    const img = this.resolve(ref);
    const sizes = img.chainIds.map(this.#layerSize);
    let layer = 0;
    const items: HistoryItem[] = img.config.history.map((h) => ({
      id: '<missing>',
      created: h.created ? unixSeconds(h.created) : 0,
      createdBy: h.createdBy,
      tags: null,
      size: h.emptyLayer ? 0 : sizes[layer++] ?? 0,
      comment: h.comment,
    }));
    items.reverse();
    if (items[0]) {
      items[0].id = img.id;
      items[0].tags = img.repoTags.length ? img.repoTags.map(familiarName) : null;
    }
    return items;
  }

  /** `docker image prune`: images no container uses (only untagged ones unless `danglingOnly` is false). */
  async prune(o: PruneOptions): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    const used = new Set(this.#containers.list().map((c) => c.imageId));
    const deleted: DeleteItem[] = [];
    for (const img of this.#images.list()) {
      if (used.has(img.id)) continue;
      const tagged = img.repoTags.length > 0 || img.repoDigests.length > 0;
      if (o.danglingOnly && tagged) continue;
      if (o.keep && !o.keep(img)) continue;
      for (const r of [...img.repoTags, ...img.repoDigests]) {
        this.#meta.removeReference(r);
        deleted.push({ Untagged: familiarName(r) });
        this.#events.publish('image', 'untag', img.id, { name: familiarName(r) });
      }
      this.#meta.deleteImage(img.id);
      this.#events.publish('image', 'delete', img.id, {});
      deleted.push({ Deleted: img.id });
    }
    const swept: GcResult = await this.#gc.collect();
    this.#events.publish('image', 'prune', '', { reclaimed: String(swept.bytes) });
    return { deleted, spaceReclaimed: swept.bytes };
  }

  /** What `docker system df` reports: images with their shared sizes, containers with theirs. */
  async diskUsage(): Promise<DiskUsage> {
    const images = this.#images.list();
    const users = new Map<string, number>();
    for (const c of this.#containers.list()) users.set(c.imageId, (users.get(c.imageId) ?? 0) + 1);
    const layerUse = new Map<Digest, number>();
    for (const img of images) for (const c of img.chainIds) layerUse.set(c, (layerUse.get(c) ?? 0) + 1);
    let layersSize = 0;
    for (const c of layerUse.keys()) layersSize += this.#layerSize(c);
    const containers = [];
    for (const c of this.#containers.list()) {
      const s = await this.#containers.sizes(c);
      containers.push({ container: c, sizeRw: s.rw, sizeRootFs: s.rootFs });
    }
    return {
      layersSize,
      images: images.map((image) => ({
        image,
        containers: users.get(image.id) ?? 0,
        sharedSize: image.chainIds.filter((c) => (layerUse.get(c) ?? 0) > 1).reduce((n, c) => n + this.#layerSize(c), 0),
      })),
      containers,
    };
  }

  /** `docker save`: one tar stream of the named images (see image-save.ts for the format). */
  async save(names: string[]): Promise<Readable> {
    if (names.length === 0) throw errors.invalid('no images given to save');
    const targets: SaveTarget[] = [];
    for (const name of names) {
      const img = this.resolve(name);
      const byId = isIdPrefix(img.id, name);
      let tag: string | undefined;
      if (!byId) {
        const parsed = parseReference(name);
        if (parsed.digest === null) {
          // A bare repository name saves every tag of that repository, as dockerd does.
          if (parsed.tag === null) {
            const repo = repositoryName(parsed);
            for (const t of img.repoTags.filter((r) => repoOf(r) === repo)) targets.push({ image: img, tag: t });
            continue;
          }
          tag = fullName(parsed);
        }
      }
      targets.push({ image: img, ...(tag ? { tag } : {}) });
    }
    for (const t of targets) this.#events.publish('image', 'save', t.image.id, { name: t.tag ? familiarName(t.tag) : t.image.id });
    return saveImageArchive(targets, { content: this.#content, layerBlobs: (d) => this.#meta.layerBlobs(d) });
  }

  /**
   * `docker load`: reads a Docker archive or an OCI layout, verified and path-safe, under the store
   * lock; afterwards (and on failure before the error is reported) whatever it stored that no image
   * references is swept.
   */
  async load(input: Readable, onImage: (loaded: LoadedImage) => void): Promise<LoadedImage[]> {
    try {
      const loaded = await this.#images.storeLock.shared(() => loadImageArchive(input, this.#images.loadTarget()));
      // The archive's manifests, index and legacy files are stored while reading but referenced by nothing.
      await this.#gc.collect();
      for (const l of loaded) {
        for (const t of l.tags) this.#events.publish('image', 'load', l.id, { name: familiarName(t) });
        if (l.tags.length === 0) this.#events.publish('image', 'load', l.id, { name: l.id });
        onImage(l);
      }
      return loaded;
    } catch (err) {
      await this.#gc.collect();
      throw err;
    }
  }
}

/** Docker's `isImageIDPrefix`: the reference is (a prefix of) the ID, with or without `sha256:`. */
function isIdPrefix(id: string, ref: string): boolean {
  return ref.length > 0 && (id.startsWith(ref) || id.slice(7).startsWith(ref));
}

function repoOf(fullRef: string): string {
  const at = fullRef.indexOf('@');
  if (at >= 0) return fullRef.slice(0, at);
  return fullRef.slice(0, fullRef.lastIndexOf(':'));
}

/** dockerd's `isSingleReference`: one tag, possibly with digests of the same repository. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const digestRepos = new Set(refs.filter((r) => r.includes('@')).map(repoOf));
  const single = tags[0] ?? refs[0]!;
  return digestRepos.size === 1 && digestRepos.has(repoOf(single));
}
