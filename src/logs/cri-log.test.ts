import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerTimestamp, parseRecord, parseTimeNs, readLog } from './cri-log.js';
import type { LogEntry, ReadLogOptions } from './cri-log.js';

async function tempLog(t: TestContext, content?: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'brig-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  if (content !== undefined) await writeFile(path, content);
  return path;
}

/** A record as conmon writes it; second `s` of the day, so later records have later times. */
function rec(s: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string): string {
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `2026-11-28T${hh}:${mm}:${ss}.000000001+00:00 ${stream} ${tag} ${text}\n`;
}

function ns(s: number): bigint {
  return parseTimeNs('2026-11-28T00:00:00Z') + BigInt(s) * 1_000_000_000n + 1n;
}

async function collect(path: string, options?: ReadLogOptions): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLog(path, options)) out.push(e);
  return out;
}

const text = (entries: LogEntry[]) => entries.map((e) => e.data.toString()).join('');
const shape = (entries: LogEntry[]) => entries.map((e) => `${e.stream}:${e.partial ? 'P' : 'F'}:${e.data.toString()}`);

// ── parseRecord, parseTimeNs, dockerTimestamp ────────────────────────────────────────────────────

test('parseRecord: a full stdout record restores the newline', () => {
  const e = parseRecord(Buffer.from('2026-11-28T14:45:41.426404460+00:00 stdout F out 0'));
  assert.ok(e);
  assert.equal(e.stream, 'stdout');
  assert.equal(e.partial, false);
  assert.equal(e.time, '2026-11-28T14:45:41.426404460+00:00');
  assert.equal(e.timeNs, BigInt(Date.parse('2026-11-28T14:45:41Z')) * 1_000_000n + 426404460n);
  assert.equal(e.data.toString(), 'out 0\n');
});

test('parseRecord: a partial stderr record keeps its bytes as written, spaces included', () => {
  const e = parseRecord(Buffer.from('2026-11-28T14:45:41.1+00:00 stderr P  two  spaces '));
  assert.ok(e);
  assert.equal(e.stream, 'stderr');
  assert.equal(e.partial, true);
  assert.equal(e.data.toString(), ' two  spaces ');
});

test('parseRecord: an empty full line is a lone newline (with or without the separator space)', () => {
  assert.equal(parseRecord(Buffer.from('2026-11-28T14:45:41Z stdout F '))?.data.toString(), '\n');
  assert.equal(parseRecord(Buffer.from('2026-11-28T14:45:41Z stdout F'))?.data.toString(), '\n');
});

test('parseRecord: tags with extra colon fields are read by their first field', () => {
  assert.equal(parseRecord(Buffer.from('2026-11-28T14:45:41Z stdout P:x a'))?.partial, true);
  assert.equal(parseRecord(Buffer.from('2026-11-28T14:45:41Z stdout F:x a'))?.partial, false);
});

test('parseRecord: binary payloads are returned byte for byte', () => {
  const payload = Buffer.from([0x00, 0xff, 0xfe, 0x20, 0x80]);
  const line = Buffer.concat([Buffer.from('2026-11-28T14:45:41Z stdout P '), payload]);
  assert.deepEqual(parseRecord(line)?.data, payload);
});

test('parseRecord: the returned data does not alias the input buffer', () => {
  const line = Buffer.from('2026-11-28T14:45:41Z stdout P abc');
  const e = parseRecord(line)!;
  line.fill(0x78);
  assert.equal(e.data.toString(), 'abc');
});

test('parseRecord: garbage lines are undefined', () => {
  for (const g of [
    '',
    'hello',
    'hello world',
    '2026-11-28T14:45:41Z stdout',
    '2026-11-28T14:45:41Z stdin F x',
    '2026-11-28T14:45:41Z STDOUT F x',
    'not-a-time stdout F x',
    '2026-11-28T14:45 stdout F x',
  ]) {
    assert.equal(parseRecord(Buffer.from(g)), undefined, JSON.stringify(g));
  }
});

