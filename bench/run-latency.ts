/**
 * `bench/run-latency`: how long `docker run --rm busybox true` takes against brig compared with a
 * reference dockerd (Debian's docker.io 20.10) on the same host, both driven by the same docker CLI.
 *
 * Everything it starts is private and temporary: a dockerd on its own socket, data root, exec root,
 * pid file, cgroup parent and bridge (`brigbench0`, 10.213.90.1/24), and a brig daemon on its own
 * socket, data root, run root and cgroup parent, all under `/tmp/brig-bench-*`. Both get the same
 * busybox rootfs (built from the host's /bin/busybox). The runs are interleaved (brig, dockerd,
 * brig, dockerd, ...) after warm-ups, and each sample is the wall time of one docker CLI process.
 * On every exit path, Ctrl-C included, the containers, daemons, bridge, cgroups and temp dirs are
 * removed again, and leftovers are reported.
 *
 * The goal (case `none`): brig's median <= 0.10 s and <= 1/3 of dockerd's median.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { writeBusyboxRootfsTar } from '../src/cli/busybox-rootfs.js';

const REPO = new URL('../../', import.meta.url).pathname;
const BRIG = join(REPO, 'bin', 'brig');
const BUSYBOX = '/bin/busybox';
const IMAGE = 'busybox:latest';
const BRIDGE = 'brigbench0';
const BRIDGE_ADDR = '10.213.90.1/24';
const POLICY_RC = '/usr/sbin/policy-rc.d';
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
  --only ENGINE        benchmark only brig or only dockerd (for debugging the bench)
  --json               print the results as JSON on stdout (progress still goes to stderr)
  --check              exit 1 when brig misses the goal
  -h, --help           this text`;

type EngineName = 'brig' | 'dockerd';

interface Options {
  runs: number;
  warmup: number;
  breakdownRuns: number;
  pauseMs: number;
  engines: EngineName[];
  json: boolean;
  check: boolean;
}

interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
  samples: number[];
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

// ---------------------------------------------------------------------------------------------
// Processes

interface RunOptions {
  input?: Buffer | string | Readable;
  timeoutMs?: number;
  /** Runs even while stopping (the cleanup's own commands). */
  cleanup?: boolean;
}

interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from just before spawn() to the process's exit, in seconds. */
  seconds: number;
}

const activeChildren = new Set<ChildProcess>();
let stopping = false;

