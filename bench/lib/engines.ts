/**
 * The two engines every bench compares, and the harness that runs a bench between them.
 *
 * `runBench()` starts a reference dockerd (Debian's docker.io 20.10) and a brig daemon side by side,
 * both private and temporary: the dockerd on its own socket, data root, exec root, pid file, config
 * file, cgroup parent and bridge (`brigbench0`, 10.213.250.1/24, with its iptables rules), and brig
 * on its own socket, data root, run root, cgroup parent, bridge (`brigbench1`) and address pool
 * (10.213.252.0/22), all under `/tmp/brig-bench-*`. Both get the same busybox rootfs
 * (built from the host's /bin/busybox) as busybox:latest. The bench then drives both with the same
 * docker CLI. On every exit path, Ctrl-C included, the containers, daemons, bridges, the iptables
 * rules and chains both engines added, cgroups, temp dirs and the files dockerd writes outside its
 * roots are removed again, and leftovers are reported.
 *
 * Common options: --only ENGINE, --json, --check (exit 1 when brig misses the bench's goal) and
 * --brig-debug (brig logs every request with its duration; the bench prints the slowest routes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { writeBusyboxRootfsTar } from '../../src/cli/busybox-rootfs.js';
import { addedItems } from '../../test/leaks.js';
import { iptablesCleanup, parseIptablesSave } from './firewall.js';
import {
  deadline, httpRequest, isAlive, killChildren, mapLimit, must, ping, progress, readFileSyncSafe, run, setStopping, sleep,
  isStopping, type HttpResult, type ProcResult, type RunOptions,
} from './process.js';
import { f3, stats } from './stats.js';

const REPO = new URL('../../../', import.meta.url).pathname;
const BRIG = join(REPO, 'bin', 'brig');
export const BUSYBOX = '/bin/busybox';
export const IMAGE = 'busybox:latest';
export const BRIDGE = 'brigbench0';
const BRIDGE_ADDR = '10.213.250.1/24';
/** brig's default bridge and address pool in the benches (daemon options `--bridge-name`, `--default-address-pool`). */
export const BRIG_BRIDGE = 'brigbench1';
const BRIG_POOL = 'base=10.213.252.0/22,size=22';
/** What in iptables is the benches' (both engines' bridges and subnets); DOCKER* chains count too. */
const BENCH_NET = /brigbench|10\.213\.25[0-5]\./;
/** Of that, brig's: left after brig stopped with no container, it is a brig leak worth reporting. */
const BRIG_NET = /brigbench1|10\.213\.25[2-5]\./;
const POLICY_RC = '/usr/sbin/policy-rc.d';

export type EngineName = 'brig' | 'dockerd';

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
    await writeFile(POLICY_RC, '#!/bin/sh\n# created by a brig bench (bench/lib/engines.ts): never start services\nexit 101\n');
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

export interface DaemonHandle {
  name: EngineName;
  socket: string;
  child: ChildProcess;
  logFile: string;
  /** The docker CLI's environment for this daemon. */
  env: NodeJS.ProcessEnv;
  cgroupParent: string;
  /** Where the daemon's runc keeps container state (checked to be empty at the end). */
  runcRoot: string;
  /** The daemon's private data root (--data-root). */
  dataRoot: string;
  version?: string;
  /**
   * brig only: why its containers cannot get a network of the bench's own (the daemon options it
   * lacks); its default network is then not a bridge, so a bench must not time bridge cases on it.
   */
  noBridge?: string;
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
  /** A bench's own cleanups (BenchContext.onCleanup), run last first right after the running commands are killed. */
  benchCleanups: (() => Promise<void>)[];
  /** iptables-save and ip6tables-save (parsed) before the daemons started: what appears later and is the bench's is removed. */
  iptablesBefore?: string[];
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
  if (isStopping()) throw new Error('interrupted');
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
    if (isStopping()) throw new Error('interrupted');
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
    // Its bridge network as Docker sets it up (NAT and filter rules; removed by the cleanup, dockerd keeps them).
    '--iptables=true',
    '--ip-masq=true',
    '--ip-forward=false', // else dockerd sets net.ipv4.ip_forward=1 and the FORWARD policy DROP on the host
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
    cgroupParent, runcRoot: join(execRoot, 'runtime-runc', 'moby'), dataRoot: join(dir, 'data'),
  }, dockerd, args, 60_000);
}