test('parseTimeNs: offsets, Z, missing and short fractions', () => {
  const base = BigInt(Date.parse('2026-11-28T14:45:41Z')) * 1_000_000n;
  assert.equal(parseTimeNs('2026-11-28T14:45:41Z'), base);
  assert.equal(parseTimeNs('2026-11-28T14:45:41.5Z'), base + 500_000_000n);
  assert.equal(parseTimeNs('2026-11-28T14:45:41.000000007+00:00'), base + 7n);
  assert.equal(parseTimeNs('2026-11-28T16:45:41.123456789+02:00'), base + 123_456_789n);
  assert.equal(parseTimeNs('2026-11-28T13:45:41-01:00'), base);
});

test('parseTimeNs: garbage is 0', () => {
  assert.equal(parseTimeNs(''), 0n);
  assert.equal(parseTimeNs('yesterday'), 0n);
  assert.equal(parseTimeNs('2026-11-28T14:45:41.1234567890Z'), 0n);
  assert.equal(parseTimeNs('2026-13-45T14:45:41Z'), 0n);
});

test('dockerTimestamp: RFC 3339 nano in UTC with Z and all nine digits', () => {
  const e = parseRecord(Buffer.from('2026-11-28T16:45:41.000000042+02:00 stdout F x'))!;
  assert.equal(dockerTimestamp(e), '2026-11-28T14:45:41.000000042Z');
  const f = parseRecord(Buffer.from('2026-11-28T14:45:41.5+00:00 stdout F x'))!;
  assert.equal(dockerTimestamp(f), '2026-11-28T14:45:41.500000000Z');
});

// ── readLog: whole file, filters ─────────────────────────────────────────────────────────────────

test('readLog: a missing file is empty, with or without tail', async (t) => {
  const path = await tempLog(t);
  assert.deepEqual(await collect(path), []);
  assert.deepEqual(await collect(path, { tail: 5 }), []);
  assert.deepEqual(await collect(path, { tail: 0 }), []);
});

test('readLog: whole file in order, stdout and stderr interleaved, garbage skipped', async (t) => {
  const path = await tempLog(t, [
    rec(1, 'stderr', 'F', 'err1'),
    rec(2, 'stdout', 'F', 'out1'),
    'garbage in the middle\n',
    rec(3, 'stdout', 'P', 'part '),
    rec(4, 'stdout', 'F', 'line'),
  ].join(''));
  assert.deepEqual(shape(await collect(path)), [
    'stderr:F:err1\n', 'stdout:F:out1\n', 'stdout:P:part ', 'stdout:F:line\n',
  ]);
});

test('readLog: an unterminated last record is not returned (it is still being written)', async (t) => {
  const path = await tempLog(t, rec(1, 'stdout', 'F', 'done') + rec(2, 'stdout', 'F', 'half').slice(0, -3));
  assert.equal(text(await collect(path)), 'done\n');
  assert.equal(text(await collect(path, { tail: 5 })), 'done\n');
});

test('readLog: sinceNs is inclusive, untilNs exclusive', async (t) => {
  const path = await tempLog(t, [1, 2, 3, 4, 5].map((s) => rec(s, 'stdout', 'F', `l${s}`)).join(''));
  assert.equal(text(await collect(path, { sinceNs: ns(2) })), 'l2\nl3\nl4\nl5\n');
  assert.equal(text(await collect(path, { untilNs: ns(4) })), 'l1\nl2\nl3\n');
  assert.equal(text(await collect(path, { sinceNs: ns(2), untilNs: ns(4) })), 'l2\nl3\n');
  assert.equal(text(await collect(path, { sinceNs: ns(9) })), '');
});

// ── readLog: tail ────────────────────────────────────────────────────────────────────────────────

