/**
 * Content store: blobs addressed by digest under `<root>/blobs/sha256/<hex>`, written through
 * `ingest/` and verified before they become visible. A blob on disk always matches its name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';
import { digestHex, isHex64 } from '../../util/digest.js';
import { mkdirPrivate } from '../../util/fs.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export class FsContentStore {
  readonly #blobs: string;
  readonly #ingest: string;

  constructor(root: string) {
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#ingest = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdirPrivate(this.#blobs);
    await mkdirPrivate(this.#ingest);
  }

  /** Path of a blob (the digest is already validated by its type's constructor). */
  path(digest: Digest): string {
    return join(this.#blobs, digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.path(digest));
      return { digest, size: s.size };
    } catch {
      return undefined;
    }
  }

  reader(digest: Digest): Readable {
    return createReadStream(this.path(digest));
  }

  /**
   * Streams `input` into the store. With `expected`, the content must hash to it or the write is
   * aborted with ERR_INVALID_ARGUMENT and nothing is kept.
   */
  async ingest(input: Readable, expected?: Digest): Promise<BlobInfo> {
    const tmp = join(this.#ingest, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(input, tap, createWriteStream(tmp, { mode: 0o600 }));
      const digest = `sha256:${hash.digest('hex')}` as Digest;
      if (expected !== undefined && digest !== expected) {
        throw new EngineError('ERR_INVALID_ARGUMENT', `digest mismatch: expected ${expected}, got ${digest}`);
      }
      await rename(tmp, this.path(digest));
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Stores a small in-memory blob (configs, manifests). */
  async put(data: Buffer): Promise<BlobInfo> {
    return this.ingest(Readable.from([data]));
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Digests of all stored blobs (names that are not a digest are ignored). */
  async list(): Promise<Digest[]> {
    return (await readdir(this.#blobs)).filter(isHex64).map((hex) => `sha256:${hex}` as Digest);
  }

  /**
   * Removes interrupted ingests (temp files of a previous daemon run). Only safe while nothing
   * ingests: at daemon start, or under the image store's exclusive lock.
   */
  async removeIngestLeftovers(): Promise<number> {
    const names = await readdir(this.#ingest);
    for (const n of names) await rm(join(this.#ingest, n), { force: true, recursive: true });
    return names.length;
  }
}
