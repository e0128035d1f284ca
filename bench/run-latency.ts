/**
 * `bench/run-latency`: how long `docker run --rm busybox true` takes against brig compared with a
 * reference dockerd (Debian's docker.io 20.10) on the same host, both driven by the same docker CLI.
 *
 * The engines (private and temporary, same busybox rootfs, cleaned up on every exit path) come
 * from bench/lib/engines.ts. The runs are interleaved (brig, dockerd, brig, dockerd, ...) after
 * warm-ups, and each sample is the wall time of one docker CLI process.
 *
 * The goal (case `none`): brig's median <= 0.10 s and <= 1/3 of dockerd's median.
 */
import { COMMON_USAGE, IMAGE, goalSection, runBench, type BenchContext, type BenchResults, type DaemonHandle, type ImageCheck } from './lib/engines.js';
import { progress } from './lib/process.js';
import { caseResult, caseTable, f2, f3, interleaved, stats, type CaseResult, type Stats } from './lib/stats.js';

/** The brig-side goal for the headline case. */
const GOAL_MEDIAN_S = 0.1;
const GOAL_RATIO = 1 / 3;

const USAGE = `Usage: bench/run-latency [OPTIONS]

Times \`docker run --rm busybox true\` against brig and a reference dockerd (interleaved).

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
}

const CASES: CaseSpec[] = [
  { name: 'none', description: 'docker run --rm --network none busybox true', args: ['run', '--rm', '--network', 'none', IMAGE, 'true'] },
  { name: 'default', description: 'docker run --rm busybox true (each engine\'s default network)', args: ['run', '--rm', IMAGE, 'true'] },
];

interface Body {
  runs: number;
  warmup: number;
  image: ImageCheck;
  cases: CaseResult[];
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
  for (const c of CASES) {
    progress(`case ${c.name}: ${c.description}: ${o.warmup} warm-up + ${o.runs} runs per engine, interleaved`);
    const samples = await interleaved(ctx.daemons, { runs: o.runs, warmup: o.warmup, pauseMs: o.pause }, (d) => ctx.time(d, c.args));
    cases.push(caseResult(c.name, c.description, samples));
  }
  const bd = ctx.brig && o.breakdownRuns > 0 ? await breakdown(ctx, ctx.brig, o.breakdownRuns) : undefined;
  const body: Body = { runs: o.runs, warmup: o.warmup, image: ctx.image, cases, ...(bd ? { breakdown: bd } : {}) };
  const head = cases.find((c) => c.name === 'none');
  if (!head?.brig || !head.dockerd) return { body };
  const medianOk = head.brig.median <= GOAL_MEDIAN_S;
  const ratioOk = head.brig.median <= head.dockerd.median * GOAL_RATIO;
  return {
    body,
    goal: {
      case: 'none', brigMedian: head.brig.median, dockerdMedian: head.dockerd.median, maxMedian: GOAL_MEDIAN_S, maxRatio: GOAL_RATIO,
      medianOk, ratioOk, met: medianOk && ratioOk,
    },
  };
}

function report(r: BenchResults<Body, Goal>): string[] {
  const out = caseTable(r.cases);
  out.push('  none    = docker run --rm --network none busybox true (headline: brig has loopback-only networking)');
  out.push('  default = docker run --rm busybox true (dockerd: its bridge network; brig: its default)');
  out.push(...goalSection(r.goal, (g) => [
    `goal (case ${g.case}): brig median <= ${f3(g.maxMedian)} s and <= 1/3 of dockerd's median (${f3(g.dockerdMedian * g.maxRatio)} s)`,
    `  brig median ${f3(g.brigMedian)} s: <= ${f3(g.maxMedian)} s ${g.medianOk ? 'yes' : 'NO'}; ratio ${f2(g.brigMedian / g.dockerdMedian)} <= 0.33 ${g.ratioOk ? 'yes' : 'NO'}`,
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