test('readLog: tail 0, 1, all and more than exist', async (t) => {
  const path = await tempLog(t, [1, 2, 3].map((s) => rec(s, 'stdout', 'F', `l${s}`)).join(''));
  assert.equal(text(await collect(path, { tail: 0 })), '');
  assert.equal(text(await collect(path, { tail: 1 })), 'l3\n');
  assert.equal(text(await collect(path, { tail: 3 })), 'l1\nl2\nl3\n');
  assert.equal(text(await collect(path, { tail: 100 })), 'l1\nl2\nl3\n');
});

test('readLog: tail counts logical lines, so the P records of the last lines come with them', async (t) => {
  const path = await tempLog(t, [
    rec(1, 'stdout', 'F', 'a'),
    rec(2, 'stdout', 'P', 'b1'),
    rec(3, 'stdout', 'P', 'b2'),
    rec(4, 'stdout', 'F', 'b3'),
    rec(5, 'stderr', 'F', 'c'),
    rec(6, 'stdout', 'P', 'unfinished'),
  ].join(''));
  assert.deepEqual(shape(await collect(path, { tail: 1 })), ['stderr:F:c\n', 'stdout:P:unfinished']);
  assert.deepEqual(shape(await collect(path, { tail: 2 })), [
    'stdout:P:b1', 'stdout:P:b2', 'stdout:F:b3\n', 'stderr:F:c\n', 'stdout:P:unfinished',
  ]);
  assert.equal(text(await collect(path, { tail: 3 })), 'a\nb1b2b3\nc\nunfinished');
});

test('readLog: tail applies to the lines that pass since/until', async (t) => {
  const path = await tempLog(t, [1, 2, 3, 4, 5].map((s) => rec(s, 'stdout', 'F', `l${s}`)).join(''));
  assert.equal(text(await collect(path, { tail: 2, untilNs: ns(4) })), 'l2\nl3\n');
  assert.equal(text(await collect(path, { tail: 10, sinceNs: ns(4) })), 'l4\nl5\n');
});

/** Every complete record of a log, parsed one by one. */
function allRecords(content: string): LogEntry[] {
  const complete = content.slice(0, content.lastIndexOf('\n') + 1);
  return complete.split('\n').slice(0, -1).map((l) => parseRecord(Buffer.from(l))).filter((e) => e !== undefined);
}

/** Reference tail: what follows the (n+1)-th last wanted F record. */
function naiveTail(all: LogEntry[], n: number, wanted: (e: LogEntry) => boolean = () => true): string[] {
  const fulls = all.flatMap((e, i) => (!e.partial && wanted(e) ? [i] : []));
  const start = n <= 0 ? all.length : fulls.length > n ? fulls[fulls.length - n - 1]! + 1 : 0;
  return shape(all.slice(start).filter(wanted));
}

