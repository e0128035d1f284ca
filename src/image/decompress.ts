/**
 * Layer decompression, in-process only (CVE-2014-9357, GHSA-x86f-5xw2-fm2r: never exec an external
 * decompressor). The format is detected from magic bytes, not from a media type:
 *
 * - `1f 8b` gzip: `zlib` gunzip;
 * - `28 b5 2f fd` zstd: `zlib` zstd when this Node has it (Node ≥ 22.15), otherwise refused with
 *   `ERR_INVALID_ARGUMENT` "zstd-compressed layers are not supported yet";
 * - `fd 37 7a 58 5a 00` xz and `42 5a 68` bzip2: refused with `ERR_INVALID_ARGUMENT`;
 * - anything else is passed through as an uncompressed tar.
 *
 * Corrupt or truncated compressed data is refused with `ERR_UNSAFE_ARCHIVE`.
 */
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { EngineError, isEngineError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const ZLIB_CHUNK = 64 * 1024;
const SNIFF_BYTES = 6;

type ZstdFactory = (options?: { chunkSize?: number }) => Transform;

/** `zlib.createZstdDecompress` where this Node has it (not in Node 20). */
function zstdFactory(): ZstdFactory | undefined {
  const f = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof f === 'function' ? f : undefined;
}

/**
 * Decodes one layer stream. Use once: `decode(source)` yields the uncompressed bytes; `compression`
 * is known after the first bytes were seen, and `compressedBytesConsumed` tells how much compressed
 * input the decompressor has taken so far (for ratio limits).
 */
export class LayerDecoder {
  #compression: Compression | undefined;
  #engine: Transform | undefined;
  #plainBytes = 0;

  get compression(): Compression | undefined {
    return this.#compression;
  }

  /** Compressed bytes handed to the decompressor so far (input bytes for an uncompressed layer). */
  get compressedBytesConsumed(): number {
    const engine = this.#engine as (Transform & { bytesWritten?: number }) | undefined;
    return engine?.bytesWritten ?? this.#plainBytes;
  }

  async *decode(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
    const it = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headLength = 0;
    let ended = false;
    while (headLength < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headLength += r.value.length;
    }
    const magic = Buffer.concat(head, headLength).subarray(0, SNIFF_BYTES);

    const rest = async function* (): AsyncGenerator<Buffer, void, undefined> {
      let done = ended;
      try {
        yield* head;
        while (!done) {
          const r = await it.next();
          if (r.done) done = true;
          else yield r.value;
        }
      } finally {
        if (!done) await it.return?.();
      }
    };

    if (startsWith(magic, [0x1f, 0x8b])) {
      this.#compression = 'gzip';
      yield* this.#through(rest(), zlib.createGunzip({ chunkSize: ZLIB_CHUNK }), 'gzip');
    } else if (startsWith(magic, [0x28, 0xb5, 0x2f, 0xfd])) {
      const zstd = zstdFactory();
      if (zstd === undefined) {
        if (!ended) await it.return?.();
        throw new EngineError('ERR_INVALID_ARGUMENT', 'zstd-compressed layers are not supported yet', {
          hint: `this Node.js (${process.version}) has no in-process zstd decoder`,
        });
      }
      this.#compression = 'zstd';
      yield* this.#through(rest(), zstd({ chunkSize: ZLIB_CHUNK }), 'zstd');
    } else if (startsWith(magic, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || startsWith(magic, [0x42, 0x5a, 0x68])) {
      if (!ended) await it.return?.();
      throw new EngineError('ERR_INVALID_ARGUMENT', 'xz- and bzip2-compressed layers are not supported');
    } else {
      this.#compression = 'none';
      for await (const chunk of rest()) {
        this.#plainBytes += chunk.length;
        yield chunk;
      }
    }
  }

  /**
   * Pumps `src` through a zlib transform and yields its output, pull-based with back-pressure.
   * On early exit the engine is destroyed and the pump is left to settle on its own: it may be
   * waiting on the input, which the caller unblocks by destroying the input stream.
   */
  async *#through(src: AsyncIterable<Buffer>, engine: Transform, what: string): AsyncGenerator<Buffer, void, undefined> {
    this.#engine = engine;
    let pumpError: unknown;
    const pumped = pipeline(src, engine).then(
      () => undefined,
      (err: unknown) => {
        pumpError = err;
      },
    );
    try {
      for await (const chunk of engine) yield chunk as Buffer;
    } catch (err) {
      if (isEngineError(err)) throw err;
      throw new EngineError('ERR_UNSAFE_ARCHIVE', `invalid ${what} data: ${(err as Error).message}`, { cause: err });
    } finally {
      engine.destroy();
    }
    await pumped;
    if (pumpError !== undefined) {
      if (isEngineError(pumpError)) throw pumpError;
      throw new EngineError('ERR_UNSAFE_ARCHIVE', `invalid ${what} data: ${(pumpError as Error).message}`, {
        cause: pumpError,
      });
    }
  }
}

function startsWith(buf: Buffer, bytes: readonly number[]): boolean {
  if (buf.length < bytes.length) return false;
  return bytes.every((b, i) => buf[i] === b);
}
