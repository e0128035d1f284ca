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
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

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

/**
 * Reads the entries of a container log as an async iterable (see ReadLogOptions). A missing file
 * is empty.
 *
 * Rotation (engine/log-rotation.ts) renames `ctr.log` → `ctr.log.1` → `ctr.log.2`…, then conmon
 * reopens a fresh `ctr.log`; with one file only, conmon replaces `ctr.log` by an empty file. The
 * reader therefore works on open file handles, never on names: it opens the live file and its
 * rotated files newest first (a file moved by a rotation meanwhile is only ever found again under
 * a higher number, and is recognised by its inode), reads them oldest first, and while following
 * notices a new inode at `path`. The file it was following is complete by then (conmon closes its
 * old file before it creates the new one), so it is read to its end, then every file newer than it,
 * in order: no line is lost or repeated across rotations, however many happened between two polls.
 */
export async function* readLog(path: string, options: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const { sinceNs, untilNs, signal } = options;
  const wanted = (e: LogEntry) =>
    (sinceNs === undefined || e.timeNs >= sinceNs) && (untilNs === undefined || e.timeNs < untilNs);

  const opened = new Set<LogFile>();
  const close = async (f: LogFile) => {
    if (opened.delete(f)) await f.fh.close().catch(() => {});
  };
  const files = (await openLogFiles(path)).reverse(); // oldest first
  for (const f of files) opened.add(f);
  /** The newest file read so far and the offset after its last complete record. */
  let cur: { file: LogFile; offset: number } | undefined;
  try {
    if (options.tail !== undefined) {
      const { entries, end } = await lastLines(files, options.tail, wanted);
      for (const e of entries) yield e;
      if (files.length) cur = { file: files[files.length - 1]!, offset: end };
    } else {
      for (const file of files) {
        if (cur) await close(cur.file);
        cur = { file, offset: 0 };
        for await (const { entry, end } of records(file.fh, 0)) {
          cur.offset = end;
          if (wanted(entry)) yield entry;
          if (signal?.aborted) return;
        }
      }
    }
    if (!options.follow) return;
    for (const f of files) if (f !== cur?.file) await close(f); // only the followed file stays open

    let stopped = false;
    // A rejected `stopped` also ends the follow (and must not become an unhandled rejection).
    const markStopped = () => (stopped = true);
    void options.follow.stopped.then(markStopped, markStopped);
    for (;;) {
      if (signal?.aborted) return;
      const wasStopped = stopped;
      if (cur) {
        for await (const { entry, end } of records(cur.file.fh, cur.offset)) {
          cur.offset = end;
          if (wanted(entry)) yield entry;
        }
      }
      const live = await fileKey(path);
      if (live !== undefined && live !== cur?.file.key) {
        // A new file at `path`: the one followed so far is complete (conmon closed it before making
        // the new one). Read it to its end, then every file that came after it, oldest first.
        if (cur) {
          for await (const { entry, end } of records(cur.file.fh, cur.offset)) {
            cur.offset = end;
            if (wanted(entry)) yield entry;
          }
        }
        const chain = await openLogFiles(path); // newest first
        for (const f of chain) opened.add(f);
        const at = cur ? chain.findIndex((f) => f.key === cur!.file.key) : -1;
        // Not found: the followed file has been rotated away entirely, so every file there is newer.
        const newer = (at >= 0 ? chain.slice(0, at) : chain).reverse();
        for (const f of chain) if (!newer.includes(f)) await close(f);
        if (cur) await close(cur.file);
        cur = undefined;
        for (const [i, file] of newer.entries()) {
          cur = { file, offset: 0 };
          if (i === newer.length - 1) break; // the newest is followed from the top of the loop
          for await (const { entry, end } of records(file.fh, 0)) {
            cur.offset = end;
            if (wanted(entry)) yield entry;
          }
          await close(file);
        }
        continue;
      }
      if (wasStopped) return;
      await sleep(50, signal);
    }
  } finally {
    for (const f of [...opened]) await close(f);
  }
}

/** An open log file: its handle, identity (`dev:ino`) and size when it was opened. */
interface LogFile {
  fh: FileHandle;
  key: string;
  size: number;
}

