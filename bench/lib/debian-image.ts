/**
 * A realistic multi-layer image for the pull bench: Debian bookworm (`debootstrap --variant=minbase`
 * from the host's configured Debian mirror) split into several gzip layers by top-level directory,
 * written as an OCI image layout (oci-layout, index.json, blobs/sha256) that skopeo can push.
 *
 * Both the rootfs and the layout are cached under the given directory (the repository's `.bench/`,
 * gitignored) and reused on later runs; each is built in a temp directory and renamed into place
 * only when complete, so an interrupted build leaves nothing that looks finished.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { progress, run } from './process.js';

/** How the rootfs is cut into layers, applied in this order (`rest` = everything the others leave out). */
export const LAYER_SPLIT: readonly { name: string; paths: readonly string[] }[] = [
  { name: 'rest', paths: [] },
  { name: 'usr-lib', paths: ['usr/lib'] },
  { name: 'usr-share', paths: ['usr/share'] },
  { name: 'usr-bin', paths: ['usr/bin', 'usr/sbin'] },
  { name: 'var', paths: ['var'] },
];

export interface LayerInfo {
  name: string;
  /** sha256 of the gzip blob. */
  digest: string;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  size: number;
  uncompressedSize: number;
}

export interface OciImage {
  /** The OCI image layout directory (`oci:<layoutDir>:<tag>` for skopeo). */
  layoutDir: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layers: LayerInfo[];
  /** /etc/debian_version of the rootfs. */
  debianVersion: string;
}

const SUITE = 'bookworm';
const META = 'bench-image.json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** The Debian mirror configured for apt (deb822 `.sources` or one-line `.list`), for the main archive. */
export async function debianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  for (const f of await readdir('/etc/apt/sources.list.d').catch(() => [] as string[])) {
    if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join('/etc/apt/sources.list.d', f));
  }
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string): string[] => {
          const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza);
          return m?.[1]?.trim().split(/\s+/) ?? [];
        };
        if (!field('Types').includes('deb') || /^Enabled:\s*no/mi.test(stanza)) continue;
        const uri = field('URIs')[0];
        if (uri && field('Suites').includes(SUITE)) return uri;
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (m && m[2] === SUITE) return m[1]!;
      }
    }
  }
  throw new Error(`no apt source for Debian ${SUITE} in /etc/apt/sources.list or /etc/apt/sources.list.d (debootstrap needs a mirror)`);
}

/** Unmounts anything left mounted under `dir` (a failed debootstrap can leave /proc mounted). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')
    .map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m], process.env, { cleanup: true });
}

/** The cached debootstrap'd rootfs under `cacheDir`, built when missing (about 35 s and 200 MB). */
export async function debianRootfs(cacheDir: string): Promise<string> {
  const rootfs = join(cacheDir, `debian-${SUITE}-minbase`);
  if (existsSync(join(rootfs, 'etc', 'debian_version'))) return rootfs;
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const mirror = await debianMirror();
  const tmp = `${rootfs}.tmp-${randomBytes(4).toString('hex')}`;
  progress(`debootstrap --variant=minbase ${SUITE} from ${mirror} into ${tmp} (once; cached for later runs)`);
  try {
    const r = await run('debootstrap', ['--variant=minbase', SUITE, tmp, mirror], process.env, { timeoutMs: 1_200_000 });
    if (r.code !== 0) {
      const log = await readFile(join(tmp, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
      throw new Error(`debootstrap failed (${r.code ?? r.signal}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}${log ? `\n${log.trim().split('\n').slice(-15).join('\n')}` : ''}`);
    }
    await unmountUnder(tmp);
    await rename(tmp, rootfs);
  } catch (err) {
    await unmountUnder(tmp).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return rootfs;
}

/** Counts and hashes the bytes passing through. */
class Tap extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function writeBlob(blobs: string, data: string): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(join(blobs, digest.slice(7)), data);
  return { digest, size: Buffer.byteLength(data) };
}

/**
 * One layer: `tar --numeric-owner` of `paths` (or of everything but `exclude`) piped through a
 * hashing tap (diff ID), Node's gzip and a second tap (blob digest) into the blob directory.
 */
async function writeLayer(rootfs: string, blobs: string, name: string, paths: readonly string[], exclude: readonly string[]): Promise<LayerInfo> {
  const args = ['-C', rootfs, '--numeric-owner', '--sort=name', '--xattrs', '--xattrs-include=security.capability', '-cf', '-'];
  if (paths.length) args.push(...paths.map((p) => `./${p}`));
  else {
    // Anchored excludes of the other layers' directories; /dev, /proc, /sys, /run and /tmp are kept
    // as directories but their contents (device nodes debootstrap made, mount leftovers) are left out.
    args.push('--anchored', ...[...exclude, 'dev', 'proc', 'sys', 'run', 'tmp'].map((p) => `--exclude=./${p}/*`), ...exclude.map((p) => `--exclude=./${p}`), '.');
  }
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => resolve(code));
  });
  const plain = new Tap();
  const packed = new Tap();
  const tmp = join(blobs, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
  try {
    await pipeline(tar.stdout, plain, createGzip({ level: 6 }), packed, createWriteStream(tmp));
    const code = await exited;
    if (code !== 0) throw new Error(`tar for layer ${name} failed (${code}): ${stderr.trim()}`);
    const digest = `sha256:${packed.hash.digest('hex')}`;
    await rename(tmp, join(blobs, digest.slice(7)));
    return { name, digest, diffId: `sha256:${plain.hash.digest('hex')}`, size: packed.bytes, uncompressedSize: plain.bytes };
  } catch (err) {
    tar.kill('SIGKILL');
    await rm(tmp, { force: true });
    throw err;
  }
}

