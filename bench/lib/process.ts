/**
 * Processes and sockets for the benches: timed child processes (every one is tracked, so that the
 * cleanup can kill what is still running), raw HTTP on a UNIX socket, and small helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Readable } from 'node:stream';

export interface RunOptions {
  input?: Buffer | string | Readable;
  timeoutMs?: number;
  /** Runs even while stopping (the cleanup's own commands). */
  cleanup?: boolean;
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from just before spawn() to the process's exit, in seconds. */
  seconds: number;
}

const activeChildren = new Set<ChildProcess>();
let stopping = false;

/** From now on only cleanup commands run; every other run() rejects. */
export function setStopping(): void {
  stopping = true;
}

export function isStopping(): boolean {
  return stopping;
}

/** Kills every child still running (the cleanup's first step) and waits up to 2 s for them to go. */
export async function killChildren(): Promise<void> {
  for (const c of activeChildren) c.kill('SIGKILL');
  for (let i = 0; i < 100 && activeChildren.size > 0; i++) await sleep(20);
}

/** Runs a process to completion, timing its wall time with hrtime. Never rejects on exit codes. */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<ProcResult> {
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
export async function must(file: string, args: string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<ProcResult> {
  const r = await run(file, args, env, options);
  if (r.code !== 0) {
    throw new Error(`\`${[file, ...args].join(' ')}\` failed (${r.code ?? r.signal}):\n${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

export function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A deadline that does not keep the process alive once nothing else is pending. */
export function deadline(ms: number): Promise<false> {
  return new Promise((r) => setTimeout(() => r(false), ms).unref());
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0); PID 1 here reaps lazily). */
export function isAlive(pid: number): boolean {
  const stat = readFileSyncSafe(`/proc/${pid}/stat`);
  if (!stat) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

export function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export interface HttpResult {
  status: number;
  body: Buffer;
  /** From just before the request to the end of the response body, in seconds. */
  seconds: number;
}

/** One HTTP request on a UNIX socket over a fresh connection (no keep-alive), timed to the last byte. */
export function httpRequest(socketPath: string, method: string, path: string, timeoutMs = 30_000): Promise<HttpResult> {
  if (stopping) return Promise.reject(new Error('interrupted'));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request({ socketPath, method, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET /_ping on a UNIX socket; true on 200. */
export function ping(socketPath: string): Promise<boolean> {
  return httpRequest(socketPath, 'GET', '/_ping', 2000).then((r) => r.status === 200, () => false);
}

/** Runs `fn` on every item with at most `limit` calls in flight; results in item order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
