/**
 * `bench/concurrent-run`: how fast each engine (bench/lib/engines.ts) starts many containers at
 * once. A batch is 50 concurrent `docker run -d --name run-N busybox sleep 1000` CLI processes
 * against one engine (named: brig's generated names can collide under concurrent creates, see
 * --auto-names); its wall time runs from spawning the first until the last has exited (`docker
 * run -d` exits once its container is started), and all 50 are then checked to be running. The engines go
 * one after another, never concurrently; 3 rounds alternate which engine goes first, and every
 * batch's containers are removed (untimed) before the next batch.
 *
 * The goal: brig's rate (containers/s, from the median batch wall time) >= 2x dockerd's.
 */
import { COMMON_USAGE, IMAGE, goalSection, runBench, type BenchContext, type BenchResults, type DaemonHandle, type EngineName, type ImageCheck } from './lib/engines.js';
import { progress, sleep } from './lib/process.js';
import { f2, f3, stats } from './lib/stats.js';

const GOAL_RATE_RATIO = 2;

const USAGE = `Usage: bench/concurrent-run [OPTIONS]

Times N concurrent \`docker run -d --name run-N busybox sleep 1000\` against brig and a reference dockerd, one engine at a time.

Options:
  --containers N       concurrent docker run commands per batch (default 50)
  --rounds N           rounds of one batch per engine, alternating which engine goes first (default 3)
  --network MODE       pass --network MODE to docker run (default: none given, each engine's default:
                       dockerd and brig each their own bridge)
  --auto-names         no --name: each engine generates the names (brig's generated names can collide
                       under concurrent creates, failing a docker run)
  --settle MS          idle time before each batch, after the previous batch's cleanup (default 1000)
${COMMON_USAGE}`;

interface Options {
  containers: number;
  rounds: number;
  network?: string;
  autoNames: boolean;
  /** ms */
  settle: number;
}

interface Batch {
  engine: EngineName;
  /** Spawn of the first docker run to exit of the last, seconds. */
  seconds: number;
  rate: number;
  /** Median and slowest single docker run -d in the batch, seconds. */
  commandMedian: number;
  commandMax: number;
  /** Untimed cleanup: docker rm -f of the batch, seconds. */
  cleanupSeconds: number;
}

interface EngineSummary {
  medianSeconds: number;
  rate: number;
}

interface Body {
  containers: number;
  rounds: number;
  network: string;
  autoNames: boolean;
  image: ImageCheck;
  batches: Batch[][];
  summary: Partial<Record<EngineName, EngineSummary>>;
  rateRatio?: number;
}

interface Goal {
  minRateRatio: number;
  rateRatio: number;
  met: boolean;
}

async function batch(ctx: BenchContext, d: DaemonHandle, o: Options): Promise<Batch> {
  const argsList = Array.from({ length: o.containers }, (_, i) =>
    ['run', '-d', ...(o.autoNames ? [] : ['--name', `run-${i}`]), ...(o.network ? ['--network', o.network] : []), IMAGE, 'sleep', '1000']);
  if (o.settle) await sleep(o.settle);
  const t0 = process.hrtime.bigint();
  const runs = await ctx.dockerMany(d, argsList);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const running = (await ctx.docker(d, ['ps', '-q', '--filter', 'status=running'])).stdout.split('\n').filter(Boolean).length;
  if (running !== o.containers) throw new Error(`${d.name}: ${running} containers running after ${o.containers} docker run -d`);
  const t1 = process.hrtime.bigint();
  await ctx.removeAll(d);
  const cleanupSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  const each = stats(runs.map((r) => r.seconds));
  progress(`${d.name}: ${o.containers} running after ${f3(seconds)} s (${f2(o.containers / seconds)}/s); removed in ${f3(cleanupSeconds)} s`);
  return { engine: d.name, seconds, rate: o.containers / seconds, commandMedian: each.median, commandMax: each.max, cleanupSeconds };
}

