/** Running helper programs (runc, mount helpers) with captured output and a clear error. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
  signal?: AbortSignal;
}

/** Runs `file args` and resolves with its exit code and output; never rejects on a non-zero exit. */
export function execFileResult(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
      timeout: options.timeoutMs,
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      resolve({
        code: code ?? (sig ? 128 + (signalNumber(sig) ?? 0) : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Runs `file args`; rejects with the program's stderr when it exits non-zero. */
export async function execFileChecked(file: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  const r = await execFileResult(file, args, options);
  if (r.code !== 0) {
    const msg = (r.stderr || r.stdout).trim();
    throw new Error(`${file} ${args.join(' ')}: exit ${r.code}${msg ? `: ${msg}` : ''}`);
  }
  return r.stdout;
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return (constants.signals as Record<string, number>)[sig];
}
