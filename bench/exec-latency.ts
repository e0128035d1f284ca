/**
 * `bench/exec-latency`: how long `docker exec sleeper true` takes against a running `busybox sleep`
 * container in brig compared with the reference dockerd (bench/lib/engines.ts starts both).
 *
 * Each engine gets one container `sleeper` (`docker run -d --name sleeper --network none busybox sleep 1000`);
 * then the execs are interleaved (brig, dockerd, ...) after warm-ups, each sample the wall time
 * of one docker CLI process.
 *
 * The goal: brig's median <= 1/2 of dockerd's median.
 */
import { COMMON_USAGE, IMAGE, goalSection, runBench, type BenchContext, type BenchResults, type ImageCheck } from './lib/engines.js';
import { progress } from './lib/process.js';
import { caseResult, caseTable, f2, f3, interleaved, type CaseResult } from './lib/stats.js';

const GOAL_RATIO = 1 / 2;
const CONTAINER = 'sleeper'; // a one-letter name is invalid in Docker (and brig): [a-zA-Z0-9][a-zA-Z0-9_.-]+

const USAGE = `Usage: bench/exec-latency [OPTIONS]

Times \`docker exec sleeper true\` (sleeper: a running busybox sleep) against brig and a reference dockerd (interleaved).

Options:
  --runs N             timed execs per engine (default 20)
  --warmup N           untimed warm-up execs per engine (default 3)
${COMMON_USAGE}`;

interface Options {
  runs: number;
  warmup: number;
}

interface Body {
  runs: number;
  warmup: number;
  image: ImageCheck;
  exec: CaseResult;
}

interface Goal {
  brigMedian: number;
  dockerdMedian: number;
  maxRatio: number;
  ratio: number;
  met: boolean;
}

async function bench(ctx: BenchContext, o: Options): Promise<{ body: Body; goal?: Goal }> {
  for (const d of ctx.daemons) await ctx.docker(d, ['run', '-d', '--name', CONTAINER, '--network', 'none', IMAGE, 'sleep', '1000']);
  await ctx.markRequests();
  progress(`docker exec ${CONTAINER} true: ${o.warmup} warm-up + ${o.runs} runs per engine, interleaved`);
  const samples = await interleaved(ctx.daemons, o, (d) => ctx.time(d, ['exec', CONTAINER, 'true']));
  const exec = caseResult('exec', `docker exec ${CONTAINER} true`, samples);
  for (const d of ctx.daemons) await ctx.docker(d, ['rm', '-f', CONTAINER]);
  const body: Body = { runs: o.runs, warmup: o.warmup, image: ctx.image, exec };
  if (!exec.brig || !exec.dockerd) return { body };
  const ratio = exec.brig.median / exec.dockerd.median;
  return { body, goal: { brigMedian: exec.brig.median, dockerdMedian: exec.dockerd.median, maxRatio: GOAL_RATIO, ratio, met: ratio <= GOAL_RATIO } };
}

function report(r: BenchResults<Body, Goal>): string[] {
  const out = caseTable([r.exec]);
  out.push(`  exec     = docker exec ${CONTAINER} true, ${CONTAINER} = docker run -d --network none busybox sleep 1000 (running in each engine)`);
  out.push(...goalSection(r.goal, (g) => [
    `goal: brig median <= 1/2 of dockerd's median (${f3(g.dockerdMedian * g.maxRatio)} s)`,
    `  brig median ${f3(g.brigMedian)} s; ratio ${f2(g.ratio)} <= ${f2(g.maxRatio)} ${g.met ? 'yes' : 'NO'}`,
  ]));
  return out;
}

process.exitCode = await runBench<Options, Body, Goal>({
  name: 'exec-latency',
  title: 'brig exec latency',
  usage: USAGE,
  ints: { runs: [20, 1], warmup: [3, 0] },
  run: bench,
  method: (r) => `${r.runs} runs per engine, interleaved brig/dockerd after ${r.warmup} warm-ups each; wall time of the docker CLI process, seconds`,
  report,
});
