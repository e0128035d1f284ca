/**
 * SeqpacketConnection against a real conmon attach socket (platform.md §1.6): a busybox container
 * started with conmon + runc from a bundle made in a temp dir, removed afterwards.
 * Proves: stream ids 2/3, stdin bytes, half-close = container stdin EOF, EOF when the task exits,
 * conmon's 32 KiB limit per stdin message, and what a paused reader does to conmon (it blocks:
 * the container's output and log stall, nothing is dropped). Needs root, conmon and runc.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { SeqpacketConnection } from './seqpacket.js';

const RUNC = '/usr/sbin/runc';
const CONMON = '/usr/bin/conmon';
const skip =
  process.getuid?.() !== 0 ? 'requires root' : !existsSync(RUNC) || !existsSync(CONMON) || !existsSync('/bin/busybox') ? 'needs runc, conmon and busybox-static' : false;

interface Task {
  id: string;
  bundle: string;
  log: string;
  attachPath: string;
  exitFile: string;
  start(): void;
  exitCode(): Promise<number>;
}

/** Bundle (busybox rootfs + runc spec), then `conmon … runc create`, as runtime/runc-conmon.ts does. */
async function createTask(t: TestContext, script: string): Promise<Task> {
  const base = mkdtempSync(join(tmpdir(), 'brig-conmon-'));
  const id = randomBytes(32).toString('hex');
  const bundle = join(base, 'bundle');
  const runcRoot = join(base, 'runc');
  const exitDir = join(base, 'exits');
  const sockDir = join(base, 's');
  for (const d of [join(bundle, 'rootfs/bin'), runcRoot, exitDir, sockDir]) mkdirSync(d, { recursive: true });
  copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
  for (const applet of ['sh', 'cat', 'wc', 'head', 'seq', 'sleep', 'dd']) symlinkSync('busybox', join(bundle, 'rootfs/bin', applet));
  execFileSync(RUNC, ['spec', '--bundle', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/sh', '-c', script];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const log = join(bundle, 'ctr.log');
  t.after(async () => {
    await once(spawn(RUNC, ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' }), 'exit');
    rmSync(base, { recursive: true, force: true });
  });
  const conmon = spawn(
    CONMON,
    ['--api-version', '1', '-c', id, '-u', id.slice(0, 16), '-n', id, '-r', RUNC, '--runtime-arg', '--root', '--runtime-arg', runcRoot,
      '-b', bundle, '-p', join(bundle, 'pidfile'), '-P', join(bundle, 'conmon.pid'), '--exit-dir', exitDir,
      '--socket-dir-path', sockDir, '-l', `k8s-file:${log}`, '--log-level', 'error', '--no-sync-log', '-i'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' }, detached: true },
  );
  const sync = conmon.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  let stderr = '';
  conmon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(conmon, 'exit'); // the first conmon process exits after forking its monitor
  (conmon.stdio[4] as NodeJS.WritableStream).end(Buffer.from([0]));
  const reply = await new Promise<string>((resolve) => {
    let buf = '';
    sync.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf);
    });
    sync.on('end', () => resolve(buf));
  });
  sync.destroy();
  await exited;
  conmon.unref();
  assert.match(reply, /"data":\s*[1-9]/, `conmon reported a pid: ${reply} ${stderr}`);
  return {
    id,
    bundle,
    log,
    attachPath: join(sockDir, id.slice(0, 16), 'attach'),
    exitFile: join(exitDir, id),
    start: () => execFileSync(RUNC, ['--root', runcRoot, 'start', id]),
    exitCode: async () => {
      const file = join(exitDir, id);
      for (let i = 0; i < 500 && !(existsSync(file) && readFileSync(file, 'utf8').trim() !== ''); i++) await new Promise((r) => setTimeout(r, 20));
      return Number(readFileSync(file, 'utf8'));
    },
  };
}

/** Collects output by stream id until the attach socket ends. */
function output(conn: SeqpacketConnection): Promise<{ stdout: string; stderr: string; messages: number }> {
  const r = { stdout: '', stderr: '', messages: 0 };
  conn.on('message', (m) => {
    r.messages++;
    assert.ok(m.length >= 2 && m.length <= 8193, `message of ${m.length} bytes`);
    if (m[0] === 2) r.stdout += m.subarray(1).toString();
    else if (m[0] === 3) r.stderr += m.subarray(1).toString();
    else assert.fail(`unexpected stream id ${m[0]}`);
  });
  return new Promise((resolve, reject) => {
    conn.once('end', () => resolve(r));
    conn.once('error', reject);
  });
}

test('conmon attach: stream ids, stdin, half-close is the container stdin EOF, EOF at exit', { skip, timeout: 60_000 }, async (t) => {
  const task = await createTask(t, 'echo out; echo err >&2; while read l; do echo "got: $l"; done; echo stdin-closed; exit 7');
  const conn = await SeqpacketConnection.connect(task.attachPath);
  t.after(() => conn.close());
  const result = output(conn);
  task.start();
  conn.write(Buffer.from('hello\nwor'));
  conn.write(Buffer.from('ld\n'));
  conn.shutdownWrite();
  const r = await result;
  assert.equal(r.stdout, 'out\ngot: hello\ngot: world\nstdin-closed\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(await task.exitCode(), 7);
});

test('conmon cuts a stdin message at 32 KiB: 32 KiB messages carry 200 KiB whole', { skip, timeout: 60_000 }, async (t) => {
  const task = await createTask(t, 'wc -c');
  const conn = await SeqpacketConnection.connect(task.attachPath);
  t.after(() => conn.close());
  const result = output(conn);
  task.start();
  const data = randomBytes(200 * 1024);
  for (let off = 0; off < data.length; off += 32 * 1024) conn.write(data.subarray(off, off + 32 * 1024));
  conn.shutdownWrite();
  assert.equal((await result).stdout.trim(), String(200 * 1024));

  const task2 = await createTask(t, 'wc -c');
  const conn2 = await SeqpacketConnection.connect(task2.attachPath);
  t.after(() => conn2.close());
  const result2 = output(conn2);
  task2.start();
  conn2.write(randomBytes(64 * 1024)); // one message: conmon reads 32 KiB of it
  conn2.shutdownWrite();
  assert.equal((await result2).stdout.trim(), String(32 * 1024), 'why runc-conmon.ts splits stdin into 32 KiB messages');
});

test('a paused reader blocks conmon: output and log stall, resume delivers everything in order', { skip, timeout: 60_000 }, async (t) => {
  const lines = 300_000; // ~2 MiB: more than the socket and pipe buffers hold
  const task = await createTask(t, `seq 1 ${lines}`);
  const conn = await SeqpacketConnection.connect(task.attachPath);
  t.after(() => conn.close());
  const result = output(conn);
  conn.pause();
  task.start();
  await new Promise((r) => setTimeout(r, 700));
  const stalledAt = statSync(task.log).size;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(statSync(task.log).size, stalledAt, 'conmon is blocked: the log does not grow');
  assert.ok(!existsSync(task.exitFile), 'still running');
  conn.resume();
  const r = await result;
  const expected = Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join('');
  assert.equal(r.stdout, expected, 'nothing dropped, order kept');
  assert.equal(await task.exitCode(), 0);
  const logSize = statSync(task.log).size;
  t.diagnostic(`log stalled at ${stalledAt} of ${logSize} bytes while paused; ${r.messages} messages received`);
  assert.ok(stalledAt < logSize / 2, 'the stall happened long before all output was produced');
});
