/**
 * Layer decompression, in-process only (CVE-2014-9357, GHSA-x86f-5xw2-fm2r: never exec an external
 * decompressor). The format is detected from magic bytes, not from a media type:
 *
 * - `1f 8b` gzip: `zlib` gunzip;
 * - `28 b5 2f fd` zstd: libzstd through the `zstd-napi` binding (below), windows up to 128 MiB;
 * - `fd 37 7a 58 5a 00` xz and `42 5a 68` bzip2: refused with `ERR_INVALID_ARGUMENT`;
 * - anything else is passed through as an uncompressed tar.
 *
 * Corrupt or truncated compressed data is refused with `ERR_UNSAFE_ARCHIVE`.
 */
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { EngineError, isEngineError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const ZLIB_CHUNK = 64 * 1024;
const SNIFF_BYTES = 6;

/*
 * zstd: which decoder, and why. Node 20's zlib has no zstd (it came in 22.15), so a library is needed.
 * - The `zstd` binary as a child process was ruled out: brig never execs a decompressor (above).
 * - `fzstd` (pure JS, MIT, streaming `Decompress`) was evaluated and rejected for untrusted input:
 *   it does no bounds checks while executing sequences (out-of-range reads yield 0, writes past its
 *   128 KiB block buffer are dropped), so a crafted ~20-byte block can run ~10^9 loop iterations and
 *   a stream of them pins a CPU with no output for a ratio cap to catch; it also copies its whole
 *   window (up to 2 GiB, as the frame header asks) once per block, and emits all blocks of a pushed
 *   chunk synchronously (no back-pressure inside a chunk).
 * - WASM builds on npm (zstddec, @bokuweb/zstd-wasm, @hpcc-js/wasm-zstd, ...) offer one-shot
 *   decompression only, which would buffer whole layers.
 * - `zstd-napi` (Apache-2.0, maintained, N-API) bundles and compiles the reference libzstd, which is
 *   continuously fuzzed; its low-level `DCtx.decompressStream` lets brig drive it pull-based, one
 *   128 KiB output buffer at a time, and `ZSTD_d_windowLogMax` bounds its memory. Its own Transform
 *   is not used: it pushes all output of an input chunk at once. Like better-sqlite3 it builds with
 *   node-gyp on `npm install` (no prebuilt binary is downloaded).
 */
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

/** Largest zstd window accepted, as log2: 2^27 = 128 MiB, libzstd's (and `zstd -d`'s) default limit. */
const ZSTD_WINDOW_LOG_MAX = 27;
/** Output buffer per decompressStream call (and so the largest chunk yielded). */
const ZSTD_OUT_CHUNK = 128 * 1024;

/**
 * Decodes one layer stream. Use once: `decode(source)` yields the uncompressed bytes; `compression`
 * is known after the first bytes were seen, and `compressedBytesConsumed` tells how much compressed
 * input the decompressor has taken so far (for ratio limits).
 */
export class LayerDecoder {
  #compression: Compression | undefined;
  #engine: Transform | undefined;
  /** Input bytes taken so far, when there is no zlib engine counting them (none, zstd). */
  #inputBytes = 0;

  get compression(): Compression | undefined {
    return this.#compression;
  }

  /** Compressed bytes handed to the decompressor so far (input bytes for an uncompressed layer). */
  get compressedBytesConsumed(): number {
    const engine = this.#engine as (Transform & { bytesWritten?: number }) | undefined;
    return engine?.bytesWritten ?? this.#inputBytes;
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
      this.#compression = 'zstd';
      yield* this.#zstd(rest());
    } else if (startsWith(magic, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || startsWith(magic, [0x42, 0x5a, 0x68])) {
      if (!ended) await it.return?.();
      throw new EngineError('ERR_INVALID_ARGUMENT', 'xz- and bzip2-compressed layers are not supported');
    } else {
      this.#compression = 'none';
      for await (const chunk of rest()) {
        this.#inputBytes += chunk.length;
        yield chunk;
      }
    }
  }

  /**
   * Decodes zstd frames (and skips skippable frames) with libzstd's streaming decoder, pull-based:
   * each call fills at most one output buffer, which is yielded before the next call, so nothing
   * is decoded ahead of the consumer and a ratio cap sees every 128 KiB. Input is counted as the
   * decoder consumes it. The stream must end on a frame boundary.
   */
  async *#zstd(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
    const invalid = (message: string, cause?: unknown): EngineError =>
      new EngineError('ERR_UNSAFE_ARCHIVE', `invalid zstd data: ${message}`, cause === undefined ? {} : { cause });
    let dctx: ZstdBinding.DCtx;
    try {
      dctx = new zstd.DCtx();
      dctx.setParameter(zstd.DParameter.windowLogMax, ZSTD_WINDOW_LOG_MAX);
    } catch (err) {
      throw new EngineError('ERR_INTERNAL', `cannot create a zstd decoder: ${(err as Error).message}`, { cause: err });
    }
    let inFrame = false;
    for await (const chunk of src) {
      let input: Buffer = chunk;
      for (;;) {
        const out = Buffer.allocUnsafe(ZSTD_OUT_CHUNK);
        let ret: number;
        let produced: number;
        let consumed: number;
        try {
          [ret, produced, consumed] = dctx.decompressStream(out, input);
        } catch (err) {
          const msg = (err as Error).message;
          throw invalid(/memory/i.test(msg) ? `${msg} (the frame's window exceeds ${2 ** (ZSTD_WINDOW_LOG_MAX - 20)} MiB)` : msg, err);
        }
        this.#inputBytes += consumed;
        input = input.subarray(consumed);
        inFrame = ret !== 0;
        if (produced > 0) yield out.subarray(0, produced);
        // Done with this chunk once it is consumed and the decoder had no more output to give.
        if (input.length === 0 && produced < out.length) break;
      }
    }
    if (inFrame) throw invalid('truncated (the stream ends inside a frame)');
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