/** Deterministic pseudo-random numbers (a test failure must be reproducible). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function bigLog(seed: number, records: number): string {
  const rnd = prng(seed);
  const parts: string[] = [];
  for (let i = 0; i < records; i++) {
    const len = rnd() < 0.02 ? 3000 + Math.floor(rnd() * 9000) : Math.floor(rnd() * 120);
    const body = `#${i} ${'x'.repeat(len)}`;
    parts.push(rec(i, rnd() < 0.3 ? 'stderr' : 'stdout', rnd() < 0.25 ? 'P' : 'F', body));
    if (rnd() < 0.01) parts.push('garbage line\n');
  }
  return parts.join('');
}

test('readLog: tail on a log of many 64 KiB blocks matches a naive implementation', async (t) => {
  const content = bigLog(7, 6_000);
  assert.ok(content.length > 20 * 64 * 1024, `only ${content.length} bytes`);
  const path = await tempLog(t, content);
  const all = allRecords(content);
  for (const n of [1, 2, 3, 10, 99, 1_000, 3_000, 5_999, 50_000]) {
    assert.deepEqual(shape(await collect(path, { tail: n })), naiveTail(all, n), `tail ${n}`);
  }
});

test('readLog: tail with a filter on a big log matches a naive implementation', async (t) => {
  const content = bigLog(11, 4_000);
  const path = await tempLog(t, content);
  const sinceNs = ns(500);
  const untilNs = ns(3_000);
  const wanted = (e: LogEntry) => e.timeNs >= sinceNs && e.timeNs < untilNs;
  const all = allRecords(content);
  for (const n of [1, 7, 300, 2_000, 10_000]) {
    assert.deepEqual(shape(await collect(path, { tail: n, sinceNs, untilNs })), naiveTail(all, n, wanted), `tail ${n}`);
  }
});

test('readLog: tail when the block boundary falls on every offset of a line', async (t) => {
  // Equal lines, then a last record one byte longer each round: over the rounds the 64 KiB boundary
  // (counted from the end of the file) falls on the newline, right after it, on every byte of the
  // timestamp, stream and tag, and inside the payload.
  const line = rec(1, 'stdout', 'F', 'y'.repeat(1000));
  const perBlock = Math.floor((64 * 1024) / line.length);
  const body = line.repeat(perBlock + 3);
  const path = await tempLog(t);
  const shifts = [...Array.from({ length: 50 }, (_, i) => i), 100, 500, line.length - 2, line.length - 1, line.length];
  for (const shift of shifts) {
    const content = body + rec(2, 'stdout', 'F', 'z'.repeat(shift));
    await writeFile(path, content);
    const all = allRecords(content);
    for (const n of [1, perBlock - 1, perBlock, perBlock + 1]) {
      assert.deepEqual(shape(await collect(path, { tail: n })), naiveTail(all, n), `shift ${shift} tail ${n}`);
    }
  }
});

test('readLog: tail on a log that is one record bigger than a block', async (t) => {
  const content = rec(1, 'stdout', 'F', 'first') + rec(2, 'stdout', 'F', 'q'.repeat(200 * 1024)) + rec(3, 'stdout', 'F', 'last');
  const path = await tempLog(t, content);
  assert.equal(text(await collect(path, { tail: 1 })), 'last\n');
  assert.equal((await collect(path, { tail: 2 }))[0]!.data.length, 200 * 1024 + 1);
  assert.equal(text(await collect(path, { tail: 3 })).slice(0, 6), 'first\n');
});

// ── readLog: follow ──────────────────────────────────────────────────────────────────────────────

test('readLog: follow delivers appended lines, then drains and ends when stopped resolves', async (t) => {
  const path = await tempLog(t, rec(1, 'stdout', 'F', 'old'));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(path, { follow: { stopped } })) got.push(e.data.toString());
  })();
  await appendFile(path, rec(2, 'stdout', 'F', 'new1'));
  await waitFor(() => got.length === 2);
  await appendFile(path, rec(3, 'stderr', 'P', 'par') + rec(4, 'stderr', 'F', 'tial'));
  await appendFile(path, rec(5, 'stdout', 'F', 'last'));
  stop();
  await reader; // the generator ends by itself
  assert.deepEqual(got, ['old\n', 'new1\n', 'par', 'tial\n', 'last\n']);
});

test('readLog: follow with tail 0 delivers only new lines, including one being written when it started', async (t) => {
  const half = rec(2, 'stdout', 'F', 'hello');
  const path = await tempLog(t, rec(1, 'stdout', 'F', 'old') + half.slice(0, 40));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const got: string[] = [];
  const ac = new AbortController();
  const reader = (async () => {
    for await (const e of readLog(path, { tail: 0, follow: { stopped }, signal: ac.signal })) got.push(e.data.toString());
  })();
  await polling(ac.signal);
  await appendFile(path, half.slice(40) + rec(3, 'stdout', 'F', 'next'));
  await waitFor(() => got.length === 2);
  stop();
  await reader;
  assert.deepEqual(got, ['hello\n', 'next\n']);
});

test('readLog: follow with tail starts after the tailed lines without repeating them', async (t) => {
  const path = await tempLog(t, [1, 2, 3].map((s) => rec(s, 'stdout', 'F', `l${s}`)).join(''));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(path, { tail: 1, follow: { stopped } })) got.push(e.data.toString());
  })();
  await appendFile(path, rec(4, 'stdout', 'F', 'l4'));
  await waitFor(() => got.length === 2);
  stop();
  await reader;
  assert.deepEqual(got, ['l3\n', 'l4\n']);
});

test('readLog: follow waits for a log file that does not exist yet', async (t) => {
  const path = await tempLog(t);
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const got: string[] = [];
  const ac = new AbortController();
  const reader = (async () => {
    for await (const e of readLog(path, { follow: { stopped }, signal: ac.signal })) got.push(e.data.toString());
  })();
  await polling(ac.signal);
  await writeFile(path, rec(1, 'stdout', 'F', 'born'));
  await waitFor(() => got.length === 1);
  stop();
  await reader;
  assert.deepEqual(got, ['born\n']);
});

test('readLog: follow whose stopped promise rejects still ends (no unhandled rejection)', async (t) => {
  const path = await tempLog(t, rec(1, 'stdout', 'F', 'x'));
  let fail!: (e: Error) => void;
  const stopped = new Promise<void>((_r, j) => (fail = j));
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(path, { follow: { stopped } })) got.push(e.data.toString());
  })();
  await waitFor(() => got.length === 1);
  fail(new Error('container record vanished'));
  await reader;
  assert.deepEqual(got, ['x\n']);
});

test('readLog: follow ends on abort and does not pile up abort listeners while polling', async (t) => {
  const path = await tempLog(t, rec(1, 'stdout', 'F', 'x'));
  const ac = new AbortController();
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(path, { follow: { stopped: new Promise(() => {}) }, signal: ac.signal })) {
      got.push(e.data.toString());
    }
  })();
  await sleep(400); // several 50 ms polls
  assert.ok(getEventListeners(ac.signal, 'abort').length <= 1, `${getEventListeners(ac.signal, 'abort').length} listeners`);
  ac.abort();
  await reader;
  assert.deepEqual(got, ['x\n']);
});

/** Resolves once a follow reader sleeps between polls (its sleep listens to the signal). */
async function polling(signal: AbortSignal): Promise<void> {
  await waitFor(() => getEventListeners(signal, 'abort').length > 0);
}

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

