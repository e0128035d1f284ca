/**
 * Reader of conmon's container log ("k8s-file", the CRI format):
 *
 *   2026-11-28T14:45:41.426404460+00:00 stdout F out 0
 *   <RFC 3339 nano> <stdout|stderr> <F = full line | P = partial> <bytes>
 *
 * A logical line is the concatenation of P records up to the next F record; brig hands out each
 * record's bytes (with the newline restored for F), so the output is byte-identical to what the
 * container wrote. The file is read as a stream, never loaded whole.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  /** RFC 3339 timestamp with nanoseconds, as conmon wrote it (`…+00:00`). */
  time: string;
  /** Nanoseconds since the epoch (for since/until filters). */
  timeNs: bigint;
  /** The bytes the container wrote, newline included for full lines. */
  data: Buffer;
  partial: boolean;
}

export interface ReadLogOptions {
  /** Only entries at or after this many ns since the epoch. */
  sinceNs?: bigint;
  /** Only entries before this many ns since the epoch. */
  untilNs?: bigint;
  /** Only the last N logical lines (`all` = undefined). */
  tail?: number;
  /** Keep reading new entries until `stopped` resolves (then drain and end). */
  follow?: { stopped: Promise<unknown> };
  signal?: AbortSignal;
}

/** Parses one record line (without the trailing newline); `undefined` for garbage. */
export function parseRecord(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0 && s2 < 0) return undefined;
  const time = line.subarray(0, s1).toString('latin1');
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timeNs = parseTime(time);
  if (timeNs === undefined) return undefined;
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString('latin1');
  const payload = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const partial = tag.split(':')[0] === 'P';
  return {
    stream,
    time,
    timeNs,
    data: partial ? Buffer.from(payload) : Buffer.concat([payload, Buffer.from('\n')]),
    partial,
  };
}

/** `2026-11-28T14:45:41.426404460+00:00` → ns since the epoch (0 if it is not such a time). */
export function parseTimeNs(time: string): bigint {
  return parseTime(time) ?? 0n;
}

function parseTime(time: string): bigint | undefined {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Docker's timestamp form for `logs -t`: RFC 3339 nano in UTC with `Z`. */
export function dockerTimestamp(e: LogEntry): string {
  const ms = Number(e.timeNs / 1_000_000n);
  const frac = (e.timeNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Reads entries of a log file as an async iterable (see ReadLogOptions). A missing file is empty. */
export async function* readLog(path: string, options: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const { sinceNs, untilNs, signal } = options;
  const wanted = (e: LogEntry) =>
    (sinceNs === undefined || e.timeNs >= sinceNs) && (untilNs === undefined || e.timeNs < untilNs);

  let offset = 0;
  if (options.tail !== undefined) {
    const { entries, end } = await lastLines(path, options.tail, wanted);
    for (const e of entries) yield e;
    offset = end;
  } else {
    for await (const { entry, end } of records(path, 0)) {
      offset = end;
      if (wanted(entry)) yield entry;
      if (signal?.aborted) return;
    }
  }
  if (!options.follow) return;

  let stopped = false;
  // A rejected `stopped` also ends the follow (and must not become an unhandled rejection).
  const markStopped = () => (stopped = true);
  void options.follow.stopped.then(markStopped, markStopped);
  for (;;) {
    if (signal?.aborted) return;
    const wasStopped = stopped;
    for await (const { entry, end } of records(path, offset)) {
      offset = end;
      if (wanted(entry)) yield entry;
    }
    if (wasStopped) return;
    await sleep(50, signal);
  }
}

/** Complete records from byte `from`, with the offset after each. Stops at an unterminated tail. */
async function* records(path: string, from: number): AsyncGenerator<{ entry: LogEntry; end: number }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return;
  }
  if (size <= from) return;
  let pos = from;
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { start: from, end: size - 1, highWaterMark: 64 * 1024 })) {
    let buf = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const line = buf.subarray(0, nl);
      pos += nl + 1;
      buf = buf.subarray(nl + 1);
      const entry = parseRecord(line);
      if (entry) yield { entry, end: pos };
    }
    pending = buf;
  }
}

/**
 * The last `n` logical lines (a logical line = P records + one F record), read backwards in blocks
 * so that `--tail` on a big log touches only its end.
 */
async function lastLines(path: string, n: number, wanted: (e: LogEntry) => boolean): Promise<{ entries: LogEntry[]; end: number }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { entries: [], end: 0 };
  }
  const fh = await open(path, 'r');
  try {
    // Walk back in blocks, examining each record once, from the last complete one backwards, until
    // n + 1 wanted F records are seen; then parse forward from just after the (n+1)-th. `buf` holds
    // only the bytes [pos, pos + buf.length) not examined yet (it ends with a record's newline), so
    // the work is linear in what is read, whatever n is.
    const block = 64 * 1024;
    let pos = size;
    let buf: Buffer = Buffer.alloc(0);
    let completeEnd = -1;
    let fulls = 0;
    let start = 0;
    outer: while (pos > 0) {
      const len = Math.min(block, pos);
      pos -= len;
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, pos);
      buf = buf.length ? Buffer.concat([b, buf]) : b;
      if (completeEnd < 0) {
        // Skip an unterminated last record: it is still being written.
        const nl = buf.lastIndexOf(0x0a);
        if (nl < 0) {
          buf = Buffer.alloc(0);
          continue;
        }
        completeEnd = pos + nl + 1;
        if (n <= 0) break;
        buf = buf.subarray(0, nl + 1);
      }
      let i = buf.length - 1; // the newline that ends the record to examine
      while (i >= 0) {
        const prev = i > 0 ? buf.lastIndexOf(0x0a, i - 1) : -1;
        if (prev < 0 && pos > 0) break; // the record starts in the block before
        const e = parseRecord(buf.subarray(prev + 1, i));
        if (e && !e.partial && wanted(e) && ++fulls > n) {
          start = pos + i + 1;
          break outer;
        }
        i = prev;
      }
      buf = buf.subarray(0, i + 1);
    }
    if (n <= 0) return { entries: [], end: Math.max(completeEnd, 0) };
    const entries: LogEntry[] = [];
    let endOff = start;
    for await (const { entry, end } of records(path, start)) {
      if (end > size) break;
      endOff = end;
      if (wanted(entry)) entries.push(entry);
    }
    return { entries, end: endOff };
  } finally {
    await fh.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the timer fires: a long follow polls thousands of times on one signal.
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