async function fileKey(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Opens a file and notes its size; the size comes from the first call, so it is as old as the request. */
async function openLogFile(path: string): Promise<LogFile | undefined> {
  let before;
  try {
    before = await stat(path);
  } catch {
    return undefined;
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  const st = await fh.stat();
  const same = st.ino === before.ino && st.dev === before.dev;
  return { fh, key: `${st.dev}:${st.ino}`, size: same ? before.size : st.size };
}

/**
 * Opens `path` and its rotated files `path.1`, `path.2`… in that order (newest first), each inode
 * once. Opening in increasing numbers is what makes a concurrent rotation harmless: it only moves
 * a file to a higher number, where it is opened again (and skipped as already seen), or drops the
 * oldest one.
 */
async function openLogFiles(path: string): Promise<LogFile[]> {
  const out: LogFile[] = [];
  const seen = new Set<string>();
  const add = async (f: LogFile | undefined): Promise<boolean> => {
    if (!f) return false;
    if (seen.has(f.key)) {
      await f.fh.close();
    } else {
      seen.add(f.key);
      out.push(f);
    }
    return true;
  };
  // The live file first: its size is the snapshot `tail` works on.
  await add(await openLogFile(path));
  const prefix = `${basename(path)}.`;
  let highest = 0;
  try {
    for (const name of await readdir(dirname(path))) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      if (/^[1-9][0-9]{0,5}$/.test(rest)) highest = Math.max(highest, Number(rest));
    }
  } catch {
    /* no directory: no rotated files */
  }
  // Two numbers past the highest seen: a rotation during this loop may have moved it up.
  for (let k = 1, misses = 0; k <= highest || misses < 2; k++) {
    if (await add(await openLogFile(`${path}.${k}`))) misses = 0;
    else if (k > highest) misses++;
  }
  return out;
}

/**
 * Complete records of an open file from byte `from` to `to` (default: its current size), with the
 * offset after each. Stops at an unterminated tail.
 */
async function* records(fh: FileHandle, from: number, to?: number): AsyncGenerator<{ entry: LogEntry; end: number }> {
  const size = to ?? (await fh.stat()).size;
  let pos = from; // file offset of the first byte of `pending`
  let read = from;
  let pending: Buffer = Buffer.alloc(0);
  while (read < size) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, size - read));
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, read);
    if (bytesRead === 0) break; // truncated meanwhile
    read += bytesRead;
    let buf = pending.length ? Buffer.concat([pending, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
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
 * The last `n` logical lines (a logical line = P records + one F record) of a log made of `files`
 * (oldest first), read backwards in blocks so that `--tail` on a big log touches only its end.
 * `end` is the offset after the last complete record of the newest file.
 */
async function lastLines(files: LogFile[], n: number, wanted: (e: LogEntry) => boolean): Promise<{ entries: LogEntry[]; end: number }> {
  if (files.length === 0) return { entries: [], end: 0 };
  const sizes = files.map((f) => f.size);
  const newest = files.length - 1;
  if (n <= 0) return { entries: [], end: (await scanBack(files[newest]!.fh, sizes[newest]!, 0, wanted)).completeEnd };
  // Walk back from the newest file until n + 1 wanted F records are seen; the lines start after it.
  let need = n + 1;
  let first = 0;
  let start = 0;
  let end = 0;
  for (let i = newest; i >= 0; i--) {
    const r = await scanBack(files[i]!.fh, sizes[i]!, need, wanted);
    if (i === newest) end = r.completeEnd;
    if (r.start !== undefined) {
      first = i;
      start = r.start;
      break;
    }
    need -= r.found;
  }
  const entries: LogEntry[] = [];
  for (let i = first; i <= newest; i++) {
    for await (const { entry } of records(files[i]!.fh, i === first ? start : 0, i === newest ? end : sizes[i]!)) {
      if (wanted(entry)) entries.push(entry);
    }
  }
  return { entries, end };
}

/**
 * Walks one file back in blocks, examining each record once, from the last complete one
 * backwards, until `need` wanted F records are seen. `start` is the offset just after the
 * `need`-th (undefined if the file has fewer; `found` says how many); `need` 0 only finds
 * `completeEnd`, the offset after the last complete record. `buf` holds only the bytes
 * [pos, pos + buf.length) not examined yet (it ends with a record's newline), so the work is linear
 * in what is read, whatever `need` is.
 */
async function scanBack(
  fh: FileHandle, size: number, need: number, wanted: (e: LogEntry) => boolean,
): Promise<{ start: number | undefined; found: number; completeEnd: number }> {
  const block = 64 * 1024;
  let pos = size;
  let buf: Buffer = Buffer.alloc(0);
  let completeEnd = -1;
  let found = 0;
  while (pos > 0) {
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
      if (need <= 0) break;
      buf = buf.subarray(0, nl + 1);
    }
    let i = buf.length - 1; // the newline that ends the record to examine
    while (i >= 0) {
      const prev = i > 0 ? buf.lastIndexOf(0x0a, i - 1) : -1;
      if (prev < 0 && pos > 0) break; // the record starts in the block before
      const e = parseRecord(buf.subarray(prev + 1, i));
      if (e && !e.partial && wanted(e) && ++found >= need) return { start: pos + i + 1, found, completeEnd };
      i = prev;
    }
    buf = buf.subarray(0, i + 1);
  }
  return { start: undefined, found, completeEnd: Math.max(completeEnd, 0) };
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
