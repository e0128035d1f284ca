/** Health-check probes run as exec sessions in the container (the container's own security profile). */
import type { ContainerRecord } from '../model/container.js';
import type { ExecService } from './exec.js';
import { MAX_OUTPUT, type ProbeRunner } from './health.js';

export class ExecProbeRunner implements ProbeRunner {
  readonly #exec: ExecService;

  constructor(exec: ExecService) {
    this.#exec = exec;
  }

  async run(c: ContainerRecord, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const id = await this.#exec.create(c.id, {
      cmd: argv, env: [], user: '', workingDir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true,
      privileged: false, detachKeys: '', consoleSize: null,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (b: Buffer) => {
      if (size >= MAX_OUTPUT) return;
      chunks.push(b.subarray(0, MAX_OUTPUT - size));
      size += Math.min(b.length, MAX_OUTPUT - size);
    };
    let timedOut = false;
    const ended = new Promise<void>((resolve) => {
      void this.#exec.start(id, { detach: false, sink: { stdout: keep, stderr: keep, end: resolve } }).catch(() => resolve());
    });
    const kill = () => {
      const pid = this.#exec.inspect(id).pid;
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal.addEventListener('abort', kill, { once: true });
    try {
      await ended;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
    }
    const rec = this.#exec.inspect(id);
    return { exitCode: rec.exitCode ?? -1, output: Buffer.concat(chunks).toString('utf8'), timedOut };
  }
}
