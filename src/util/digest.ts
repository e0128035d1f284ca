/** Digests: validated strictly before any path or lookup is built from them (CVE-2014-9358 class). */
import { createHash } from 'node:crypto';
import { EngineError } from '../errors.js';
import type { Digest } from '../model/image.js';

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Parses `sha256:<64 hex>`; throws ERR_INVALID_ARGUMENT for anything else. */
export function parseDigest(value: unknown, what = 'digest'): Digest {
  if (!isDigest(value)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid ${what}: ${String(value)}`);
  return value;
}

export function isHex64(value: string): boolean {
  return HEX64_RE.test(value);
}

/** The 64 hex digits of a digest (safe as a file name). */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** OCI chain ID: chain(L0) = diff(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}
