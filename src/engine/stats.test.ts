/**
 * StatsService over the recorded cgroup v2 tree and a fake /proc: the frames of `stream=0`,
 * `one-shot`, streaming (until the container stops or the client goes), a stopped container, and
 * `docker top` argument checks before any lookup.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { errors, isEngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import type { ContainerService } from './containers.js';
import { StatsService, type StatsFrame } from './stats.js';

const TESTDATA = new URL('../../../src/engine/testdata/', import.meta.url).pathname;
const ID = '4f1e0c8a2b6d9e3f7a5c1b8d0e2f4a6c8b0d2e4f6a8c0e2b4d6f8a0c2e4b6d8f';

let proc: string;
before(async () => {
  proc = await mkdtemp(join(tmpdir(), 'brig-stats-proc-'));
  await copyFile(join(TESTDATA, 'proc-stat'), join(proc, 'stat'));
  await copyFile(join(TESTDATA, 'meminfo'), join(proc, 'meminfo'));
  await mkdir(join(proc, '4211', 'net'), { recursive: true });
  await copyFile(join(TESTDATA, 'net-dev-host'), join(proc, '4211', 'net', 'dev'));
});
after(async () => {
  await rm(proc, { recursive: true, force: true });
});

/** A ContainerService stand-in with one container; `stop()` ends its run. */
function fakeContainers(status: 'running' | 'exited' | 'restarting' = 'running') {
  let stop!: () => void;
  const exited = new Promise<void>((r) => (stop = r));
  const c = { id: ID, name: 'web', state: { status, pid: 4211 } } as unknown as ContainerRecord;
  const events: string[] = [];
  const svc = {
    get: (ref: string) => {
      if (ref !== 'web' && !ID.startsWith(ref)) throw errors.noSuchContainer(ref);
      return c;
    },
    cgroupPath: (id: string) => `/brig/${id}`,
    exited: () => exited,
    event: (_c: ContainerRecord, action: string) => events.push(action),
  } as unknown as ContainerService;
  return { svc, stop, events };
}

const service = (svc: ContainerService, intervalMs = 30) =>
  new StatsService(svc, { cgroupRoot: join(TESTDATA, 'cgroup-v2'), procRoot: proc, intervalMs });

async function collect(frames: AsyncGenerator<StatsFrame>, max = 100): Promise<StatsFrame[]> {
  const out: StatsFrame[] = [];
  for await (const f of frames) {
    out.push(f);
    if (out.length >= max) break;
  }
  return out;
}

test('stream=0: one frame after an interval, with the first sample as `previous`', async () => {
  const { svc } = fakeContainers();
  const started = Date.now();
  const frames = await collect(service(svc, 100).frames('web', { stream: false }).frames);
  assert.ok(Date.now() - started >= 95, 'waits one interval to fill precpu');
  assert.equal(frames.length, 1);
  const f = frames[0]!;
  assert.equal(f.id, ID);
  assert.equal(f.name, 'web');
  assert.ok(f.sample && f.previous);
  assert.ok(f.sample.readNs > f.previous.readNs);
  assert.equal(f.sample.cpu.cpuUsage.totalUsage, 3_047_213_000);
  assert.equal(f.sample.cpu.onlineCpus, 2);
  assert.ok(f.sample.cpu.systemCpuUsage > 0);
  assert.equal(f.sample.memory.limit, 67108864);
  // loopback is not network I/O; the other interfaces of /proc/<pid>/net/dev are
  assert.deepEqual([...f.sample.networks!.keys()], ['ifb0', 'ifb1', 'eth0']);
});

test('one-shot: one frame at once, no `previous`', async () => {
  const { svc } = fakeContainers();
  const frames = await collect(service(svc, 5000).frames('web', { stream: false, oneShot: true }).frames);
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.sample);
  assert.equal(frames[0]!.previous, undefined);
});

