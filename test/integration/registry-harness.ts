/**
 * A real registry for the tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with an
 * ephemeral port and temp storage, in three modes: plain HTTP; TLS (a test CA made with openssl)
 * plus htpasswd Basic auth; Bearer tokens from a small RS256 token server written here.
 * Test images are OCI layouts written by hand (busybox rootfs + a second layer, and a multi-arch
 * index) and pushed with `skopeo copy`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { busyboxRootfsTar } from '../../src/cli/busybox-rootfs.js';
import { TEST_MARK } from '../leaks.js';
import { runProcess, startDaemon, type DaemonOptions, type TestDaemon } from './harness.js';

export type RegistryMode = 'plain' | 'tls-basic' | 'bearer';

export const USER = 'testuser';
export const PASSWORD = 'testpass';

async function run(file: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await runProcess(file, args, { ...process.env }, { timeoutMs });
  assert.equal(r.code, 0, `${file} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

// ── OCI layouts ─────────────────────────────────────────────────────────────────────────────────

export interface BuiltImage {
  /** Digest of the (top-level) manifest or index as pushed. */
  digest: string;
  configDigests: string[];
  layerDigests: string[];
  diffIds: string[];
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function smallLayer(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const done = collect(pack);
  for (const [name, content] of Object.entries(files)) {
    pack.entry({ name, mode: 0o644, uid: 0, gid: 0, mtime: new Date(Date.UTC(2024, 0, 1)) }, content);
  }
  pack.finalize();
  return done;
}

/** Writes an OCI image layout; returns what was written. Blob writes are idempotent. */
export class OciLayout {
  readonly dir: string;
  readonly #entries: object[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  async blob(data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha(data);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  }

  /** An image manifest of gzip layers (given uncompressed) with a config; returns its descriptor. */
  async image(layers: Buffer[], config: { architecture: string; cmd?: string[]; labels?: Record<string, string>; diffIds?: string[] }) {
    const diffIds = layers.map(sha);
    const gz = layers.map((l) => gzipSync(l));
    const layerDescs = [];
    for (const g of gz) layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await this.blob(g)) });
    const cfg = Buffer.from(JSON.stringify({
      architecture: config.architecture,
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: config.cmd ?? ['sh'], Labels: config.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: config.diffIds ?? diffIds },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'registry-harness' })),
    }));
    const cfgDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await this.blob(cfg)) };
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfgDesc, layers: layerDescs }));
    const m = await this.blob(manifest);
    return { desc: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }, config: cfgDesc.digest, layers: layerDescs.map((l) => l.digest), diffIds };
  }

  async index(manifests: { desc: { mediaType: string; digest: string; size: number }; platform: { os: string; architecture: string; variant?: string } }[]) {
    const idx = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: manifests.map((m) => ({ ...m.desc, platform: m.platform })),
    }));
    return { mediaType: 'application/vnd.oci.image.index.v1+json', ...(await this.blob(idx)) };
  }

  /** Names a manifest or index in index.json as `tag` and writes the layout files. */
  async tag(desc: { mediaType: string; digest: string; size: number }, tag: string): Promise<void> {
    this.#entries.push({ ...desc, annotations: { 'org.opencontainers.image.ref.name': tag } });
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.#entries }));
  }
}