// ── readLog: rotated files (ctr.log.N … ctr.log.1, ctr.log) ─────────────────────────────────────

/** Writes a rotated log: files[0] is the oldest (ctr.log.N), the last one ctr.log. */
async function rotatedLog(t: TestContext, files: string[]): Promise<string> {
  const path = await tempLog(t);
  for (const [i, content] of files.entries()) {
    const k = files.length - 1 - i;
    await writeFile(k === 0 ? path : `${path}.${k}`, content);
  }
  return path;
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => rec(from + i, 'stdout', 'F', `n${from + i}`)).join('');
const numbers = (entries: LogEntry[]) => entries.map((e) => Number(/^n(\d+)\n$/.exec(e.data.toString())![1]));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('readLog: rotated files are read oldest first, then the live file; other names are ignored', async (t) => {
  const path = await rotatedLog(t, [lines(1, 3), lines(4, 6), lines(7, 8)]);
  await writeFile(`${path}.tmp`, lines(100, 101));
  await writeFile(`${path}.x`, lines(200, 201));
  assert.deepEqual(numbers(await collect(path)), range(1, 8));
  assert.deepEqual(numbers(await collect(path, { sinceNs: ns(5), untilNs: ns(8) })), [5, 6, 7]);
});

test('readLog: tail reaches back into rotated files, and a P record at the end of one joins the next', async (t) => {
  const path = await rotatedLog(t, [lines(1, 3), lines(4, 5) + rec(6, 'stdout', 'P', 'half-'), rec(7, 'stdout', 'F', 'n7') + lines(8, 8)]);
  assert.deepEqual(shape(await collect(path, { tail: 2 })), ['stdout:P:half-', 'stdout:F:n7\n', 'stdout:F:n8\n']);
  assert.equal(text(await collect(path, { tail: 4 })), 'n4\nn5\nhalf-n7\nn8\n');
  assert.equal(text(await collect(path, { tail: 7 })), 'n1\nn2\nn3\nn4\nn5\nhalf-n7\nn8\n');
  assert.equal(text(await collect(path, { tail: 100 })), 'n1\nn2\nn3\nn4\nn5\nhalf-n7\nn8\n');
  assert.equal(text(await collect(path, { tail: 0 })), '');
});

