import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  STREAM_STDERR,
  STREAM_STDIN,
  STREAM_STDOUT,
  STREAM_SYSTEMERR,
  StdcopyDemuxer,
  demuxStream,
  encodeFrame,
} from './stdcopy.js';

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function rawFrame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

async function demux(chunks: Buffer[]): Promise<{ out: string; err: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  await demuxStream(Readable.from(chunks), stdout, stderr);
  return { out: stdout.text, err: stderr.text };
}

const sample = Buffer.concat([
  encodeFrame(STREAM_STDERR, 'err1\n'),
  encodeFrame(STREAM_STDOUT, 'out1\n'),
  encodeFrame(STREAM_STDOUT, ''),
  encodeFrame(STREAM_STDOUT, 'partial line '),
  encodeFrame(STREAM_STDERR, 'err2\n'),
  encodeFrame(STREAM_STDOUT, 'rest\n'),
  encodeFrame(STREAM_STDIN, 'stdin-echo\n'),
]);

test('encodeFrame writes type, three zero bytes and a big-endian length', () => {
  const f = encodeFrame(STREAM_STDOUT, 'hi\n');
  assert.deepEqual([...f], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  const big = encodeFrame(STREAM_STDERR, Buffer.alloc(0x010203));
  assert.deepEqual([...big.subarray(0, 8)], [2, 0, 0, 0, 0, 0x01, 0x02, 0x03]);
});

test('demuxes whole frames into stdout and stderr (type 0 goes to stdout)', async () => {
  const r = await demux([sample]);
  assert.equal(r.out, 'out1\npartial line rest\nstdin-echo\n');
  assert.equal(r.err, 'err1\nerr2\n');
});

test('demuxes the same stream fed one byte at a time', async () => {
  const bytes = [...sample].map((b) => Buffer.from([b]));
  const r = await demux(bytes);
  assert.equal(r.out, 'out1\npartial line rest\nstdin-echo\n');
  assert.equal(r.err, 'err1\nerr2\n');
});

test('demuxes at every possible split point of two chunks', async () => {
  for (let cut = 0; cut <= sample.length; cut++) {
    const r = await demux([sample.subarray(0, cut), sample.subarray(cut)]);
    assert.equal(r.out, 'out1\npartial line rest\nstdin-echo\n', `cut at ${cut}`);
    assert.equal(r.err, 'err1\nerr2\n', `cut at ${cut}`);
  }
});

test('handles a header split inside its length bytes and a payload spread over many chunks', async () => {
  const payload = 'x'.repeat(100_000);
  const f = encodeFrame(STREAM_STDOUT, payload);
  const chunks = [f.subarray(0, 5), f.subarray(5, 8), f.subarray(8, 30_000), f.subarray(30_000, 30_001), f.subarray(30_001)];
  const r = await demux(chunks);
  assert.equal(r.out.length, 100_000);
  assert.equal(r.err, '');
});

test('keeps multi-byte characters split across frames intact once joined', async () => {
  const euro = Buffer.from('€'); // 3 bytes
  const chunks = [encodeFrame(STREAM_STDOUT, euro.subarray(0, 1)), encodeFrame(STREAM_STDOUT, euro.subarray(1))];
  const r = await demux(chunks);
  assert.equal(r.out, '€');
});

test('a system-error frame (type 3) fails with its payload and is not printed', async () => {
  const stdout = new Collector();
  const stderr = new Collector();
  const input = Buffer.concat([encodeFrame(STREAM_STDOUT, 'before\n'), rawFrame(STREAM_SYSTEMERR, 'oci runtime exploded'), encodeFrame(STREAM_STDOUT, 'after\n')]);
  // fed byte by byte: the error message must still be complete
  await assert.rejects(
    demuxStream(Readable.from([...input].map((b) => Buffer.from([b]))), stdout, stderr),
    { message: 'error from daemon in stream: oci runtime exploded' },
  );
  assert.equal(stdout.text, 'before\n');
  assert.equal(stderr.text, '');
});

test('an unknown stream type fails with "Unrecognized input header: N"', async () => {
  const stdout = new Collector();
  await assert.rejects(
    demuxStream(Readable.from([encodeFrame(STREAM_STDOUT, 'ok\n'), rawFrame(7, 'zz')]), stdout, new Collector()),
    { message: 'Unrecognized input header: 7' },
  );
  assert.equal(stdout.text, 'ok\n');
  // A raw TTY stream mistaken for a multiplexed one fails the same way ('h' = 104).
  await assert.rejects(demux([Buffer.from('hello world\n')]), { message: 'Unrecognized input header: 104' });
});

test('a stream ending inside a frame ends quietly (like Docker) but reports partialFrame', async () => {
  const stdout = new Collector();
  const d = new StdcopyDemuxer({ stdout, stderr: new Collector() });
  const f = encodeFrame(STREAM_STDOUT, 'abcdef');
  await new Promise<void>((resolve, reject) => d.end(f.subarray(0, 10), () => resolve()).on('error', reject));
  assert.equal(stdout.text, 'ab');
  assert.equal(d.partialFrame, true);

  const d2 = new StdcopyDemuxer({ stdout: new Collector(), stderr: new Collector() });
  await new Promise<void>((resolve) => d2.end(f, () => resolve()));
  assert.equal(d2.partialFrame, false);
});

test('waits for a slow target to drain instead of buffering (back-pressure)', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _enc, cb) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      received.push(chunk);
      setTimeout(() => {
        inFlight--;
        cb();
      }, 1);
    },
  });
  // 50 frames in one chunk: the demuxer must not push all of them into `slow` at once.
  const frames = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeFrame(STREAM_STDOUT, `line ${i}\n`)));
  const d = new StdcopyDemuxer({ stdout: slow, stderr: new Collector() });
  let writeDone = false;
  d.write(frames, () => {
    writeDone = true;
  });
  await sleep(5);
  assert.equal(writeDone, false, 'the input chunk is not acknowledged while the target is full');
  assert.ok(slow.writableLength <= 16, `target buffer stays small (was ${slow.writableLength})`);
  await new Promise<void>((resolve) => d.end(() => resolve()));
  assert.equal(Buffer.concat(received).toString(), Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
  assert.equal(maxInFlight, 1);
});

test('a failing target fails the demuxer', async () => {
  const broken = new Writable({
    write(_c, _e, cb) {
      cb(new Error('EPIPE-ish'));
    },
  });
  await assert.rejects(demuxStream(Readable.from([encodeFrame(STREAM_STDOUT, 'x')]), broken, new Collector()), /EPIPE-ish/);
});

test('an aborted signal stops the copy and destroys the source', async () => {
  const ac = new AbortController();
  const source = new Readable({ read() {} });
  source.push(encodeFrame(STREAM_STDOUT, 'first\n'));
  const stdout = new Collector();
  const p = demuxStream(source, stdout, new Collector(), { signal: ac.signal });
  await sleep(5);
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal(source.destroyed, true);
  assert.equal(stdout.text, 'first\n');
});