async function startBrig(state: CleanupState, root: string, rand: string, debug: boolean): Promise<DaemonHandle> {
  if (!existsSync(BRIG)) throw new Error(`${BRIG} does not exist (is brig built? run scripts/setup.sh)`);
  const dir = join(root, 'brig');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'brig.sock');
  const runRoot = join(dir, 'run');
  const cgroupParent = `/brig-bench-${rand}`;
  const args = [BRIG, 'daemon', '--socket', socket, '--data-root', join(dir, 'data'), '--run-root', runRoot, '--cgroup-parent', cgroupParent];
  // Its own bridge and addresses, never the host's brig0 and pool; a brig without these options has no bridge network.
  const help = (await run(process.execPath, [BRIG, 'daemon', '--help'], process.env)).stdout;
  const lacking = ['--bridge-name', '--default-address-pool'].filter((o) => !help.includes(o));
  if (lacking.length === 0) args.push('--bridge-name', BRIG_BRIDGE, '--default-address-pool', BRIG_POOL);
  if (debug) args.push('--debug');
  progress(`starting the brig daemon on ${socket}${debug ? ' (--debug: every request is logged with its duration)' : ''}`);
  return spawnDaemon(state, {
    name: 'brig', socket, logFile: join(dir, 'brig.log'), env: cliEnv(socket, join(dir, 'cli-config')),
    cgroupParent, runcRoot: join(runRoot, 'runc'), dataRoot: join(dir, 'data'),
    ...(lacking.length ? { noBridge: `brig daemon has no ${lacking.join(' or ')} option (issue 5): the bench cannot give it a bridge of its own` } : {}),
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
// brig's request log (--brig-debug)

export interface RouteTiming {
  /** Method and path, the API version dropped and IDs/names replaced by {id}. */
  route: string;
  count: number;
  medianMs: number;
  maxMs: number;
  totalMs: number;
}

const COLLECTION_WORDS = new Set(['json', 'create', 'prune', 'load', 'search', 'get']);

function routeOf(method: string, url: string): string {
  const [path = '', query] = url.split('?', 2);
  const parts = path.replace(/^\/v[0-9.]+\//, '/').split('/');
  if (['containers', 'exec', 'images'].includes(parts[1] ?? '') && parts[2] !== undefined && !COLLECTION_WORDS.has(parts[2])) parts[2] = '{id}';
  const keys = query ? [...new URLSearchParams(query).keys()].sort().join('&') : '';
  return `${method} ${parts.join('/')}${keys ? `?${keys}` : ''}`;
}

/** Per-route request timings from brig's `--debug` log, from byte `from` on; slowest total first. */
async function requestTimings(logFile: string, from: number): Promise<RouteTiming[]> {
  const text = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(from).toString('utf8');
  const byRoute = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z]+) (\S+) (\d+) (\d+)ms$/.exec(line);
    if (!m) continue;
    const route = routeOf(m[1]!, m[2]!);
    let list = byRoute.get(route);
    if (!list) byRoute.set(route, (list = []));
    list.push(Number(m[4]));
  }
  return [...byRoute].map(([route, ms]) => {
    const s = stats(ms);
    return { route, count: ms.length, medianMs: s.median, maxMs: s.max, totalMs: ms.reduce((a, b) => a + b, 0) };
  }).sort((a, b) => b.totalMs - a.totalMs);
}

// ---------------------------------------------------------------------------------------------
// Cleanup

let cleanupPromise: Promise<string[]> | undefined;

function cleanup(state: CleanupState, docker: string | undefined): Promise<string[]> {
  cleanupPromise ??= doCleanup(state, docker);
  return cleanupPromise;
}

