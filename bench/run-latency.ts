/**
 * `bench/run-latency`: how long `docker run --rm busybox true` takes against brig compared with a
 * reference dockerd (Debian's docker.io 20.10) on the same host, both driven by the same docker CLI.
 *
 * The engines (private and temporary, same busybox rootfs, cleaned up on every exit path) come
 * from bench/lib/engines.ts. The runs are interleaved (brig, dockerd, brig, dockerd, ...) after
 * warm-ups, and each sample is the wall time of one docker CLI process.
 *
 * Cases: `none` (`--network none`, loopback only), `default` (each engine's default bridge, the
 * common `docker run`) and `publish` (default bridge plus `-p 127.0.0.1:28181:80`). dockerd runs
 * with its own bridge and iptables rules; brig with its own bridge and address pool (daemon options
 * `--bridge-name`, `--default-address-pool`): a brig without them has no bridge to time, and the
 * bridge cases then fail for brig with that reason (only dockerd is timed, the bench exits 1).
 *
 * The goals: case `none`: brig's median <= 0.10 s and <= 1/3 of dockerd's median; case `default`:
 * brig's network overhead (median of `default` - median of `none`) <= 50 ms and brig's median <=
 * 1/3 of dockerd's.
 */
import { COMMON_USAGE, IMAGE, compareLine, goalSection, runBench, type BenchContext, type BenchResults, type DaemonHandle, type ImageCheck } from './lib/engines.js';
import { progress } from './lib/process.js';
import { caseResult, caseTable, f2, f3, interleaved, stats, type CaseResult, type Stats } from './lib/stats.js';

/** The brig-side goal for the headline case. */
const GOAL_MEDIAN_S = 0.1;
const GOAL_RATIO = 1 / 3;
/** The most a bridge network may add to brig's `docker run` (median of `default` - median of `none`). */
const GOAL_NETWORK_S = 0.05;
/** The published port of case `publish` (the tests' range 28000-28999). */
const PUBLISH = '127.0.0.1:28181:80';

const USAGE = `Usage: bench/run-latency [OPTIONS]

Times \`docker run --rm busybox true\` against brig and a reference dockerd (interleaved):
with --network none, on each engine's default bridge, and with -p ${PUBLISH}.

Options:
  --runs N             timed runs per engine and case (default 20)
  --warmup N           untimed warm-up runs per engine and case (default 2)
  --breakdown-runs N   runs of the brig create/start/rm breakdown (default 10, 0 = skip)
  --pause MS           idle time before each timed run, so that one engine's background work after
                       a run (container teardown) does not land in the other's sample (default 0)
${COMMON_USAGE}`;

interface Options {
  runs: number;
  warmup: number;
  breakdownRuns: number;
  /** ms */
  pause: number;
}

interface CaseSpec {
  name: string;
  description: string;
  args: string[];
  /** Needs a bridge network (brig: its own bridge and pool). */
  bridge: boolean;
}

const CASES: CaseSpec[] = [
  { name: 'none', description: 'docker run --rm --network none busybox true', args: ['run', '--rm', '--network', 'none', IMAGE, 'true'], bridge: false },
  { name: 'default', description: 'docker run --rm busybox true (each engine\'s default bridge)', args: ['run', '--rm', IMAGE, 'true'], bridge: true },
  { name: 'publish', description: `docker run --rm -p ${PUBLISH} busybox true`, args: ['run', '--rm', '-p', PUBLISH, IMAGE, 'true'], bridge: true },
];

interface Body {
  runs: number;
  warmup: number;
  image: ImageCheck;
  cases: CaseResult[];
  /** Cases an engine could not run, and why. */
  incomplete?: string[];
  breakdown?: { runs: number; network: string; create: Stats; start: Stats; rm: Stats };
}

interface Goal {
  case: string;
  brigMedian: number;
  dockerdMedian: number;
  maxMedian: number;
  maxRatio: number;
  medianOk: boolean;
  ratioOk: boolean;
  /** Case `default` (absent when brig could not run it): overhead = its brig median - case none's. */
  bridge?: { brigMedian: number; dockerdMedian: number; overhead: number; maxOverhead: number; overheadOk: boolean; ratioOk: boolean };
  met: boolean;
}

/** brig only: where the time of a run goes, as separate create / start / rm CLI calls. */
async function breakdown(ctx: BenchContext, d: DaemonHandle, runs: number): Promise<NonNullable<Body['breakdown']>> {
  progress(`breakdown (brig): docker create / start / rm, ${runs} runs`);
  const create: number[] = [];
  const start: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cr = await ctx.docker(d, ['create', '--network', 'none', IMAGE, 'true']);
    const id = cr.stdout.trim();
    create.push(cr.seconds);
    start.push(await ctx.time(d, ['start', id]));
    await ctx.docker(d, ['wait', id]); // untimed: `rm` of a still-running container would fail
    remove.push(await ctx.time(d, ['rm', id]));
  }
  return { runs, network: 'none', create: stats(create), start: stats(start), rm: stats(remove) };
}

