/**
 * Builders for crafted layer tars used by the layer-apply tests.
 *
 * Ordinary entries are packed with `tar-stream`'s `pack()`; entries that no honest writer produces
 * (NUL bytes in PAX paths, binary xattr values, ustar prefixes with `..`, bad checksums, sparse or
 * unknown type flags) are written byte by byte with {@link rawHeader} and {@link rawPax} and
 * spliced in between. Also a packer and a reader of whole archives for the cp/export tests.
 * Test-only code.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

/** What `pack().entry()` accepts: a name plus any other header field. */
export type Headers = Partial<Header> & Pick<Header, 'name'>;

export const MTIME = new Date('2024-01-02T03:04:05Z');

export type FixtureEntry = { header: Headers; body?: string | Buffer } | { raw: Buffer };

export const dir = (name: string, mode = 0o755, extra: Partial<Headers> = {}): FixtureEntry => ({
  header: { name, type: 'directory', mode, mtime: MTIME, ...extra },
});

export const file = (name: string, body: string | Buffer = '', mode = 0o644, extra: Partial<Headers> = {}): FixtureEntry => ({
  header: { name, type: 'file', mode, mtime: MTIME, size: Buffer.byteLength(body), ...extra },
  body,
});

export const symlink = (name: string, target: string, extra: Partial<Headers> = {}): FixtureEntry => ({
  header: { name, type: 'symlink', linkname: target, mode: 0o777, mtime: MTIME, ...extra },
});

export const hardlink = (name: string, target: string, mode = 0o644): FixtureEntry => ({
  header: { name, type: 'link', linkname: target, mode, mtime: MTIME },
});

export const fifo = (name: string, mode = 0o644, extra: Partial<Headers> = {}): FixtureEntry => ({
  header: { name, type: 'fifo', mode, mtime: MTIME, ...extra },
});

export const device = (name: string, type: 'character-device' | 'block-device', major: number, minor: number): FixtureEntry => ({
  header: { name, type, mode: 0o666, mtime: MTIME, devmajor: major, devminor: minor },
});

export const raw = (...parts: Buffer[]): FixtureEntry => ({ raw: Buffer.concat(parts) });

/** Builds a tar from entries; `end: false` leaves out the end-of-archive marker. */
export async function buildTar(entries: readonly FixtureEntry[], { end = true } = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  let group: { header: Headers; body?: string | Buffer }[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    const packed = await packGroup(group);
    parts.push(packed.subarray(0, packed.length - 1024)); // strip pack()'s end-of-archive marker
    group = [];
  };
  for (const e of entries) {
    if ('raw' in e) {
      await flush();
      parts.push(e.raw);
    } else {
      group.push(e);
    }
  }
  await flush();
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

async function packGroup(group: readonly { header: Headers; body?: string | Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of group) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(e.header, e.body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  const out = Buffer.concat(chunks);
  if (!out.subarray(out.length - 1024).equals(Buffer.alloc(1024))) throw new Error('unexpected pack() trailer');
  return out;
}

export interface RawHeaderFields {
  name: string | Buffer;
  typeflag: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  /** ustar name prefix (155 bytes max). */
  prefix?: string | Buffer;
  format?: 'ustar' | 'gnu' | 'v7';
  /** Write a wrong checksum. */
  badChecksum?: boolean;
}

/** One 512-byte header block, written field by field. */
export function rawHeader(h: RawHeaderFields): Buffer {
  const b = Buffer.alloc(512);
  const put = (value: string | Buffer, offset: number, length: number) => {
    const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (v.length > length) throw new Error(`field too long: ${v.length} > ${length}`);
    v.copy(b, offset);
  };
  const octal = (n: number, offset: number, length: number) => {
    const digits = n.toString(8);
    put(digits.length >= length ? digits : `${digits.padStart(length - 1, '0')}\0`, offset, length);
  };
  put(h.name, 0, 100);
  octal(h.mode ?? 0o644, 100, 8);
  octal(h.uid ?? 0, 108, 8);
  octal(h.gid ?? 0, 116, 8);
  octal(h.size ?? 0, 124, 12);
  octal(h.mtime ?? Math.floor(MTIME.getTime() / 1000), 136, 12);
  b.write(h.typeflag, 156, 1, 'latin1');
  if (h.linkname !== undefined) put(h.linkname, 157, 100);
  const format = h.format ?? 'ustar';
  if (format === 'ustar') {
    put('ustar\u000000', 257, 8);
  } else if (format === 'gnu') {
    put('ustar  \u0000', 257, 8);
  }
  if (format !== 'v7') {
    octal(h.devmajor ?? 0, 329, 8);
    octal(h.devminor ?? 0, 337, 8);
  }
  if (h.prefix !== undefined) put(h.prefix, 345, 155);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  if (h.badChecksum) sum += 1;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return b;
}

/** Data padded to a whole number of blocks. */
export function padded(data: Buffer): Buffer {
  const rem = data.length % 512;
  return rem === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rem)]);
}

