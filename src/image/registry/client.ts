/**
 * A client of one registry (OCI distribution protocol, `/v2/`): manifests and blobs to pull, and
 * the upload half (start, monolithic PUT, chunked PATCH + PUT, cross-repository mount, manifest
 * PUT) that push uses. Authentication is anonymous, Basic or Bearer, decided by the registry's
 * challenges; bearer tokens are cached per realm, service and scope.
 *
 * Transport: node:http/https with a keep-alive agent per host. HTTPS with the system CAs plus the
 * registry's own; plain HTTP only for insecure registries (loopback or `--insecure-registry`),
 * which are tried with HTTPS (unverified) first, as Docker does. A secure registry is never
 * contacted over HTTP, and a redirect never downgrades HTTPS to HTTP.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { EngineError, isEngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';
import { isDigest } from '../../util/digest.js';
import { basicHeader, hasBasicCredentials, parseChallenges, parseTokenResponse, TokenCache, type Challenge, type Credentials } from './auth.js';
import { isInsecure, type Endpoint, type TlsMaterial } from './endpoint.js';
import { RegistryError, registryErrorFrom } from './errors.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest.js';
import { DigestVerifier } from './verify.js';

const REQUEST_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;
const MAX_TOKEN_BODY = 1024 * 1024;
const USER_AGENT = 'brig/0.1 (linux)';

/** Keep-alive agents shared by all clients of a daemon, one per scheme + host + TLS material. */
export class AgentPool {
  readonly #agents = new Map<string, HttpAgent>();
  #systemCas: string[] | undefined;

