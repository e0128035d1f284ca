/** A pass-through stream that checks content against a digest and size while it flows. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';

/**
 * Passes bytes through unchanged and fails the stream (instead of ending it) when the content does
 * not hash to `expected`, or is longer or shorter than `expectedSize` (checked as bytes arrive, so
 * an endless body stops right after the limit).
 */
export class DigestVerifier extends Transform {
  readonly #expected: Digest;
  readonly #size: number | undefined;
  readonly #hash: Hash = createHash('sha256');
  #seen = 0;
  readonly #onBytes: ((total: number) => void) | undefined;

  constructor(expected: Digest, expectedSize?: number, onBytes?: (total: number) => void) {
    super({ highWaterMark: 64 * 1024 });
    this.#expected = expected;
    this.#size = expectedSize;
    this.#onBytes = onBytes;
  }

  get bytes(): number {
    return this.#seen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#size !== undefined && this.#seen > this.#size) {
      cb(new EngineError('ERR_INVALID_ARGUMENT', `blob ${this.#expected} is longer than its descriptor's ${this.#size} bytes`));
      return;
    }
    this.#hash.update(chunk);
    this.#onBytes?.(this.#seen);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#size !== undefined && this.#seen !== this.#size) {
      cb(new EngineError('ERR_INVALID_ARGUMENT', `blob ${this.#expected} is ${this.#seen} bytes, its descriptor says ${this.#size}`));
      return;
    }
    const got = `sha256:${this.#hash.digest('hex')}`;
    if (got !== this.#expected) {
      cb(new EngineError('ERR_INVALID_ARGUMENT', `digest mismatch: the registry sent ${got} for ${this.#expected}; the blob is corrupt and was refused`));
      return;
    }
    cb();
  }
}