/** Runs a process to completion, timing its wall time with hrtime. Never rejects on exit codes. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<ProcResult> {
  if (stopping && !options.cleanup) return Promise.reject(new Error('interrupted'));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    activeChildren.add(child);
    let t1: bigint | undefined;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', () => (t1 = process.hrtime.bigint()));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs} ms)`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      activeChildren.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      activeChildren.delete(child);
      const end = t1 ?? process.hrtime.bigint();
      resolve({ code, signal, stdout, stderr, seconds: Number(end - t0) / 1e9 });
    });
    child.stdin.on('error', () => {}); // EPIPE when the process exits without reading its input
    const input = options.input;
    if (input === undefined || typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else {
      input.on('error', (err) => {
        stderr += `\ninput stream failed: ${err.message}`;
        child.stdin.destroy();
      });
      input.pipe(child.stdin);
    }
  });
}

/** Like run(), but throws with the output when the process fails. */
async function must(file: string, args: string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<ProcResult> {
  const r = await run(file, args, env, options);
  if (r.code !== 0) {
    throw new Error(`\`${[file, ...args].join(' ')}\` failed (${r.code ?? r.signal}):\n${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A deadline that does not keep the process alive once nothing else is pending. */
function deadline(ms: number): Promise<false> {
  return new Promise((r) => setTimeout(() => r(false), ms).unref());
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0); PID 1 here reaps lazily). */
function isAlive(pid: number): boolean {
  const stat = readFileSyncSafe(`/proc/${pid}/stat`);
  if (!stat) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** GET /_ping on a UNIX socket; true on 200. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, method: 'GET', path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Host preparation

function dockerCli(): string {
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (existsSync(p)) return p;
  throw new Error('no docker CLI at /usr/local/bin/docker or /usr/bin/docker');
}

function findDockerd(): string | undefined {
  for (const p of ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/sbin/dockerd', '/usr/local/bin/dockerd']) if (existsSync(p)) return p;
  return undefined;
}

/** Installs Debian's docker.io (without starting its service) when dockerd is missing. */
async function ensureDockerd(state: CleanupState): Promise<string> {
  const found = findDockerd();
  if (found) return found;
  progress('dockerd is missing: installing Debian\'s docker.io (no service is started)');
  if (!existsSync(POLICY_RC)) {
    await writeFile(POLICY_RC, '#!/bin/sh\n# created by brig bench/run-latency: never start services\nexit 101\n');
    state.policyRcCreated = true;
    await chmod(POLICY_RC, 0o755);
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const args = ['install', '-y', '--no-install-recommends', 'docker.io'];
    let r = await run('apt-get', args, env, { timeoutMs: 900_000 });
    if (r.code !== 0) {
      progress('apt-get install failed; running apt-get update and trying again');
      await must('apt-get', ['update'], env, { timeoutMs: 900_000 });
      r = await run('apt-get', args, env, { timeoutMs: 900_000 });
    }
    if (r.code !== 0) throw new Error(`apt-get install docker.io failed:\n${r.stdout.split('\n').slice(-20).join('\n')}\n${r.stderr}`);
  } finally {
    if (state.policyRcCreated) {
      await rm(POLICY_RC, { force: true });
      state.policyRcCreated = false;
    }
  }
  const installed = findDockerd();
  if (!installed) throw new Error('docker.io was installed but no dockerd binary was found');
  return installed;
}

/** Creates the reference dockerd's private bridge (a stale one from a killed run is replaced). */
async function createBridge(state: CleanupState): Promise<void> {
  const env = process.env;
  const exists = (await run('ip', ['link', 'show', BRIDGE], env)).code === 0;
  if (exists) {
    // Only a stale leftover (no dockerd of a running bench uses it) may be replaced.
    for (const pid of await readdir('/proc')) {
      if (!/^[0-9]+$/.test(pid)) continue;
      const cmd = readFileSyncSafe(`/proc/${pid}/cmdline`).split('\0');
      if (cmd.some((a) => a.endsWith('dockerd')) && cmd.includes(BRIDGE)) {
        throw new Error(`bridge ${BRIDGE} is in use by dockerd pid ${pid} (another bench running?)`);
      }
    }
    progress(`removing stale bridge ${BRIDGE} left by an earlier run`);
    await must('ip', ['link', 'del', BRIDGE], env);
  }
  state.bridge = true;
  await must('ip', ['link', 'add', BRIDGE, 'type', 'bridge'], env);
  await must('ip', ['addr', 'add', BRIDGE_ADDR, 'dev', BRIDGE], env);
  await must('ip', ['link', 'set', BRIDGE, 'up'], env);
}

// ---------------------------------------------------------------------------------------------
// Daemons

interface DaemonHandle {
  name: EngineName;
  socket: string;
  child: ChildProcess;
  logFile: string;
  env: NodeJS.ProcessEnv;
  cgroupParent: string;
  /** Where the daemon's runc keeps container state (checked to be empty at the end). */
  runcRoot: string;
  version?: string;
}

interface CleanupState {
  root?: string;
  /** Daemons verified by the cleanup to have no containers left (docker ps -a and runc state). */
  verifiedEmpty: EngineName[];
  bridge: boolean;
  policyRcCreated: boolean;
  /** Host paths dockerd creates whatever its flags say; removed at the end unless they existed before it started. */
  hostPaths?: { path: string; existed: boolean; dir: boolean }[];
  daemons: DaemonHandle[];
}

function cliEnv(socket: string, configDir: string): NodeJS.ProcessEnv {
  // A minimal environment: no DOCKER_CONTEXT/DOCKER_TLS*/user config can redirect the CLI.
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: `unix://${socket}`,
    BRIG_HOST: `unix://${socket}`,
    DOCKER_CONFIG: configDir,
    DOCKER_CLI_HINTS: 'false',
  };
}

/** Spawns a daemon in its own process group (so Ctrl-C reaches only us) and waits for /_ping. */
async function spawnDaemon(state: CleanupState, h: Omit<DaemonHandle, 'child'>, file: string, args: string[], timeoutMs: number): Promise<DaemonHandle> {
  if (stopping) throw new Error('interrupted');
  const fd = openSync(h.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env } });
  } finally {
    closeSync(fd);
  }
  const d: DaemonHandle = { ...h, child };
  state.daemons.push(d);
  child.on('error', () => {});
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${h.name} exited during startup (${child.exitCode ?? child.signalCode}); log ${h.logFile}:\n${await tail(h.logFile)}`);
    }
    if (await ping(h.socket)) return d;
    if (stopping) throw new Error('interrupted');
    if (Date.now() > until) throw new Error(`${h.name} did not answer /_ping within ${timeoutMs / 1000} s; log:\n${await tail(h.logFile)}`);
    await sleep(50);
  }
}

async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function startDockerd(state: CleanupState, root: string, rand: string, dockerd: string): Promise<DaemonHandle> {
  const dir = join(root, 'dockerd');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'docker.sock');
  const execRoot = join(dir, 'exec');
  const config = join(dir, 'daemon.json');
  // An empty config file: /etc/docker/daemon.json (if any) must not change the reference.
  await writeFile(config, '{}\n');
  const cgroupParent = `/brig-bench-${rand}-dockerd`;
  // dockerd 20.10 writes /etc/docker/key.json and creates /run/docker/plugins and containerd's
  // shim socket dir /run/containerd/s at fixed paths (deepest first: removed in this order).
  state.hostPaths = [
    { path: '/etc/docker/key.json', dir: false },
    { path: '/etc/docker', dir: true },
    { path: '/run/docker/plugins', dir: true },
    { path: '/run/docker', dir: true },
    { path: '/run/containerd/s', dir: true },
    { path: '/run/containerd', dir: true },
  ].map((p) => ({ ...p, existed: existsSync(p.path) }));
  const args = [
    '--host', `unix://${socket}`,
    '--data-root', join(dir, 'data'),
    '--exec-root', execRoot,
    '--pidfile', join(dir, 'docker.pid'),
    '--config-file', config,
    '--bridge', BRIDGE, // its own bridge: `--bridge none` would delete the host's docker0
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false', // else dockerd sets net.ipv4.ip_forward=1 on the host
    '--userland-proxy=false',
    '--log-driver', 'json-file',
    '--storage-driver', 'overlay2',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--cgroup-parent', cgroupParent,
  ];
  progress(`starting the reference dockerd (${dockerd}) on ${socket}`);
  // dockerd 20.10 starts its own containerd (state under --exec-root) unless a system one answers here.
  if (existsSync('/run/containerd/containerd.sock')) progress('note: dockerd will use the system containerd at /run/containerd/containerd.sock');
  return spawnDaemon(state, {
    name: 'dockerd', socket, logFile: join(dir, 'dockerd.log'), env: cliEnv(socket, join(dir, 'cli-config')),
    cgroupParent, runcRoot: join(execRoot, 'runtime-runc', 'moby'),
  }, dockerd, args, 60_000);
}

