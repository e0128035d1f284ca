/**
 * The metadata store: the only writer of brig's records, in SQLite (WAL) via better-sqlite3.
 *
 * Schema (version in `PRAGMA user_version`, migrations below):
 *
 *   images      id PK (sha256:…) │ config JSON │ chain_ids JSON │ size │ created │ comment │ added
 *   tags        ref PK (normalised name:tag) │ image_id → images.id │ updated
 *   layers      chain_id PK │ diff_id │ parent │ size
 *   containers  id PK │ name UNIQUE │ created │ image_id │ spec JSON │ path │ args JSON │ state JSON │
 *               status (denormalised from state, for filtering) │ restart_count
 *   meta        key PK │ value           (daemon id, …)
 *
 * Every multi-row change runs in one transaction, so a crash leaves either the old or the new state.
 * Calls are synchronous (better-sqlite3); each one takes well under a millisecond.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { EngineError } from '../../errors.js';
import type { ContainerRecord, ContainerSpec, ContainerState } from '../../model/container.js';
import type { Digest, ImageConfig, ImageRecord, LayerRecord } from '../../model/image.js';

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

  /** Inserts a new container; throws ERR_NAME_IN_USE if the name is taken. */
  insertContainer(c: ContainerRecord): void {
    try {
      this.#db
        .prepare(
          `INSERT INTO containers (id, name, created, image_id, spec, path, args, state, status, restart_count)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(c.id, c.name, c.created, c.imageId, JSON.stringify(c.spec), c.path, JSON.stringify(c.args),
          JSON.stringify(c.state), c.state.status, c.restartCount);
    } catch (err) {
      if (isUniqueViolation(err, 'containers.name')) {
        const other = this.#db.prepare('SELECT id FROM containers WHERE name = ?').get(c.name) as { id: string };
        throw new EngineError(
          'ERR_NAME_IN_USE',
          `Conflict. The container name "/${c.name}" is already in use by container "${other.id}". ` +
            'You have to remove (or rename) that container to be able to reuse that name.',
        );
      }
      throw err;
    }
  }

  updateContainerState(id: string, state: ContainerState, restartCount?: number): void {
    if (restartCount === undefined) {
      this.#db.prepare('UPDATE containers SET state = ?, status = ? WHERE id = ?').run(JSON.stringify(state), state.status, id);
    } else {
      this.#db
        .prepare('UPDATE containers SET state = ?, status = ?, restart_count = ? WHERE id = ?')
        .run(JSON.stringify(state), state.status, restartCount, id);
    }
  }

  /** Renames a container; throws ERR_NAME_IN_USE if the name is taken. */
  renameContainer(id: string, name: string): void {
    try {
      this.#db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (err) {
      if (isUniqueViolation(err, 'containers.name')) {
        const other = this.#db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string };
        throw new EngineError(
          'ERR_NAME_IN_USE',
          `Conflict. The container name "/${name}" is already in use by container "${other.id}". ` +
            'You have to remove (or rename) that container to be able to reuse that name.',
        );
      }
      throw err;
    }
  }

  updateContainerSpec(id: string, spec: ContainerSpec): void {
    this.#db.prepare('UPDATE containers SET spec = ? WHERE id = ?').run(JSON.stringify(spec), id);
  }

  deleteContainer(id: string): void {
    this.#db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  getContainer(id: string): ContainerRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
    return row && toContainer(row);
  }

  /** Resolves a full ID, a name (with or without `/`) or a unique ID prefix, the way Docker does. */
  findContainer(ref: string): ContainerRecord | undefined {
    if (ref === '') return undefined;
    const byId = this.#db.prepare('SELECT * FROM containers WHERE id = ?').get(ref) as ContainerRow | undefined;
    if (byId) return toContainer(byId);
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#db.prepare('SELECT * FROM containers WHERE name = ?').get(name) as ContainerRow | undefined;
    if (byName) return toContainer(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.#db
      .prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2")
      .all(ref) as ContainerRow[];
    if (rows.length > 1) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `multiple IDs found with provided prefix: ${ref}`);
    }
    return rows[0] && toContainer(rows[0]);
  }

  listContainers(): ContainerRecord[] {
    const rows = this.#db.prepare('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as ContainerRow[];
    return rows.map(toContainer);
  }

  countContainersByImage(imageId: Digest): number {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM containers WHERE image_id = ?').get(imageId) as { n: number };
    return row.n;
  }

  // ── images ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Records an image, its layers and (optionally) a tag in one transaction. Re-adding an existing image
   * only moves the tag. Returns the tag's previous image ID when the tag moved away from another image.
   */
  putImage(image: { id: Digest; config: ImageConfig; chainIds: Digest[]; size: number; comment: string },
    layers: LayerRecord[], tag?: string): Digest | undefined {
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
    })();
    return previous;
  }

  #setTag(ref: string, imageId: Digest, now: string): Digest | undefined {
    const old = this.#db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: Digest } | undefined;
    this.#db
      .prepare('INSERT INTO tags (ref, image_id, updated) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id, updated = excluded.updated')
      .run(ref, imageId, now);
    return old && old.image_id !== imageId ? old.image_id : undefined;
  }

  getImage(id: Digest): ImageRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return row && this.#toImage(row);
  }

  /** Image ID a normalised tag points at. */
  imageIdForTag(ref: string): Digest | undefined {
    const row = this.#db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: Digest } | undefined;
    return row?.image_id;
  }

  /** Image IDs starting with the given hex prefix (for short-ID lookups). */
  imageIdsByPrefix(hexPrefix: string): Digest[] {
    const rows = this.#db
      .prepare("SELECT id FROM images WHERE id LIKE 'sha256:' || ? || '%' LIMIT 2")
      .all(hexPrefix) as { id: Digest }[];
    return rows.map((r) => r.id);
  }

  listImages(): ImageRecord[] {
    const rows = this.#db.prepare('SELECT * FROM images ORDER BY created DESC').all() as ImageRow[];
    return rows.map((r) => this.#toImage(r));
  }

  layer(chainId: Digest): LayerRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as
      | { chain_id: Digest; diff_id: Digest; parent: Digest | null; size: number }
      | undefined;
    return row && { chainId: row.chain_id, diffId: row.diff_id, parent: row.parent, size: row.size };
  }

  #toImage(row: ImageRow): ImageRecord {
    const tags = this.#db.prepare('SELECT ref FROM tags WHERE image_id = ? ORDER BY ref').all(row.id) as { ref: string }[];
    return {
      id: row.id as Digest,
      config: JSON.parse(row.config) as ImageConfig,
      chainIds: JSON.parse(row.chain_ids) as Digest[],
      size: row.size,
      created: row.created,
      repoTags: tags.map((t) => t.ref),
      repoDigests: [],
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
