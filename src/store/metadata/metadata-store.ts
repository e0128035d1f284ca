/**
 * The metadata store: the only writer of brig's records, in SQLite (WAL) via better-sqlite3.
 *
 * Schema (version in `PRAGMA user_version`, migrations below):
 *
 *   images      id PK (sha256:…) │ config JSON │ chain_ids JSON │ size │ created │ comment │ added
 *   tags        ref PK (normalised name:tag) │ image_id → images.id │ updated
 *   layers      chain_id PK │ diff_id │ parent │ size
 *   repo_digests ref PK (normalised name@sha256:…, the manifest a pull or push saw) │ image_id
 *   layer_blobs diff_id │ digest (the blob as stored/pulled/pushed) │ media_type │ size │ repo ('' = local)
 *               PK (diff_id, digest, repo): where a layer's blob came from or went (push, cross-mount, save)
 *   retained_images id PK → images.id: images `rmi -f` deleted while stopped containers still use them;
 *               hidden from lookups and listings, kept (with their layers) until no container needs them
 *   containers  id PK │ name UNIQUE │ created │ image_id │ spec JSON │ path │ args JSON │ state JSON │
 *               status (denormalised from state, for filtering) │ restart_count
 *   meta        key PK │ value           (daemon id, …)
 *   networks    id PK │ name UNIQUE │ record JSON (NetworkRecord)
 *   network_sandboxes container_id PK │ record JSON (SandboxRecord without endpoints): the network
 *               side of a container, written before netavark setup, deleted after teardown
 *   network_endpoints container_id → network_sandboxes (cascade) │ network_id → networks │ ipv4 │
 *               endpoint JSON (EndpointState); PK (container_id, network_id), UNIQUE (network_id, ipv4):
 *               the IPAM allocations, so a crashed daemon never hands out an address still in use
 *
 * Every multi-row change runs in one transaction, so a crash leaves either the old or the new state.
 * Calls are synchronous (better-sqlite3); each one takes well under a millisecond.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { EngineError } from '../../errors.js';
import type { ContainerRecord, ContainerSpec, ContainerState } from '../../model/container.js';
import type { Digest, ImageConfig, ImageRecord, LayerBlob, LayerRecord } from '../../model/image.js';
import type { EndpointState, NetworkRecord, SandboxRecord } from '../../model/network.js';

const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE images (
     id TEXT PRIMARY KEY, config TEXT NOT NULL, chain_ids TEXT NOT NULL, size INTEGER NOT NULL,
     created TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', added TEXT NOT NULL);
   CREATE TABLE tags (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id), updated TEXT NOT NULL);
   CREATE INDEX tags_image ON tags(image_id);
   CREATE TABLE layers (
     chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT, size INTEGER NOT NULL);
   CREATE TABLE containers (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created TEXT NOT NULL, image_id TEXT NOT NULL,
     spec TEXT NOT NULL, path TEXT NOT NULL, args TEXT NOT NULL, state TEXT NOT NULL,
     status TEXT NOT NULL, restart_count INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX containers_image ON containers(image_id);`,
  `CREATE TABLE repo_digests (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id));
   CREATE INDEX repo_digests_image ON repo_digests(image_id);
   CREATE TABLE layer_blobs (
     diff_id TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
     repo TEXT NOT NULL DEFAULT '', PRIMARY KEY (diff_id, digest, repo));
   CREATE INDEX layer_blobs_digest ON layer_blobs(digest);`,
  `CREATE TABLE retained_images (id TEXT PRIMARY KEY REFERENCES images(id));`,
  `CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
   CREATE TABLE network_sandboxes (container_id TEXT PRIMARY KEY, record TEXT NOT NULL);
   CREATE TABLE network_endpoints (
     container_id TEXT NOT NULL REFERENCES network_sandboxes(container_id) ON DELETE CASCADE,
     network_id TEXT NOT NULL REFERENCES networks(id), ipv4 TEXT NOT NULL, endpoint TEXT NOT NULL,
     PRIMARY KEY (container_id, network_id), UNIQUE (network_id, ipv4));`,
];

interface ContainerRow {
  id: string;
  name: string;
  created: string;
  image_id: string;
  spec: string;
  path: string;
  args: string;
  state: string;
  restart_count: number;
}

interface ImageRow {
  id: string;
  config: string;
  chain_ids: string;
  size: number;
  created: string;
  comment: string;
}

export class MetadataStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #containers: Map<string, ContainerRecord> | undefined;
  readonly #images = new Map<Digest, ImageRecord>();
  readonly #byName = new Map<string, string>();

  /** Opens (creating and migrating if needed) the database at `path`. */
  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
  }

  close(): void {
    this.#db.close();
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new EngineError(
        'ERR_INTERNAL',
        `metadata schema version ${current} is newer than this brig (${MIGRATIONS.length}); refusing to downgrade`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** A stable identifier of this daemon's store, created on first use (`docker info` ID). */
  daemonId(): string {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get('daemon_id') as { value: string } | undefined;
    if (row) return row.value;
    const id = randomUUID();
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('daemon_id', id);
    return id;
  }

  // ── containers ──────────────────────────────────────────────────────────────────────────────
  //
  // Container records are read far more often than written (every API call resolves one, `ps` lists
  // them all), so they are also kept in memory, loaded once and updated after every successful
  // write. The cached records are frozen: callers make changed copies and write them back.

  #containerCache(): Map<string, ContainerRecord> {
    if (this.#containers) return this.#containers;
    const map = new Map<string, ContainerRecord>();
    const rows = this.#db.prepare('SELECT * FROM containers ORDER BY rowid').all() as ContainerRow[];
    for (const row of rows) map.set(row.id, deepFreeze(toContainer(row)));
    this.#byName.clear();
    for (const c of map.values()) this.#byName.set(c.name, c.id);
    this.#containers = map;
    return map;
  }

  #cache(c: ContainerRecord): void {
    const map = this.#containerCache();
    const old = map.get(c.id);
    if (old && old.name !== c.name) this.#byName.delete(old.name);
    map.set(c.id, deepFreeze(c));
    this.#byName.set(c.name, c.id);
  }

  #nameInUse(name: string): EngineError {
    return new EngineError(
      'ERR_NAME_IN_USE',
      `Conflict. The container name "/${name}" is already in use by container "${this.#byName.get(name) ?? 'unknown'}". ` +
        'You have to remove (or rename) that container to be able to reuse that name.',
    );
  }

  /** Inserts a new container; throws ERR_NAME_IN_USE if the name is taken. */
  insertContainer(c: ContainerRecord): void {
    this.#containerCache();
    if (this.#byName.has(c.name)) throw this.#nameInUse(c.name);
    try {
      this.#stmt('insertContainer',
        `INSERT INTO containers (id, name, created, image_id, spec, path, args, state, status, restart_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(c.id, c.name, c.created, c.imageId, JSON.stringify(c.spec), c.path, JSON.stringify(c.args),
          JSON.stringify(c.state), c.state.status, c.restartCount);
    } catch (err) {
      if (isUniqueViolation(err, 'containers.name')) throw this.#nameInUse(c.name);
      throw err;
    }
    this.#cache(structuredClone(c));
  }

  updateContainerState(id: string, state: ContainerState, restartCount?: number): void {
    const cur = this.#containerCache().get(id);
    if (restartCount === undefined) {
      this.#stmt('updateState', 'UPDATE containers SET state = ?, status = ? WHERE id = ?').run(JSON.stringify(state), state.status, id);
    } else {
      this.#stmt('updateStateCount', 'UPDATE containers SET state = ?, status = ?, restart_count = ? WHERE id = ?')
        .run(JSON.stringify(state), state.status, restartCount, id);
    }
    if (cur) this.#cache({ ...cur, state: structuredClone(state), restartCount: restartCount ?? cur.restartCount });
  }

  /** Renames a container; throws ERR_NAME_IN_USE if the name is taken. */
  renameContainer(id: string, name: string): void {
    const cur = this.#containerCache().get(id);
    if (this.#byName.has(name)) throw this.#nameInUse(name);
    try {
      this.#stmt('rename', 'UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (err) {
      if (isUniqueViolation(err, 'containers.name')) throw this.#nameInUse(name);
      throw err;
    }
    if (cur) this.#cache({ ...cur, name });
  }

  updateContainerSpec(id: string, spec: ContainerSpec): void {
    const cur = this.#containerCache().get(id);
    this.#stmt('updateSpec', 'UPDATE containers SET spec = ? WHERE id = ?').run(JSON.stringify(spec), id);
    if (cur) this.#cache({ ...cur, spec: structuredClone(spec) });
  }

  deleteContainer(id: string): void {
    this.#stmt('deleteContainer', 'DELETE FROM containers WHERE id = ?').run(id);
    const map = this.#containerCache();
    const cur = map.get(id);
    if (cur) {
      map.delete(id);
      if (this.#byName.get(cur.name) === id) this.#byName.delete(cur.name);
    }
  }

  getContainer(id: string): ContainerRecord | undefined {
    return this.#containerCache().get(id);
  }

  /** Resolves a full ID, a name (with or without `/`) or a unique ID prefix, the way Docker does. */
  findContainer(ref: string): ContainerRecord | undefined {
    if (ref === '') return undefined;
    const map = this.#containerCache();
    const byId = map.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#byName.get(name);
    if (byName) return map.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const [id, c] of map) {
      if (!id.startsWith(ref)) continue;
      if (found) throw new EngineError('ERR_INVALID_ARGUMENT', `multiple IDs found with provided prefix: ${ref}`);
      found = c;
    }
    return found;
  }

  /** All containers, newest first. */
  listContainers(): ContainerRecord[] {
    const all = [...this.#containerCache().values()].reverse();
    return all.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  countContainersByImage(imageId: Digest): number {
    let n = 0;
    for (const c of this.#containerCache().values()) if (c.imageId === imageId) n++;
    return n;
  }

  /** A prepared statement, compiled once. */
  #stmt(key: string, sql: string): Database.Statement {
    let st = this.#statements.get(key);
    if (!st) this.#statements.set(key, (st = this.#db.prepare(sql)));
    return st;
  }

  // ── images ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Records an image, its layers and (optionally) a tag in one transaction. Re-adding an existing image
   * only moves the tag. Returns the tag's previous image ID when the tag moved away from another image.
   * `blobs` (where the layers' blobs are, see addLayerBlob) are recorded in the same transaction.
   */
  putImage(image: { id: Digest; config: ImageConfig; chainIds: Digest[]; size: number; comment: string },
    layers: LayerRecord[], tag?: string, repoDigest?: string, blobs: readonly LayerBlob[] = []): Digest | undefined {
    const now = new Date().toISOString();
    let previous: Digest | undefined;
    this.#db.transaction(() => {
      for (const l of layers) {
        this.#db
          .prepare('INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size) VALUES (?, ?, ?, ?)')
          .run(l.chainId, l.diffId, l.parent, l.size);
      }
      this.#db
        .prepare(
          `INSERT OR IGNORE INTO images (id, config, chain_ids, size, created, comment, added)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(image.id, JSON.stringify(image.config), JSON.stringify(image.chainIds), image.size,
          image.config.created, image.comment, now);
      if (tag !== undefined) previous = this.#setTag(tag, image.id, now);
      if (repoDigest !== undefined) {
        this.#db.prepare('INSERT INTO repo_digests (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id')
          .run(repoDigest, image.id);
      }
      for (const b of blobs) this.addLayerBlob(b);
    })();
    this.#images.clear();
    return previous;
  }

  #setTag(ref: string, imageId: Digest, now: string): Digest | undefined {
    const old = this.#db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: Digest } | undefined;
    this.#db
      .prepare('INSERT INTO tags (ref, image_id, updated) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id, updated = excluded.updated')
      .run(ref, imageId, now);
    return old && old.image_id !== imageId ? old.image_id : undefined;
  }

  /** An image record (cached until the next image or tag change; frozen, like containers). */
  getImage(id: Digest): ImageRecord | undefined {
    const cached = this.#images.get(id);
    if (cached) return cached;
    const row = this.#stmt('getImage', 'SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!row) return undefined;
    const img = deepFreeze(this.#toImage(row));
    this.#images.set(id, img);
    return img;
  }

  /** Image ID a normalised tag points at. */
  imageIdForTag(ref: string): Digest | undefined {
    const row = this.#db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: Digest } | undefined;
    return row?.image_id;
  }

  /** Image ID a normalised `name@sha256:…` (a pulled or pushed manifest) points at. */
  imageIdForRepoDigest(ref: string): Digest | undefined {
    const row = this.#stmt('repoDigest', 'SELECT image_id FROM repo_digests WHERE ref = ?').get(ref) as { image_id: Digest } | undefined;
    return row?.image_id;
  }

  /** Image IDs starting with the given hex prefix (for short-ID lookups). */
  imageIdsByPrefix(hexPrefix: string): Digest[] {
    const rows = this.#db
      .prepare("SELECT id FROM images WHERE id LIKE 'sha256:' || ? || '%' AND id NOT IN (SELECT id FROM retained_images) LIMIT 2")
      .all(hexPrefix) as { id: Digest }[];
    return rows.map((r) => r.id);
  }

  /** Visible images (retained ones excluded), newest first. */
  listImages(): ImageRecord[] {
    const rows = this.#db.prepare('SELECT * FROM images WHERE id NOT IN (SELECT id FROM retained_images) ORDER BY created DESC').all() as ImageRow[];
    return rows.map((r) => this.#toImage(r));
  }

  layer(chainId: Digest): LayerRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as
      | { chain_id: Digest; diff_id: Digest; parent: Digest | null; size: number }
      | undefined;
    return row && { chainId: row.chain_id, diffId: row.diff_id, parent: row.parent, size: row.size };
  }

  /** Records where a layer's blob is (idempotent). */
  addLayerBlob(blob: LayerBlob): void {
    this.#stmt('addLayerBlob', 'INSERT OR IGNORE INTO layer_blobs (diff_id, digest, media_type, size, repo) VALUES (?, ?, ?, ?, ?)')
      .run(blob.diffId, blob.digest, blob.mediaType, blob.size, blob.repo);
  }

  /** The known blobs of a layer (by its diff ID), local ones first. */
  layerBlobs(diffId: Digest): LayerBlob[] {
    const rows = this.#stmt('layerBlobs', "SELECT * FROM layer_blobs WHERE diff_id = ? ORDER BY repo != '', repo, digest").all(diffId) as
      { diff_id: Digest; digest: Digest; media_type: string; size: number; repo: string }[];
    return rows.map((r) => ({ diffId: r.diff_id, digest: r.digest, mediaType: r.media_type, size: r.size, repo: r.repo }));
  }

  /** Records a repo digest (`name@sha256:…`, e.g. after a push) for an existing image (idempotent; moves it). */
  addRepoDigest(ref: string, imageId: Digest): void {
    this.#db.prepare('INSERT INTO repo_digests (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id')
      .run(ref, imageId);
    this.#images.clear();
  }

  /** The tags of one repository (`127.0.0.1:5000/test/x` → its `…:tag` rows), sorted by tag. */
  tagsOfRepository(repo: string): { ref: string; imageId: Digest }[] {
    const prefix = `${repo}:`;
    const rows = this.#db.prepare('SELECT ref, image_id FROM tags WHERE substr(ref, 1, ?) = ? ORDER BY ref')
      .all(prefix.length, prefix) as { ref: string; image_id: Digest }[];
    return rows.filter((r) => !r.ref.slice(prefix.length).includes('/')).map((r) => ({ ref: r.ref, imageId: r.image_id }));
  }

  // ── local image management (tag, rmi, gc) ───────────────────────────────────────────────────

  /** Points the normalised tag `ref` at an image; returns the image it moved away from, if any. */
  tagImage(ref: string, imageId: Digest): Digest | undefined {
    let previous: Digest | undefined;
    this.#db.transaction(() => {
      previous = this.#setTag(ref, imageId, new Date().toISOString());
    })();
    this.#images.clear();
    return previous;
  }

  /** Removes a tag or a repo digest reference; false if there was none. */
  removeReference(ref: string): boolean {
    const a = this.#db.prepare('DELETE FROM tags WHERE ref = ?').run(ref).changes;
    const b = this.#db.prepare('DELETE FROM repo_digests WHERE ref = ?').run(ref).changes;
    this.#images.clear();
    return a + b > 0;
  }

  /**
   * Deletes an image record with its tags and repo digests (one transaction). Its layers and blobs
   * stay until garbage collection finds them unreferenced.
   */
  deleteImage(id: Digest): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
      this.#db.prepare('DELETE FROM repo_digests WHERE image_id = ?').run(id);
      this.#db.prepare('DELETE FROM retained_images WHERE id = ?').run(id);
      this.#db.prepare('DELETE FROM images WHERE id = ?').run(id);
    })();
    this.#images.clear();
  }

  /**
   * Hides an image that stopped containers still use (`docker rmi -f`): its references go, the
   * record stays (for those containers) until {@link deleteImage}.
   */
  retainImage(id: Digest): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
      this.#db.prepare('DELETE FROM repo_digests WHERE image_id = ?').run(id);
      this.#db.prepare('INSERT OR IGNORE INTO retained_images (id) VALUES (?)').run(id);
    })();
    this.#images.clear();
  }

  isRetained(id: Digest): boolean {
    return this.#db.prepare('SELECT 1 FROM retained_images WHERE id = ?').get(id) !== undefined;
  }

  retainedImageIds(): Digest[] {
    return (this.#db.prepare('SELECT id FROM retained_images').all() as { id: Digest }[]).map((r) => r.id);
  }

  /** Every image record, retained ones included (what garbage collection marks from). */
  allImageRecords(): ImageRecord[] {
    return (this.#db.prepare('SELECT * FROM images').all() as ImageRow[]).map((r) => this.#toImage(r));
  }

  /** Every repo digest reference (`name@sha256:…`): the manifests they name are kept. */
  allRepoDigestRefs(): string[] {
    return (this.#db.prepare('SELECT ref FROM repo_digests').all() as { ref: string }[]).map((r) => r.ref);
  }

  listLayers(): LayerRecord[] {
    const rows = this.#db.prepare('SELECT * FROM layers').all() as { chain_id: Digest; diff_id: Digest; parent: Digest | null; size: number }[];
    return rows.map((row) => ({ chainId: row.chain_id, diffId: row.diff_id, parent: row.parent, size: row.size }));
  }

  deleteLayer(chainId: Digest): void {
    this.#db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }

  /** All local layer blob rows (repo ''). */
  localLayerBlobs(): LayerBlob[] {
    const rows = this.#db.prepare("SELECT * FROM layer_blobs WHERE repo = ''").all() as
      { diff_id: Digest; digest: Digest; media_type: string; size: number; repo: string }[];
    return rows.map((r) => ({ diffId: r.diff_id, digest: r.digest, mediaType: r.media_type, size: r.size, repo: r.repo }));
  }

  /** Forgets that a blob is in the local content store (it was swept). */
  deleteLocalLayerBlob(digest: Digest): void {
    this.#db.prepare("DELETE FROM layer_blobs WHERE digest = ? AND repo = ''").run(digest);
  }

  // ── networks ────────────────────────────────────────────────────────────────────────────────
  //
  // The network service keeps its own in-memory view; these calls are its write-through.

  listNetworks(): NetworkRecord[] {
    const rows = this.#db.prepare('SELECT record FROM networks ORDER BY rowid').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as NetworkRecord);
  }

  /** Inserts a network; ERR_CONFLICT if the name is taken. */
  insertNetwork(n: NetworkRecord): void {
    try {
      this.#db.prepare('INSERT INTO networks (id, name, record) VALUES (?, ?, ?)').run(n.id, n.name, JSON.stringify(n));
    } catch (err) {
      if (isUniqueViolation(err, 'networks.name')) throw new EngineError('ERR_CONFLICT', `network with name ${n.name} already exists`);
      throw err;
    }
  }

  /** Deletes a network record; fails (FOREIGN KEY) while an endpoint row still refers to it. */
  deleteNetwork(id: string): void {
    this.#db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  listSandboxes(): SandboxRecord[] {
    const rows = this.#db.prepare('SELECT container_id, record FROM network_sandboxes ORDER BY rowid').all() as
      { container_id: string; record: string }[];
    const eps = this.#db.prepare('SELECT container_id, endpoint FROM network_endpoints ORDER BY rowid').all() as
      { container_id: string; endpoint: string }[];
    const out = new Map<string, SandboxRecord>();
    for (const r of rows) out.set(r.container_id, { ...(JSON.parse(r.record) as Omit<SandboxRecord, 'endpoints'>), endpoints: [] });
    for (const e of eps) out.get(e.container_id)?.endpoints.push(JSON.parse(e.endpoint) as EndpointState);
    return [...out.values()];
  }

  /**
   * Writes a container's sandbox and its endpoints (replacing what was there) in one transaction.
   * An address already held on the same network is ERR_CONFLICT and changes nothing.
   */
  putSandbox(sb: SandboxRecord): void {
    const { endpoints, ...rest } = sb;
    try {
      this.#db.transaction(() => {
        this.#db.prepare('INSERT INTO network_sandboxes (container_id, record) VALUES (?, ?) ON CONFLICT (container_id) DO UPDATE SET record = excluded.record').run(sb.containerId, JSON.stringify(rest));
        this.#db.prepare('DELETE FROM network_endpoints WHERE container_id = ?').run(sb.containerId);
        const ins = this.#db.prepare('INSERT INTO network_endpoints (container_id, network_id, ipv4, endpoint) VALUES (?, ?, ?, ?)');
        for (const e of endpoints) ins.run(sb.containerId, e.networkId, e.ipv4, JSON.stringify(e));
      })();
    } catch (err) {
      if (isUniqueViolation(err, 'network_endpoints')) throw new EngineError('ERR_CONFLICT', 'Address already in use', { cause: err });
      throw err;
    }
  }

  /** Deletes a container's sandbox and with it its endpoints (address allocations). */
  deleteSandbox(containerId: string): void {
    this.#db.prepare('DELETE FROM network_sandboxes WHERE container_id = ?').run(containerId);
  }

  #toImage(row: ImageRow): ImageRecord {
    const tags = this.#stmt('imageTags', 'SELECT ref FROM tags WHERE image_id = ? ORDER BY ref').all(row.id) as { ref: string }[];
    const digests = this.#stmt('imageDigests', 'SELECT ref FROM repo_digests WHERE image_id = ? ORDER BY ref').all(row.id) as { ref: string }[];
    return {
      id: row.id as Digest,
      config: JSON.parse(row.config) as ImageConfig,
      chainIds: JSON.parse(row.chain_ids) as Digest[],
      size: row.size,
      created: row.created,
      repoTags: tags.map((t) => t.ref),
      repoDigests: digests.map((d) => d.ref),
      comment: row.comment,
    };
  }
}

function toContainer(row: ContainerRow): ContainerRecord {
  return {
    id: row.id,
    name: row.name,
    created: row.created,
    imageId: row.image_id as Digest,
    spec: JSON.parse(row.spec) as ContainerSpec,
    path: row.path,
    args: JSON.parse(row.args) as string[],
    state: JSON.parse(row.state) as ContainerState,
    restartCount: row.restart_count,
  };
}

function isUniqueViolation(err: unknown, column: string): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    String((err as Error).message).includes(column)
  );
}

/** Freezes a record and everything in it (cached records are shared, never changed in place). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