function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' };
  return map[process.arch] ?? process.arch;
}

/**
 * The bench's Debian image as an OCI layout under `cacheDir` (built from the cached rootfs when
 * missing, or when `rebuild` is set: then the rootfs is debootstrap'd again too).
 */
export async function debianOciImage(cacheDir: string, rebuild = false): Promise<OciImage> {
  const layoutDir = join(cacheDir, `debian-${SUITE}-oci`);
  if (rebuild) {
    await rm(layoutDir, { recursive: true, force: true });
    await rm(join(cacheDir, `debian-${SUITE}-minbase`), { recursive: true, force: true });
  }
  const cached = await readFile(join(layoutDir, META), 'utf8').then((t) => JSON.parse(t) as OciImage, () => undefined);
  if (cached) return { ...cached, layoutDir };

  const rootfs = await debianRootfs(cacheDir);
  const tmp = `${layoutDir}.tmp-${randomBytes(4).toString('hex')}`;
  const blobs = join(tmp, 'blobs', 'sha256');
  try {
    await mkdir(blobs, { recursive: true });
    const layers: LayerInfo[] = [];
    const others = LAYER_SPLIT.flatMap((l) => l.paths);
    for (const l of LAYER_SPLIT) {
      progress(`writing layer ${l.name} (${l.paths.length ? l.paths.join(', ') : 'everything else'})`);
      layers.push(await writeLayer(rootfs, blobs, l.name, l.paths, l.paths.length ? [] : others));
    }
    const created = (await stat(join(rootfs, 'etc', 'debian_version'))).mtime.toISOString();
    const config = JSON.stringify({
      created,
      architecture: goArch(),
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((l) => ({ created, created_by: `brig bench/pull: debootstrap --variant=minbase ${SUITE}, layer ${l.name}` })),
    });
    const cfg = await writeBlob(blobs, config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: l.digest, size: l.size })),
    });
    const man = await writeBlob(blobs, manifest);
    const tag = '1';
    await writeFile(join(tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(tmp, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: man.digest, size: man.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }));
    const debianVersion = (await readFile(join(rootfs, 'etc', 'debian_version'), 'utf8')).trim();
    const image: OciImage = { layoutDir, tag, manifestDigest: man.digest, configDigest: cfg.digest, layers, debianVersion };
    await writeFile(join(tmp, META), JSON.stringify(image, null, 2));
    await rename(tmp, layoutDir);
    return image;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Docker's chain IDs of a layer stack (the layer store's keys): chain(0) = diff(0), chain(i) = sha256(chain(i-1) + " " + diff(i)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}