async function startBrig(state: CleanupState, root: string, rand: string): Promise<DaemonHandle> {
  if (!existsSync(BRIG)) throw new Error(`${BRIG} does not exist (is brig built? run scripts/setup.sh)`);
  const dir = join(root, 'brig');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'brig.sock');
  const runRoot = join(dir, 'run');
  const cgroupParent = `/brig-bench-${rand}`;
  const args = [BRIG, 'daemon', '--socket', socket, '--data-root', join(dir, 'data'), '--run-root', runRoot, '--cgroup-parent', cgroupParent];
  progress(`starting the brig daemon on ${socket}`);
  return spawnDaemon(state, {
    name: 'brig', socket, logFile: join(dir, 'brig.log'), env: cliEnv(socket, join(dir, 'cli-config')),
    cgroupParent, runcRoot: join(runRoot, 'runc'),
  }, process.execPath, args, 30_000);
}

// ---------------------------------------------------------------------------------------------
// Images

/**
 * Gives the daemon busybox:latest. brig: its built-in image (`brig image builtin`); dockerd: the
 * same rootfs tar (src/cli/busybox-rootfs.ts, reproducible), written to `tarFile` and imported.
 */
async function importBusybox(docker: string, d: DaemonHandle, tarFile: string): Promise<void> {
  if (d.name === 'brig') {
    await must(process.execPath, [BRIG, 'image', 'builtin', IMAGE], d.env);
  } else {
    await must(docker, ['import', '-c', 'CMD ["sh"]', '-', IMAGE], d.env, { input: createReadStream(tarFile) });
  }
  // A run that fails here fails the bench before any timing is done.
  await must(docker, ['run', '--rm', '--network', 'none', IMAGE, 'true'], d.env);
}

