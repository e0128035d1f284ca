/**
 * A strict, pull-based streaming tar reader for image layers (ustar, PAX, GNU long names).
 *
 * Why not `tar-stream`'s extractor: it decodes PAX values as UTF-8 text, which corrupts binary
 * `SCHILY.xattr.security.capability` values; its only cap on extended headers is a fixed 4 MiB; and
 * it pushes data instead of letting the consumer pull it. This reader follows Go's
 * `archive/tar` (the reader Docker and containerd use) for every parsing decision, so brig sees the
 * same entries they would:
 *
 * - names and link targets are raw bytes, exposed as `latin1` strings (one char per byte), so
 *   non-UTF-8 names survive unchanged; convert with `Buffer.from(name, 'latin1')`;
 * - header checksums are verified (signed or unsigned sum); numbers are octal or base-256;
 * - PAX records are parsed exactly (`"%d %s=%s\n"`), NUL bytes in `path`/`linkpath` are refused,
 *   `path`, `linkpath`, `size`, `uid`, `gid`, `mtime`, `atime` and `SCHILY.xattr.*` are applied;
 *   PAX *global* headers are read and ignored (as Docker does);
 * - header-only types (links, directories, devices, fifos) carry no data whatever their size field says;
 * - GNU sparse files and unknown type flags are refused.
 *
 * Nothing is read from the source before the consumer asks for it: `entries()` yields one entry at
 * a time and its `body` must be consumed (or abandoned) before asking for the next entry. Extended
 * headers are the only thing held in memory, each capped at `maxPaxHeaderSize`.
 *
 * Errors: `ERR_UNSAFE_ARCHIVE` for malformed or refused input, `ERR_LIMIT_EXCEEDED` for caps.
 */
