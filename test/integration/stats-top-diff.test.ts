/**
 * `docker stats`, `top`, `diff`, `export` and `port` through the real docker CLI (and brig's CLI),
 * against a real daemon: CPU under a quota, the memory limit, pids, the JSON shape, streaming,
 * processes by PID, filesystem changes with whiteouts and opaque directories, export of a running
 * and of a stopped container (which must leave no mount behind), errors, and a daemon restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

/** Reads newline-separated JSON objects from a streaming GET for `ms`, then hangs up. */
function streamJson(d: TestDaemon, path: string, ms: number): Promise<{ status: number; objects: unknown[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const objects: unknown[] = [];
    let buf = '';
    let ended = false;
    const req = request({ socketPath: d.socket, path, method: 'GET' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) objects.push(JSON.parse(line));
        }
      });
      res.on('end', () => {
        ended = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, objects, ended });
      });
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, objects, ended });
      }, ms);
    });
    req.on('error', (err) => (ended ? undefined : reject(err)));
    req.end();
  });
}

interface StatsJson {
  read: string;
  preread: string;
  name: string;
  id: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, unknown>;
  cpu_stats: { cpu_usage: { total_usage: number; usage_in_usermode: number; usage_in_kernelmode: number }; system_cpu_usage?: number; online_cpus?: number; throttling_data: { periods: number } };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** Parses the `docker stats` table into rows keyed by NAME. */
function statsTable(out: string): Map<string, Record<string, string>> {
  const lines = out.trimEnd().split('\n');
  const header = lines[0]!;
  const cols = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
  const starts = cols.map((c) => header.indexOf(c));
  assert.ok(starts.every((s) => s >= 0), `unexpected header: ${header}`);
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(1)) {
    const row: Record<string, string> = {};
    cols.forEach((c, i) => (row[c] = line.slice(starts[i], i + 1 < cols.length ? starts[i + 1] : undefined).trim()));
    rows.set(row['NAME']!, row);
  }
  return rows;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('stats, top, diff, export, port', () => {
  let d: TestDaemon;
  let cpuId: string;
  before(async () => {
    d = await startDaemon();
    const r = await d.docker(['run', '-d', '--name', 'cpu', '--cpus', '0.5', '-m', '64m', 'busybox', 'sh', '-c',
      'yes > /dev/null & yes > /dev/null & sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    cpuId = r.stdout.trim();
    const f = await d.docker(['run', '-d', '--name', 'files', 'busybox', 'sh', '-c',
      'touch /newfile; rm /etc/group; mkdir /d; rm -rf /var/spool; mkdir /var/spool; touch /tmp/ready; sleep 1000']);
    assert.equal(f.code, 0, f.stderr);
    await waitFor('the files container to make its changes', async () => (await d.docker(['diff', 'files'])).stdout.includes('A /tmp/ready'));
    // let the busy loops run a while under the quota
    await new Promise((r) => setTimeout(r, 1500));
  });
  after(async () => {
    await d?.stop();
  });

  test('docker stats --no-stream x: CPU near the 0.5 quota, the -m limit, the pids', async () => {
    const r = await d.docker(['stats', '--no-stream', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    const row = statsTable(r.stdout).get('cpu');
    assert.ok(row, r.stdout);
    assert.equal(row['CONTAINER ID'], cpuId.slice(0, 12));
    const cpu = Number(row['CPU %']!.replace('%', ''));
    assert.ok(cpu >= 25 && cpu <= 75, `CPU ${cpu}% under --cpus 0.5 (2 busy loops)`);
    assert.match(row['MEM USAGE / LIMIT']!, / \/ 64MiB$/);
    assert.ok(Number(row['PIDS']) >= 3, `PIDS ${row['PIDS']}`);
  });

  test('docker stats --no-stream (all running containers, requested by short ID in parallel)', async () => {
    const started = Date.now();
    const r = await d.docker(['stats', '--no-stream']);
    assert.equal(r.code, 0, r.stderr);
    const rows = statsTable(r.stdout);
    assert.deepEqual([...rows.keys()].sort(), ['cpu', 'files']);
    assert.match(rows.get('files')!['MEM USAGE / LIMIT']!, /GiB$/, 'no limit: the host memory');
    assert.ok(Date.now() - started < 6000, 'the containers are asked in parallel');
  });

  test('stats JSON (stream=0): the shape dockerd sends, numbers filled, precpu from about a second before', async () => {
    const started = Date.now();
    const r = await d.http('GET', '/containers/cpu/stats?stream=0');
    assert.equal(r.status, 200, r.body);
    assert.ok(Date.now() - started >= 900, 'the answer waits for the second sample');
    const s = r.json() as StatsJson;
    assert.deepEqual(Object.keys(s).slice(0, 9), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats']);
    assert.equal(s.name, '/cpu');
    assert.equal(s.id, cpuId);
    const gap = Date.parse(s.read) - Date.parse(s.preread);
    assert.ok(gap >= 900 && gap < 3000, `read - preread = ${gap} ms`);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > s.precpu_stats.cpu_usage.total_usage);
    assert.ok(s.cpu_stats.cpu_usage.usage_in_usermode > 0);
    assert.ok((s.cpu_stats.system_cpu_usage ?? 0) > (s.precpu_stats.system_cpu_usage ?? 0));
    assert.ok((s.cpu_stats.online_cpus ?? 0) >= 1);
    assert.ok(s.cpu_stats.throttling_data.periods > 0, 'the quota throttles');
    assert.ok((s.memory_stats.usage ?? 0) > 0);
    assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
    assert.equal(typeof (s.memory_stats.stats?.['cache'] ?? s.memory_stats.stats?.['file']), 'number', 'v1 cache or v2 file');
    assert.ok((s.pids_stats.current ?? 0) >= 3);
    assert.ok(Array.isArray(s.blkio_stats['io_service_bytes_recursive']) || s.blkio_stats['io_service_bytes_recursive'] === null);
    // pids agree with top
    const top = (await d.http('GET', '/containers/cpu/top')).json() as { Processes: string[][] };
    assert.equal(s.pids_stats.current, top.Processes.length);
  });

  test('streaming stats: an object per second, flushed one by one', async () => {
    const r = await streamJson(d, '/containers/cpu/stats', 2500);
    assert.equal(r.status, 200);
    assert.ok(r.objects.length >= 2, `${r.objects.length} objects in 2.5 s`);
    const [a, b] = r.objects as StatsJson[];
    assert.equal(a!.preread, '0001-01-01T00:00:00Z');
    assert.equal(b!.preread, a!.read);
  });

  test('docker top x: the container processes with their host PIDs (init = inspect .State.Pid)', async () => {
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'cpu'])).stdout.trim();
    const r = await d.docker(['top', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    const pids = lines.slice(1).map((l) => l.trim().split(/\s+/)[1]);
    assert.ok(pids.includes(pid), `${pid} in ${pids.join(',')}`);
    assert.ok(lines.length >= 4, r.stdout);
    const custom = await d.docker(['top', 'cpu', '-o', 'pid,comm']);
    assert.equal(custom.code, 0, custom.stderr);
    assert.match(custom.stdout, /^PID\s+COMMAND\n/);
    assert.match(custom.stdout, /\byes\n/);
    const bad = await d.docker(['top', 'cpu', '--bogus']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown or unsupported ps option/);
    assert.equal((await d.http('GET', '/containers/cpu/top?ps_args=-ef%3Bid')).status, 400);
  });

  test('docker diff x: added, deleted and changed paths (whiteouts and an opaque directory), runtime mount points left out', async () => {
    const r = await d.docker(['diff', 'files']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      'A /d',
      'C /etc',
      'D /etc/group',
      'A /newfile',
      'C /tmp',
      'A /tmp/ready',
      'C /var',
      'C /var/spool',
      'D /var/spool/mail',
    ]);
    const api = (await d.http('GET', '/containers/files/changes')).json() as { Path: string; Kind: number }[];
    assert.deepEqual(api.slice(0, 3), [{ Path: '/d', Kind: 1 }, { Path: '/etc', Kind: 0 }, { Path: '/etc/group', Kind: 2 }]);
    assert.equal((await d.brig(['diff', 'files'])).stdout, r.stdout);
  });

  test('docker export x | tar -t: the live root filesystem', async () => {
    const file = join(d.root, 'live.tar');
    const r = await d.docker(['export', '-o', file, 'files']);
    assert.equal(r.code, 0, r.stderr);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    assert.ok(names.includes('bin/busybox'));
    assert.ok(names.includes('bin/'));
    assert.ok(names.includes('newfile'));
    assert.ok(names.includes('d/'));
    assert.ok(!names.includes('etc/group'));
    assert.ok(names.includes('etc/passwd'));
    // and on stdout, streamed, as `docker export x | tar -t` reads it
    const piped = execFileSync('sh', ['-c', 'docker export files | tar -t'], { env: d.env(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.ok(piped.split('\n').includes('bin/busybox'));
    await rm(file, { force: true });
  });

  test('export of a stopped container mounts it privately and leaves no mount behind; brig export too', async () => {
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'files'])).stdout.trim();
    assert.equal((await d.docker(['stop', '-t', '0', 'files'])).code, 0);
    const file = join(d.root, 'stopped.tar');
    const r = await d.docker(['export', '-o', file, 'files']);
    assert.equal(r.code, 0, r.stderr);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    assert.ok(names.includes('bin/busybox') && names.includes('newfile') && !names.includes('etc/group'));
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(id) || l.includes('brig-export-'));
    assert.deepEqual(mounts, []);
    const b = await d.brig(['export', '-o', file, 'files']);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').includes('newfile'));
    await rm(file, { force: true });
    // diff still works on a stopped container
    assert.match((await d.docker(['diff', 'files'])).stdout, /^A \/newfile$/m);
  });

  test('stopped and unknown containers: zeroed stats, top 409, 404s', async () => {
    const s = (await d.http('GET', '/containers/files/stats?stream=0')).json() as StatsJson;
    assert.equal(s.read, '0001-01-01T00:00:00Z');
    assert.equal(s.cpu_stats.cpu_usage.total_usage, 0);
    assert.equal(s.name, '/files');
    const streamed = await streamJson(d, '/containers/files/stats?stream=1', 3000);
    assert.equal(streamed.objects.length, 1);
    assert.ok(streamed.ended, 'the stream of a stopped container ends');
    const top = await d.http('GET', '/containers/files/top');
    assert.equal(top.status, 409);
    assert.match(JSON.parse(top.body).message, /is not running/);
    const cli = await d.docker(['top', 'files']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /is not running/);
    for (const path of ['/containers/nope/top', '/containers/nope/stats?stream=0', '/containers/nope/changes', '/containers/nope/export']) {
      const r = await d.http('GET', path);
      assert.equal(r.status, 404, path);
      assert.match(JSON.parse(r.body).message, /No such container: nope/);
    }
    const stats = await d.docker(['stats', '--no-stream', 'nope']);
    assert.equal(stats.code, 1);
    assert.match(stats.stderr, /No such container: nope/);
  });

  test('a stream ends when its container stops', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'short', 'busybox', 'sleep', '1000'])).code, 0);
    const pending = streamJson(d, '/containers/short/stats', 15_000);
    await new Promise((r) => setTimeout(r, 1200));
    const started = Date.now();
    assert.equal((await d.docker(['stop', '-t', '0', 'short'])).code, 0);
    const r = await pending;
    assert.ok(r.ended, 'the daemon ended the stream');
    assert.ok(Date.now() - started < 5000);
    assert.ok(r.objects.length >= 1);
    assert.equal((await d.docker(['rm', 'short'])).code, 0);
  });

  test('docker port: nothing published prints nothing (exit 0); ps and inspect agree', async () => {
    const r = await d.docker(['port', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const one = await d.docker(['port', 'cpu', '80']);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /No public port '80(\/tcp)?' published for cpu/);
    const ports = (await d.docker(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'cpu'])).stdout.trim();
    assert.equal(ports, '{}');
    const ps = (await d.docker(['ps', '--filter', 'name=cpu', '--format', '{{.Ports}}'])).stdout;
    assert.equal(ps, '\n');
  });

  test('brig stats, top and diff print what docker prints', async () => {
    const s = await d.brig(['stats', '--no-stream', 'cpu']);
    assert.equal(s.code, 0, s.stderr);
    const row = statsTable(s.stdout).get('cpu')!;
    assert.match(row['MEM USAGE / LIMIT']!, / \/ 64MiB$/);
    const t = await d.brig(['top', 'cpu', '-o', 'pid,comm']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^PID\s+COMMAND\n/);
  });

  test('a daemon restart: stats and top of the adopted container still work', async () => {
    await d.stopProcess();
    await d.startProcess();
    const r = await d.docker(['stats', '--no-stream', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    const cpu = Number(statsTable(r.stdout).get('cpu')!['CPU %']!.replace('%', ''));
    assert.ok(cpu >= 25 && cpu <= 75, `CPU ${cpu}%`);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'cpu'])).stdout.trim();
    assert.match((await d.docker(['top', 'cpu'])).stdout, new RegExp(`\\s${pid}\\s`));
  });
});