/** The test images: `simple` (busybox + /hello.txt), `multi` (amd64 + arm64 index), `badDiff` (wrong diff_ids). */
export async function buildTestImages(dir: string): Promise<{ layout: string; simple: BuiltImage; multi: BuiltImage & { arm64Config: string }; badDiff: BuiltImage }> {
  const layout = new OciLayout(join(dir, 'layout'));
  const base = await collect(busyboxRootfsTar('/bin/busybox'));
  const top = await smallLayer({ 'hello.txt': 'hello from layer 2\n' });
  const simple = await layout.image([base, top], { architecture: 'amd64' });
  await layout.tag(simple.desc, 'simple');
  const amd = await layout.image([base, top], { architecture: 'amd64', labels: { arch: 'amd64' } });
  const arm = await layout.image([base, top], { architecture: 'arm64', labels: { arch: 'arm64' } });
  const index = await layout.index([
    { desc: amd.desc, platform: { os: 'linux', architecture: 'amd64' } },
    { desc: arm.desc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ]);
  await layout.tag(index, 'multi');
  const other = await smallLayer({ 'other.txt': 'other\n' });
  const wrong = sha(Buffer.from('not the layer'));
  const bad = await layout.image([other], { architecture: 'amd64', diffIds: [wrong] });
  await layout.tag(bad.desc, 'baddiff');
  const built = (x: typeof simple): BuiltImage => ({ digest: x.desc.digest, configDigests: [x.config], layerDigests: x.layers, diffIds: x.diffIds });
  return {
    layout: layout.dir,
    simple: built(simple),
    multi: { digest: index.digest, configDigests: [amd.config, arm.config], layerDigests: amd.layers, diffIds: amd.diffIds, arm64Config: arm.config },
    badDiff: built(bad),
  };
}

// ── registry processes ────────────────────────────────────────────────────────────────────────

/** Requests the token server saw (scope lists and whether they carried credentials). */
export interface TokenRequest {
  scopes: string[];
  account: string | undefined;
  authenticated: boolean;
}

export class TestRegistry {
  readonly mode: RegistryMode;
  readonly root: string;
  port = 0;
  /** Directory to pass as the daemon's `--certs-dir` (has `127.0.0.1:<port>/ca.crt` in TLS mode). */
  readonly certsDir: string;
  readonly tokenRequests: TokenRequest[] = [];
  #child: ChildProcess | undefined;
  #tokenServer: Server | undefined;
  #log = '';

  constructor(mode: RegistryMode, root: string) {
    this.mode = mode;
    this.root = root;
    this.certsDir = join(root, 'certs.d');
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get storage(): string {
    return join(this.root, 'storage');
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const lines = [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${this.storage} }, delete: { enabled: true } }`,
    ];
    if (this.mode === 'tls-basic') {
      const dir = join(this.root, 'tls');
      await mkdir(dir, { recursive: true });
      const o = (...args: string[]) => run('openssl', args);
      await o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=brig test CA');
      await o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.csr'), '-subj', '/CN=127.0.0.1');
      await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await o('x509', '-req', '-in', join(dir, 'tls.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-out', join(dir, 'tls.crt'), '-extfile', join(dir, 'ext.cnf'));
      const htpasswd = await run('htpasswd', ['-Bbn', USER, PASSWORD]);
      await writeFile(join(dir, 'htpasswd'), htpasswd);
      await mkdir(join(this.certsDir, this.host), { recursive: true });
      await writeFile(join(this.certsDir, this.host, 'ca.crt'), await readFile(join(dir, 'ca.crt')));
      lines.push(`http: { addr: ${this.host}, tls: { certificate: ${join(dir, 'tls.crt')}, key: ${join(dir, 'tls.key')} } }`);
      lines.push(`auth: { htpasswd: { realm: test-realm, path: ${join(dir, 'htpasswd')} } }`);
    } else if (this.mode === 'bearer') {
      const realm = await this.#startTokenServer();
      lines.push(`http: { addr: ${this.host} }`);
      lines.push(`auth: { token: { realm: "${realm}", service: test-registry, issuer: test-issuer, rootcertbundle: ${join(this.root, 'tok', 'tok.crt')} } }`);
    } else {
      lines.push(`http: { addr: ${this.host} }`);
    }
    await mkdir(this.certsDir, { recursive: true });
    const cfg = join(this.root, 'config.yml');
    await writeFile(cfg, `${lines.join('\n')}\n`);
    const child = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await this.#answers())) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${this.#log}`);
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer within 15 s:\n${this.#log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: '/v2/', method: 'GET' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  /** A 40-line RS256 token server (platform.md §5.3): Basic creds get what they ask, anonymous nothing. */
  async #startTokenServer(): Promise<string> {
    const dir = join(this.root, 'tok');
    await mkdir(dir, { recursive: true });
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', join(dir, 'tok.key'), '-out', join(dir, 'tok.crt'), '-subj', '/CN=test-issuer']);
    const key = createPrivateKey(await readFile(join(dir, 'tok.key')));
    const pem = await readFile(join(dir, 'tok.crt'), 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
    const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization;
      let user: string | undefined;
      if (auth?.startsWith('Basic ')) {
        const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
        if (u !== USER || p !== PASSWORD) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
        user = u;
      }
      const scopes = url.searchParams.getAll('scope');
      this.tokenRequests.push({ scopes, account: url.searchParams.get('account') ?? undefined, authenticated: user !== undefined });
      const access = scopes.flatMap((s) => s.split(' ')).map((s) => {
        const [type, name, actions] = s.split(':');
        return { type, name, actions: user ? (actions ?? '').split(',') : [] };
      });
      const now = Math.floor(Date.now() / 1000);
      const head = b64u({ typ: 'JWT', alg: 'RS256', x5c: [der] });
      const claims = b64u({ iss: 'test-issuer', sub: user ?? '', aud: url.searchParams.get('service'), iat: now, nbf: now - 5, exp: now + 300, jti: randomUUID(), access });
      const sig = sign('RSA-SHA256', Buffer.from(`${head}.${claims}`), key).toString('base64url');
      const token = `${head}.${claims}.${sig}`;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.#tokenServer = server;
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
  }

  /** `skopeo copy oci:<layout>:<tag> docker://<host>/<dest>` with this mode's TLS and credentials. */
  async push(layout: string, tag: string, dest: string, all = false): Promise<void> {
    const args = ['copy', '--quiet', ...(all ? ['--all'] : []), '--preserve-digests'];
    if (this.mode === 'tls-basic') args.push('--dest-cert-dir', join(this.certsDir, this.host));
    else args.push('--dest-tls-verify=false');
    if (this.mode !== 'plain') args.push('--dest-creds', `${USER}:${PASSWORD}`);
    args.push(`oci:${layout}:${tag}`, `docker://${this.host}/${dest}`);
    await run('skopeo', args);
  }

  /** Path of a blob in the registry's filesystem storage. */
  blobPath(digest: string): string {
    const hex = digest.slice(7);
    return join(this.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (this.#tokenServer) await new Promise((r) => this.#tokenServer!.close(r));
  }
}

/** Starts a registry of `mode` in a new temp dir under `root`. */
export async function startRegistry(mode: RegistryMode, root: string): Promise<TestRegistry> {
  if (!existsSync('/usr/bin/docker-registry') || !existsSync('/usr/bin/skopeo')) {
    throw new Error('docker-registry and skopeo are needed: run `npm run setup` (scripts/setup.sh installs them)');
  }
  const r = new TestRegistry(mode, await mkdtemp(join(root, `reg-${mode}-`)));
  await r.start();
  return r;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The test images of {@link buildTestImages}. */
export type Images = Awaited<ReturnType<typeof buildTestImages>>;

/** What a describe's `before` sets up: a temp dir, the test images, a registry and a daemon. */
export interface RegistrySetup {
  tmp: string;
  images: Images;
  reg: TestRegistry;
  d: TestDaemon;
}

/**
 * Sets up a registry of `mode` under a new temp dir named `${prefix}…`, pushes `pushes` (image of
 * the test layout, `repo:tag`, whether to push the whole index) into it, and starts a daemon with
 * `daemon` options (plus the registry's certs dir in TLS mode). Undone by {@link tearDownRegistry},
 * also after a partial failure.
 */
export async function setUpRegistry(mode: RegistryMode, prefix: string, o: { pushes?: [string, string, boolean?][]; daemon?: DaemonOptions } = {}): Promise<RegistrySetup> {
  const made: Partial<RegistrySetup> = { tmp: await mkdtemp(`/tmp/${TEST_MARK}${prefix}`) };
  try {
    made.images = await buildTestImages(made.tmp!);
    made.reg = await startRegistry(mode, made.tmp!);
    for (const [image, repoTag, all] of o.pushes ?? []) await made.reg.push(made.images.layout, image, repoTag, all ?? false);
    const extraArgs = [...(o.daemon?.extraArgs ?? []), ...(mode === 'tls-basic' ? ['--certs-dir', made.reg.certsDir] : [])];
    made.d = await startDaemon({ ...o.daemon, extraArgs });
    return made as RegistrySetup;
  } catch (err) {
    await tearDownRegistry(made);
    throw err;
  }
}

/** Stops what {@link setUpRegistry} started and removes its temp dir. */
export async function tearDownRegistry(s: Partial<RegistrySetup>): Promise<void> {
  await s.d?.stop();
  await s.reg?.stop();
  if (s.tmp) await removeDir(s.tmp);
}