/** A regular file: header plus padded content. */
export function rawFile(name: string | Buffer, body: string | Buffer = '', extra: Partial<RawHeaderFields> = {}): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([rawHeader({ name, typeflag: '0', size: data.length, ...extra }), padded(data)]);
}

/** Encodes PAX records (`"%d %s=%s\n"`, the length counting itself); values may be binary. */
export function paxData(records: ReadonlyArray<readonly [string, string | Buffer]>): Buffer {
  const out: Buffer[] = [];
  for (const [key, value] of records) {
    const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const rest = Buffer.byteLength(` ${key}=`) + v.length + 1;
    let len = rest + 1;
    while (String(len).length + rest !== len) len = String(len).length + rest;
    out.push(Buffer.from(`${len} ${key}=`), v, Buffer.from('\n'));
  }
  return Buffer.concat(out);
}

/** A PAX extended header ('x'), or a global one ('g'), for the entry that follows. */
export function rawPax(records: ReadonlyArray<readonly [string, string | Buffer]>, typeflag: 'x' | 'g' = 'x'): Buffer {
  const data = paxData(records);
  return Buffer.concat([rawHeader({ name: 'PaxHeaders/x', typeflag, size: data.length }), padded(data)]);
}

/** A GNU long name ('L') or long link ('K') record for the entry that follows. */
export function rawGnuLong(value: string | Buffer, typeflag: 'L' | 'K' = 'L'): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const data = Buffer.concat([v, Buffer.from([0])]);
  return Buffer.concat([rawHeader({ name: '././@LongLink', typeflag, size: data.length, format: 'gnu' }), padded(data)]);
}

/** A readable stream over `data` in chunks of `chunkSize` bytes (odd sizes exercise block boundaries). */
export function streamOf(data: Buffer, chunkSize = 65536): Readable {
  function* chunks() {
    for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * A gzip stream of a tar holding one file of `total` zero bytes, generated lazily: only what the
 * consumer pulls is ever produced (`produced()` counts the zero bytes generated so far).
 */
export function zeroBomb(total: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  async function* gen() {
    yield rawHeader({ name: 'bomb', typeflag: '0', size: total });
    const zeros = Buffer.alloc(1024 * 1024);
    for (let left = total; left > 0; left -= zeros.length) {
      const n = Math.min(left, zeros.length);
      produced += n;
      yield zeros.subarray(0, n);
    }
    yield Buffer.alloc(1024);
  }
  const gz = createGzip();
  pipeline(Readable.from(gen(), { objectMode: false }), gz).catch(() => undefined);
  return { stream: gz, produced: () => produced };
}

/** An entry for {@link tarOf}: header fields, and the body of a file. */
export type TarOfEntry = Partial<Header> & { name: string; body?: string | Buffer };

/** Packs `entries` with tar-stream into one archive in memory. */
export async function tarOf(entries: readonly TarOfEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      if (body !== undefined) pack.entry(h, body, (err) => (err ? reject(err) : resolve()));
      else pack.entry(h, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** One entry as {@link readTar} saw it: the body hashed, its text kept when short. */
export interface ReadEntry {
  header: Header;
  size: number;
  sha256: string;
  text: string;
}

/**
 * Reads a whole tar stream into its entries. `slow`: the stream passes through a reader that takes
 * a little time per chunk and pauses now and then, so its producer keeps hitting back-pressure, as
 * behind a slow client.
 */
export async function readTar(stream: NodeJS.ReadableStream, slow = false): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  const extract = tar.extract();
  let chunks = 0;
  const slowly = new Transform({
    highWaterMark: 16 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      setTimeout(() => cb(null, chunk), ++chunks % 64 === 0 ? 30 : 1);
    },
  });
  const piped = slow ? pipeline(stream, slowly, extract) : pipeline(stream, extract);
  const read = (async () => {
    for await (const entry of extract) {
      const hash = createHash('sha256');
      const text: Buffer[] = [];
      let size = 0;
      for await (const c of entry as AsyncIterable<Buffer>) {
        hash.update(c);
        size += c.length;
        if (size <= 4096) text.push(c);
      }
      out.push({ header: entry.header, size, sha256: hash.digest('hex'), text: Buffer.concat(text).toString() });
    }
  })();
  await Promise.all([piped, read]);
  return out;
}
