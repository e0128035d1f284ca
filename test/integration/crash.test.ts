/**
 * The daemon is killed with SIGKILL and started again (live restore): running containers are
 * adopted with their processes and logs, containers that exited meanwhile get their real exit
 * code, `--rm` ones are removed, `--restart always` ones run again, and nothing leaks.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface State {
  Status: string;
  Running: boolean;
  Pid: number;
  ExitCode: number;
  FinishedAt: string;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

describe('daemon crash (kill -9) and restart', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop(); // removes every container, then fails on leftover mounts, runc tasks, cgroups
  });

  const state = async (name: string): Promise<State | undefined> => {
    const r = await d.docker(['inspect', '-f', '{{json .State}}', name]);
    return r.code === 0 ? (JSON.parse(r.stdout) as State) : undefined;
  };
  const lastNumber = async (name: string): Promise<number> => {
    const r = await d.docker(['logs', '--tail', '1', name]);
    return Number(r.stdout.trim());
  };

  test('20 running containers survive: same PIDs, logs go on, stop and wait work', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `busy${i}`);
    await pool(names, 5, async (name) => {
      const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done']);
      assert.equal(r.code, 0, r.stderr);
    });
    const before = new Map<string, State>();
    for (const name of names) before.set(name, (await state(name))!);
    for (const [name, s] of before) assert.ok(s.Running && s.Pid > 0, `${name} runs: ${JSON.stringify(s)}`);
    await sleep(500);
    const numbersBefore = await pool(names, 5, lastNumber);

    await d.stopProcess('SIGKILL');
    await sleep(1_000); // the containers go on writing while no daemon runs
    await d.startProcess();

    const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
    const listed = ps.stdout.trim().split('\n').filter((l) => l.startsWith('busy'));
    assert.equal(listed.length, 20, ps.stdout);
    assert.ok(listed.every((l) => / Up /.test(l)), ps.stdout);
    for (const name of names) {
      const s = (await state(name))!;
      assert.equal(s.Status, 'running', name);
      assert.equal(s.Pid, before.get(name)!.Pid, `${name} keeps its process`);
    }
    await sleep(500);
    const numbersAfter = await pool(names, 5, lastNumber);
    for (const [i, name] of names.entries()) {
      // 1.5 s at one line per 0.2 s: several new lines, written during and after the daemon's absence.
      assert.ok(numbersAfter[i]! >= numbersBefore[i]! + 5, `${name}: ${numbersBefore[i]} → ${numbersAfter[i]}`);
    }

    // wait and stop on adopted containers: the new daemon hears their exits.
    const waiting = d.docker(['wait', 'busy0', 'busy1']);
    await sleep(200);
    const stop = await d.docker(['stop', '-t', '1', 'busy0', 'busy1']); // sh as PID 1 ignores SIGTERM: SIGKILL after 1 s
    assert.equal(stop.code, 0, stop.stderr);
    const w = await waiting;
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(w.stdout.trim().split('\n'), ['137', '137']);
    const kill = await d.docker(['kill', 'busy2']);
    assert.equal(kill.code, 0, kill.stderr);
    assert.equal((await d.docker(['wait', 'busy2'])).stdout.trim(), '137');
    for (const name of ['busy0', 'busy1', 'busy2']) assert.equal((await state(name))!.Status, 'exited');
    const rm = await d.docker(['rm', '-f', ...names]);
    assert.equal(rm.code, 0, rm.stderr);
  });

  test('containers that exit while the daemon is down: exit code, FinishedAt, --rm and --restart always', async () => {
    const plain = Array.from({ length: 7 }, (_, i) => `gone${i}`);
    const removed = ['rm0', 'rm1'];
    const ids = await pool([...plain.map((n) => [n]), ...removed.map((n) => [n, '--rm'])], 5, async ([name, ...opts]) => {
      const r = await d.docker(['run', '-d', '--name', name!, ...opts, 'busybox', 'sh', '-c', 'sleep 3; exit 3']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    });
    // Exits 3 on its first run; on the next ones it stays up (its writable layer remembers).
    const again = await d.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c',
      'if [ -e /ran ]; then exec sleep 1000; fi; touch /ran; sleep 3; exit 3']);
    assert.equal(again.code, 0, again.stderr);
    ids.push(again.stdout.trim());
    for (const name of [...plain, ...removed, 'always']) assert.equal((await state(name))?.Running, true, `${name} still runs`);

    await d.stopProcess('SIGKILL');
    const killedAt = Date.now();
    // Everything exits meanwhile: conmon writes each exit code into <run root>/exits/<id>.
    for (let i = 0; i < 100 && !ids.every((id) => existsSync(join(d.runRoot, 'exits', id))); i++) await sleep(100);
    assert.ok(ids.every((id) => existsSync(join(d.runRoot, 'exits', id))), 'every container exited while the daemon was down');
    await d.startProcess();

    for (const name of plain) {
      const s = (await state(name))!;
      assert.equal(s.Status, 'exited', name);
      assert.equal(s.ExitCode, 3, name);
      assert.ok(Date.parse(s.FinishedAt) > killedAt, `${name} FinishedAt ${s.FinishedAt} is after the kill`);
    }
    const ps = await d.docker(['ps', '-a', '--filter', 'name=gone', '--format', '{{.Status}}']);
    const statuses = ps.stdout.trim().split('\n');
    assert.equal(statuses.length, 7, ps.stdout);
    assert.ok(statuses.every((s) => /^Exited \(3\) /.test(s)), ps.stdout);
    for (const name of removed) assert.equal(await state(name), undefined, `${name} (--rm) is gone`);

    let s: State | undefined;
    for (let i = 0; i < 50; i++) {
      s = await state('always');
      if (s?.Running) break;
      await sleep(100);
    }
    assert.equal(s?.Running, true, `--restart always runs again: ${JSON.stringify(s)}`);
    const count = await d.docker(['inspect', '-f', '{{.RestartCount}}', 'always']);
    assert.ok(Number(count.stdout.trim()) >= 1, `RestartCount ${count.stdout}`);
  });
});
