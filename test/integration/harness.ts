/**
 * Integration test harness: a real `brig daemon` on a temporary socket, data root, run root and
 * cgroup parent, driven through the real docker CLI, brig's CLI and raw HTTP. `stop()` removes
 * every container, stops the daemon and fails the test if anything of it is left on the host.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { TEST_MARK } from '../leaks.js';

export const REPO = new URL('../../../', import.meta.url).pathname;
export const BRIG = join(REPO, 'bin', 'brig');

/** The docker CLI the tests drive (setup installs Debian's docker.io when neither exists). */
export function dockerBinary(): string {
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (existsSync(p)) return p;
  throw new Error('no docker CLI at /usr/local/bin/docker or /usr/bin/docker: run `npm run setup`');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

export interface DaemonOptions {
  compat?: 'brig' | 'docker';
  extraArgs?: string[];
  /** Import the built-in busybox image (default true). */
  busybox?: boolean;
}

export class TestDaemon {
  readonly root: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly runRoot: string;
  readonly cgroupParent: string;
  readonly configDir: string;
  /** This daemon's own default bridge (`bt<6 hex>`) and address pool (a /22 of 10.213.0.0/16, /24 networks). */
  readonly bridgeName: string;
  readonly addressPool: string;
  /** The pool's four /24s: `subnet(0)` is the default bridge's, 1–3 are free for the test's own networks. */
  subnet(i: number): string {
    const [a, b, c] = this.addressPool.split('/')[0]!.split('.').map(Number) as [number, number, number];
    return `${a}.${b}.${c + i}.0/24`;
  }
  #child: ChildProcess | undefined;
  #log = '';

  constructor(root: string) {
    this.root = root;
    this.socket = join(root, 'brig.sock');
    this.dataRoot = join(root, 'data');
    this.runRoot = join(root, 'run');
    this.cgroupParent = `/${root.split('/').pop()}`;
    this.configDir = join(root, 'docker-config');
    this.bridgeName = `bt${randomBytes(3).toString('hex')}`;
    this.addressPool = freePoolSlice();
  }

  get log(): string {
    return this.#log;
  }

  /** Starts (or restarts) the daemon process and waits until it answers `/_ping`. */
  async startProcess(options: DaemonOptions = {}): Promise<void> {
    const args = [
      BRIG, 'daemon', '--socket', this.socket, '--data-root', this.dataRoot, '--run-root', this.runRoot,
      '--cgroup-parent', this.cgroupParent, '--bridge-name', this.bridgeName, '--default-address-pool', `base=${this.addressPool},size=24`,
      ...(options.compat ? ['--compat', options.compat] : []), ...(options.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`brig daemon exited (${child.exitCode}):\n${this.#log}`);
      try {
        const r = await this.http('GET', '/_ping');
        if (r.status === 200) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`brig daemon did not answer within 15 s:\n${this.#log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the daemon process only (containers keep running), like `systemctl stop` would. */
  async stopProcess(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.#child = undefined;
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      DOCKER_HOST: `unix://${this.socket}`,
      BRIG_HOST: `unix://${this.socket}`,
      DOCKER_CONFIG: this.configDir,
      DOCKER_CLI_HINTS: 'false',
    };
  }

  /** Runs the real docker CLI against this daemon. */
  docker(args: string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
    return runProcess(dockerBinary(), args, this.env(), options);
  }

  /** Runs brig's own CLI against this daemon. */
  brig(args: string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
    return runProcess(process.execPath, [BRIG, ...args], this.env(), options);
  }

  /** A raw HTTP request on the daemon's socket. */
  http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const req = request({
        socketPath: this.socket, method, path,
        headers: { ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) as unknown });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /**
   * Removes all containers, stops the daemon and checks that nothing of it remains: no mounts
   * under its root, no runc tasks, no cgroups under its parent, no processes naming its root.
   */
  async stop(): Promise<void> {
    try {
      if (this.#child) {
        const list = await this.http('GET', '/containers/json?all=1');
        for (const c of list.json() as { Id: string }[]) await this.http('DELETE', `/containers/${c.Id}?force=1`);
      }
    } finally {
      await this.stopProcess();
    }
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    const leftMounts = info.split('\n').filter((l) => l.includes(this.root));
    const runcRoot = join(this.runRoot, 'runc');
    const tasks = existsSync(runcRoot) ? (await readdir(runcRoot)).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
    const cgroups: string[] = [];
    for (const ctrl of await readdir('/sys/fs/cgroup')) {
      const dir = `/sys/fs/cgroup/${ctrl}${this.cgroupParent}`;
      if (!existsSync(dir)) continue;
      const kids = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory());
      cgroups.push(...kids.map((k) => `${dir}/${k.name}`));
      await rmdir(dir).catch(() => {});
    }
    const netns = existsSync(join(this.runRoot, 'netns')) ? await readdir(join(this.runRoot, 'netns')) : [];
    const bridges = (await links()).filter((l) => l === this.bridgeName);
    await rm(this.root, { recursive: true, force: true });
    assert.deepEqual({ leftMounts, tasks, cgroups, netns, bridges }, { leftMounts: [], tasks: [], cgroups: [], netns: [], bridges: [] },
      `daemon ${this.root} left state behind`);
  }
}

/** Names of the host's network interfaces. */
async function links(): Promise<string[]> {
  const r = await runProcess('ip', ['-j', 'link'], process.env);
  return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
}

/**
 * A /22 of 10.213.0.0/16 (third octet 0–44) that no route on the host uses yet: each test daemon
 * gets its own, so daemons of concurrent tests never hand out overlapping subnets.
 */
function freePoolSlice(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  const used = new Set([...routes.matchAll(/\b10\.213\.(\d+)\./g)].map((m) => Math.floor(Number(m[1]) / 4)));
  const free = Array.from({ length: 12 }, (_, i) => i).filter((i) => !used.has(i) && !claimedSlices.has(i));
  if (free.length === 0) throw new Error('no free 10.213.x.0/22 slice for a test daemon (every one has routes)');
  const slice = free[randomBytes(1)[0]! % free.length]!;
  claimedSlices.add(slice);
  return `10.213.${slice * 4}.0/22`;
}
const claimedSlices = new Set<number>();

/** Creates a temp root, starts a daemon there and (by default) imports the built-in busybox image. */
export async function startDaemon(options: DaemonOptions = {}): Promise<TestDaemon> {
  const root = await mkdtemp(`/tmp/${TEST_MARK}`);
  const d = new TestDaemon(root);
  await d.startProcess(options);
  if (options.busybox ?? true) {
    const r = await d.brig(['image', 'builtin', 'busybox:latest']);
    assert.equal(r.code, 0, `importing busybox failed: ${r.stderr}`);
  }
  return d;
}

export function runProcess(file: string, args: string[], env: NodeJS.ProcessEnv, options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} timed out after ${options.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input);
  });
}