async function bench(ctx: BenchContext, o: Options): Promise<{ body: Body; goal?: Goal }> {
  const cases: CaseResult[] = [];
  const incomplete: string[] = [];
  for (const c of CASES) {
    // A brig without a bridge of its own would run these on loopback only: no numbers rather than wrong ones.
    const engines = ctx.daemons.filter((d) => !(c.bridge && d.noBridge));
    for (const d of ctx.daemons) if (!engines.includes(d)) incomplete.push(`case ${c.name} on ${d.name}: ${d.noBridge}`);
    if (engines.length === 0) continue;
    progress(`case ${c.name}: ${c.description}: ${o.warmup} warm-up + ${o.runs} runs per engine (${engines.map((d) => d.name).join(', ')}), interleaved`);
    const samples = await interleaved(engines, { runs: o.runs, warmup: o.warmup, pauseMs: o.pause }, (d) => ctx.time(d, c.args));
    cases.push(caseResult(c.name, c.description, samples));
  }
  const bd = ctx.brig && o.breakdownRuns > 0 ? await breakdown(ctx, ctx.brig, o.breakdownRuns) : undefined;
  const body: Body = { runs: o.runs, warmup: o.warmup, image: ctx.image, cases, ...(incomplete.length ? { incomplete } : {}), ...(bd ? { breakdown: bd } : {}) };
  const head = cases.find((c) => c.name === 'none');
  if (!head?.brig || !head.dockerd) return { body };
  const medianOk = head.brig.median <= GOAL_MEDIAN_S;
  const ratioOk = head.brig.median <= head.dockerd.median * GOAL_RATIO;
  const def = cases.find((c) => c.name === 'default');
  let bridge: Goal['bridge'];
  if (def?.brig && def.dockerd) {
    const overhead = def.brig.median - head.brig.median;
    bridge = {
      brigMedian: def.brig.median, dockerdMedian: def.dockerd.median, overhead, maxOverhead: GOAL_NETWORK_S,
      overheadOk: overhead <= GOAL_NETWORK_S, ratioOk: def.brig.median <= def.dockerd.median * GOAL_RATIO,
    };
  }
  return {
    body,
    goal: {
      case: 'none', brigMedian: head.brig.median, dockerdMedian: head.dockerd.median, maxMedian: GOAL_MEDIAN_S, maxRatio: GOAL_RATIO,
      medianOk, ratioOk, ...(bridge ? { bridge } : {}),
      // Not met while the bridge case could not be judged.
      met: medianOk && ratioOk && bridge !== undefined && bridge.overheadOk && bridge.ratioOk,
    },
  };
}

/** Per case: both medians, the ratio, and each engine's network overhead over its case `none`. */
function overheadLines(cases: CaseResult[]): string[] {
  const none = cases.find((c) => c.name === 'none');
  const out: string[] = [];
  for (const c of cases.filter((x) => x.name !== 'none')) {
    const parts = [compareLine(c.brig?.median, c.dockerd?.median)];
    const over = (e: 'brig' | 'dockerd'): string | undefined => {
      const a = c[e]?.median;
      const b = none?.[e]?.median;
      return a !== undefined && b !== undefined ? `${e} +${Math.round((a - b) * 1000)} ms` : undefined;
    };
    const o = [over('brig'), over('dockerd')].filter(Boolean);
    out.push(`  ${c.name.padEnd(8)} medians: ${parts.join('')}${o.length ? `; network overhead over none: ${o.join(', ')}` : ''}`);
  }
  return out;
}

function report(r: BenchResults<Body, Goal>): string[] {
  const out = caseTable(r.cases);
  out.push('  none    = docker run --rm --network none busybox true (headline: brig has loopback-only networking)');
  out.push('  default = docker run --rm busybox true (each engine\'s default bridge: dockerd brigbench0 with iptables, brig brigbench1 via netavark)');
  out.push(`  publish = docker run --rm -p ${PUBLISH} busybox true (default bridge plus a published port)`);
  out.push('');
  out.push(...overheadLines(r.cases));
  for (const m of r.incomplete ?? []) out.push(`  NOT MEASURED: ${m}`);
  out.push(...goalSection(r.goal, (g) => [
    `goal (case ${g.case}): brig median <= ${f3(g.maxMedian)} s and <= 1/3 of dockerd's median (${f3(g.dockerdMedian * g.maxRatio)} s)`,
    `  brig median ${f3(g.brigMedian)} s: <= ${f3(g.maxMedian)} s ${g.medianOk ? 'yes' : 'NO'}; ratio ${f2(g.brigMedian / g.dockerdMedian)} <= 0.33 ${g.ratioOk ? 'yes' : 'NO'}`,
    ...(g.bridge ? [
      `goal (case default): brig's network overhead (default - none) <= ${Math.round(g.bridge.maxOverhead * 1000)} ms and brig median <= 1/3 of dockerd's (${f3(g.bridge.dockerdMedian * g.maxRatio)} s)`,
      `  overhead ${Math.round(g.bridge.overhead * 1000)} ms: ${g.bridge.overheadOk ? 'yes' : 'NO'}; ratio ${f2(g.bridge.brigMedian / g.bridge.dockerdMedian)} <= 0.33 ${g.bridge.ratioOk ? 'yes' : 'NO'}`,
    ] : ['goal (case default): NOT JUDGED (brig did not run it)']),
  ]));
  if (r.breakdown) {
    const b = r.breakdown;
    out.push('');
    out.push(`brig breakdown (--network ${b.network}, median of ${b.runs}): create ${f3(b.create.median)} s, start ${f3(b.start.median)} s, rm ${f3(b.rm.median)} s` +
      ` (sum ${f3(b.create.median + b.start.median + b.rm.median)} s)`);
  }
  return out;
}

process.exitCode = await runBench<Options, Body, Goal>({
  name: 'run-latency',
  title: 'brig run latency',
  usage: USAGE,
  ints: { runs: [20, 1], warmup: [2, 0], 'breakdown-runs': [10, 0], pause: [0, 0] },
  run: bench,
  method: (r) => `${r.runs} runs per engine and case, interleaved brig/dockerd after ${r.warmup} warm-ups each; wall time of the docker CLI process, seconds`,
  report,
});
