/**
 * Manifests as registries serve them: media types, strict parsing of image manifests and indexes
 * (untrusted input: every field is type-checked, digests validated), and platform selection in a
 * multi-arch index. Docker schema 1 manifests are refused.
 */
import { EngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';
import { isDigest } from '../../util/digest.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/**
 * The Accept list for every manifest GET and HEAD. Without it a distribution registry converts to a
 * signed schema 1 manifest, or answers 404 for an OCI manifest (platform.md §5.1).
 */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

/** Layer media types brig unpacks (compression is detected from the bytes, not from these). */
const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
]);
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export type Manifest = ImageManifest | ImageIndex;

/** Largest manifest or index brig reads (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const invalid = (what: string) => new EngineError('ERR_INVALID_ARGUMENT', `invalid manifest from the registry: ${what}`);

function isIndexType(t: string): boolean {
  return t === MEDIA_TYPES.ociIndex || t === MEDIA_TYPES.dockerList;
}
function isManifestType(t: string): boolean {
  return t === MEDIA_TYPES.ociManifest || t === MEDIA_TYPES.dockerManifest;
}

/**
 * Parses a manifest body. The media type comes from the response's Content-Type; when that is
 * missing or generic (`application/json`, `text/plain`), from the body's `mediaType` or its shape.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not valid JSON');
  }
  const o = obj(doc, 'manifest');
  let type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const bodyType = o['mediaType'];
  if (bodyType !== undefined && typeof bodyType !== 'string') throw invalid('mediaType is not a string');
  if (!isIndexType(type) && !isManifestType(type) && type !== MEDIA_TYPES.dockerSchema1 && type !== MEDIA_TYPES.dockerSchema1Signed) {
    if (typeof bodyType === 'string' && bodyType) type = bodyType;
    else if (o['schemaVersion'] === 1) type = MEDIA_TYPES.dockerSchema1;
    else if (Array.isArray(o['manifests'])) type = MEDIA_TYPES.ociIndex;
    else if (o['config'] !== undefined) type = MEDIA_TYPES.ociManifest;
  }
  if (type === MEDIA_TYPES.dockerSchema1 || type === MEDIA_TYPES.dockerSchema1Signed || o['schemaVersion'] === 1) {
    throw new EngineError(
      'ERR_INVALID_ARGUMENT',
      'the registry served a Docker schema 1 manifest, which brig does not support (it is deprecated and unverifiable); push the image again with a current client',
    );
  }
  if (typeof bodyType === 'string' && bodyType !== '' && bodyType !== type) {
    throw invalid(`the body's mediaType ${bodyType} differs from the Content-Type ${type}`);
  }
  if (o['schemaVersion'] !== 2) throw invalid('schemaVersion must be 2');
  if (isIndexType(type)) {
    return { kind: 'index', mediaType: type, manifests: arr(o['manifests'], 'manifests').map((d) => descriptor(d, 'manifests[]')) };
  }
  if (isManifestType(type)) {
    const config = descriptor(o['config'], 'config');
    const layers = arr(o['layers'], 'layers').map((d) => descriptor(d, 'layers[]'));
    return { kind: 'manifest', mediaType: type, config, layers };
  }
  throw new EngineError('ERR_INVALID_ARGUMENT', `unsupported manifest media type: ${type || '(none)'}`);
}

/** Checks that every layer of an image manifest is one brig can pull. */
export function checkLayerTypes(m: ImageManifest): void {
  for (const l of m.layers) {
    if (FOREIGN_LAYER_TYPES.has(l.mediaType)) {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `foreign (non-distributable) layers are not supported by brig: ${l.digest} (${l.mediaType})`);
    }
    if (!LAYER_TYPES.has(l.mediaType)) throw new EngineError('ERR_INVALID_ARGUMENT', `unsupported layer media type ${l.mediaType} (${l.digest})`);
  }
  if (m.config.mediaType !== MEDIA_TYPES.ociConfig && m.config.mediaType !== MEDIA_TYPES.dockerConfig) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `unsupported image config media type ${m.config.mediaType}: not a container image`);
  }
}

function descriptor(v: unknown, what: string): Descriptor {
  const o = obj(v, what);
  const mediaType = o['mediaType'];
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${what}.mediaType is missing`);
  const digest = o['digest'];
  if (!isDigest(digest)) throw invalid(`${what}.digest is not a sha256 digest: ${String(digest)}`);
  const size = o['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${what}.size is not a non-negative integer`);
  const d: Descriptor = { mediaType, digest, size };
  if (o['platform'] !== undefined) {
    const p = obj(o['platform'], `${what}.platform`);
    if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') throw invalid(`${what}.platform needs os and architecture`);
    d.platform = { os: p['os'], architecture: p['architecture'], ...(typeof p['variant'] === 'string' && p['variant'] ? { variant: p['variant'] } : {}) };
  }
  return d;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(`${what} is not a list`);
  return v;
}

// ── platforms ─────────────────────────────────────────────────────────────────────────────────

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

/** The platform brig runs containers for (from Node's `process.arch`). */
export function hostPlatform(): Platform {
  const map: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  return map[process.arch] ?? { os: 'linux', architecture: process.arch };
}

/** Parses `os/arch[/variant]` (or just `arch`), normalising aliases (`x86_64`, `aarch64`). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9][a-z0-9._-]*$/.test(p)) || parts.length > 3) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid platform "${s}": expected os/arch[/variant]`);
  }
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0]!, undefined] : [parts[0]!, parts[1]!, parts[2]];
  return normalizePlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant;
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && p.architecture === 'armel' && variant === undefined) variant = 'v6';
  if (architecture === 'arm' && variant && /^[0-9]$/.test(variant)) variant = `v${variant}`;
  return { os: p.os, architecture, ...(variant ? { variant } : {}) };
}

/** `linux/arm64/v8`, as Docker prints platforms. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** Whether an image of platform `have` runs as `want` asks (a wanted variant must match; none = any). */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || h.variant === undefined || w.variant === h.variant;
}

/**
 * Picks the manifest for `want` from an index: an exact variant match first, then any entry that
 * matches; attestation entries (`unknown/unknown`) never match. Throws Docker's message when none does.
 */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform && isManifestType(d.mediaType) && platformMatches(want, d.platform));
  const w = normalizePlatform(want);
  const exact = candidates.find((d) => normalizePlatform(d.platform!).variant === w.variant);
  const pick = exact ?? candidates[0];
  if (!pick) throw new EngineError('ERR_NOT_FOUND', `no matching manifest for ${formatPlatform(w)} in the manifest list entries`);
  return pick;
}
