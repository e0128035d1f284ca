/**
 * LayerDecoder: zstd decoding (libzstd through zstd-napi) — round trips, multi-frame and skippable
 * frames, pull-based output with bounded chunks, and refusal of corrupt, truncated and oversized
 * input. Fixtures are compressed in-process with zstd-napi's encoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { compress } from 'zstd-napi';
import { isEngineError, type ErrorCode } from '../errors.js';
import { LayerDecoder } from './decompress.js';

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function* asAsync(it: Iterable<Buffer>): AsyncGenerator<Buffer> {
  yield* it;
}

async function decodeAll(data: Buffer, chunk = 1000): Promise<{ out: Buffer; decoder: LayerDecoder; maxChunk: number }> {
  const decoder = new LayerDecoder();
  const parts: Buffer[] = [];
  let maxChunk = 0;
  for await (const c of decoder.decode(asAsync(chunksOf(data, chunk)))) {
    parts.push(Buffer.from(c));
    maxChunk = Math.max(maxChunk, c.length);
  }
  return { out: Buffer.concat(parts), decoder, maxChunk };
}

async function refused(data: Buffer, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(decodeAll(data), (err: unknown) => {
    assert.ok(isEngineError(err, code), String(err));
    assert.match(err.message, message);
    return true;
  });
}

/** ~1.5 MB of mixed text and random bytes: several zstd blocks, some incompressible. */
function sample(): Buffer {
  const text = Buffer.from('brig layer content, line after line\n'.repeat(20_000));
  return Buffer.concat([text, randomBytes(500_000), text.subarray(0, 300_000)]);
}

test('zstd: decodes to the original bytes in 128 KiB chunks, counting the compressed input', async () => {
  const plain = sample();
  for (const level of [1, 19]) {
    const z = compress(plain, { compressionLevel: level });
    const { out, decoder, maxChunk } = await decodeAll(z, 777);
    assert.equal(decoder.compression, 'zstd');
    assert.ok(out.equals(plain), `level ${level}: output differs`);
    assert.ok(maxChunk <= 128 * 1024, `chunk of ${maxChunk} bytes`);
    assert.equal(decoder.compressedBytesConsumed, z.length);
  }
});

test('zstd: concatenated frames and a skippable frame decode as one stream', async () => {
  const a = Buffer.from('first frame\n'.repeat(1000));
  const b = randomBytes(70_000);
  const skippable = Buffer.alloc(8 + 13);
  skippable.writeUInt32LE(0x184d2a5a, 0);
  skippable.writeUInt32LE(13, 4);
  const { out } = await decodeAll(Buffer.concat([compress(a), skippable, compress(b), compress(Buffer.alloc(0))]), 5);
  assert.ok(out.equals(Buffer.concat([a, b])));
});

test('zstd: output is pulled, never decoded ahead (a 64 GiB bomb yields 128 KiB at a time)', async () => {
  const frame = compress(Buffer.alloc(64 * 1024 * 1024), { compressionLevel: 3 });
  assert.ok(frame.length < 64 * 1024, `fixture frame is ${frame.length} bytes`);
  let framesRead = 0;
  async function* bomb(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 1024; i++) {
      framesRead++;
      yield frame;
    }
  }
  const decoder = new LayerDecoder();
  let got = 0;
  let chunks = 0;
  for await (const c of decoder.decode(bomb())) {
    assert.ok(c.length <= 128 * 1024);
    got += c.length;
    if (++chunks === 8) break;
  }
  assert.equal(got, 8 * 128 * 1024);
  assert.ok(framesRead <= 2, `read ${framesRead} frames for 1 MiB of output`);
  assert.ok(decoder.compressedBytesConsumed <= 2 * frame.length);
});

test('zstd: corrupt data is refused', async () => {
  // With a content checksum (what the zstd CLI writes by default) any corruption is caught by
  // libzstd; without one, a flipped literal decodes to wrong bytes, which the layer's diff ID check
  // catches. A broken block structure is refused either way.
  const z = compress(sample(), { compressionLevel: 3, checksumFlag: true });
  const flipped = Buffer.from(z);
  flipped[Math.floor(z.length / 2)]! ^= 0x01;
  await refused(flipped, 'ERR_UNSAFE_ARCHIVE', /^invalid zstd data/);
  const noChecksum = compress(sample(), { compressionLevel: 3 });
  const broken = Buffer.from(noChecksum);
  broken.fill(0xff, 6, 40); // the first block's header and literals section
  await refused(broken, 'ERR_UNSAFE_ARCHIVE', /^invalid zstd data/);
});

test('zstd: a stream that ends inside a frame is refused', async () => {
  const z = compress(sample(), { compressionLevel: 3 });
  await refused(z.subarray(0, z.length - 10), 'ERR_UNSAFE_ARCHIVE', /truncated/);
  await refused(z.subarray(0, 4), 'ERR_UNSAFE_ARCHIVE', /truncated/);
});

test('zstd: garbage after the last frame is refused', async () => {
  await refused(Buffer.concat([compress(Buffer.from('ok')), Buffer.from('not a frame at all')]), 'ERR_UNSAFE_ARCHIVE', /^invalid zstd data/);
});

test('zstd: a frame asking for a window over 128 MiB is refused before any allocation', async () => {
  // Frame header: magic, descriptor 0x00 (no single segment, no checksum, no dictionary, no content
  // size), window descriptor exponent 18 => 2^28 = 256 MiB; then a last raw block of 1 byte.
  const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x09, 0x00, 0x00, 0x41]);
  await refused(frame, 'ERR_UNSAFE_ARCHIVE', /window exceeds 128 MiB/);
  // The same frame with a 64 MiB window (exponent 16) is accepted.
  const ok = Buffer.from(frame);
  ok[5] = 16 << 3;
  assert.equal((await decodeAll(ok)).out.toString(), 'A');
});