test('streaming: a frame at once then one per interval, each carrying the one before; ends when the container stops', async () => {
  const { svc, stop } = fakeContainers();
  const gen = service(svc, 20).frames('web', { stream: true }).frames;
  const frames: StatsFrame[] = [];
  for await (const f of gen) {
    frames.push(f);
    if (frames.length === 3) stop();
  }
  assert.equal(frames.length, 3);
  assert.equal(frames[0]!.previous, undefined);
  assert.equal(frames[1]!.previous!.readNs, frames[0]!.sample!.readNs);
  assert.equal(frames[2]!.previous!.readNs, frames[1]!.sample!.readNs);
});

test('streaming: ends when the client goes away (signal)', async () => {
  const { svc } = fakeContainers();
  const abort = new AbortController();
  const gen = service(svc, 20).frames('web', { stream: true, signal: abort.signal }).frames;
  let n = 0;
  for await (const _ of gen) {
    if (++n === 2) abort.abort();
  }
  assert.equal(n, 2);
});

test('stream=0 on a container that stops while the second sample is awaited: the zeroed frame', async () => {
  const { svc, stop } = fakeContainers();
  const pending = collect(service(svc, 200).frames('web', { stream: false }).frames);
  setTimeout(stop, 20);
  const frames = await pending;
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.sample, undefined);
});

test('a stopped (or restarting) container: one zeroed frame, streamed or not', async () => {
  for (const status of ['exited', 'restarting'] as const) {
    const { svc } = fakeContainers(status);
    for (const stream of [false, true]) {
      const frames = await collect(service(svc).frames('web', { stream }).frames);
      assert.deepEqual(frames, [{ id: ID, name: 'web' }]);
    }
  }
});

test('a running container whose cgroup is gone: the stream just ends', async () => {
  const { svc } = fakeContainers();
  const s = new StatsService({ ...svc, cgroupPath: () => '/brig/gone' } as unknown as ContainerService, {
    cgroupRoot: join(TESTDATA, 'cgroup-v2'), procRoot: proc, intervalMs: 10,
  });
  assert.deepEqual(await collect(s.frames('web', { stream: true }).frames), []);
  assert.deepEqual(await collect(s.frames('web', { stream: false }).frames), [{ id: ID, name: 'web' }]);
});

test('an unknown container is ERR_NO_SUCH_CONTAINER at once', () => {
  const { svc } = fakeContainers();
  assert.throws(() => service(svc).frames('nope', { stream: false }), (err: unknown) => isEngineError(err, 'ERR_NO_SUCH_CONTAINER'));
});

test('top: bad ps_args are refused before the container is looked up; a stopped container is a conflict', async () => {
  const { svc } = fakeContainers('exited');
  const s = service(svc);
  await assert.rejects(s.top('nope', '--bogus'), (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT'));
  await assert.rejects(s.top('nope', ''), (err: unknown) => isEngineError(err, 'ERR_NO_SUCH_CONTAINER'));
  await assert.rejects(s.top('web', null), (err: unknown) => isEngineError(err, 'ERR_CONTAINER_NOT_RUNNING') && /is not running/.test(err.message));
  const restarting = service(fakeContainers('restarting').svc);
  await assert.rejects(restarting.top('web', null), /is restarting/);
});

test('top: ps lists the processes of the container cgroup (here: this test process), and a top event is published', async () => {
  const { svc, events } = fakeContainers();
  const dir = await mkdtemp(join(tmpdir(), 'brig-top-cg-'));
  try {
    await mkdir(join(dir, 'brig', ID), { recursive: true });
    await writeFile(join(dir, 'cgroup.controllers'), 'pids\n');
    await writeFile(join(dir, 'brig', ID, 'cgroup.procs'), `${process.pid}\n`);
    const s = new StatsService(svc, { cgroupRoot: dir, procRoot: proc });
    const r = await s.top('web', '-o pid,comm');
    assert.deepEqual(r.titles, ['PID', 'COMMAND']);
    assert.deepEqual(r.processes, [[String(process.pid), 'node']]);
    assert.deepEqual(events, ['top']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