async function doCleanup(state: CleanupState, docker: string | undefined): Promise<string[]> {
  setStopping();
  const problems: string[] = [];
  const note = (p: string): void => {
    problems.push(p);
    progress(`cleanup: ${p}`);
  };
  await killChildren();
  for (const fn of state.benchCleanups.splice(0).reverse()) {
    await fn().catch((err: Error) => note(`bench cleanup failed: ${err.message}`));
  }

  for (const d of [...state.daemons].reverse()) {
    const alive = d.child.exitCode === null && d.child.signalCode === null;
    if (alive && docker) {
      // Remove every container, then verify that the daemon lists none and runc knows none. An
      // interrupted bench can leave requests in flight (a create or start racing the removal):
      // the removal is tried again after a pause.
      const list = async (): Promise<string[] | undefined> => {
        const ps = await run(docker, ['ps', '-aq', '--no-trunc'], d.env, { timeoutMs: 30_000, cleanup: true }).catch(() => undefined);
        return ps?.code === 0 ? ps.stdout.split('\n').filter(Boolean) : undefined;
      };
      let ids = await list();
      for (let attempt = 0; attempt < 3 && ids?.length; attempt++) {
        if (attempt > 0) await sleep(1000);
        progress(`cleanup: removing ${ids.length} container(s) left in ${d.name}`);
        await run(docker, ['rm', '-f', ...ids], d.env, { timeoutMs: 120_000, cleanup: true }).catch(() => undefined);
        ids = await list();
      }
      if (ids === undefined) note(`${d.name}: could not list containers`);
      else if (ids.length) note(`${d.name} still lists containers: ${ids.join(' ')}`);
      else if ((await readdir(d.runcRoot).catch(() => [] as string[])).length === 0) state.verifiedEmpty.push(d.name);
    } else if (!alive) {
      note(`${d.name} had already exited (${d.child.exitCode ?? d.child.signalCode}); log: ${d.logFile}`);
    }
    await stopDaemon(d, note);
    // Last resort for containers the daemon did not remove: runc kills and deletes them (and their cgroups).
    const tasks = await readdir(d.runcRoot).catch(() => [] as string[]);
    if (tasks.length) note(`${d.name}: runc still has state for ${tasks.join(' ')} in ${d.runcRoot}: runc delete --force`);
    for (const id of tasks) await run('runc', ['--root', d.runcRoot, 'delete', '--force', id], process.env, { cleanup: true }).catch(() => undefined);
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

  await cleanupNetwork(state, note);
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

/** Both families' iptables-save output as parseIptablesSave lines. */
async function iptablesLines(): Promise<string[]> {
  const out: string[] = [];
  for (const [family, bin] of [['ip', 'iptables-save'], ['ip6', 'ip6tables-save']] as const) {
    const r = await run(bin, [], process.env, { cleanup: true });
    if (r.code !== 0) throw new Error(`${bin} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
    out.push(...parseIptablesSave(family, r.stdout));
  }
  return out;
}

/**
 * After the daemons stopped: brig's bridge (and any veth still on a bench bridge) and the iptables
 * rules and chains of both engines. dockerd keeps its chains by design; brig's own leftovers are reported.
 */
async function cleanupNetwork(state: CleanupState, note: (p: string) => void): Promise<void> {
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'], process.env, { cleanup: true })).stdout || '[]') as { ifname: string; master?: string }[];
  for (const l of links.filter((x) => x.master?.startsWith('brigbench'))) {
    note(`deleting ${l.ifname}, left on bridge ${l.master}`);
    await run('ip', ['link', 'del', l.ifname], process.env, { cleanup: true });
  }
  if (links.some((l) => l.ifname === BRIG_BRIDGE)) {
    note(`brig left its bridge ${BRIG_BRIDGE}: deleting it`);
    await run('ip', ['link', 'del', BRIG_BRIDGE], process.env, { cleanup: true });
  }
  const before = state.iptablesBefore;
  if (!before) return;
  let after: string[];
  try {
    after = await iptablesLines();
  } catch (err) {
    note(`cannot read iptables to remove the engines' rules: ${(err as Error).message}`);
    return;
  }
  const brigLeft = addedItems(before, after).filter((x) => BRIG_NET.test(x));
  if (brigLeft.length) note(`brig left ${brigLeft.length} iptables rule(s) of its network: ${brigLeft.join('; ')}`);
  const cmds = iptablesCleanup(before, after, BENCH_NET);
  if (cmds.length) progress(`cleanup: removing ${cmds.filter((c) => c[3] !== '-F').length} iptables rule(s) and chain(s) of the engines`);
  for (const [bin, ...args] of cmds) {
    const r = await run(bin!, args, process.env, { cleanup: true });
    if (r.code !== 0) note(`${bin} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  }
  const left = iptablesCleanup(before, await iptablesLines().catch(() => after), BENCH_NET);
  if (left.length) note(`iptables still has the engines' rules or chains (${left.length} command(s) would remove them)`);
  state.iptablesBefore = undefined;
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
// The harness

export interface HostInfo {
  kernel: string;
  cpus: number;
  loadavgAtStart: number[];
  cli: string;
  cliVersion: string;
  dockerd?: string;
  brig?: string;
}

export interface ImageCheck {
  tarDigest: string;
  brigLayers?: string[];
  dockerdLayers?: string[];
  same: boolean;
}

export interface CommonOptions {
  engines: EngineName[];
  json: boolean;
  check: boolean;
  brigDebug: boolean;
}

/** What a bench gets: the started engines (busybox imported) and ways to drive them. */
export interface BenchContext {
  /** The docker CLI binary. */
  cli: string;
  /** The engines benchmarked, brig first. */
  daemons: DaemonHandle[];
  brig?: DaemonHandle;
  dockerd?: DaemonHandle;
  image: ImageCheck;
  /** Runs the docker CLI against `d`; throws (naming the engine) when it fails. */
  docker(d: DaemonHandle, args: string[], options?: RunOptions): Promise<ProcResult>;
  /**
   * Runs one docker CLI command per element of `argsList` against `d`, all at once or at most
   * `limit` in flight; throws the first failure once all have finished (none is left running).
   */
  dockerMany(d: DaemonHandle, argsList: string[][], limit?: number): Promise<ProcResult[]>;
  /** The wall time of one docker CLI command against `d`, in seconds; throws when it fails. */
  time(d: DaemonHandle, args: string[]): Promise<number>;
  /** One raw HTTP request on `d`'s socket, timed to the last byte; throws unless 2xx. */
  http(d: DaemonHandle, method: string, path: string): Promise<HttpResult>;
  /** IDs of all containers in `d` (docker ps -aq). */
  containerIds(d: DaemonHandle): Promise<string[]>;
  /** Removes every container in `d` (untimed) and checks that none is left. */
  removeAll(d: DaemonHandle): Promise<void>;
  /** With --brig-debug: brig's request timings count from here on (default: from the end of the setup). */
  markRequests(): Promise<void>;
  /** The bench's private temp dir (mode 0700), removed with everything in it by the cleanup. */
  root: string;
  /** Registers `fn` to run in the cleanup on every exit path, Ctrl-C included (last registered runs first). */
  onCleanup(fn: () => Promise<void>): void;
}

/** Every bench's results: the host, the bench's own fields, then the common tail. */
export type BenchResults<B, G extends { met: boolean }> = { host: HostInfo } & B & {
  benchSeconds: number;
  /** Cleanup problems (empty = nothing left behind). */
  cleanup: string[];
  /** Daemons verified to have no containers left before they were stopped. */
  noContainersLeft: EngineName[];
  /** With --brig-debug: brig's request timings during the bench, slowest total first. */
  brigRequests?: RouteTiming[];
  goal?: G;
  /** What the bench could not measure and why (set by the bench: the bench then fails). */
  incomplete?: string[];
};

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

export interface BenchSpec<O, B extends { image: ImageCheck }, G extends { met: boolean }> {
  /** As in `bench/<name>`. */
  name: string;
  /** The report's first words, e.g. `brig run latency`. */
  title: string;
  usage: string;
  /** The bench's integer options, `--name N`: [default, minimum]; read into `o.camelCaseName`. */
  ints: Record<string, [number, number]>;
  /** The bench's other options (the common ones are added). */
  options?: OptionSpecs;
  /** Reads the bench's other options; throws on a bad value. */
  parse?(values: Values): Partial<O>;
  /** The bench proper. `goal` is left out when it cannot be judged (one engine only). */
  run(ctx: BenchContext, o: O & CommonOptions): Promise<{ body: B; goal?: G }>;
  /** The report's second line: what was measured, how. */
  method(r: BenchResults<B, G>): string;
  /** The report between the header (host, method, image) and the footer (request timings, time, cleanup). */
  report(r: BenchResults<B, G>): string[];
}

/** The common options' lines for a bench's usage text. */
export const COMMON_USAGE = `  --only ENGINE        benchmark only brig or only dockerd (for debugging the bench)
  --json               print the results as JSON on stdout (progress still goes to stderr)
  --check              exit 1 when brig misses the goal
  --brig-debug         run brig with --debug and print its slowest request routes
  -h, --help           this text`;

function parseOptions<O, B extends { image: ImageCheck }, G extends { met: boolean }>(spec: BenchSpec<O, B, G>, argv: string[]): O & CommonOptions {
  const ints = Object.entries(spec.ints);
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(ints.map(([name]) => [name, { type: 'string' as const }])),
      ...spec.options,
      only: { type: 'string' },
      json: { type: 'boolean' },
      check: { type: 'boolean' },
      'brig-debug': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${spec.usage}\n`);
    process.exit(0);
  }
  const only = values.only;
  if (only !== undefined && only !== 'brig' && only !== 'dockerd') throw new Error('--only must be brig or dockerd');
  const intValues = ints.map(([name, [def, min]]) => {
    const n = Number((values as Values)[name] ?? def);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), n];
  });
  return {
    ...Object.fromEntries(intValues),
    ...spec.parse?.(values),
    engines: only ? [only] : ['brig', 'dockerd'],
    json: values.json ?? false,
    check: values.check ?? false,
    brigDebug: values['brig-debug'] ?? false,
  } as O & CommonOptions;
}

function context(cli: string, daemons: DaemonHandle[], image: ImageCheck, markRequests: () => Promise<void>, state: CleanupState): BenchContext {
  const docker = async (d: DaemonHandle, args: string[], options: RunOptions = {}): Promise<ProcResult> => {
    const r = await run(cli, args, d.env, options);
    if (r.code !== 0) throw new Error(`${d.name}: \`docker ${args.join(' ')}\` failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
    return r;
  };
  const containerIds = async (d: DaemonHandle): Promise<string[]> =>
    (await docker(d, ['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  const brig = daemons.find((d) => d.name === 'brig');
  const dockerd = daemons.find((d) => d.name === 'dockerd');
  const dockerMany = async (d: DaemonHandle, argsList: string[][], limit = argsList.length): Promise<ProcResult[]> => {
    const settled = await mapLimit(argsList, limit, (args) => docker(d, args).then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    ));
    const failed = settled.filter((s) => !s.ok);
    if (failed[0]) throw new Error(`${failed.length} of ${argsList.length} failed, the first: ${(failed[0].err as Error).message}`);
    return settled.map((s) => (s.ok ? s.r : undefined)).filter((r) => r !== undefined);
  };
  return {
    cli, daemons, image, docker, dockerMany, containerIds, markRequests,
    root: state.root!,
    onCleanup: (fn) => void state.benchCleanups.push(fn),
    ...(brig ? { brig } : {}),
    ...(dockerd ? { dockerd } : {}),
    time: async (d, args) => (await docker(d, args)).seconds,
    async http(d, method, path) {
      const r = await httpRequest(d.socket, method, path);
      if (r.status < 200 || r.status > 299) throw new Error(`${d.name}: ${method} ${path} answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
      return r;
    },
    async removeAll(d) {
      const ids = await containerIds(d);
      if (ids.length) await docker(d, ['rm', '-f', ...ids], { timeoutMs: 300_000 });
      const left = await containerIds(d);
      if (left.length) throw new Error(`${d.name}: ${left.length} container(s) left after docker rm -f`);
    },
  };
}

/** The first line of a report: what ran against what, on which host. */
function hostLine(title: string, host: HostInfo): string {
  const engines = `brig ${host.brig ?? '-'} vs dockerd ${host.dockerd ?? '-'}`;
  return `${title}: ${engines}; docker CLI ${host.cliVersion}; kernel ${host.kernel}, ${host.cpus} CPUs, load average ${host.loadavgAtStart.join(' ')} at start`;
}

function imageLine(image: ImageCheck): string {
  return `busybox rootfs (from ${BUSYBOX}): layer ${image.tarDigest.slice(0, 19)}… ${image.same ? 'identical in both engines' :
    `DIFFERS: tar ${image.tarDigest}, brig ${image.brigLayers?.join(',')}, dockerd ${image.dockerdLayers?.join(',')}`}`;
}

/** The last lines of a report: brig's request timings (--brig-debug), run time and cleanup. */
function footerLines(r: BenchResults<unknown, { met: boolean }>): string[] {
  const out: string[] = [];
  if (r.brigRequests) {
    out.push('');
    out.push(`brig request timings (--debug log, during the bench; slowest total first), ms`);
    out.push(`  ${'route'.padEnd(52)}${'count'.padStart(6)}${'median'.padStart(8)}${'max'.padStart(8)}${'total'.padStart(9)}`);
    for (const t of r.brigRequests.slice(0, 12)) {
      out.push(`  ${t.route.padEnd(52)}${String(t.count).padStart(6)}${String(t.medianMs).padStart(8)}${String(t.maxMs).padStart(8)}${String(t.totalMs).padStart(9)}`);
    }
  }
  out.push('');
  out.push(`bench took ${r.benchSeconds.toFixed(1)} s`);
  out.push(r.cleanup.length ? `cleanup PROBLEMS: ${r.cleanup.join('; ')}` :
    `cleanup: no containers left in ${r.noContainersLeft.join(' or ')} (docker ps -a and runc state empty); daemons stopped; ${r.host.dockerd ? `bridge ${BRIDGE}, ` : ''}the engines' iptables rules, cgroups and temp dir removed`);
  return out;
}

/** A report's goal section: a blank line, `lines(goal)` (what the goal is, how brig did) and the verdict; nothing without a goal. */
export function goalSection<G extends { met: boolean }>(goal: G | undefined, lines: (g: G) => string[]): string[] {
  return goal ? ['', ...lines(goal), `  => goal ${goal.met ? 'MET' : 'NOT MET'}`] : [];
}

/** Two engines' times in one line: `brig 0.123 s, dockerd 0.456 s, brig/dockerd 0.27`. */
export function compareLine(brig: number | undefined, dockerd: number | undefined): string {
  const parts: string[] = [];
  if (brig !== undefined) parts.push(`brig ${f3(brig)} s`);
  if (dockerd !== undefined) parts.push(`dockerd ${f3(dockerd)} s`);
  if (brig !== undefined && dockerd !== undefined) parts.push(`brig/dockerd ${(brig / dockerd).toFixed(2)}`);
  return parts.join(', ');
}

/**
 * Runs a bench: options, root check, both engines with busybox, the bench, the report, and the
 * cleanup on every path (signals included). Returns the exit code.
 */
export async function runBench<O, B extends { image: ImageCheck }, G extends { met: boolean }>(spec: BenchSpec<O, B, G>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const load = loadavg().map((x) => Math.round(x * 100) / 100); // other work on the host skews the numbers
  const prog = `bench/${spec.name}`;
  let o: O & CommonOptions;
  try {
    o = parseOptions(spec, process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${prog}: ${(err as Error).message}\n${spec.usage}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${prog}: must run as root (it starts dockerd and brig daemons)\n`);
    return 2;
  }
  const state: CleanupState = { verifiedEmpty: [], bridge: false, policyRcCreated: false, daemons: [], benchCleanups: [] };
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

  let results: BenchResults<B, G> | undefined;
  let failure: Error | undefined;
  try {
    docker = dockerCli();
    const useDockerd = o.engines.includes('dockerd');
    const dockerd = useDockerd ? await ensureDockerd(state) : undefined;
    const cliVersion = (await must(docker, ['--version'], process.env)).stdout.trim().replace(/^Docker version /, '');
    state.root = await mkdtemp('/tmp/brig-bench-');
    await chmod(state.root, 0o700);
    const rand = randomBytes(4).toString('hex');

    state.iptablesBefore = await iptablesLines();
    const daemons: DaemonHandle[] = [];
    if (o.engines.includes('brig')) daemons.push(await startBrig(state, state.root, rand, o.brigDebug));
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
    const image: ImageCheck = { tarDigest, same: false };
    if (brig) image.brigLayers = await rootfsLayers(docker, brig);
    if (ref) image.dockerdLayers = await rootfsLayers(docker, ref);
    image.same = [image.brigLayers, image.dockerdLayers].every((l) => l === undefined || (l.length === 1 && l[0] === tarDigest));

    const logSize = async (): Promise<number> => (brig ? (await stat(brig.logFile)).size : 0);
    let requestsFrom = await logSize();
    const ctx = context(docker, daemons, image, async () => void (requestsFrom = await logSize()), state);
    const { body, goal } = await spec.run(ctx, o);
    const brigRequests = brig && o.brigDebug ? await requestTimings(brig.logFile, requestsFrom) : undefined;

    const host: HostInfo = {
      kernel: release(), cpus: cpus().length, loadavgAtStart: load, cli: docker, cliVersion,
      ...(ref?.version ? { dockerd: ref.version } : {}), ...(brig?.version ? { brig: brig.version } : {}),
    };
    results = {
      host, ...body, benchSeconds: 0, cleanup: [], noContainersLeft: [],
      ...(brigRequests ? { brigRequests } : {}),
      ...(goal ? { goal } : {}),
    } as BenchResults<B, G>;
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
    process.stderr.write(`${prog}: ${failure.message}\n`);
    return 1;
  }
  const r = results!;
  r.benchSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const text = (): string => [hostLine(spec.title, r.host), spec.method(r), imageLine(r.image), '', ...spec.report(r), ...footerLines(r)].join('\n');
  process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${text()}\n`);
  if (r.incomplete?.length) {
    process.stderr.write(`${prog}: not measured: ${r.incomplete.join('; ')}\n`);
    return 1;
  }
  if (r.cleanup.length) return 1;
  if (o.check && !(r.goal?.met ?? false)) return 1;
  return 0;
}
