/**
 * `bench/pull`: cold `docker pull` of a ~93 MB (gzip), 5-layer Debian image from a local registry,
 * brig compared with the reference dockerd (bench/lib/engines.ts starts both).
 *
 * The image: Debian bookworm debootstrap'd once into `.bench/pull/` (cached) and split into five gzip
 * layers (bench/lib/debian-image.ts), pushed with skopeo into a private `docker-registry` on a free
 * port of 127.0.0.1 (bench/lib/registry.ts, temp storage, stopped at the end).
 *
 * Each sample is the wall time of one `docker pull 127.0.0.1:PORT/bench/debian:1` CLI process. Before
 * every pull the image is removed (`docker rmi`) and the engine is verified cold: the image is gone
 * and no path in its data root is named after any of the image's layer digests, diff IDs or chain
 * IDs (dockerd's digest→diffID cache under image/overlay2/distribution holds no layer data and is
 * ignored). After every pull the image's RootFS.Layers must equal the diff IDs the bench computed;
 * after the last, `docker run --rm IMAGE cat /etc/debian_version` must print the rootfs's version.
 * Runs are interleaved brig, dockerd, brig, ...; the registry serves both from the same page cache.
 *
 * Until brig can pull, its side fails: the bench says so with brig's error and still reports
 * dockerd's numbers (no goal verdict then).
 *
 * The goal: dockerd's median / brig's median >= 1.5 (brig at least 1.5x faster).
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { COMMON_USAGE, goalSection, runBench, type BenchContext, type BenchResults, type DaemonHandle, type EngineName, type ImageCheck } from './lib/engines.js';
import { chainIds, debianOciImage, type LayerInfo } from './lib/debian-image.js';
import { must, progress, run } from './lib/process.js';
import { startRegistry } from './lib/registry.js';
import { caseResult, caseTable, f2, f3, type CaseResult } from './lib/stats.js';

const GOAL_SPEEDUP = 1.5;
const REPO = new URL('../../', import.meta.url).pathname;
const CACHE = join(REPO, '.bench', 'pull');
const PULL_TIMEOUT_MS = 600_000;

const USAGE = `Usage: bench/pull [OPTIONS]

Times a cold \`docker pull\` of a ~93 MB 5-layer Debian image from a local registry, brig vs a reference dockerd.
The Debian rootfs is debootstrap'd once into ${CACHE} (needs the host's apt mirror) and reused.

Options:
  --runs N             cold pulls per engine (default 5)
  --rebuild-image      debootstrap and build the image again instead of using the cache
${COMMON_USAGE}`;

interface Options {
  runs: number;
  rebuildImage: boolean;
}

interface PulledImage {
  reference: string;
  manifestDigest: string;
  layers: LayerInfo[];
  compressedBytes: number;
  uncompressedBytes: number;
  debianVersion: string;
  pushSeconds: number;
}

interface Body {
  runs: number;
  image: ImageCheck;
  pulled: PulledImage;
  pull: CaseResult;
  /** Per run: each engine's seconds (absent where the engine failed or was not benchmarked). */
  perRun: Partial<Record<EngineName, number>>[];
  /** Why brig has no numbers, when it failed. */
  brigError?: string;
  /** `cat /etc/debian_version` in a container of the pulled image, per engine. */
  runCheck: Partial<Record<EngineName, string>>;
}

interface Goal {
  brigMedian: number;
  dockerdMedian: number;
  speedup: number;
  minSpeedup: number;
  met: boolean;
}

async function inspectLayers(ctx: BenchContext, d: DaemonHandle, ref: string): Promise<string[] | undefined> {
  const r = await run(ctx.cli, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref], d.env);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as string[];
}

/** Paths under `root` whose name contains one of `hexes` (`skip`: relative paths not descended into). */
async function pathsNamed(root: string, hexes: readonly string[], skip: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (skip.includes(relative(root, p))) continue;
      if (hexes.some((h) => e.name.includes(h))) found.push(relative(root, p));
      // Containers' merged roots are not walked: they are mounts of layers, not layer storage.
      if (e.isDirectory() && !e.isSymbolicLink() && e.name !== 'merged') await walk(p);
    }
  };
  await walk(root);
  return found;
}

