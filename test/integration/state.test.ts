/**
 * Container state changes through the real docker CLI: restart policies (back-off, RestartCount,
 * manual stop), restart, pause/unpause, rename, update, prune, ps filters and sizes, --init,
 * and stop signals/timeouts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('container state changes', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  const inspect = async (name: string, format: string) => (await d.docker(['inspect', '-f', format, name])).stdout.trim();
  const until = async (what: string, check: () => Promise<boolean>, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  test('--restart on-failure:3 restarts a failing container three times with growing delays, then stops', async () => {
    const t0 = Date.now();
    const r = await d.docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'echo run; exit 2']);
    assert.equal(r.code, 0, r.stderr);
    await until('3 restarts', async () => (await inspect('flaky', '{{.RestartCount}} {{.State.Status}}')) === '3 exited');
    const elapsed = Date.now() - t0;
    // back-off 100 + 200 + 400 ms
    assert.ok(elapsed >= 700, `three restarts took only ${elapsed} ms`);
    // conmon's log timestamps (docker logs -t) tell when each run started
    const starts = (await d.docker(['logs', '-t', 'flaky'])).stdout.trim().split('\n').map((l) => Date.parse(l.split(' ')[0]!));
    assert.equal(starts.length, 4);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    assert.ok(gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!, `delays do not grow: ${gaps.join(', ')}`);
    assert.equal(await inspect('flaky', '{{.State.ExitCode}}'), '2');
    assert.equal((await d.docker(['rm', 'flaky'])).code, 0);
  });

  test('--restart always restarts after a clean exit but not after docker stop; docker start resets the count', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3']))
      .code, 0);
    await until('a restart', async () => Number(await inspect('always', '{{.RestartCount}}')) >= 2);
    assert.equal(await inspect('always', '{{.HostConfig.RestartPolicy.Name}}'), 'always');
    const stop = await d.docker(['stop', '-t', '1', 'always']);
    assert.equal(stop.code, 0, stop.stderr);
    const count = await inspect('always', '{{.RestartCount}}');
    await sleep(800);
    assert.equal(await inspect('always', '{{.State.Status}}'), 'exited', 'a stopped container stays stopped');
    assert.equal(await inspect('always', '{{.RestartCount}}'), count);
    assert.equal((await d.docker(['start', 'always'])).code, 0);
    assert.equal(await inspect('always', '{{.RestartCount}}'), '0');
    assert.equal((await d.docker(['rm', '-f', 'always'])).code, 0);
  });

  test('a restarting container is shown as Restarting and can be stopped', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'crashy', '--restart', 'always', 'busybox', 'false'])).code, 0);
    await until('restarting state', async () => (await d.docker(['ps', '--format', '{{.Status}}', '--filter', 'name=crashy'])).stdout.startsWith('Restarting (1)'));
    assert.equal((await d.docker(['stop', 'crashy'])).code, 0);
    assert.equal(await inspect('crashy', '{{.State.Status}}'), 'exited');
    assert.equal((await d.docker(['rm', 'crashy'])).code, 0);
  });

  test('--rm and --restart together are refused', async () => {
    const r = await d.docker(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /conflicting options|AutoRemove/i);
    const api = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } });
    assert.equal(api.status, 400, 'the daemon refuses it too');
  });

  test('docker restart, pause and unpause', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'pz', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do date +%s%N; sleep 0.1; done'])).code, 0);
    const pid1 = await inspect('pz', '{{.State.Pid}}');
    assert.equal((await d.docker(['restart', '-t', '2', 'pz'])).code, 0);
    const pid2 = await inspect('pz', '{{.State.Pid}}');
    assert.notEqual(pid1, pid2);
    assert.equal(await inspect('pz', '{{.State.Status}}'), 'running');

    assert.equal((await d.docker(['pause', 'pz'])).code, 0);
    assert.equal(await inspect('pz', '{{.State.Status}} {{.State.Paused}}'), 'paused true');
    assert.match((await d.docker(['ps', '--filter', 'name=pz', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
    const lines1 = (await d.docker(['logs', 'pz'])).stdout.split('\n').length;
    await sleep(500);
    assert.equal((await d.docker(['logs', 'pz'])).stdout.split('\n').length, lines1, 'a paused container does not run');
    assert.equal((await d.docker(['pause', 'pz'])).code, 1, 'pausing twice is an error');
    assert.equal((await d.docker(['unpause', 'pz'])).code, 0);
    await sleep(400);
    assert.ok((await d.docker(['logs', 'pz'])).stdout.split('\n').length > lines1, 'it runs again');
    // stopping a paused container works (it is thawed to receive the signal)
    assert.equal((await d.docker(['pause', 'pz'])).code, 0);
    assert.equal((await d.docker(['stop', '-t', '5', 'pz'])).code, 0);
    assert.equal(await inspect('pz', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
    assert.equal((await d.docker(['unpause', 'pz'])).code, 1);
    assert.equal((await d.docker(['rm', 'pz'])).code, 0);
  });

  test('docker rename', async () => {
    assert.equal((await d.docker(['create', '--name', 'old', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['create', '--name', 'taken', 'busybox', 'true'])).code, 0);
    const clash = await d.docker(['rename', 'old', 'taken']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /is already in use/);
    assert.equal((await d.docker(['rename', 'old', 'new'])).code, 0);
    assert.equal(await inspect('new', '{{.Name}}'), '/new');
    assert.equal((await d.docker(['inspect', 'old'])).code, 1);
    assert.equal((await d.docker(['rm', 'new', 'taken'])).code, 0);
  });

  test('docker update changes limits of a running container and its restart policy', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'upd', '-m', '64m', 'busybox', 'sleep', '1000'])).code, 0);
    const id = await inspect('upd', '{{.Id}}');
    const memFile = `/sys/fs/cgroup/memory${d.cgroupParent}/${id}/memory.limit_in_bytes`;
    const { readFile } = await import('node:fs/promises');
    assert.equal((await readFile(memFile, 'utf8')).trim(), String(64 * 1024 * 1024));
    const u = await d.docker(['update', '-m', '128m', '--memory-swap', '256m', '--restart', 'unless-stopped', 'upd']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal((await readFile(memFile, 'utf8')).trim(), String(128 * 1024 * 1024));
    assert.equal(await inspect('upd', '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}'), `${128 * 1024 * 1024} unless-stopped`);
    const pids = await d.docker(['update', '--pids-limit', '50', 'upd']);
    assert.equal(pids.code, 0, pids.stderr);
    assert.equal((await readFile(`/sys/fs/cgroup/pids${d.cgroupParent}/${id}/pids.max`, 'utf8')).trim(), '50');
    const bad = await d.docker(['update', '--cpuset-cpus', '0', 'upd']);
    assert.notEqual(bad.code, 0, 'fields brig cannot update are refused');
    assert.equal((await d.docker(['rm', '-f', 'upd'])).code, 0);
  });

  const removeAll = async () => {
    const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await d.docker(['rm', '-f', ...ids]);
  };

  test('ps filters (status, exited, ancestor, label, before/since, name) and -s sizes', async () => {
    await removeAll();
    assert.equal((await d.docker(['run', '--name', 'f1', '-l', 'tier=a', 'busybox', 'sh', '-c', 'exit 4'])).code, 4);
    assert.equal((await d.docker(['run', '-d', '--name', 'f2', '-l', 'tier=b', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null; sleep 1000'])).code, 0);
    assert.equal((await d.docker(['create', '--name', 'f3', 'busybox', 'true'])).code, 0);
    const names = async (...filters: string[]) =>
      (await d.docker(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])])).stdout.trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('status=exited'), ['f1']);
    assert.deepEqual(await names('status=running'), ['f2']);
    assert.deepEqual(await names('status=created'), ['f3']);
    assert.deepEqual(await names('exited=4'), ['f1']);
    assert.deepEqual(await names('label=tier'), ['f1', 'f2']);
    assert.deepEqual(await names('label=tier=b'), ['f2']);
    assert.deepEqual(await names('ancestor=busybox'), ['f1', 'f2', 'f3']);
    assert.deepEqual(await names('before=f3'), ['f1', 'f2']);
    assert.deepEqual(await names('since=f1'), ['f2', 'f3']);
    assert.deepEqual(await names('name=^/f[12]$'), ['f1', 'f2']);
    const bad = await d.docker(['ps', '--filter', 'status=sleeping']);
    assert.equal(bad.code, 1);
    await until('the blob', async () => (await d.docker(['ps', '-s', '--filter', 'name=f2', '--format', '{{.Size}}'])).stdout.includes('kB'));
    const size = (await d.docker(['ps', '-s', '--filter', 'name=f2', '--format', '{{.Size}}'])).stdout.trim();
    assert.match(size, /^30\dkB \(virtual [0-9.]+MB\)$/);
    const last = await d.docker(['ps', '-n', '1', '--format', '{{.Names}}']);
    assert.equal(last.stdout.trim(), 'f3');
    assert.equal((await d.docker(['rm', '-f', 'f1', 'f2', 'f3'])).code, 0);
  });

  test('docker container prune removes stopped containers only', async () => {
    await removeAll();
    assert.equal((await d.docker(['run', '--name', 'p1', '-l', 'keep=no', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['create', '--name', 'p2', '-l', 'keep=yes', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'p3', 'busybox', 'sleep', '1000'])).code, 0);
    const pr = await d.docker(['container', 'prune', '-f', '--filter', 'label=keep=no']);
    assert.equal(pr.code, 0, pr.stderr);
    assert.match(pr.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
    const all = await d.docker(['container', 'prune', '-f']);
    assert.equal(all.code, 0);
    assert.deepEqual((await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.trim().split('\n'), ['p3']);
    assert.equal((await d.docker(['rm', '-f', 'p3'])).code, 0);
  });

  test('--init runs the process under tini, which forwards signals and reaps zombies', async () => {
    const r = await d.docker(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']);
    assert.equal(r.code, 0, r.stderr);
    const [cmdline, pid] = r.stdout.trim().split('\n');
    assert.match(cmdline!, /^\/sbin\/docker-init -- sh -c /);
    assert.notEqual(pid, '1', 'the shell is not PID 1 under --init');
    assert.equal((await d.docker(['run', '-d', '--init', '--name', 'ini', 'busybox', 'sleep', '1000'])).code, 0);
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', 'ini'])).code, 0);
    assert.ok(Date.now() - t0 < 5000, 'tini delivered SIGTERM to sleep (no 10 s timeout)');
    assert.equal(await inspect('ini', '{{.State.ExitCode}} {{.HostConfig.Init}}'), '143 true');
    assert.equal((await d.docker(['rm', 'ini'])).code, 0);
  });

  test('a container killed by the OOM killer shows OOMKilled and an oom event', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await d.docker(['run', '--name', 'oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(r.code, 137, r.stdout + r.stderr);
    assert.equal(await inspect('oom', '{{.State.OOMKilled}} {{.State.ExitCode}}'), 'true 137');
    const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'container=oom', '--format', '{{.Action}}']);
    assert.match(ev.stdout, /^oom$/m);
    assert.equal((await d.docker(['rm', 'oom'])).code, 0);
  });

  test('docker stop --signal and StopSignal', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'sig', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "echo usr1; exit 9" USR1; while true; do sleep 0.1; done'])).code, 0);
    assert.equal(await inspect('sig', '{{.Config.StopSignal}}'), 'USR1');
    assert.equal((await d.docker(['stop', 'sig'])).code, 0);
    assert.equal(await inspect('sig', '{{.State.ExitCode}}'), '9');
    assert.equal((await d.docker(['rm', 'sig'])).code, 0);
    const bad = await d.docker(['kill', '-s', 'NOPE', 'nonexistent']);
    assert.notEqual(bad.code, 0);
  });
});
