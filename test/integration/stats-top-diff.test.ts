/**
 * `docker stats`, `top`, `diff`, `export` and `port` through the real docker CLI (and brig's CLI),
 * against a real daemon: CPU under a quota, the memory limit, pids, the JSON shape, streaming,
 * processes by PID, filesystem changes with whiteouts and opaque directories, export of a running
 * and of a stopped container (which must leave no mount behind; clients leaving mid-export, a UNIX
 * socket in the tree, a 50 MiB file under a slow reader), errors, and a daemon restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readTar, type ReadEntry } from '../../src/image/testdata/tar-fixtures.js';
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

/** GET on the daemon's socket, resolving with the response once its head is in. */
function get(d: TestDaemon, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ socketPath: d.socket, path }, resolve).on('error', reject).end());
}

/** Fails with `what` when `p` is not settled after `ms` (an export whose walk hangs), calling `cancel`. */
async function deadline<T>(ms: number, what: string, p: Promise<T>, cancel: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cancel();
      reject(new Error(`${what}: not done after ${ms} ms (the export hangs)`));
    }, ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Reads `bytes` of an export, then hangs up (the socket is destroyed mid-stream). */
async function leaveMidExport(d: TestDaemon, ref: string, bytes: number): Promise<number> {
  const res = await get(d, `/containers/${ref}/export`);
  assert.equal(res.statusCode, 200);
  const read = new Promise<number>((resolve) => {
    let seen = 0;
    const done = () => resolve(seen);
    res.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen >= bytes) {
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    res.on('error', done);
  });
  return deadline(30_000, `reading ${bytes} bytes of the export`, read, () => res.destroy());
}

/**
 * A whole export read slowly (a little time per chunk, a pause now and then): the entries' names,
 * and the sha256 and text (when short) of each file.
 */
async function slowExport(d: TestDaemon, ref: string): Promise<Map<string, { type: string; sha256: string; text: string }>> {
  const res = await get(d, `/containers/${ref}/export`);
  assert.equal(res.statusCode, 200);
  let entries: ReadEntry[] = [];
  await deadline(60_000, 'a slow export', readTar(res, true).then((e) => void (entries = e)), () => res.destroy());
  return new Map(entries.map((e) => [e.header.name, { type: e.header.type, sha256: e.sha256, text: e.text }]));
}

/** The pid of the test daemon (the process serving `d.socket`). */
function daemonPid(d: TestDaemon): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.includes('daemon') && argv.includes(d.socket)) return Number(name);
    } catch {
      /* gone */
    }
  }
  throw new Error('the daemon process was not found');
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

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

  test('export: clients leaving mid-export (running, then stopped) leave the daemon answering with no fd or mount left; a socket is skipped; a 50 MiB file arrives whole under a slow reader', { timeout: 240_000 }, async () => {
    // syslogd binds the socket where /dev/log points: /tmp/log.sock, in the container's rootfs
    const r = await d.docker(['run', '-d', '--name', 'bigfs', 'busybox', 'sh', '-c',
      'mkdir /many; i=0; while [ $i -lt 3000 ]; do : > /many/f$i; i=$((i+1)); done; ' +
      'dd if=/dev/urandom of=/big bs=1M count=50 2>/dev/null; sha256sum /big > /big.sha256; ' +
      'ln -s /tmp/log.sock /dev/log; syslogd -O /dev/null; while [ ! -S /tmp/log.sock ]; do sleep 0.1; done; ' +
      'touch /ready; exec sleep 3600']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await waitFor('bigfs to write its files', async () => (await d.http('HEAD', '/containers/bigfs/archive?path=%2Fready')).status === 200, 60_000);
    assert.equal((await d.docker(['exec', 'bigfs', 'test', '-S', '/tmp/log.sock'])).code, 0, 'the container has its socket');
    const pid = daemonPid(d);
    const mountsOf = async () => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(id));
    const running = await mountsOf();
    const fdsBefore = fdCount(pid);

    const check = async (state: 'running' | 'stopped') => {
      // the rootfs mount of the running container, nothing at all for a stopped one
      const mounts = state === 'running' ? running : [];
      const mountsBack = () => waitFor(`${state}: the export mounts to be released`, async () => JSON.stringify(await mountsOf()) === JSON.stringify(mounts));
      // at the start, in the 3000 small files, in the 50 MiB file, and near its end
      for (const bytes of [1, 64 * 1024, 2 * 1024 * 1024, 20 * 1024 * 1024, 50 * 1024 * 1024]) {
        await leaveMidExport(d, 'bigfs', bytes);
      }
      // all at once, too
      await Promise.all([1, 3, 5, 8, 13].map((mib) => leaveMidExport(d, 'bigfs', mib * 1024 * 1024)));
      assert.equal((await d.http('GET', '/_ping')).status, 200, `${state}: the daemon stopped answering`);
      assert.equal(daemonPid(d), pid);
      await waitFor(`${state}: the daemon's fds to be released`, async () => fdCount(pid) <= fdsBefore);
      await mountsBack();

      const entries = await slowExport(d, 'bigfs');
      assert.equal(entries.get('tmp/')?.type, 'directory', state);
      assert.ok(!entries.has('tmp/log.sock'), `${state}: the socket is not exported`);
      assert.equal(entries.get('many/f2999')?.type, 'file', state);
      assert.equal(entries.get('big')?.type, 'file', state);
      assert.equal(entries.get('big')?.sha256, entries.get('big.sha256')?.text.split(' ')[0], `${state}: the 50 MiB file arrived altered`);
      // released before the end of the tar (the client has it all: the mount is gone)
      assert.deepEqual(await mountsOf(), mounts);
    };
    await check('running');
    assert.equal((await d.docker(['stop', '-t', '0', 'bigfs'])).code, 0);
    await check('stopped');
    assert.deepEqual(await mountsOf(), []);
    assert.equal((await d.docker(['rm', 'bigfs'])).code, 0);
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
