/**
 * Container logs through the real docker CLI: rotation (`--log-opt max-size/max-file`) with
 * `docker logs` and `docker logs -f` across rotations, and `--since/--until/--tail/-t/-f` on a
 * container that has been restarted (its log holds both runs, in rotated files).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerBinary, startDaemon, type TestDaemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `docker logs -f …` in the background: its output so far, and its exit. */
function follow(d: TestDaemon, args: string[]) {
  const child = spawn(dockerBinary(), ['logs', '-f', ...args], { env: d.env() });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return {
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function logFiles(dir: string): Promise<{ name: string; size: number }[]> {
  const names = (await readdir(dir)).filter((n) => /^ctr\.log(\.\d+)?$/.test(n)).sort();
  const out = [];
  for (const name of names) {
    const size = await stat(join(dir, name)).then((s) => s.size, () => -1);
    if (size >= 0) out.push({ name, size });
  }
  return out;
}

/** `2026-11-28T15:21:48.444655662Z` → ns since the epoch. */
function timestampNs(ts: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z$/.exec(ts);
  assert.ok(m, `not an RFC 3339 nano UTC timestamp: ${ts}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt(m[2]!);
}

/** ns → the `<seconds>.<nanoseconds>` form the CLI accepts for --since/--until. */
function unixArg(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

describe('docker logs against brig', () => {
  let d: TestDaemon;
  const followers: { kill(): void }[] = [];
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    for (const f of followers) f.kill();
    await d?.stop();
  });

  test('max-size=10k max-file=3: at most 3 files of ~10 KiB, logs is a contiguous suffix, logs -f sees every line once', async (t) => {
    const maxSize = 10 * 1024;
    // ~200-byte records, one every ~25 ms: a rotation every ~1.3 s.
    const run = await d.docker(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'trap "exit 0" TERM; P=$(printf "%0150d" 0); i=0; while true; do echo "$i $P"; i=$((i+1)); sleep 0.02; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const f = follow(d, ['rot']);
    followers.push(f);
    const dir = join(d.dataRoot, 'containers', id);
    const record = `2026-11-28T00:00:00.000000000+00:00 stdout F 1000 ${'0'.repeat(150)}\n`.length;
    let biggest = 0;
    let maxFiles = 0;
    // Run until a whole file has been dropped: the oldest kept line is well past 0.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const files = await logFiles(dir);
      maxFiles = Math.max(maxFiles, files.length);
      // ctr.log.1 and up are final; ctr.log is still growing (its rotation may be under way).
      for (const file of files) biggest = Math.max(biggest, file.size);
      const oldest = files.at(-1);
      if (files.length === 3 && oldest) {
        const logs = await d.docker(['logs', '--tail', 'all', 'rot']);
        const first = Number(logs.stdout.split('\n')[0]!.split(' ')[0]);
        if (first > 2 * (maxSize / record)) break;
      }
      assert.ok(Date.now() < deadline, `no rotation past 3 files within 30 s: ${JSON.stringify(files)}\n${d.log}`);
      await sleep(200);
    }
    const stop = await d.docker(['stop', '-t', '5', 'rot']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await within(f.exited, 10_000, 'docker logs -f after the container stopped'), 0, f.err);

    const files = await logFiles(dir);
    for (const file of files) biggest = Math.max(biggest, file.size);
    t.diagnostic(`files ${JSON.stringify(files)}; biggest seen ${biggest} bytes (limit ${maxSize}, record ${record})`);
    assert.ok(maxFiles <= 3 && files.length <= 3, `more than 3 files: ${JSON.stringify(files)}`);
    // A file overshoots by what conmon writes while a rotation is under way: allow two records.
    assert.ok(biggest <= maxSize + 2 * record, `a log file reached ${biggest} bytes`);

    const lines = (await d.docker(['logs', 'rot'])).stdout.split('\n').slice(0, -1);
    const nums = lines.map((l) => Number(l.split(' ')[0]));
    assert.ok(lines.every((l) => /^\d+ 0{150}$/.test(l)), 'every line whole');
    const last = nums.at(-1)!;
    assert.ok(nums[0]! > 0, 'the oldest lines were rotated away');
    assert.deepEqual(nums, Array.from({ length: nums.length }, (_, i) => last - nums.length + 1 + i), 'a contiguous suffix');

    const followed = f.out.split('\n').slice(0, -1).map((l) => Number(l.split(' ')[0]));
    assert.equal(followed.length, last + 1, `logs -f saw ${followed.length} lines for 0..${last}`);
    assert.deepEqual(followed, Array.from({ length: last + 1 }, (_, i) => i), 'logs -f: every line once, in order');
    await d.docker(['rm', 'rot']);
  });

  test('a restarted container: logs, --tail, -t, --since, --until and -f over both runs', async () => {
    const script = [
      'trap "exit 0" TERM',
      'n=$(cat /runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > /runs',
      `for i in 1 2 3 4 5 6 7 8 9 10; do echo "run$n line$i ${'x'.repeat(60)}"; done`,
      'sleep 1.2; echo "run$n after-pause"',
      'sleep 1.5; echo "run$n late"',
      'while true; do sleep 0.1; done',
    ].join('; ');
    const run = await d.docker(['run', '-d', '--name', 'rs', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=10', 'busybox', 'sh', '-c', script]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const waitForLog = async (needle: string) => {
      for (let i = 0; i < 100; i++) {
        if ((await d.docker(['logs', 'rs'])).stdout.includes(needle)) return;
        await sleep(100);
      }
      assert.fail(`no "${needle}" in the log of rs`);
    };
    await waitForLog('run1 late');
    const restart = await d.docker(['restart', '-t', '2', 'rs']);
    assert.equal(restart.code, 0, restart.stderr);
    await waitForLog('run2 after-pause');

    // -f on the restarted container: the tail, then a new line, then the end when it stops.
    const f = follow(d, ['--tail', '2', 'rs']);
    followers.push(f);
    for (let i = 0; i < 50 && !f.out.includes('run2 late'); i++) await sleep(100);
    assert.match(f.out, /^run2 line10 x+\nrun2 after-pause\nrun2 late\n$/);
    assert.equal((await d.docker(['stop', '-t', '2', 'rs'])).code, 0);
    assert.equal(await within(f.exited, 10_000, 'docker logs -f after stop'), 0, f.err);
    assert.match(f.out, /^run2 line10 x+\nrun2 after-pause\nrun2 late\n$/);

    const files = await logFiles(join(d.dataRoot, 'containers', id));
    assert.ok(files.length >= 2, `expected rotated files: ${JSON.stringify(files)}`);

    const expected = [1, 2].flatMap((n) => [
      ...Array.from({ length: 10 }, (_, i) => `run${n} line${i + 1} ${'x'.repeat(60)}`), `run${n} after-pause`, `run${n} late`,
    ]);
    const all = await d.docker(['logs', 'rs']);
    assert.deepEqual(all.stdout.split('\n').slice(0, -1), expected);
    assert.deepEqual((await d.docker(['logs', '--tail', '3', 'rs'])).stdout.split('\n').slice(0, -1), expected.slice(-3));
    assert.deepEqual((await d.docker(['logs', '-n', '13', 'rs'])).stdout.split('\n').slice(0, -1), expected.slice(-13));

    const stamped = (await d.docker(['logs', '-t', 'rs'])).stdout.split('\n').slice(0, -1);
    assert.equal(stamped.length, expected.length);
    const times = stamped.map((l, i) => {
      const sp = l.indexOf(' ');
      assert.equal(l.slice(sp + 1), expected[i]);
      return timestampNs(l.slice(0, sp));
    });
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `timestamps in order at ${i}`);
    const at = (line: string) => times[expected.indexOf(line)]!;
    const between = (a: string, b: string) => (at(a) + at(b)) / 2n;

    const since = await d.docker(['logs', '--since', unixArg(at('run1 after-pause')), 'rs']);
    assert.deepEqual(since.stdout.split('\n').slice(0, -1), expected.slice(10));
    const until = await d.docker(['logs', '--until', unixArg(between(`run1 line10 ${'x'.repeat(60)}`, 'run1 after-pause')), 'rs']);
    assert.deepEqual(until.stdout.split('\n').slice(0, -1), expected.slice(0, 10));
    const window = await d.docker(['logs', '-t', '--since', unixArg(at('run1 late')), '--until', unixArg(between('run2 after-pause', 'run2 late')),
      '--tail', '5', 'rs']);
    assert.deepEqual(window.stdout.split('\n').slice(0, -1).map((l) => l.slice(l.indexOf(' ') + 1)), expected.slice(18, 23));
  });
});
