/**
 * Registry authentication: credentials as the Docker API carries them (`X-Registry-Auth`, `/auth`
 * bodies), `WWW-Authenticate` challenge parsing, and a bearer token cache keyed by
 * realm + service + scope. Credentials live in memory only and are never logged.
 */
import { EngineError } from '../../errors.js';

/** What a client may give to reach a registry. Every field is optional (none = anonymous). */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token (`docker login` with an identity token). */
  identityToken?: string;
  /** A bearer token to send as it is. */
  registryToken?: string;
  /** The registry the credentials were meant for (informational). */
  serverAddress?: string;
}

export interface Challenge {
  /** Lower-case scheme: `basic`, `bearer`, … */
  scheme: string;
  /** Parameters with lower-case keys (`realm`, `service`, `scope`, `error`). */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value (RFC 7235): one or more challenges, each a scheme and
 * comma-separated `key=value` or `key="quoted value"` parameters.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const word = token();
    if (word === '') {
      i++; // skip a stray character
      continue;
    }
    skipWs();
    if (header[i] === '=' && current) {
      i++;
      skipWs();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        value = token();
      }
      current.params[word.toLowerCase()] = value;
    } else {
      void start;
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/**
 * Decodes Docker's `X-Registry-Auth` header: base64url (standard base64 accepted too) of a JSON
 * object `{username, password, serveraddress, identitytoken, registrytoken}`. Empty, `{}` or a
 * header of only whitespace mean anonymous.
 */
export function decodeRegistryAuth(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return {};
  let doc: unknown;
  try {
    const text = Buffer.from(header.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    doc = JSON.parse(text);
  } catch {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'invalid X-Registry-Auth header: not base64-encoded JSON');
  }
  return parseAuthConfig(doc, 'X-Registry-Auth');
}

/** Validates a Docker AuthConfig object (the `/auth` body or a decoded `X-Registry-Auth`). */
export function parseAuthConfig(doc: unknown, what = 'auth config'): Credentials {
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid ${what}: not a JSON object`);
  const o = doc as Record<string, unknown>;
  const field = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new EngineError('ERR_INVALID_ARGUMENT', `invalid ${what}: ${k} must be a string`);
    return v;
  };
  const c: Credentials = {};
  const username = field('username');
  const password = field('password');
  const identityToken = field('identitytoken');
  const registryToken = field('registrytoken');
  const serverAddress = field('serveraddress');
  if (username !== undefined) c.username = username;
  if (password !== undefined) c.password = password;
  if (identityToken !== undefined) c.identityToken = identityToken;
  if (registryToken !== undefined) c.registryToken = registryToken;
  if (serverAddress !== undefined) c.serverAddress = serverAddress;
  return c;
}

export function hasBasicCredentials(c: Credentials): boolean {
  return c.username !== undefined && c.password !== undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}

/** Bearer tokens by realm, service, scope set and credentials, until shortly before they expire. */
export class TokenCache {
  readonly #entries = new Map<string, { token: string; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  static key(realm: string, service: string, scopes: readonly string[], who: string): string {
    return JSON.stringify([realm, service, [...scopes].sort(), who]);
  }

  get(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** Stores a token valid for `expiresInSec` (kept 10 s less, to not send one that is about to lapse). */
  set(key: string, token: string, expiresInSec: number): void {
    const ttl = Math.max(0, expiresInSec - 10) * 1000;
    if (ttl <= 0) return;
    if (this.#entries.size > 1000) this.#entries.clear();
    this.#entries.set(key, { token, expiresAt: this.#now() + ttl });
  }
}

/** Parses a token endpoint's answer: `token` or `access_token`, `expires_in` (default 60 s). */
export function parseTokenResponse(doc: unknown): { token: string; expiresIn: number } {
  if (typeof doc !== 'object' || doc === null) throw new EngineError('ERR_UNAUTHORIZED', 'the token server answered without a token');
  const o = doc as Record<string, unknown>;
  const token = typeof o['token'] === 'string' && o['token'] ? o['token'] : o['access_token'];
  if (typeof token !== 'string' || token === '') throw new EngineError('ERR_UNAUTHORIZED', 'the token server answered without a token');
  const e = o['expires_in'];
  const expiresIn = typeof e === 'number' && Number.isFinite(e) && e >= 60 ? e : 60;
  return { token, expiresIn };
}
