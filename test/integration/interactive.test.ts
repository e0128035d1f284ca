/**
 * Interactive sessions through the real docker CLI on a real pseudo-terminal (test/fixtures/
 * pty-run.py): `run -it`, terminal size at start and after a resize (SIGWINCH → POST resize),
 * detach keys (default and --detach-keys), re-attach, `start -ai`, exit codes, `run -i` with a
 * half-closed pipe, and the CLI exiting promptly when the container exits while its input stays
 * open (also under a flood of input, where output must not be lost). `exec -it` is in exec.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerBinary, REPO, startDaemon, type TestDaemon } from './harness.js';

const DRIVER = join(REPO, 'test', 'fixtures', 'pty-run.py');
/** busybox ash's prompt (it may be followed by a cursor position query, ESC [6n). */
const PROMPT = /\/ # /;

/** A docker CLI process on a pseudo-terminal, driven live. */
class PtySession {
  readonly #child: ChildProcessWithoutNullStreams;
  #out = Buffer.alloc(0);
  #stderr = '';
  readonly #waiters = new Set<() => void>();
  readonly started = Date.now();
  /** Resolves with the CLI's exit code and when it exited (ms since the epoch). */
  readonly exited: Promise<{ code: number; at: number }>;

  constructor(d: TestDaemon, args: string[], options: { rows?: number; cols?: number; stdinPipe?: boolean } = {}) {
    const driverArgs = [DRIVER, '--rows', String(options.rows ?? 24), '--cols', String(options.cols ?? 80)];
    if (options.stdinPipe) driverArgs.push('--stdin-pipe');
    this.#child = spawn('python3', [...driverArgs, '--', dockerBinary(), ...args], { env: { ...d.env(), TERM: 'xterm' } });
    this.#child.stdout.on('data', (b: Buffer) => {
      this.#out = Buffer.concat([this.#out, b]);
      for (const w of [...this.#waiters]) w();
    });
    this.#child.stderr.on('data', (b: Buffer) => (this.#stderr += b.toString()));
    this.exited = new Promise((resolve) => {
      this.#child.on('close', (code) => {
        resolve({ code: code ?? -1, at: Date.now() });
        for (const w of [...this.#waiters]) w();
      });
    });
  }

  /** Everything the terminal showed so far (CRs removed, so `\r\n` reads as `\n`). */
  get output(): string {
    return this.#out.toString('utf8').replace(/\r/g, '');
  }

  /** A position in the output, for waiting on what comes after it. */
  mark(): number {
    return this.output.length;
  }

  /** Types keystrokes (or writes the stdin pipe with `stdinPipe`). */
  send(data: string | Buffer): void {
    this.#child.stdin.write(`w ${Buffer.from(data).toString('base64')}\n`);
  }

  /** Writes `bytes` bytes of "y\n" into the input (a flood). */
  flood(bytes: number): void {
    this.#child.stdin.write(`y ${bytes}\n`);
  }

  /** Sets the terminal size; the CLI gets SIGWINCH. */
  resize(rows: number, cols: number): void {
    this.#child.stdin.write(`r ${rows} ${cols}\n`);
  }

  /** Closes the CLI's stdin (with `stdinPipe`). */
  closeInput(): void {
    this.#child.stdin.write('c\n');
  }