test('readLog: tail with an empty or missing live file (rotation in progress) reads the rotated ones', async (t) => {
  const path = await rotatedLog(t, [lines(1, 3), lines(4, 6), '']);
  assert.deepEqual(numbers(await collect(path, { tail: 4 })), [3, 4, 5, 6]);
  await rm(path);
  assert.deepEqual(numbers(await collect(path, { tail: 2 })), [5, 6]);
  assert.deepEqual(numbers(await collect(path)), range(1, 6));
});

/** A follow reader collecting numbered lines until stopped. */
function follower(path: string, options: Omit<ReadLogOptions, 'follow'> = {}) {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const got: LogEntry[] = [];
  const done = (async () => {
    for await (const e of readLog(path, { ...options, follow: { stopped } })) got.push(e);
  })();
  return { got, stop: async () => { stop(); await done; } };
}

test('readLog: follow across rotations (rename, late writes to the old file, reopen) loses and repeats nothing', async (t) => {
  const path = await tempLog(t, lines(1, 5));
  const f = follower(path);
  await waitFor(() => f.got.length === 5);
  // What log-rotation.ts and conmon do: rename, conmon still writes to the old inode, then reopens.
  await rename(path, `${path}.1`);
  await appendFile(`${path}.1`, lines(6, 7));
  await sleep(120); // the reader polls while ctr.log is missing
  await writeFile(path, lines(8, 9));
  await waitFor(() => f.got.length === 9);
  // Two rotations between polls, with a file dropped at the end (max-file=2).
  await rename(path, `${path}.1`);
  await appendFile(`${path}.1`, lines(10, 10));
  await writeFile(path, lines(11, 12));
  await rename(path, `${path}.1`);
  await writeFile(path, lines(13, 14));
  await appendFile(path, lines(15, 15));
  await waitFor(() => f.got.length === 15);
  await f.stop();
  assert.deepEqual(numbers(f.got), range(1, 15));
});

test('readLog: follow across a replacement of the file (max-file=1: conmon reopens with an empty file)', async (t) => {
  const path = await tempLog(t, lines(1, 2));
  const f = follower(path, { tail: 1 });
  await waitFor(() => f.got.length === 1);
  await appendFile(path, lines(3, 3));
  await writeFile(`${path}.tmp`, lines(4, 5));
  await rename(`${path}.tmp`, path); // the old file is gone: only what was read of it counts
  await waitFor(() => f.got.length === 4);
  await f.stop();
  assert.deepEqual(numbers(f.got), [2, 3, 4, 5]);
});

test('readLog: follow that falls behind by more than max-file rotations resumes at the oldest file left', async (t) => {
  const path = await tempLog(t, lines(1, 1));
  const f = follower(path);
  await waitFor(() => f.got.length === 1);
  // Faster than a poll: the followed file is rotated twice and dropped; ctr.log.1 and ctr.log remain.
  await appendFile(path, lines(2, 2));
  await rename(path, `${path}.1`);
  await writeFile(path, lines(3, 3));
  await rm(`${path}.1`);
  await rename(path, `${path}.1`);
  await writeFile(path, lines(4, 4));
  await waitFor(() => f.got.length >= 3);
  await f.stop();
  // Line 2 was written to the followed file after the reader's last poll; it is read from the open handle.
  assert.deepEqual(numbers(f.got), [1, 2, 3, 4]);
});