async function rootfsLayers(docker: string, d: DaemonHandle): Promise<string[]> {
  const r = await run(docker, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', IMAGE], d.env);
  if (r.code !== 0) return [];
  try {
    return JSON.parse(r.stdout) as string[];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const at = (i: number): number => s[Math.min(n - 1, Math.max(0, i))] ?? NaN;
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return {
    median,
    p90: at(Math.ceil(0.9 * n) - 1), // nearest rank
    min: at(0),
    max: at(n - 1),
    mean: s.reduce((a, b) => a + b, 0) / n,
    samples,
  };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

// ---------------------------------------------------------------------------------------------
// The benchmark

interface CaseResult {
  name: string;
  description: string;
  brig?: Stats;
  dockerd?: Stats;
  ratio?: { median: number; p90: number; min: number };
}

interface Results {
  host: { kernel: string; cpus: number; loadavgAtStart: number[]; cli: string; cliVersion: string; dockerd?: string; brig?: string };
  runs: number;
  warmup: number;
  image: { tarDigest: string; brigLayers?: string[]; dockerdLayers?: string[]; same: boolean };
  cases: CaseResult[];
  goal?: { case: string; brigMedian: number; dockerdMedian: number; maxMedian: number; maxRatio: number; medianOk: boolean; ratioOk: boolean; met: boolean };
  breakdown?: { runs: number; network: string; create: Stats; start: Stats; rm: Stats };
  benchSeconds: number;
  /** Cleanup problems (empty = nothing left behind). */
  cleanup: string[];
  /** Daemons verified to have no containers left before they were stopped. */
  noContainersLeft: EngineName[];
}

async function timedRun(docker: string, d: DaemonHandle, args: string[]): Promise<number> {
  const r = await run(docker, args, d.env);
  if (r.code !== 0) throw new Error(`${d.name}: \`docker ${args.join(' ')}\` failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.seconds;
}

async function benchCase(docker: string, c: CaseSpec, daemons: DaemonHandle[], o: Options): Promise<CaseResult> {
  progress(`case ${c.name}: ${c.description}: ${o.warmup} warm-up + ${o.runs} runs per engine, interleaved`);
  for (let i = 0; i < o.warmup; i++) for (const d of daemons) await timedRun(docker, d, c.args);
  const samples = new Map<EngineName, number[]>(daemons.map((d) => [d.name, []]));
  for (let i = 0; i < o.runs; i++) {
    for (const d of daemons) {
      if (o.pauseMs) await sleep(o.pauseMs);
      samples.get(d.name)!.push(await timedRun(docker, d, c.args));
    }
  }
  const res: CaseResult = { name: c.name, description: c.description };
  const b = samples.get('brig');
  const k = samples.get('dockerd');
  if (b) res.brig = stats(b);
  if (k) res.dockerd = stats(k);
  if (res.brig && res.dockerd) {
    res.ratio = { median: res.brig.median / res.dockerd.median, p90: res.brig.p90 / res.dockerd.p90, min: res.brig.min / res.dockerd.min };
  }
  return res;
}

/** brig only: where the time of a run goes, as separate create / start / rm CLI calls. */
async function breakdown(docker: string, d: DaemonHandle, runs: number): Promise<NonNullable<Results['breakdown']>> {
  progress(`breakdown (brig): docker create / start / rm, ${runs} runs`);
  const create: number[] = [];
  const start: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cr = await run(docker, ['create', '--network', 'none', IMAGE, 'true'], d.env);
    if (cr.code !== 0) throw new Error(`brig: docker create failed: ${cr.stderr.trim()}`);
    const id = cr.stdout.trim();
    create.push(cr.seconds);
    start.push(await timedRun(docker, d, ['start', id]));
    await must(docker, ['wait', id], d.env); // untimed: `rm` of a still-running container would fail
    remove.push(await timedRun(docker, d, ['rm', id]));
  }
  return { runs, network: 'none', create: stats(create), start: stats(start), rm: stats(remove) };
}

function report(r: Results): string {
  const out: string[] = [];
  const engines = `brig ${r.host.brig ?? '-'} vs dockerd ${r.host.dockerd ?? '-'}`;
  out.push(`brig run latency: ${engines}; docker CLI ${r.host.cliVersion}; kernel ${r.host.kernel}, ${r.host.cpus} CPUs, load average ${r.host.loadavgAtStart.join(' ')} at start`);
  out.push(`${r.runs} runs per engine and case, interleaved brig/dockerd after ${r.warmup} warm-ups each; wall time of the docker CLI process, seconds`);
  out.push(`busybox rootfs (from ${BUSYBOX}): layer ${r.image.tarDigest.slice(0, 19)}… ${r.image.same ? 'identical in both engines' :
    `DIFFERS: tar ${r.image.tarDigest}, brig ${r.image.brigLayers?.join(',')}, dockerd ${r.image.dockerdLayers?.join(',')}`}`);
  out.push('');
  out.push(`${'case'.padEnd(9)}${'engine'.padEnd(14)}${'median'.padStart(8)}${'p90'.padStart(8)}${'min'.padStart(8)}`);
  for (const c of r.cases) {
    let first = true;
    const row = (label: string, a: number, b: number, m: number, fmt: (x: number) => string): void => {
      out.push(`${(first ? c.name : '').padEnd(9)}${label.padEnd(14)}${fmt(a).padStart(8)}${fmt(b).padStart(8)}${fmt(m).padStart(8)}`);
      first = false;
    };
    if (c.brig) row('brig', c.brig.median, c.brig.p90, c.brig.min, f3);
    if (c.dockerd) row('dockerd', c.dockerd.median, c.dockerd.p90, c.dockerd.min, f3);
    if (c.ratio) row('brig/dockerd', c.ratio.median, c.ratio.p90, c.ratio.min, f2);
  }
  out.push('  none    = docker run --rm --network none busybox true (headline: brig has loopback-only networking)');
  out.push('  default = docker run --rm busybox true (dockerd: its bridge network; brig: its default)');
  if (r.goal) {
    const g = r.goal;
    out.push('');
    out.push(`goal (case ${g.case}): brig median <= ${f3(g.maxMedian)} s and <= 1/3 of dockerd's median (${f3(g.dockerdMedian * g.maxRatio)} s)`);
    out.push(`  brig median ${f3(g.brigMedian)} s: <= ${f3(g.maxMedian)} s ${g.medianOk ? 'yes' : 'NO'}; ratio ${f2(g.brigMedian / g.dockerdMedian)} <= 0.33 ${g.ratioOk ? 'yes' : 'NO'}`);
    out.push(`  => goal ${g.met ? 'MET' : 'NOT MET'}`);
  }
  if (r.breakdown) {
    const b = r.breakdown;
    out.push('');
    out.push(`brig breakdown (--network ${b.network}, median of ${b.runs}): create ${f3(b.create.median)} s, start ${f3(b.start.median)} s, rm ${f3(b.rm.median)} s` +
      ` (sum ${f3(b.create.median + b.start.median + b.rm.median)} s)`);
  }
  out.push('');
  out.push(`bench took ${r.benchSeconds.toFixed(1)} s`);
  out.push(r.cleanup.length ? `cleanup PROBLEMS: ${r.cleanup.join('; ')}` :
    `cleanup: no containers left in ${r.noContainersLeft.join(' or ')} (docker ps -a and runc state empty); daemons stopped; ${r.host.dockerd ? `bridge ${BRIDGE}, ` : ""}cgroups and temp dir removed`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Cleanup

let cleanupPromise: Promise<string[]> | undefined;

function cleanup(state: CleanupState, docker: string | undefined): Promise<string[]> {
  cleanupPromise ??= doCleanup(state, docker);
  return cleanupPromise;
}

async function doCleanup(state: CleanupState, docker: string | undefined): Promise<string[]> {
  stopping = true;
  const problems: string[] = [];
  const note = (p: string): void => {
    problems.push(p);
    progress(`cleanup: ${p}`);
  };
  for (const c of activeChildren) c.kill('SIGKILL');
  for (let i = 0; i < 100 && activeChildren.size > 0; i++) await sleep(20);

  for (const d of [...state.daemons].reverse()) {
    const alive = d.child.exitCode === null && d.child.signalCode === null;
    if (alive && docker) {
      // Remove every container, then verify that the daemon lists none and runc knows none.
      const ps = await run(docker, ['ps', '-aq', '--no-trunc'], d.env, { timeoutMs: 30_000, cleanup: true }).catch(() => undefined);
      const ids = ps?.code === 0 ? ps.stdout.split('\n').filter(Boolean) : [];
      if (ids.length) {
        progress(`cleanup: removing ${ids.length} container(s) left in ${d.name}`);
        await run(docker, ['rm', '-f', ...ids], d.env, { timeoutMs: 60_000, cleanup: true }).catch(() => undefined);
      }
      const again = await run(docker, ['ps', '-aq', '--no-trunc'], d.env, { timeoutMs: 30_000, cleanup: true }).catch(() => undefined);
      if (again?.code !== 0) note(`${d.name}: could not list containers`);
      else if (again.stdout.trim()) note(`${d.name} still lists containers: ${again.stdout.trim().split('\n').join(' ')}`);
      else if ((await readdir(d.runcRoot).catch(() => [] as string[])).length === 0) state.verifiedEmpty.push(d.name);
    } else if (!alive) {
      note(`${d.name} had already exited (${d.child.exitCode ?? d.child.signalCode}); log: ${d.logFile}`);
    }
    const tasks = await readdir(d.runcRoot).catch(() => [] as string[]);
    if (tasks.length) note(`${d.name}: runc still has state for ${tasks.join(' ')} in ${d.runcRoot}`);
    await stopDaemon(d, note);
  }

  if (state.root) {
    const root = state.root;
    // dockerd's own containerd (and any shim or conmon) lives on with our temp root in its command line.
    const stray = await processesMentioning(root);
    for (const [pid, cmd] of stray) {
      note(`killing leftover process ${pid} (${cmd.slice(0, 100)})`);
      try {
        process.kill(pid, 'SIGTERM');
      } catch { /* gone */ }
    }
    if (stray.length) {
      await sleep(2000);
      for (const [pid] of stray) if (isAlive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    // Mounts under the temp root (deepest first): a clean shutdown leaves none.
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')
      .map((l) => l.split(' ')[4] ?? '').filter((m) => m === root || m.startsWith(`${root}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      note(`unmounting leftover mount ${m}`);
      await run('umount', ['-l', m], process.env, { cleanup: true }).catch(() => undefined);
    }
  }

  // Cgroups: both daemons used their own parents; runc removes the leaves, we remove the parents.
  for (const d of state.daemons) {
    for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      const dir = `/sys/fs/cgroup/${ctrl}${d.cgroupParent}`;
      if (!existsSync(dir)) continue;
      const kids = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((k) => k.isDirectory());
      for (const k of kids) {
        note(`${d.name}: leftover cgroup ${dir}/${k.name}`);
        await rmdir(`${dir}/${k.name}`).catch(() => {});
      }
      await rmdir(dir).catch((err: Error) => note(`cannot remove cgroup ${dir}: ${err.message}`));
    }
  }

  if (state.bridge) {
    const r = await run('ip', ['link', 'del', BRIDGE], process.env, { cleanup: true }).catch(() => undefined);
    if (r?.code !== 0 && (await run('ip', ['link', 'show', BRIDGE], process.env, { cleanup: true })).code === 0) note(`could not delete bridge ${BRIDGE}`);
    state.bridge = false;
  }
  if (state.root) {
    await rm(state.root, { recursive: true, force: true }).catch((err: Error) => note(`cannot remove ${state.root}: ${err.message}`));
  }
  // Only what dockerd itself created; a directory only if empty (rmdir), never recursively.
  for (const p of state.hostPaths ?? []) {
    if (p.existed || !existsSync(p.path)) continue;
    await (p.dir ? rmdir(p.path) : rm(p.path)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY') note(`cannot remove ${p.path}: ${err.message}`); // else: in use by someone else
    });
  }
  if (state.policyRcCreated) {
    await rm(POLICY_RC, { force: true });
    state.policyRcCreated = false;
  }
  return problems;
}

async function stopDaemon(d: DaemonHandle, note: (p: string) => void): Promise<void> {
  const child = d.child;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const ok = await Promise.race([exited.then(() => true), deadline(30_000)]);
  if (!ok) {
    note(`${d.name} did not stop within 30 s of SIGTERM: killing it`);
    child.kill('SIGKILL');
    await exited;
  }
}

async function processesMentioning(root: string): Promise<[number, string][]> {
  const found: [number, string][] = [];
  for (const p of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(p)) continue;
    const pid = Number(p);
    if (pid === process.pid) continue;
    const cmd = readFileSyncSafe(`/proc/${p}/cmdline`).replace(/\0/g, ' ').trim();
    if (cmd.includes(root) && isAlive(pid)) found.push([pid, cmd]);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Main

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'breakdown-runs': { type: 'string' },
      pause: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number): number => {
    const n = Number(raw ?? def);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const only = values.only;
  if (only !== undefined && only !== 'brig' && only !== 'dockerd') throw new Error('--only must be brig or dockerd');
  return {
    runs: int('runs', values.runs, 20, 1),
    warmup: int('warmup', values.warmup, 2, 0),
    breakdownRuns: int('breakdown-runs', values['breakdown-runs'], 10, 0),
    pauseMs: int('pause', values.pause, 0, 0),
    engines: only ? [only] : ['brig', 'dockerd'],
    json: values.json ?? false,
    check: values.check ?? false,
  };
}

async function main(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const load = loadavg().map((x) => Math.round(x * 100) / 100); // other work on the host skews the numbers
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench/run-latency: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench/run-latency: must run as root (it starts dockerd and brig daemons)\n');
    return 2;
  }
  const state: CleanupState = { verifiedEmpty: [], bridge: false, policyRcCreated: false, daemons: [] };
  let docker: string | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      progress(`${sig} again: still cleaning up, please wait`);
      return;
    }
    interrupted = sig;
    progress(`${sig}: stopping and cleaning up`);
    void cleanup(state, docker).then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  let results: Results | undefined;
  let failure: Error | undefined;
  try {
    docker = dockerCli();
    const useDockerd = o.engines.includes('dockerd');
    const dockerd = useDockerd ? await ensureDockerd(state) : undefined;
    const cliVersion = (await must(docker, ['--version'], process.env)).stdout.trim().replace(/^Docker version /, '');
    state.root = await mkdtemp('/tmp/brig-bench-');
    await chmod(state.root, 0o700);
    const rand = randomBytes(4).toString('hex');

    const daemons: DaemonHandle[] = [];
    if (o.engines.includes('brig')) daemons.push(await startBrig(state, state.root, rand));
    if (dockerd) {
      await createBridge(state);
      daemons.push(await startDockerd(state, state.root, rand, dockerd));
    }
    const tarFile = join(state.root, 'busybox-rootfs.tar');
    await writeBusyboxRootfsTar(BUSYBOX, tarFile);
    const tarDigest = `sha256:${createHash('sha256').update(await readFile(tarFile)).digest('hex')}`;
    for (const d of daemons) {
      d.version = (await must(docker, ['version', '--format', '{{.Server.Version}}'], d.env)).stdout.trim();
      progress(`importing ${IMAGE} into ${d.name} ${d.version}`);
      await importBusybox(docker, d, tarFile);
    }
    const brig = daemons.find((d) => d.name === 'brig');
    const ref = daemons.find((d) => d.name === 'dockerd');
    // Same rootfs: each image's only layer must be the uncompressed tar's digest.
    const image: Results['image'] = { tarDigest, same: false };
    if (brig) image.brigLayers = await rootfsLayers(docker, brig);
    if (ref) image.dockerdLayers = await rootfsLayers(docker, ref);
    image.same = [image.brigLayers, image.dockerdLayers].every((l) => l === undefined || (l.length === 1 && l[0] === tarDigest));

    const cases: CaseResult[] = [];
    for (const c of CASES) cases.push(await benchCase(docker, c, daemons, o));
    const bd = brig && o.breakdownRuns > 0 ? await breakdown(docker, brig, o.breakdownRuns) : undefined;

    results = {
      host: { kernel: release(), cpus: cpus().length, loadavgAtStart: load, cli: docker, cliVersion, ...(ref?.version ? { dockerd: ref.version } : {}), ...(brig?.version ? { brig: brig.version } : {}) },
      runs: o.runs,
      warmup: o.warmup,
      image,
      cases,
      ...(bd ? { breakdown: bd } : {}),
      benchSeconds: 0,
      cleanup: [],
      noContainersLeft: [],
    };
    const head = cases.find((c) => c.name === 'none');
    if (head?.brig && head.dockerd) {
      const medianOk = head.brig.median <= GOAL_MEDIAN_S;
      const ratioOk = head.brig.median <= head.dockerd.median * GOAL_RATIO;
      results.goal = {
        case: 'none', brigMedian: head.brig.median, dockerdMedian: head.dockerd.median, maxMedian: GOAL_MEDIAN_S, maxRatio: GOAL_RATIO,
        medianOk, ratioOk, met: medianOk && ratioOk,
      };
    }
  } catch (err) {
    failure = err as Error;
  } finally {
    const problems = await cleanup(state, docker);
    if (results) {
      results.cleanup = problems;
      results.noContainersLeft = state.verifiedEmpty;
    }
    else if (problems.length && !failure) failure = new Error(`cleanup problems: ${problems.join('; ')}`);
  }
  if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
  if (failure) {
    process.stderr.write(`bench/run-latency: ${failure.message}\n`);
    return 1;
  }
  const r = results!;
  r.benchSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${report(r)}\n`);
  if (r.cleanup.length) return 1;
  if (o.check && !(r.goal?.met ?? false)) return 1;
  return 0;
}

process.exitCode = await main();
