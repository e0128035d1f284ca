/**
 * A minimal deterministic tar writer (POSIX ustar) for archives brig generates itself (`docker
 * save`): names are short and ASCII, owners are root, times are fixed. Sizes beyond the 11-digit
 * octal field use the base-256 form Go's `archive/tar` and GNU tar read.
 */
import { EngineError } from '../errors.js';

const BLOCK = 512;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

export interface TarWriteHeader {
  name: string;
  type: 'file' | 'directory';
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One 512-byte header block. */
export function tarHeader(h: TarWriteHeader): Buffer {
  const name = Buffer.from(h.name, 'utf8');
  if (name.length > 100 || !/^[\x21-\x7e]+$/.test(h.name)) {
    throw new EngineError('ERR_INTERNAL', `tar entry name not representable: ${h.name}`);
  }
  const b = Buffer.alloc(BLOCK);
  name.copy(b, 0);
  b.write(octal(h.mode, 8), 100, 'ascii');
  b.write(octal(0, 8), 108, 'ascii');
  b.write(octal(0, 8), 116, 'ascii');
  const size = h.type === 'directory' ? 0 : h.size;
  if (size <= MAX_OCTAL_SIZE) {
    b.write(octal(size, 12), 124, 'ascii');
  } else {
    b[124] = 0x80;
    b.writeBigUInt64BE(BigInt(size), 124 + 4);
  }
  b.write(octal(h.mtime, 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(h.type === 'directory' ? '5' : '0', 156, 'ascii');
  b.write('ustar\x0000', 257, 'ascii');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}

/** Zero padding after `size` bytes of data. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}
