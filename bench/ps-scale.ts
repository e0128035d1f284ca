/**
 * `bench/ps-scale`: listing many containers. Each engine (bench/lib/engines.ts) gets 500 created
 * containers (`docker create --name ps-N busybox true`, in parallel batches: setting up is not
 * what is measured); then `docker ps -a` and a raw `GET /containers/json?all=1` on the daemon's socket are
 * timed, each interleaved brig/dockerd after warm-ups. At the end `docker rm` of all 500 (one CLI
 * call, which removes in parallel) is timed once per engine, as information.
 *
 * The goal: brig's median <= 1/2 of dockerd's median, for `docker ps -a` and for the raw request.
 */
import { COMMON_USAGE, IMAGE, compareLine, goalSection, runBench, type BenchContext, type BenchResults, type DaemonHandle, type EngineName, type ImageCheck } from './lib/engines.js';
import { progress } from './lib/process.js';
import { caseResult, caseTable, f2, interleaved, type CaseResult } from './lib/stats.js';

const GOAL_RATIO = 1 / 2;
const LIST_PATH = '/containers/json?all=1';

const USAGE = `Usage: bench/ps-scale [OPTIONS]

Times \`docker ps -a\` and GET ${LIST_PATH} with many containers in brig and a reference dockerd.

Options:
  --containers N       containers created in each engine (default 500)
  --parallel N         docker create commands in flight while setting up (default 16)
  --runs N             timed listings per engine and kind (default 20)
  --warmup N           untimed warm-up listings per engine and kind (default 2)
${COMMON_USAGE}`;

interface Options {
  containers: number;
  parallel: number;
  runs: number;
  warmup: number;
}

type PerEngine<T> = Partial<Record<EngineName, T>>;

interface Body {
  containers: number;
  runs: number;
  warmup: number;
  image: ImageCheck;
  /** Setup: seconds to create the containers (in parallel batches). */
  createSeconds: PerEngine<number>;
  /** Size of one GET /containers/json?all=1 answer, bytes. */
  listBytes: PerEngine<number>;
  cases: CaseResult[];
  /** Seconds of the one `docker rm` of all containers. */
  rmSeconds: PerEngine<number>;
}

interface Goal {
  maxRatio: number;
  psRatio: number;
  httpRatio: number;
  met: boolean;
}

async function createMany(ctx: BenchContext, d: DaemonHandle, o: Options): Promise<number> {
  progress(`creating ${o.containers} containers in ${d.name} (${o.parallel} in flight)`);
  const t0 = process.hrtime.bigint();
  // Named: brig's generated names can collide under concurrent creates (the name is taken only once the record is stored).
  await ctx.dockerMany(d, Array.from({ length: o.containers }, (_, i) => ['create', '--name', `ps-${i}`, IMAGE, 'true']), o.parallel);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const n = (await ctx.containerIds(d)).length;
  if (n !== o.containers) throw new Error(`${d.name}: ${n} containers after creating ${o.containers}`);
  return seconds;
}

/** GET /containers/json?all=1, checked to list every container (outside the timing). */
async function listOnce(ctx: BenchContext, d: DaemonHandle, o: Options, bytes: PerEngine<number>): Promise<number> {
  const r = await ctx.http(d, 'GET', LIST_PATH);
  const n = (JSON.parse(r.body.toString()) as unknown[]).length;
  if (n !== o.containers) throw new Error(`${d.name}: GET ${LIST_PATH} listed ${n} containers, not ${o.containers}`);
  bytes[d.name] = r.body.length;
  return r.seconds;
}

async function bench(ctx: BenchContext, o: Options): Promise<{ body: Body; goal?: Goal }> {
  const createSeconds: PerEngine<number> = {};
  for (const d of ctx.daemons) createSeconds[d.name] = await createMany(ctx, d, o);
  await ctx.markRequests();

  const cases: CaseResult[] = [];
  progress(`docker ps -a: ${o.warmup} warm-up + ${o.runs} runs per engine, interleaved`);
  cases.push(caseResult('ps -a', 'docker ps -a', await interleaved(ctx.daemons, o, (d) => ctx.time(d, ['ps', '-a']))));
  progress(`GET ${LIST_PATH}: ${o.warmup} warm-up + ${o.runs} runs per engine, interleaved`);
  const listBytes: PerEngine<number> = {};
  cases.push(caseResult('http', `GET ${LIST_PATH}`, await interleaved(ctx.daemons, o, (d) => listOnce(ctx, d, o, listBytes))));

  const rmSeconds: PerEngine<number> = {};
  for (const d of ctx.daemons) {
    progress(`docker rm of all ${o.containers} containers in ${d.name}`);
    rmSeconds[d.name] = await ctx.time(d, ['rm', ...(await ctx.containerIds(d))]);
    const left = (await ctx.containerIds(d)).length;
    if (left) throw new Error(`${d.name}: ${left} containers left after docker rm`);
  }

  const body: Body = { containers: o.containers, runs: o.runs, warmup: o.warmup, image: ctx.image, createSeconds, listBytes, cases, rmSeconds };
  const [ps, http] = cases;
  if (!ps?.ratio || !http?.ratio) return { body };
  const psRatio = ps.ratio.median;
  const httpRatio = http.ratio.median;
  return { body, goal: { maxRatio: GOAL_RATIO, psRatio, httpRatio, met: psRatio <= GOAL_RATIO && httpRatio <= GOAL_RATIO } };
}

function report(r: BenchResults<Body, Goal>): string[] {
  const out = caseTable(r.cases);
  out.push('  ps -a    = docker ps -a (wall time of the docker CLI process)');
  out.push(`  http     = GET ${LIST_PATH} on the daemon's socket, new connection, to the last byte` +
    ` (answer: ${(['brig', 'dockerd'] as const).filter((e) => r.listBytes[e] !== undefined).map((e) => `${e} ${r.listBytes[e]} bytes`).join(', ')})`);
  out.push(...goalSection(r.goal, (g) => {
    const ok = (x: number): string => `${f2(x)} <= ${f2(g.maxRatio)} ${x <= g.maxRatio ? 'yes' : 'NO'}`;
    return ['goal: brig median <= 1/2 of dockerd\'s median, for docker ps -a and for the raw GET', `  ratio docker ps -a ${ok(g.psRatio)}; ratio GET ${ok(g.httpRatio)}`];
  }));
  out.push('');
  out.push(`setup, docker create x ${r.containers} (parallel): ${compareLine(r.createSeconds.brig, r.createSeconds.dockerd)}`);
  out.push(`docker rm of all ${r.containers} (one CLI call, not a goal): ${compareLine(r.rmSeconds.brig, r.rmSeconds.dockerd)}`);
  return out;
}

process.exitCode = await runBench<Options, Body, Goal>({
  name: 'ps-scale',
  title: 'brig ps scale',
  usage: USAGE,
  ints: { containers: [500, 1], parallel: [16, 1], runs: [20, 1], warmup: [2, 0] },
  run: bench,
  method: (r) => `${r.containers} created containers (docker create --name ps-N busybox true) in each engine; ` +
    `${r.runs} runs per engine and case, interleaved brig/dockerd after ${r.warmup} warm-ups each; seconds`,
  report,
});