/** Removes the image from `d` (when present) and proves the engine has nothing of it left. */
async function makeCold(ctx: BenchContext, d: DaemonHandle, img: PulledImage): Promise<void> {
  if ((await inspectLayers(ctx, d, img.reference)) !== undefined) await ctx.docker(d, ['rmi', img.reference]);
  if ((await inspectLayers(ctx, d, img.reference)) !== undefined) throw new Error(`${d.name}: ${img.reference} still exists after docker rmi`);
  const diffIds = img.layers.map((l) => l.diffId);
  const hexes = [...img.layers.map((l) => l.digest), ...diffIds, ...chainIds(diffIds)].map((x) => x.slice(7));
  const skip = d.name === 'dockerd' ? ['image/overlay2/distribution'] : [];
  const left = await pathsNamed(d.dataRoot, [...new Set(hexes)], skip);
  if (left.length) throw new Error(`${d.name} is not cold after docker rmi: its data root still has ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}`);
}

/** Pushes the cached OCI layout into a fresh private registry; returns the reference to pull. */
async function prepareImage(ctx: BenchContext, o: Options): Promise<PulledImage> {
  const oci = await debianOciImage(CACHE, o.rebuildImage);
  const registry = await startRegistry(join(ctx.root, 'registry'));
  ctx.onCleanup(registry.stop);
  const reference = `${registry.host}/bench/debian:1`;
  progress(`pushing ${oci.layers.length} layers (${(oci.layers.reduce((a, l) => a + l.size, 0) / 1e6).toFixed(1)} MB) to ${reference} with skopeo`);
  const push = await must('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${oci.layoutDir}:${oci.tag}`, `docker://${reference}`],
    process.env, { timeoutMs: 600_000 });
  return {
    reference,
    manifestDigest: oci.manifestDigest,
    layers: oci.layers,
    compressedBytes: oci.layers.reduce((a, l) => a + l.size, 0),
    uncompressedBytes: oci.layers.reduce((a, l) => a + l.uncompressedSize, 0),
    debianVersion: oci.debianVersion,
    pushSeconds: push.seconds,
  };
}

/** The error a failed docker CLI run reports, without the bench's own prefix. */
function cliError(err: unknown): string {
  const m = /failed \([^)]*\): ([\s\S]*)$/.exec((err as Error).message);
  return (m?.[1] ?? (err as Error).message).trim();
}

async function bench(ctx: BenchContext, o: Options): Promise<{ body: Body; goal?: Goal }> {
  const img = await prepareImage(ctx, o);
  const diffIds = img.layers.map((l) => l.diffId);
  await ctx.markRequests();
  progress(`cold docker pull ${img.reference}: ${o.runs} runs per engine, interleaved`);
  const samples = new Map<EngineName, number[]>(ctx.daemons.map((d) => [d.name, []]));
  const perRun: Partial<Record<EngineName, number>>[] = [];
  let brigError: string | undefined;
  for (let i = 0; i < o.runs; i++) {
    const row: Partial<Record<EngineName, number>> = {};
    for (const d of ctx.daemons) {
      if (d.name === 'brig' && brigError !== undefined) continue;
      await makeCold(ctx, d, img);
      let seconds: number;
      try {
        seconds = (await ctx.docker(d, ['pull', img.reference], { timeoutMs: PULL_TIMEOUT_MS })).seconds;
      } catch (err) {
        if (d.name !== 'brig') throw err;
        brigError = cliError(err);
        progress(`brig cannot pull yet: ${brigError}`);
        continue;
      }
      const layers = await inspectLayers(ctx, d, img.reference);
      if (JSON.stringify(layers) !== JSON.stringify(diffIds)) {
        throw new Error(`${d.name}: after the pull RootFS.Layers is ${JSON.stringify(layers)}, expected ${JSON.stringify(diffIds)}`);
      }
      samples.get(d.name)!.push(seconds);
      row[d.name] = seconds;
      progress(`run ${i + 1}: ${d.name} ${f3(seconds)} s`);
    }
    perRun.push(row);
  }
  if (brigError !== undefined) samples.delete('brig');

  const runCheck: Partial<Record<EngineName, string>> = {};
  for (const d of ctx.daemons) {
    if (!samples.get(d.name)?.length) continue;
    const out = (await ctx.docker(d, ['run', '--rm', '--network', 'none', img.reference, 'cat', '/etc/debian_version'])).stdout.trim();
    if (out !== img.debianVersion) throw new Error(`${d.name}: a container of the pulled image says /etc/debian_version is ${JSON.stringify(out)}, expected ${img.debianVersion}`);
    runCheck[d.name] = out;
    await ctx.docker(d, ['rmi', img.reference]);
  }

  const pull = caseResult('pull', `cold docker pull ${img.reference}`, samples);
  const body: Body = { runs: o.runs, image: ctx.image, pulled: img, pull, perRun, runCheck, ...(brigError !== undefined ? { brigError } : {}) };
  if (!pull.brig || !pull.dockerd) return { body };
  const speedup = pull.dockerd.median / pull.brig.median;
  return { body, goal: { brigMedian: pull.brig.median, dockerdMedian: pull.dockerd.median, speedup, minSpeedup: GOAL_SPEEDUP, met: speedup >= GOAL_SPEEDUP } };
}