  get(scheme: 'http' | 'https', host: string, tls: TlsMaterial, verify: boolean): HttpAgent {
    const fingerprint = createHash('sha256').update(JSON.stringify([tls.ca, tls.cert ?? '', tls.key ?? '', verify])).digest('hex');
    const key = `${scheme}://${host}#${fingerprint}`;
    let agent = this.#agents.get(key);
    if (agent) return agent;
    if (scheme === 'http') {
      agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
    } else {
      agent = new HttpsAgent({
        keepAlive: true,
        maxSockets: 16,
        rejectUnauthorized: verify,
        ...(tls.ca.length > 0 ? { ca: [...this.#systemCaList(), ...tls.ca] } : {}),
        ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
      });
    }
    this.#agents.set(key, agent);
    return agent;
  }

  /** The host's CA bundle (Debian's), or Node's bundled list when there is none. */
  #systemCaList(): string[] {
    if (!this.#systemCas) {
      try {
        this.#systemCas = [readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')];
      } catch {
        this.#systemCas = [...rootCertificates];
      }
    }
    return this.#systemCas;
  }

  destroy(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}

/** A request body: nothing, bytes (can be re-sent after an auth challenge) or a stream (cannot). */
type Body = Buffer | Readable | undefined;

interface SendOptions {
  headers?: OutgoingHttpHeaders;
  body?: Body;
  /** Scopes to authorise (`repository:x:pull`); none for `/v2/`. */
  scopes?: string[];
  followRedirects?: boolean;
  signal?: AbortSignal;
}

export interface ManifestResponse {
  bytes: Buffer;
  mediaType: string | undefined;
  digest: Digest;
}

export interface UploadStart {
  /** The blob is there already (cross-repository mount succeeded): nothing to upload. */
  mounted: boolean;
  /** Upload session URL (absolute) unless mounted. */
  location?: string;
}

export interface ClientDeps {
  agents: AgentPool;
  tokens: TokenCache;
  insecureRegistries: readonly string[];
}

export class RegistryClient {
  readonly endpoint: Endpoint;
  readonly #creds: Credentials;
  readonly #deps: ClientDeps;
  #base: URL | undefined;
  #pinging: Promise<void> | undefined;
  /** Challenge scheme learnt from the registry: send Basic credentials or fetch bearer tokens. */
  #challenge: Challenge | undefined;

  constructor(endpoint: Endpoint, credentials: Credentials, deps: ClientDeps) {
    this.endpoint = endpoint;
    this.#creds = credentials;
    this.#deps = deps;
  }

  /** Who the token cache files tokens under (never the secret itself). */
  get #who(): string {
    const c = this.#creds;
    if (c.identityToken) return `id:${createHash('sha256').update(c.identityToken).digest('hex')}`;
    if (hasBasicCredentials(c)) return `basic:${createHash('sha256').update(`${c.username}:${c.password}`).digest('hex')}`;
    return 'anonymous';
  }

  // ── transport ───────────────────────────────────────────────────────────────────────────────

  #agentFor(url: URL): HttpAgent {
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const own = url.host === this.endpoint.host;
    const verify = !own || this.endpoint.verifyTls;
    return this.#deps.agents.get(scheme, url.host, own ? this.endpoint.tls : { ca: [] }, verify);
  }

  /** One HTTP exchange, no auth or redirect logic; resolves on the response head. */
  #raw(method: string, url: URL, headers: OutgoingHttpHeaders, body: Body, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = fn(url, { method, headers: { 'User-Agent': USER_AGENT, ...headers }, agent: this.#agentFor(url), ...(signal ? { signal } : {}) }, resolve);
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => {
        if (isEngineError(err)) reject(err);
        else reject(new EngineError('ERR_UNAVAILABLE', `${method} ${url.href}: ${(err as Error).message}`, { cause: err }));
      });
      if (body instanceof Readable) {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  /**
   * Decides the scheme with `GET /v2/` (once per client) and learns the auth challenge. A secure
   * registry is HTTPS only; an insecure one is tried with HTTPS, then HTTP if TLS fails to connect.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    this.#pinging ??= this.#ping(signal).catch((err: unknown) => {
      this.#pinging = undefined;
      throw err;
    });
    return this.#pinging;
  }

  async #ping(signal?: AbortSignal): Promise<void> {
    const host = this.endpoint.host;
    const tries = this.endpoint.allowHttp ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of tries) {
      const base = new URL(`${scheme}://${host}/`);
      let res: IncomingMessage;
      try {
        res = await this.#raw('GET', new URL('/v2/', base), {}, undefined, signal);
      } catch (err) {
        // A server that speaks TLS but whose certificate fails verification is never retried over
        // plain HTTP: only a failure to speak TLS at all (a plain HTTP server) falls back.
        if (isCertificateError(err)) {
          throw new EngineError('ERR_UNAVAILABLE', `${host}: TLS certificate verification failed (${(err as Error).message}); add its CA as ${this.endpoint.host}/ca.crt in the daemon's certs dir`, { cause: err });
        }
        lastErr = err;
        continue;
      }
      res.resume();
      // A plain HTTP server answering a TLS client cannot get here; an HTTP answer means the scheme works.
      this.#base = base;
      if (res.statusCode === 401) this.#learn(res);
      else if (res.statusCode !== 200 && res.statusCode !== 404) {
        // 404 is what some registries answer for /v2/ without auth; anything else is a real failure.
        throw new EngineError('ERR_UNAVAILABLE', `GET ${base.href}v2/: unexpected status ${res.statusCode}: is ${host} a registry?`);
      }
      return;
    }
    throw lastErr instanceof Error ? lastErr : new EngineError('ERR_UNAVAILABLE', `cannot reach ${host}`);
  }

  #learn(res: IncomingMessage): Challenge | undefined {
    const header = res.headers['www-authenticate'];
    const challenges = parseChallenges(Array.isArray(header) ? header.join(', ') : header ?? '');
    const pick = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (pick) this.#challenge = pick;
    return pick;
  }

  #url(path: string): URL {
    if (!this.#base) throw new EngineError('ERR_INTERNAL', 'registry client used before ping');
    return new URL(path, this.#base);
  }

  /** The Authorization header for `scopes`, fetching a bearer token if the registry wants one. */
  async #authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const c = this.#challenge;
    if (this.#creds.registryToken) return `Bearer ${this.#creds.registryToken}`;
    if (!c) return undefined;
    if (c.scheme === 'basic') return hasBasicCredentials(this.#creds) ? basicHeader(this.#creds) : undefined;
    if (c.scheme === 'bearer') return `Bearer ${await this.#token(c, scopes, signal)}`;
    return undefined;
  }

  /** A bearer token for `scopes` from the challenge's realm (cached until it expires). */
  async #token(c: Challenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    const realm = c.params['realm'];
    if (!realm) throw new EngineError('ERR_UNAUTHORIZED', `the registry ${this.endpoint.host} asked for a bearer token without naming a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new EngineError('ERR_UNAUTHORIZED', `invalid token realm from ${this.endpoint.host}: ${realm}`);
    }
    // Credentials never travel over plain HTTP to a host that is not allowed to be insecure.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isInsecure(url.host, this.#deps.insecureRegistries))) {
      throw new EngineError('ERR_UNAUTHORIZED', `refusing the token realm ${realm}: it must be https (or an insecure registry)`);
    }
    const service = c.params['service'] ?? '';
    const key = TokenCache.key(realm, service, scopes, this.#who);
    const cached = this.#deps.tokens.get(key);
    if (cached) return cached;
    const headers: OutgoingHttpHeaders = { Accept: 'application/json' };
    let method = 'GET';
    let body: Buffer | undefined;
    if (this.#creds.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.#creds.identityToken, service, client_id: 'brig', access_type: 'offline' });
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = body.length;
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (hasBasicCredentials(this.#creds)) {
        headers['Authorization'] = basicHeader(this.#creds);
        url.searchParams.set('account', this.#creds.username!);
      }
    }
    const res = await this.#raw(method, url, headers, body, signal);
    if (res.statusCode !== 200) {
      const err = await registryErrorFrom(res, `fetching a token from ${url.origin}${url.pathname}`);
      if (res.statusCode === 401 || res.statusCode === 403) {
        throw new RegistryError('ERR_UNAUTHORIZED', err.entries.length ? err.message : 'unauthorized: incorrect username or password', res.statusCode, err.entries.length ? err.entries : [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }]);
      }
      throw err;
    }
    const text = (await readLimited(res, MAX_TOKEN_BODY, 'token response')).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new EngineError('ERR_UNAUTHORIZED', 'the token server answered with invalid JSON');
    }
    const t = parseTokenResponse(doc);
    this.#deps.tokens.set(key, t.token, t.expiresIn);
    return t.token;
  }

  /**
   * A request with auth: sends it, and on 401 learns the challenge and retries once (when the body
   * can be sent again). Follows redirects when asked (blob GETs), dropping credentials when the
   * redirect leaves the registry's host. Non-2xx answers other than redirects are returned as-is.
   */
  async #send(method: string, where: URL | string, o: SendOptions = {}): Promise<IncomingMessage> {
    await this.ping(o.signal);
    let target = typeof where === 'string' ? this.#url(where) : where;
    const scopes = o.scopes ?? [];
    let auth = await this.#authorization(scopes, o.signal);
    const headers = (a: string | undefined): OutgoingHttpHeaders => ({ ...(o.headers ?? {}), ...(a ? { Authorization: a } : {}) });
    let res = await this.#raw(method, target, headers(auth), o.body, o.signal);
    if (res.statusCode === 401 && !(o.body instanceof Readable)) {
      const before = JSON.stringify(this.#challenge);
      const c = this.#learn(res);
      const scopeFromChallenge = c?.params['scope'];
      const retryScopes = scopeFromChallenge && !scopes.includes(scopeFromChallenge) ? [...scopes, scopeFromChallenge] : scopes;
      const next = c ? await this.#authorization(retryScopes, o.signal) : undefined;
      if (next !== undefined && (next !== auth || JSON.stringify(this.#challenge) !== before)) {
        res.resume();
        auth = next;
        res = await this.#raw(method, target, headers(auth), o.body, o.signal);
      }
    }
    for (let hops = 0; o.followRedirects && isRedirect(res.statusCode) && res.headers.location; hops++) {
      if (hops >= MAX_REDIRECTS) {
        res.resume();
        throw new EngineError('ERR_UNAVAILABLE', `too many redirects fetching ${target.href}`);
      }
      const next = new URL(res.headers.location, target);
      res.resume();
      if (target.protocol === 'https:' && next.protocol !== 'https:') {
        throw new EngineError('ERR_UNAVAILABLE', `refusing a redirect from HTTPS to ${next.protocol} (${next.origin})`);
      }
      const sameHost = next.host === target.host;
      const h = { ...(o.headers ?? {}), ...(sameHost && auth ? { Authorization: auth } : {}) };
      target = next;
      res = await this.#raw(method, target, h, undefined, o.signal);
    }
    return res;
  }

  // ── base ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Checks the credentials (`docker login`): `GET /v2/` with Basic auth, or a token for no scope
   * from the realm. Throws ERR_UNAUTHORIZED with the registry's message when they are refused.
   */
  async login(signal?: AbortSignal): Promise<void> {
    await this.ping(signal);
    const c = this.#challenge;
    if (c?.scheme === 'bearer') {
      await this.#token(c, [], signal);
      return;
    }
    const url = this.#url('/v2/');
    const res = await this.#raw('GET', url, c?.scheme === 'basic' && hasBasicCredentials(this.#creds) ? { Authorization: basicHeader(this.#creds) } : {}, undefined, signal);
    res.resume();
    if (res.statusCode === 200) return;
    if (res.statusCode === 401) {
      throw new RegistryError('ERR_UNAUTHORIZED', `login attempt to ${url.href} failed with status: 401 Unauthorized`, 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }]);
    }
    throw new EngineError('ERR_UNAVAILABLE', `login attempt to ${url.href} failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
  }

  // ── manifests ───────────────────────────────────────────────────────────────────────────────

  /**
   * Fetches a manifest by tag or digest with the full Accept list. Its digest is computed from the
   * body and must equal the requested digest (when fetching by digest) and the registry's
   * `Docker-Content-Digest` (when sent).
   */
  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<ManifestResponse> {
    const res = await this.#send('GET', `/v2/${repo}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT }, scopes: [`repository:${repo}:pull`], ...(signal ? { signal } : {}),
    });
    if (res.statusCode !== 200) throw await registryErrorFrom(res, `GET manifest ${repo}:${reference}`);
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, 'manifest');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    if (isDigest(reference) && reference !== digest) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `manifest digest mismatch: asked for ${reference}, the registry sent content with digest ${digest}`);
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `manifest digest mismatch: the registry says ${claimed}, the content has ${digest}`);
    }
    return { bytes, mediaType: header(res, 'content-type'), digest };
  }

  /** HEAD of a manifest: its digest, media type and size, or undefined when it does not exist. */
  async headManifest(repo: string, reference: string, signal?: AbortSignal): Promise<{ digest: Digest | undefined; mediaType: string | undefined; size: number } | undefined> {
    const res = await this.#send('HEAD', `/v2/${repo}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT }, scopes: [`repository:${repo}:pull`], ...(signal ? { signal } : {}),
    });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await registryErrorFrom(res, `HEAD manifest ${repo}:${reference}`);
    const d = header(res, 'docker-content-digest');
    return { digest: isDigest(d) ? d : undefined, mediaType: header(res, 'content-type'), size: Number(header(res, 'content-length') ?? 0) };
  }

  /** Uploads a manifest; returns its digest, checked against the registry's `Docker-Content-Digest`. */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<Digest> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
    const res = await this.#send('PUT', `/v2/${repo}/manifests/${reference}`, {
      headers: { 'Content-Type': mediaType, 'Content-Length': bytes.length }, body: bytes,
      scopes: [`repository:${repo}:pull,push`], ...(signal ? { signal } : {}),
    });
    res.resume();
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await registryErrorFrom(res, `PUT manifest ${repo}:${reference}`);
    const claimed = header(res, 'docker-content-digest');
    if (claimed && claimed !== digest) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `the registry stored the manifest as ${claimed}, but its digest is ${digest}`);
    }
    return digest;
  }

  // ── blobs ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Streams a blob (following redirects). The stream is verified while it flows: it fails instead of
   * ending when the bytes do not match `digest` or `size`. `onBytes` reports progress.
   */
  async getBlob(repo: string, digest: Digest, size?: number, options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<Readable> {
    const res = await this.#send('GET', `/v2/${repo}/blobs/${digest}`, {
      scopes: [`repository:${repo}:pull`], followRedirects: true, ...(options.signal ? { signal: options.signal } : {}),
    });
    if (res.statusCode !== 200) throw await registryErrorFrom(res, `GET blob ${digest}`);
    const verifier = new DigestVerifier(digest, size, options.onBytes);
    res.on('error', (err) => verifier.destroy(err));
    verifier.on('close', () => {
      if (!res.complete) res.destroy();
    });
    return res.pipe(verifier);
  }

  /** A whole small blob (an image config), verified, at most `maxBytes`. */
  async getBlobBytes(repo: string, digest: Digest, size: number, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    if (size > maxBytes) throw new EngineError('ERR_LIMIT_EXCEEDED', `blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed`);
    const stream = await this.getBlob(repo, digest, size, signal ? { signal } : {});
    return readLimited(stream, maxBytes, `blob ${digest}`);
  }

  /**
   * HEAD of a blob: its size, or undefined when the repository does not have it. A push asks with
   * `actions` `pull,push`, so one token serves the whole push.
   */
  async headBlob(repo: string, digest: Digest, signal?: AbortSignal, actions: 'pull' | 'pull,push' = 'pull'): Promise<{ size: number } | undefined> {
    const res = await this.#send('HEAD', `/v2/${repo}/blobs/${digest}`, {
      scopes: [`repository:${repo}:${actions}`], followRedirects: true, ...(signal ? { signal } : {}),
    });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await registryErrorFrom(res, `HEAD blob ${digest}`);
    return { size: Number(header(res, 'content-length') ?? 0) };
  }

  /**
   * Starts a blob upload (`POST /v2/<repo>/blobs/uploads/`). With `mount`, asks for a cross-repository
   * mount of that blob from `from` first; `mounted` tells whether it happened (201) or an ordinary
   * upload session was opened instead (202).
   */
  async startUpload(repo: string, mount?: { digest: Digest; from: string }, signal?: AbortSignal): Promise<UploadStart> {
    await this.ping(signal);
    const url = this.#url(`/v2/${repo}/blobs/uploads/`);
    const scopes = [`repository:${repo}:pull,push`];
    if (mount) {
      url.searchParams.set('mount', mount.digest);
      url.searchParams.set('from', mount.from);
      scopes.push(`repository:${mount.from}:pull`);
    }
    const res = await this.#send('POST', url, { headers: { 'Content-Length': 0 }, body: Buffer.alloc(0), scopes, ...(signal ? { signal } : {}) });
    res.resume();
    if (res.statusCode === 201 && mount) return { mounted: true };
    if (res.statusCode !== 202) throw await registryErrorFrom(res, `starting an upload to ${repo}`);
    return { mounted: false, location: this.#location(res, url) };
  }

  /** Monolithic upload: the whole blob in one `PUT <location>&digest=…`. */
  async putBlob(repo: string, location: string, digest: Digest, body: Buffer | Readable, size: number, signal?: AbortSignal): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.#send('PUT', url, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size }, body,
      scopes: [`repository:${repo}:pull,push`], ...(signal ? { signal } : {}),
    });
    res.resume();
    if (res.statusCode !== 201) throw await registryErrorFrom(res, `uploading blob ${digest}`);
  }

  /** Chunked upload: sends bytes `[offset, offset + chunk.length)`; returns the next location. */
  async patchBlob(repo: string, location: string, chunk: Buffer, offset: number, signal?: AbortSignal): Promise<string> {
    const url = new URL(location);
    const res = await this.#send('PATCH', url, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': chunk.length,
        'Content-Range': `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk, scopes: [`repository:${repo}:pull,push`], ...(signal ? { signal } : {}),
    });
    res.resume();
    if (res.statusCode !== 202) throw await registryErrorFrom(res, `uploading a chunk at offset ${offset}`);
    return this.#location(res, url);
  }

  /** Ends a chunked upload: `PUT <location>&digest=…` without a body. */
  async finishUpload(repo: string, location: string, digest: Digest, signal?: AbortSignal): Promise<void> {
    await this.putBlob(repo, location, digest, Buffer.alloc(0), 0, signal);
  }

  /** The absolute upload URL from a `Location` header; never a downgrade from HTTPS. */
  #location(res: IncomingMessage, base: URL): string {
    const loc = header(res, 'location');
    if (!loc) throw new EngineError('ERR_UNAVAILABLE', 'the registry opened an upload without a Location');
    const url = new URL(loc, base);
    if (base.protocol === 'https:' && url.protocol !== 'https:') throw new EngineError('ERR_UNAVAILABLE', `refusing an upload location over ${url.protocol}`);
    return url.href;
  }
}

function isCertificateError(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME|ERR_TLS_CERT/.test(code);
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads a whole stream of at most `max` bytes (more is refused, not truncated). */
export async function readLimited(stream: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > max) throw new EngineError('ERR_LIMIT_EXCEEDED', `${what} is larger than ${max} bytes`);
      chunks.push(c);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, n);
}
