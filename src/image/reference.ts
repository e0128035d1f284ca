/**
 * Image references (`busybox`, `busybox:1.36`, `127.0.0.1:5000/a/b:v1`, `name@sha256:…`), parsed and
 * normalised the way Docker does: Docker Hub names get `docker.io/library/`, a missing tag is `latest`.
 */
import { EngineError } from '../errors.js';
import type { Digest } from '../model/image.js';
import { isDigest } from '../util/digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageRef {
  /** Registry host[:port], `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path, e.g. `library/busybox`. */
  path: string;
  tag: string | null;
  digest: Digest | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** Parses a reference; throws ERR_INVALID_REFERENCE with Docker's wording on bad input. */
export function parseReference(raw: string): ImageRef {
  const bad = () => new EngineError('ERR_INVALID_REFERENCE', `invalid reference format: ${raw}`);
  if (raw.length === 0 || raw.length > 255 + 128 + 72) throw bad();
  // A tag named like an image ID would shadow that ID in lookups.
  if (/^[a-f0-9]{64}$/.test(raw)) {
    throw new EngineError('ERR_INVALID_REFERENCE', `invalid repository name (${raw}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = raw;
  let digest: Digest | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad();
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) throw bad();
    rest = rest.slice(0, colon);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw bad();
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (path.split('/').some((c) => !COMPONENT.test(c))) {
    if (path !== path.toLowerCase()) {
      throw new EngineError('ERR_INVALID_REFERENCE', `invalid reference format: repository name (${path}) must be lowercase`);
    }
    throw bad();
  }
  return { domain, path, tag, digest };
}

/** Same as parseReference but fills in `latest` when neither tag nor digest is given. */
export function parseReferenceWithDefaultTag(raw: string): ImageRef {
  const ref = parseReference(raw);
  return ref.tag === null && ref.digest === null ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** Fully qualified repository name: `docker.io/library/busybox`. */
export function repositoryName(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** Fully qualified `repo:tag` (or `repo@digest`), the form brig stores tags in. */
export function fullName(ref: ImageRef): string {
  const base = repositoryName(ref);
  if (ref.digest) return `${base}@${ref.digest}`;
  return `${base}:${ref.tag ?? DEFAULT_TAG}`;
}

/** Docker's "familiar" form for display: `busybox:latest`, `me/app:v1`, `127.0.0.1:5000/x:y`. */
export function familiarName(full: string): string {
  const ref = parseReference(full);
  let repo = ref.domain === DEFAULT_DOMAIN ? ref.path.replace(/^library\//, '') : `${ref.domain}/${ref.path}`;
  if (ref.tag) repo += `:${ref.tag}`;
  if (ref.digest) repo += `@${ref.digest}`;
  return repo;
}
