/**
 * RegistryClient against a small in-process fake registry on 127.0.0.1: Bearer flow and token
 * cache, manifests (Accept list, digest checks), blobs (redirects, verification while streaming),
 * the upload half (POST, monolithic PUT, chunked PATCH + PUT, cross-repo mount, manifest PUT) and
 * registry error bodies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import type { Digest } from '../../model/image.js';
import { TokenCache } from './auth.js';
import { AgentPool, readLimited, RegistryClient } from './client.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES } from './manifest.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const BLOB = Buffer.from('layer bytes '.repeat(1000));
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha('c'), size: 1 }, layers: [] }));

interface Seen { method: string; url: string; auth: string | undefined; accept: string | undefined; range?: string | undefined }

let server: Server;
let port = 0;
const seen: Seen[] = [];
const tokenRequests: string[] = [];
const blobs = new Map<string, Buffer>([[sha(BLOB), BLOB]]);
const uploads = new Map<string, Buffer>();
const manifests = new Map<string, { type: string; body: Buffer }>();
let corrupt = false;

function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body: string | Buffer = '') {
  res.writeHead(status, headers);
  res.end(body);
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url!, `http://127.0.0.1:${port}`);
    seen.push({ method: req.method!, url: url.pathname + url.search, auth: req.headers.authorization, accept: req.headers.accept, range: req.headers['content-range'] as string | undefined });
    if (url.pathname === '/token') {
      tokenRequests.push(url.search);
      send(res, 200, { 'Content-Type': 'application/json' }, JSON.stringify({ token: `tok(${url.searchParams.getAll('scope').join('+')})`, expires_in: 300 }));
      return;
    }
    if (url.pathname === '/elsewhere/blob') {
      assert.equal(req.headers.authorization, undefined, 'credentials are not forwarded to another host');
      send(res, 200, {}, corrupt ? Buffer.concat([BLOB.subarray(0, -1), Buffer.from('X')]) : BLOB);
      return;
    }
    if (!req.headers.authorization?.startsWith('Bearer tok(')) {
      const scope = url.pathname.startsWith('/v2/test/') ? `,scope="repository:test/repo:pull"` : '';
      send(res, 401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake"${scope}`, 'Content-Type': 'application/json' },
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') return send(res, 200, {}, '{}');
    if (m && m[2] === 'manifests' && (req.method === 'GET' || req.method === 'HEAD')) {
      const stored = manifests.get(`${m[1]}:${m[3]}`) ?? (m[3] === 'latest' || m[3] === 'lying' || m[3] === sha(MANIFEST) ? { type: MEDIA_TYPES.ociManifest, body: MANIFEST } : undefined);
      if (!stored) return send(res, 404, { 'Content-Type': 'application/json' }, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      const digest = m[3] === 'lying' ? sha('other') : sha(stored.body);
      return send(res, 200, { 'Content-Type': stored.type, 'Docker-Content-Digest': digest, 'Content-Length': stored.body.length }, req.method === 'HEAD' ? '' : stored.body);
    }
    if (m && m[2] === 'manifests' && req.method === 'PUT') {
      const b = await body(req);
      manifests.set(`${m[1]}:${m[3]}`, { type: req.headers['content-type']!, body: b });
      return send(res, 201, { 'Docker-Content-Digest': sha(b), Location: `/v2/${m[1]}/manifests/${sha(b)}` });
    }
    if (m && m[2] === 'blobs' && m[3] === 'uploads/' && req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      if (mount && blobs.has(mount)) return send(res, 201, { Location: `/v2/${m[1]}/blobs/${mount}` });
      const id = `u${uploads.size}`;
      uploads.set(id, Buffer.alloc(0));
      return send(res, 202, { Location: `/v2/${m[1]}/blobs/uploads/${id}?_state=abc`, 'Docker-Upload-UUID': id });
    }
    const up = /^\/v2\/(.+)\/blobs\/uploads\/(u\d+)$/.exec(url.pathname);
    if (up) {
      const id = up[2]!;
      const data = Buffer.concat([uploads.get(id)!, await body(req)]);
      uploads.set(id, data);
      if (req.method === 'PATCH') return send(res, 202, { Location: `/v2/${up[1]}/blobs/uploads/${id}?_state=next`, Range: `0-${data.length - 1}` });
      if (req.method === 'PUT') {
        const digest = url.searchParams.get('digest')!;
        if (sha(data) !== digest) return send(res, 400, {}, JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
        blobs.set(digest, data);
        return send(res, 201, { 'Docker-Content-Digest': digest });
      }
    }
    if (m && m[2] === 'blobs') {
      if (m[3] === sha(BLOB) && url.searchParams.get('redirect') === null && req.method === 'GET') {
        return send(res, 307, { Location: `http://localhost:${port}/elsewhere/blob` });
      }
      const b = blobs.get(m[3]!);
      if (!b) return send(res, 404, {}, JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
      return send(res, 200, { 'Content-Length': b.length }, req.method === 'HEAD' ? '' : b);
    }
    send(res, 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

const agents = new AgentPool();
after(async () => {
  agents.destroy();
  await new Promise((r) => server.close(r));
});

function client(): RegistryClient {
  return new RegistryClient(
    { domain: `127.0.0.1:${port}`, host: `127.0.0.1:${port}`, allowHttp: true, verifyTls: true, tls: { ca: [] } },
    {}, { agents, tokens: new TokenCache(), insecureRegistries: [] },
  );
}

test('manifests: full Accept list, bearer token for the scope (cached), digest verified', async () => {
  const c = client();
  const m = await c.getManifest('test/repo', 'latest');
  assert.equal(m.digest, sha(MANIFEST));
  assert.equal(m.mediaType, MEDIA_TYPES.ociManifest);
  const get = seen.filter((s) => s.method === 'GET' && s.url === '/v2/test/repo/manifests/latest');
  assert.equal(get.at(-1)!.accept, MANIFEST_ACCEPT);
  assert.equal(get.at(-1)!.auth, 'Bearer tok(repository:test/repo:pull)');
  const before = tokenRequests.length;
  await c.getManifest('test/repo', sha(MANIFEST));
  assert.equal(tokenRequests.length, before, 'the token is reused');
  await assert.rejects(c.getManifest('test/repo', 'lying'), /manifest digest mismatch/);
  await assert.rejects(c.getManifest('test/repo', 'nope'), (err: Error & { code?: string; registryCode?: string }) =>
    err.code === 'ERR_NOT_FOUND' && err.registryCode === 'MANIFEST_UNKNOWN' && err.message === 'manifest unknown: manifest unknown');
  assert.deepEqual(await c.headManifest('test/repo', 'latest'), { digest: sha(MANIFEST), mediaType: MEDIA_TYPES.ociManifest, size: MANIFEST.length });
  assert.equal(await c.headManifest('test/repo', 'nope'), undefined);
});

test('blobs: redirects are followed without credentials and the stream is verified', async () => {
  const c = client();
  let progress = 0;
  const data = await readLimited(await c.getBlob('test/repo', sha(BLOB), BLOB.length, { onBytes: (n) => (progress = n) }), 1 << 20, 'blob');
  assert.ok(data.equals(BLOB));
  assert.equal(progress, BLOB.length);
  corrupt = true;
  try {
    await assert.rejects(readLimited(await c.getBlob('test/repo', sha(BLOB), BLOB.length), 1 << 20, 'blob'), /digest mismatch/);
  } finally {
    corrupt = false;
  }
  await assert.rejects(readLimited(await c.getBlob('test/repo', sha(BLOB), BLOB.length - 5), 1 << 20, 'blob'), /longer than its descriptor/);
  assert.deepEqual(await c.headBlob('test/repo', sha(BLOB)), { size: BLOB.length });
  assert.equal(await c.headBlob('test/repo', sha('missing')), undefined);
});

test('uploads: monolithic, chunked, cross-repository mount, manifest PUT', async () => {
  const c = client();
  const one = Buffer.from('monolithic blob');
  const s1 = await c.startUpload('test/push');
  assert.equal(s1.mounted, false);
  assert.match(s1.location!, /^http:\/\/127\.0\.0\.1:\d+\/v2\/test\/push\/blobs\/uploads\/u\d+\?_state=abc$/);
  await c.putBlob('test/push', s1.location!, sha(one), one, one.length);
  assert.ok(blobs.get(sha(one))?.equals(one));
  const put = seen.filter((s) => s.method === 'PUT').at(-1)!;
  assert.match(put.url, new RegExp(`_state=abc&digest=${sha(one).replace(':', '%3A')}$`));
  assert.equal(put.auth, 'Bearer tok(repository:test/push:pull,push)');

  const chunks = [Buffer.from('first chunk, '), Buffer.from('second chunk')];
  const whole = Buffer.concat(chunks);
  const s2 = await c.startUpload('test/push');
  let loc = s2.location!;
  let offset = 0;
  for (const ch of chunks) {
    loc = await c.patchBlob('test/push', loc, ch, offset);
    offset += ch.length;
  }
  assert.deepEqual(seen.filter((s) => s.method === 'PATCH').map((s) => s.range), ['0-12', '13-24']);
  await c.finishUpload('test/push', loc, sha(whole));
  assert.ok(blobs.get(sha(whole))?.equals(whole));
  await assert.rejects(c.finishUpload('test/push', (await c.startUpload('test/push')).location!, sha('wrong')), /digest invalid: provided digest did not match/);

  const mounted = await c.startUpload('test/other', { digest: sha(one), from: 'test/push' });
  assert.deepEqual(mounted, { mounted: true });
  const post = seen.filter((s) => s.method === 'POST').at(-1)!;
  assert.equal(post.url, `/v2/test/other/blobs/uploads/?mount=${sha(one).replace(':', '%3A')}&from=test%2Fpush`);
  assert.equal(post.auth, 'Bearer tok(repository:test/other:pull,push+repository:test/push:pull)');
  const notThere = await c.startUpload('test/other', { digest: sha('absent'), from: 'test/push' });
  assert.equal(notThere.mounted, false);
  assert.ok(notThere.location);

  const manifest = Buffer.from('{"schemaVersion":2}');
  assert.equal(await c.putManifest('test/push', '1', MEDIA_TYPES.ociManifest, manifest), sha(manifest));
  assert.equal(manifests.get('test/push:1')?.type, MEDIA_TYPES.ociManifest);
});