import { EngineError } from '../errors.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface TarHeader {
  /** Entry name, raw bytes as a `latin1` string; not normalised (may be absolute or contain `..`). */
  name: string;
  /** Link target (symlink content or hardlink target), raw bytes as a `latin1` string; '' if none. */
  linkname: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (always 0 for header-only types). */
  size: number;
  /** Seconds since the epoch; fractional when it came from PAX. */
  mtime: number;
  /** PAX `atime` when present. */
  atime: number | undefined;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.<name>` records (name as `latin1`, value raw bytes). */
  xattrs: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data. Consume it fully, or abandon it and ask for the next entry. */
  body: AsyncIterable<Buffer>;
}

export interface TarReaderLimits {
  /** Maximum number of entries (extended headers not counted). */
  maxEntries: number;
  /** Maximum size of one PAX header, PAX global header or GNU long name/link record. */
  maxPaxHeaderSize: number;
  /** Maximum size of the archive in bytes: an entry whose data would end beyond it is refused up front. */
  maxArchiveBytes: number;
}

const BLOCK = 512;
/** Bound on consecutive extended headers before an entry (a normal archive has at most 3). */
const MAX_EXTENDED_HEADERS = 16;
const BODY_CHUNK = 1024 * 1024;

const unsafe = (message: string) => new EngineError('ERR_UNSAFE_ARCHIVE', message);
const truncated = () => unsafe('invalid tar archive: unexpected end of data');

export class TarReader {
  readonly #src: AsyncIterator<Buffer>;
  readonly #limits: TarReaderLimits;
  readonly #chunks: Buffer[] = [];
  #offset = 0; // read offset into #chunks[0]
  #buffered = 0;
  #eof = false;
  #position = 0; // archive bytes consumed by the parser
  #remaining = 0; // unread data bytes of the current entry
  #padding = 0; // padding after the current entry's data
  #entries = 0;

  constructor(source: AsyncIterable<Buffer>, limits: TarReaderLimits) {
    this.#src = source[Symbol.asyncIterator]();
    this.#limits = limits;
  }

  /** Yields the entries in archive order; ends at the end-of-archive marker or a clean end of data. */
  async *entries(): AsyncGenerator<TarEntry, void, undefined> {
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    let extended = 0;
    for (;;) {
      await this.#skip(this.#remaining + this.#padding);
      this.#remaining = 0;
      this.#padding = 0;

      const block = await this.#readExact(BLOCK);
      const pending = pax !== undefined || longName !== undefined || longLink !== undefined;
      if (block === null) {
        if (pending) throw truncated();
        return;
      }
      if (isZeroBlock(block)) {
        const second = await this.#readExact(BLOCK);
        if (second !== null && !isZeroBlock(second)) {
          throw unsafe('invalid tar archive: data follows a zero block');
        }
        if (pending) throw unsafe('invalid tar archive: extended header without an entry');
        return;
      }

      const raw = parseHeaderBlock(block);
      if (raw.typeflag === 'x' || raw.typeflag === 'g' || raw.typeflag === 'L' || raw.typeflag === 'K') {
        if (++extended > MAX_EXTENDED_HEADERS) throw unsafe('invalid tar archive: too many consecutive extended headers');
        if (raw.size > this.#limits.maxPaxHeaderSize) {
          throw new EngineError(
            'ERR_LIMIT_EXCEEDED',
            `tar extended header of ${raw.size} bytes exceeds the limit of ${this.#limits.maxPaxHeaderSize} bytes`,
          );
        }
        const data = raw.size === 0 ? Buffer.alloc(0) : await this.#readExact(raw.size);
        if (data === null) throw truncated();
        await this.#skip(blockPadding(raw.size));
        switch (raw.typeflag) {
          case 'x':
            pax = new Map([...(pax ?? []), ...parsePax(data)]);
            break;
          case 'g':
            parsePax(data); // validated, then ignored as Docker does
            break;
          case 'L':
            longName = cString(data, 0, data.length);
            break;
          case 'K':
            longLink = cString(data, 0, data.length);
            break;
        }
        continue;
      }
      extended = 0;

      const header = buildHeader(raw, pax, longName, longLink);
      pax = undefined;
      longName = undefined;
      longLink = undefined;

      if (++this.#entries > this.#limits.maxEntries) {
        throw new EngineError('ERR_LIMIT_EXCEEDED', `layer has more than ${this.#limits.maxEntries} entries`);
      }
      const end = this.#position + header.size + blockPadding(header.size);
      if (end > this.#limits.maxArchiveBytes) {
        throw new EngineError(
          'ERR_LIMIT_EXCEEDED',
          `tar entry ${display(header.name)} (${header.size} bytes) would exceed the layer limit of ${this.#limits.maxArchiveBytes} uncompressed bytes`,
        );
      }
      this.#remaining = header.size;
      this.#padding = blockPadding(header.size);
      yield { header, body: this.#body() };
    }
  }

  /** Reads and discards whatever follows the end of the archive (so digests cover the whole stream). */
  async drain(): Promise<void> {
    this.#chunks.length = 0;
    this.#position += this.#buffered;
    this.#buffered = 0;
    this.#offset = 0;
    while (!this.#eof) {
      const r = await this.#src.next();
      if (r.done) this.#eof = true;
      else this.#position += r.value.length;
    }
  }

  /** Closes the source (for error paths); never waits on the data source itself. */
  async close(): Promise<void> {
    this.#eof = true;
    await this.#src.return?.();
  }

  async *#body(): AsyncGenerator<Buffer, void, undefined> {
    while (this.#remaining > 0) {
      const chunk = await this.#readSome(Math.min(this.#remaining, BODY_CHUNK));
      if (chunk === null) throw truncated();
      this.#remaining -= chunk.length;
      yield chunk;
    }
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const r = await this.#src.next();
    if (r.done) {
      this.#eof = true;
      return false;
    }
    if (r.value.length > 0) {
      this.#chunks.push(r.value);
      this.#buffered += r.value.length;
    }
    return true;
  }

  /** Takes up to `max` bytes from the first buffered chunk (zero-copy). */
  #take(max: number): Buffer {
    const first = this.#chunks[0]!;
    const n = Math.min(max, first.length - this.#offset);
    const out = first.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    this.#buffered -= n;
    this.#position += n;
    if (this.#offset === first.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    return out;
  }

  /** Exactly `n` bytes; null on a clean end of data before the first byte; throws if cut short. */
  async #readExact(n: number): Promise<Buffer | null> {
    while (this.#buffered < n) {
      if (!(await this.#fill())) {
        if (this.#buffered === 0) return null;
        throw truncated();
      }
    }
    const first = this.#take(n);
    if (first.length === n) return first;
    const out = Buffer.allocUnsafe(n);
    first.copy(out, 0);
    let written = first.length;
    while (written < n) {
      const part = this.#take(n - written);
      part.copy(out, written);
      written += part.length;
    }
    return out;
  }

  /** Between 1 and `max` bytes, or null at the end of data. */
  async #readSome(max: number): Promise<Buffer | null> {
    while (this.#buffered === 0) {
      if (!(await this.#fill())) return null;
    }
    return this.#take(max);
  }

  async #skip(n: number): Promise<void> {
    while (n > 0) {
      const chunk = await this.#readSome(Math.min(n, BODY_CHUNK));
      if (chunk === null) throw truncated();
      n -= chunk.length;
    }
  }
}

/** A name for error messages: UTF-8 decoded where possible, quoted, and truncated. */
export function display(latin1: string): string {
  const text = Buffer.from(latin1, 'latin1').toString('utf8');
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

interface RawHeader {
  typeflag: string;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

function parseHeaderBlock(b: Buffer): RawHeader {
  const stored = parseNumeric(b, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v < 128 ? v : v - 256;
  }
  if (stored !== unsigned && stored !== signed) {
    throw unsafe('invalid tar header checksum (not a tar archive, or corrupted)');
  }

  const magic = b.toString('latin1', 257, 263);
  let name = cString(b, 0, 100);
  // Only ustar (and star) have a name prefix; GNU keeps atime/ctime there and V7 has nothing.
  if (magic === 'ustar\0') {
    const star = b.toString('latin1', 508, 512) === 'tar\0';
    const prefix = cString(b, 345, star ? 131 : 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }

  const flagByte = b[156]!;
  return {
    typeflag: flagByte === 0 ? '\0' : String.fromCharCode(flagByte),
    name,
    linkname: cString(b, 157, 100),
    mode: parseNumeric(b, 100, 8, 'mode'),
    uid: parseNumeric(b, 108, 8, 'uid'),
    gid: parseNumeric(b, 116, 8, 'gid'),
    size: parseNumeric(b, 124, 12, 'size'),
    mtime: parseNumeric(b, 136, 12, 'mtime', true),
    devmajor: parseNumeric(b, 329, 8, 'devmajor'),
    devminor: parseNumeric(b, 337, 8, 'devminor'),
  };
}

const DECIMAL_RE = /^[0-9]{1,16}$/;
const TIME_RE = /^-?[0-9]{1,16}(\.[0-9]{0,18})?$/;

function buildHeader(
  raw: RawHeader,
  pax: Map<string, Buffer> | undefined,
  longName: string | undefined,
  longLink: string | undefined,
): TarHeader {
  let name = longName ?? raw.name;
  let linkname = longLink ?? raw.linkname;
  let size = raw.size;
  let uid = raw.uid;
  let gid = raw.gid;
  let mtime = raw.mtime;
  let atime: number | undefined;
  const xattrs = new Map<string, Buffer>();

  if (pax !== undefined) {
    for (const [key, value] of pax) {
      const text = () => value.toString('latin1');
      switch (key) {
        case 'path':
          name = text();
          break;
        case 'linkpath':
          linkname = text();
          break;
        case 'size':
          size = paxInteger(key, text());
          break;
        case 'uid':
          uid = paxInteger(key, text());
          break;
        case 'gid':
          gid = paxInteger(key, text());
          break;
        case 'mtime':
          mtime = paxTime(key, text());
          break;
        case 'atime':
          atime = paxTime(key, text());
          break;
        default:
          if (key.startsWith('SCHILY.xattr.')) {
            xattrs.set(key.slice('SCHILY.xattr.'.length), value);
          } else if (key.startsWith('GNU.sparse.')) {
            throw unsafe(`tar entry ${display(name)}: GNU sparse files are not supported`);
          }
      }
    }
  }

  let type: TarEntryType;
  switch (raw.typeflag) {
    case '\0':
      type = name.endsWith('/') ? 'directory' : 'file';
      break;
    case '0':
    case '7':
      type = 'file';
      break;
    case '1':
      type = 'hardlink';
      break;
    case '2':
      type = 'symlink';
      break;
    case '3':
      type = 'char-device';
      break;
    case '4':
      type = 'block-device';
      break;
    case '5':
      type = 'directory';
      break;
    case '6':
      type = 'fifo';
      break;
    case 'S':
      throw unsafe(`tar entry ${display(name)}: GNU sparse files are not supported`);
    default:
      throw unsafe(`tar entry ${display(name)}: unsupported entry type ${JSON.stringify(raw.typeflag)}`);
  }
  if (type !== 'file') size = 0; // header-only types carry no data (Go archive/tar semantics)

  return {
    name,
    linkname,
    type,
    mode: raw.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    atime,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
  };
}

function paxInteger(key: string, value: string): number {
  if (!DECIMAL_RE.test(value)) throw unsafe(`invalid PAX ${key} value ${JSON.stringify(value.slice(0, 40))}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw unsafe(`PAX ${key} value out of range`);
  return n;
}

function paxTime(key: string, value: string): number {
  if (!TIME_RE.test(value)) throw unsafe(`invalid PAX ${key} value ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

/** Parses PAX records exactly as Go's `parsePAXRecord` does; the later of repeated keys wins. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 16) throw unsafe('invalid PAX record');
    const lenText = data.toString('latin1', pos, space);
    if (!/^[0-9]+$/.test(lenText)) throw unsafe('invalid PAX record length');
    const len = Number(lenText);
    if (len < 5 || pos + len > data.length) throw unsafe('invalid PAX record length');
    const end = pos + len;
    if (data[end - 1] !== 0x0a) throw unsafe('invalid PAX record: missing newline');
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw unsafe('invalid PAX record: missing key');
    const key = record.toString('latin1', 0, eq);
    const value = Buffer.from(record.subarray(eq + 1)); // copy: never pin the input chunk
    if (key.includes('\0')) throw unsafe('invalid PAX record: NUL byte in key');
    if ((key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname') && value.includes(0)) {
      throw unsafe(`PAX ${key} contains a NUL byte`);
    }
    out.set(key, value);
    pos = end;
  }
  return out;
}

/** A NUL-terminated string field as `latin1` (bytes after the first NUL are ignored, as in Go). */
function cString(b: Buffer, offset: number, length: number): string {
  const end = b.indexOf(0, offset);
  const stop = end < 0 || end > offset + length ? offset + length : end;
  return b.toString('latin1', offset, stop);
}

/** Octal (space/NUL padded) or base-256 (GNU) numeric field. */
function parseNumeric(b: Buffer, offset: number, length: number, what: string, allowNegative = false): number {
  const first = b[offset]!;
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    let x = 0;
    for (let i = 0; i < length; i++) {
      let c = b[offset + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      x = x * 256 + c;
      if (x > Number.MAX_SAFE_INTEGER) throw unsafe(`tar header ${what} out of range`);
    }
    if (inv === 0) return x;
    if (!allowNegative) throw unsafe(`tar header ${what} is negative`);
    return -x - 1;
  }
  let text = b.toString('latin1', offset, offset + length);
  text = text.replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw unsafe(`invalid tar header ${what} field`);
  const n = parseInt(text, 8);
  if (!Number.isSafeInteger(n)) throw unsafe(`tar header ${what} out of range`);
  return n;
}

function blockPadding(size: number): number {
  const rem = size % BLOCK;
  return rem === 0 ? 0 : BLOCK - rem;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}