async function bench(ctx: BenchContext, o: Options): Promise<{ body: Body; goal?: Goal }> {
  const batches: Batch[][] = [];
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? ctx.daemons : [...ctx.daemons].reverse();
    progress(`round ${round + 1}/${o.rounds}: ${o.containers} concurrent docker run -d per engine, ${order.map((d) => d.name).join(' then ')}`);
    const done: Batch[] = [];
    for (const d of order) done.push(await batch(ctx, d, o));
    batches.push(done);
  }
  const summary: Body['summary'] = {};
  for (const d of ctx.daemons) {
    const medianSeconds = stats(batches.flat().filter((b) => b.engine === d.name).map((b) => b.seconds)).median;
    summary[d.name] = { medianSeconds, rate: o.containers / medianSeconds };
  }
  const body: Body = { containers: o.containers, rounds: o.rounds, network: o.network ?? 'default', autoNames: o.autoNames, image: ctx.image, batches, summary };
  if (!summary.brig || !summary.dockerd) return { body };
  const rateRatio = summary.brig.rate / summary.dockerd.rate;
  body.rateRatio = rateRatio;
  return { body, goal: { minRateRatio: GOAL_RATE_RATIO, rateRatio, met: rateRatio >= GOAL_RATE_RATIO } };
}

function method(r: BenchResults<Body, Goal>): string {
  const flags = `${r.autoNames ? '' : ' --name run-N'}${r.network === 'default' ? '' : ` --network ${r.network}`}`;
  return `${r.containers} concurrent \`docker run -d${flags} busybox sleep 1000\` per batch, one engine at a time; ` +
    `${r.rounds} rounds alternating which engine goes first; wall time until all ${r.containers} have been started, seconds`;
}

function report(r: BenchResults<Body, Goal>): string[] {
  const out: string[] = [];
  out.push(`${'round'.padEnd(7)}${'engine'.padEnd(10)}${'wall'.padStart(8)}${'rate/s'.padStart(9)}${'cmd median'.padStart(12)}${'cmd max'.padStart(9)}${'rm -f'.padStart(8)}`);
  r.batches.forEach((round, i) => {
    round.forEach((b, j) => {
      out.push(`${(j === 0 ? String(i + 1) : '').padEnd(7)}${b.engine.padEnd(10)}${f3(b.seconds).padStart(8)}${f2(b.rate).padStart(9)}` +
        `${f3(b.commandMedian).padStart(12)}${f3(b.commandMax).padStart(9)}${f3(b.cleanupSeconds).padStart(8)}`);
    });
  });
  out.push('  wall = first spawn to last exit of the batch; rate = containers / wall; cmd = one docker run -d process; rm -f = untimed cleanup');
  if (r.network === 'default') out.push('  network: each engine\'s default (dockerd: a veth pair on its bridge per container; brig: a veth pair on its bridge through netavark)');
  out.push('');
  for (const e of ['brig', 'dockerd'] as const) {
    const s = r.summary[e];
    if (s) out.push(`${e.padEnd(8)} median wall ${f3(s.medianSeconds)} s, rate ${f2(s.rate)} containers/s`);
  }
  if (r.rateRatio !== undefined) out.push(`rate brig/dockerd ${f2(r.rateRatio)}`);
  out.push(...goalSection(r.goal, (g) => [
    `goal: brig's rate >= ${g.minRateRatio}x dockerd's`,
    `  rate ratio ${f2(g.rateRatio)} >= ${f2(g.minRateRatio)} ${g.met ? 'yes' : 'NO'}`,
  ]));
  return out;
}

process.exitCode = await runBench<Options, Body, Goal>({
  name: 'concurrent-run',
  title: 'brig concurrent run',
  usage: USAGE,
  ints: { containers: [50, 1], rounds: [3, 1], settle: [1000, 0] },
  options: { network: { type: 'string' }, 'auto-names': { type: 'boolean' } },
  parse: (v) => {
    const network = v['network'];
    if (network !== undefined && (typeof network !== 'string' || !/^[a-z0-9_.-]+$/.test(network))) throw new Error('--network takes a network mode such as none or bridge');
    return { ...(typeof network === 'string' ? { network } : {}), autoNames: v['auto-names'] === true };
  },
  run: bench,
  method,
  report,
});