function report(r: BenchResults<Body, Goal>): string[] {
  const img = r.pulled;
  const out = [
    `image: ${img.reference} (Debian ${img.debianVersion} minbase, ${img.layers.length} gzip layers, ${(img.compressedBytes / 1e6).toFixed(1)} MB compressed, ${(img.uncompressedBytes / 1e6).toFixed(1)} MB uncompressed; skopeo push ${f2(img.pushSeconds)} s)`,
    ...img.layers.map((l) => `  ${l.name.padEnd(10)}${(l.size / 1e6).toFixed(1).padStart(6)} MB  ${l.digest.slice(0, 19)}…  diffID ${l.diffId.slice(0, 19)}…`),
    '',
  ];
  if (r.brigError !== undefined) out.push(`brig cannot pull yet: ${r.brigError}`, '');
  out.push('per run, seconds (each pull cold: image removed, layers verified gone from the data root):');
  r.perRun.forEach((row, i) => {
    const cell = (e: EngineName): string => (row[e] === undefined ? '-' : f3(row[e]));
    out.push(`  run ${String(i + 1).padStart(2)}: brig ${cell('brig').padStart(8)}   dockerd ${cell('dockerd').padStart(8)}`);
  });
  out.push('', ...caseTable([r.pull]));
  const checks = Object.entries(r.runCheck).map(([e, v]) => `${e} ${v}`);
  out.push(`  pulled image checked: RootFS.Layers = the bench's diff IDs after every pull; docker run --rm IMAGE cat /etc/debian_version: ${checks.join(', ') || '-'}`);
  if (r.pull.brig && r.pull.dockerd) {
    const x = r.pull.dockerd.median / r.pull.brig.median;
    out.push('', x >= 1 ? `brig is ${f2(x)}x faster than dockerd (median ${f3(r.pull.brig.median)} s vs ${f3(r.pull.dockerd.median)} s)`
      : `brig is ${f2(1 / x)}x slower than dockerd (median ${f3(r.pull.brig.median)} s vs ${f3(r.pull.dockerd.median)} s)`);
  } else if (r.pull.dockerd) {
    out.push('', `dockerd median ${f3(r.pull.dockerd.median)} s; no ratio without brig numbers`);
  }
  out.push(...goalSection(r.goal, (g) => [
    `goal: brig at least ${GOAL_SPEEDUP}x faster than dockerd (brig median <= ${f3(g.dockerdMedian / g.minSpeedup)} s)`,
    `  dockerd/brig ${f2(g.speedup)} >= ${f2(g.minSpeedup)} ${g.met ? 'yes' : 'NO'}`,
  ]));
  return out;
}

process.exitCode = await runBench<Options, Body, Goal>({
  name: 'pull',
  title: 'brig pull',
  usage: USAGE,
  ints: { runs: [5, 1] },
  options: { 'rebuild-image': { type: 'boolean' } },
  parse: (v) => ({ rebuildImage: v['rebuild-image'] === true }),
  run: bench,
  method: (r) => `${r.runs} cold pulls per engine, interleaved brig/dockerd; wall time of the docker pull CLI process, seconds`,
  report,
});
