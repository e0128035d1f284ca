/**
 * Integration test harness: a real `brig daemon` on a temporary socket, data root, run root and
 * cgroup parent, driven through the real docker CLI, brig's CLI and raw HTTP. `stop()` removes
 * every container, stops the daemon and fails the test if anything of it is left on the host.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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
  #child: ChildProcess | undefined;
  #log = '';

  constructor(root: string) {
    this.root = root;
    this.socket = join(root, 'brig.sock');
    this.dataRoot = join(root, 'data');
    this.runRoot = join(root, 'run');
    this.cgroupParent = `/${root.split('/').pop()}`;
    this.configDir = join(root, 'docker-config');
  }

  get log(): string {
    return this.#log;
  }

  /** Starts (or restarts) the daemon process and waits until it answers `/_ping`. */
  async startProcess(options: DaemonOptions = {}): Promise<void> {
    const args = [
      BRIG, 'daemon', '--socket', this.socket, '--data-root', this.dataRoot, '--run-root', this.runRoot,
      '--cgroup-parent', this.cgroupParent, ...(options.compat ? ['--compat', options.compat] : []), ...(options.extraArgs ?? []),
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
    await rm(this.root, { recursive: true, force: true });
    assert.deepEqual({ leftMounts, tasks, cgroups }, { leftMounts: [], tasks: [], cgroups: [] }, `daemon ${this.root} left state behind`);
  }
}

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