  /** Waits until the output after `from` matches; fails with the whole transcript. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.slice(from).match(pattern);
      if (m) return m;
      if (this.#child.exitCode !== null || Date.now() > deadline) {
        assert.fail(`no ${pattern} in the terminal after ${Date.now() - this.started} ms (CLI ${this.#child.exitCode === null ? 'running' : `exited ${this.#child.exitCode}`}):\n${JSON.stringify(this.output)}\n${this.#stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 100);
        const waiters = this.#waiters;
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** Waits for the CLI to exit within `ms`; fails (and kills it) otherwise. */
  async exitWithin(ms: number): Promise<number> {
    const r = await Promise.race([this.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);
    if (r === undefined) {
      this.kill();
      assert.fail(`the docker CLI did not exit within ${ms} ms:\n${JSON.stringify(this.output)}\n${this.#stderr}`);
    }
    return r.code;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

describe('interactive sessions on a pseudo-terminal (docker CLI)', () => {
  let d: TestDaemon;
  const sessions: PtySession[] = [];
  const session = (args: string[], options?: ConstructorParameters<typeof PtySession>[2]) => {
    const s = new PtySession(d, args, options);
    sessions.push(s);
    return s;
  };
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    for (const s of sessions) s.kill();
    await d?.stop();
  });

  const inspect = async (name: string, format: string) => (await d.docker(['inspect', '-f', format, name])).stdout.trim();

  test('run -it: prompt, echo, stty size at start and after a resize, exit 5', async () => {
    const s = session(['run', '-it', '--rm', '--name', 'tty1', 'busybox', 'sh'], { rows: 40, cols: 120 });
    await s.waitFor(PROMPT);
    let at = s.mark();
    s.send('echo hello-$((40+2))\r');
    await s.waitFor(/echo hello-\$\(\(40\+2\)\)\nhello-42\n/, at);
    at = s.mark();
    s.send('stty size\r');
    await s.waitFor(/stty size\n40 120\n/, at);
    s.resize(50, 132);
    // The CLI sends POST /containers/{id}/resize on SIGWINCH; poll until the size arrived.
    let seen = '';
    for (let i = 0; i < 30 && seen !== '50 132'; i++) {
      at = s.mark();
      s.send('stty size\r');
      seen = (await s.waitFor(/stty size\n(\d+ \d+)\n/, at))[1]!;
      if (seen !== '50 132') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen, '50 132');
    s.send('exit 5\r');
    assert.equal(await s.exitWithin(5_000), 5);
    for (let i = 0; i < 50 && (await d.docker(['ps', '-aq', '--filter', 'name=tty1'])).stdout.trim() !== ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await d.docker(['ps', '-aq', '--filter', 'name=tty1'])).stdout.trim(), '', '--rm container removed');
  });

  test('ctrl-p ctrl-q detaches and the container keeps running; attach --detach-keys ctrl-x,x', async () => {
    const s = session(['run', '-it', '--name', 'det', 'busybox', 'sh']);
    await s.waitFor(PROMPT);
    s.send('echo one\r');
    await s.waitFor(/one\n/);
    s.send('\x10\x11');
    assert.equal(await s.exitWithin(5_000), 0);
    assert.equal(await inspect('det', '{{.State.Running}}'), 'true');

    // Re-attach with other keys: ctrl-p ctrl-q is now ordinary input, ctrl-x x detaches.
    const a = session(['attach', '--detach-keys', 'ctrl-x,x', 'det']);
    await new Promise((r) => setTimeout(r, 300)); // attach gets only output produced after it connects
    let at = a.mark();
    a.send('echo two-$((1+1))\r');
    await a.waitFor(/two-2\n/, at);
    a.send('\x18x');
    // `docker attach` reports a detach as an error of its own (exit 1); `docker run` does not.
    assert.equal(await a.exitWithin(5_000), 1);
    assert.match(a.output, /read escape sequence/);
    assert.equal(await inspect('det', '{{.State.Running}}'), 'true');

    // The shell is still the same one, and exiting it through a third session ends the container.
    const b = session(['attach', 'det']);
    await new Promise((r) => setTimeout(r, 300));
    at = b.mark();
    b.send('echo three\r');
    await b.waitFor(/three\n/, at);
    b.send('exit 6\r');
    assert.equal(await b.exitWithin(5_000), 6);
    assert.equal(await inspect('det', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 6');
  });

  test('start -ai attaches to a created TTY container and returns its exit code', async () => {
    const c = await d.docker(['create', '-it', '--name', 'st', 'busybox', 'sh']);
    assert.equal(c.code, 0, c.stderr);
    const s = session(['start', '-ai', 'st'], { rows: 30, cols: 100 });
    await s.waitFor(PROMPT);
    const at = s.mark();
    s.send('stty size; echo started-$((2+3))\r');
    await s.waitFor(/30 100\nstarted-5\n/, at);
    s.send('exit 7\r');
    assert.equal(await s.exitWithin(5_000), 7);
    assert.equal(await inspect('st', '{{.State.ExitCode}}'), '7');
  });

  test('run -i: piped input, then closing it ends the container (half-close)', async () => {
    const s = session(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done; exit 2'], { stdinPipe: true });
    s.send('line1\nline2\n');
    await s.waitFor(/line1\nline2\n/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.output.includes('done'), false, 'cat still reads');
    s.closeInput();
    await s.waitFor(/done\n/);
    assert.equal(await s.exitWithin(5_000), 2);
  });

  test('the CLI exits promptly when the container exits while its input stays open', async () => {
    // -it: the terminal stays open, nothing typed.
    const t = session(['run', '-it', '--rm', 'busybox', 'sh', '-c', 'echo tty-bye; sleep 0.3; exit 4']);
    // -i: a pipe that is never closed.
    const p = session(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'echo pipe-bye; sleep 0.3; exit 3'], { stdinPipe: true });
    await t.waitFor(/tty-bye\n/);
    await p.waitFor(/pipe-bye\n/);
    assert.equal(await t.exitWithin(5_000), 4);
    assert.equal(await p.exitWithin(5_000), 3);
 
    // A TTY container that exits at once races the CLI's first resize (sent right after start):
    // a resize that reached brig after conmon had gone used to block forever, and the CLI with it.
    for (let i = 0; i < 5; i++) {
      const q = session(['run', '-it', '--rm', 'busybox', 'true']);
      assert.equal(await q.exitWithin(5_000), 0, `run ${i}`);
    }
  });

  test('a flood of input to an exiting container: its output arrives and the CLI exits', async () => {
    for (const tty of [false, true]) {
      const s = session(['run', tty ? '-it' : '-i', '--rm', 'busybox', 'sh', '-c', 'head -n1 >/dev/null; echo got-line; exit 3'], { stdinPipe: !tty });
      s.flood(4 * 1024 * 1024);
      assert.equal(await s.exitWithin(10_000), 3, `tty=${tty}`);
      assert.match(s.output, /got-line\n/, `tty=${tty}: output lost`);
    }
  });
});
