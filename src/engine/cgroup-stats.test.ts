/**
 * The stats parsers against recorded files: cgroup v1 files recorded on the development host,
 * a cgroup v2 tree in the kernel's formats, /proc/stat, /proc/meminfo and net/dev (see testdata/README.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  parseFlatKeyed, parseIoStat, parseMemTotal, parseNetDev, parseProcStat, parseSingle, parseV1Blkio,
  statsFromV1, statsFromV2, V1_FILES, type CgroupFiles,
} from './cgroup-stats.js';
import { detectCgroupVersion, readCgroupStats } from './stats.js';

export const TESTDATA = new URL('../../../src/engine/testdata/', import.meta.url).pathname;
const V2_A = '/brig/4f1e0c8a2b6d9e3f7a5c1b8d0e2f4a6c8b0d2e4f6a8c0e2b4d6f8a0c2e4b6d8f';
const V2_B = '/brig/9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const MEM_TOTAL = 25_274_454_016;

function v1Files(dir = 'cgroup-v1'): Record<string, string | undefined> {
  const files: Record<string, string | undefined> = {};
  for (const name of V1_FILES) {
    try {
      files[name] = readFileSync(join(TESTDATA, dir, name), 'utf8');
    } catch {
      files[name] = undefined;
    }
  }
  return files;
}

test('v1 (recorded): cpu, memory, pids and throttling as dockerd reports them', () => {
  const s = statsFromV1(v1Files(), { memTotal: MEM_TOTAL });
  assert.equal(s.cgroupVersion, 1);
  assert.deepEqual(s.cpuUsage, {
    totalUsage: 4063757330,
    percpuUsage: [2074786678, 1988970652],
    // cpuacct.stat is in USER_HZ ticks: user 396, system 10
    usageInKernelmode: 100_000_000,
    usageInUsermode: 3_960_000_000,
  });
  assert.deepEqual(s.throttlingData, { periods: 80, throttledPeriods: 80, throttledTime: 11190192581 });
  assert.deepEqual(s.pids, { current: 3, limit: 2048 });
  assert.equal(s.memory.usage, 21610496);
  assert.equal(s.memory.maxUsage, 23236608);
  assert.equal(s.memory.limit, 67108864);
  assert.equal(s.memory.failcnt, 0);
  // containerd's v1 keys and their total_* twins, plus the hierarchical limits; nothing else
  assert.equal(s.memory.stats['cache'], 20975616);
  assert.equal(s.memory.stats['rss'], 151552);
  assert.equal(s.memory.stats['total_inactive_anon'], 21114880);
  assert.equal(s.memory.stats['total_inactive_file'], 0);
  assert.equal(s.memory.stats['hierarchical_memory_limit'], 67108864);
  assert.equal(s.memory.stats['hierarchical_memsw_limit'], 134217728);
  assert.equal(s.memory.stats['shmem'], undefined);
  assert.equal(Object.keys(s.memory.stats).length, 32);
  // `Total 0` only: no device lines; the CFQ lists are empty, not null (cgroup v1)
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, []);
  assert.deepEqual(s.blkio.sectorsRecursive, []);
});

test('v1: an unlimited cgroup reports the host memory as its limit', () => {
  const files: CgroupFiles = { ...v1Files(), 'memory/memory.limit_in_bytes': '9223372036854771712\n' };
  assert.equal(statsFromV1(files, { memTotal: MEM_TOTAL }).memory.limit, MEM_TOTAL);
  const nopids: CgroupFiles = { ...v1Files(), 'pids/pids.max': 'max\n' };
  assert.equal(statsFromV1(nopids, { memTotal: MEM_TOTAL }).pids.limit, 0);
});

test('v1 (recorded, throttled cgroup): blkio device lines with their ops, the device-less total dropped', () => {
  const s = statsFromV1({ ...v1Files(), ...Object.fromEntries(Object.entries(v1Files('cgroup-v1-throttled')).filter(([k]) => k.startsWith('blkio/'))) }, { memTotal: MEM_TOTAL });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 254, minor: 0, op: 'Read', value: 4222976 },
    { major: 254, minor: 0, op: 'Write', value: 4194304 },
    { major: 254, minor: 0, op: 'Sync', value: 8417280 },
    { major: 254, minor: 0, op: 'Async', value: 0 },
    { major: 254, minor: 0, op: 'Discard', value: 0 },
    { major: 254, minor: 0, op: 'Total', value: 8417280 },
  ]);
  assert.equal(s.blkio.ioServicedRecursive?.find((e) => e.op === 'Read')?.value, 13);
});

test('v1: CFQ blkio files win over the throttle files when they have data', () => {
  const s = statsFromV1({
    'blkio/blkio.io_service_bytes_recursive': '8:0 Read 100\n8:0 Write 200\nTotal 300\n',
    'blkio/blkio.sectors_recursive': '8:0 7\n',
    'blkio/blkio.throttle.io_service_bytes_recursive': '8:0 Read 999\n',
  }, { memTotal: MEM_TOTAL });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: 'Read', value: 100 }, { major: 8, minor: 0, op: 'Write', value: 200 }]);
  assert.deepEqual(s.blkio.sectorsRecursive, [{ major: 8, minor: 0, op: '', value: 7 }]);
});

test('v2 tree: detected by cgroup.controllers; cpu.stat, memory.*, pids.*, io.stat of a limited container', async () => {
  const root = join(TESTDATA, 'cgroup-v2');
  assert.equal(await detectCgroupVersion(root), 2);
  assert.equal(await detectCgroupVersion(join(TESTDATA, 'cgroup-v1')), 1);
  const s = await readCgroupStats(root, 2, V2_A, MEM_TOTAL);
  assert.ok(s);
  assert.equal(s.cgroupVersion, 2);
  // µs → ns; no per-CPU usage on v2
  assert.deepEqual(s.cpuUsage, { totalUsage: 3_047_213_000, usageInKernelmode: 54_093_000, usageInUsermode: 2_993_120_000 });
  assert.deepEqual(s.throttlingData, { periods: 61, throttledPeriods: 60, throttledTime: 5_873_402_000 });
  assert.deepEqual(s.pids, { current: 3, limit: 2048 });
  assert.equal(s.memory.usage, 21762048);
  assert.equal(s.memory.maxUsage, undefined);
  assert.equal(s.memory.limit, 67108864);
  assert.equal(s.memory.failcnt, 0);
  assert.equal(s.memory.stats['inactive_file'], 81920);
  assert.equal(s.memory.stats['anon'], 204800);
  // the split workingset counters add up under containerd's old names
  assert.equal(s.memory.stats['workingset_refault'], 3);
  assert.equal(s.memory.stats['workingset_activate'], 1);
  assert.equal(Object.keys(s.memory.stats).length, 31);
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 254, minor: 0, op: 'read', value: 1459200 },
    { major: 254, minor: 0, op: 'write', value: 8392704 },
    { major: 253, minor: 0, op: 'read', value: 0 },
    { major: 253, minor: 0, op: 'write', value: 4096 },
  ]);
  assert.equal(s.blkio.ioServicedRecursive, null);
});

test('v2 tree: "max" limits, the oom count as failcnt, no I/O yet', async () => {
  const s = await readCgroupStats(join(TESTDATA, 'cgroup-v2'), 2, V2_B, MEM_TOTAL);
  assert.ok(s);
  assert.equal(s.memory.limit, MEM_TOTAL);
  assert.equal(s.pids.limit, 0);
  assert.equal(s.memory.failcnt, 1);
  assert.equal(s.blkio.ioServiceBytesRecursive, null);
  assert.equal(s.memory.stats['workingset_refault'], 0);
});

test('a cgroup that does not exist reads as undefined (the container is gone)', async () => {
  assert.equal(await readCgroupStats(join(TESTDATA, 'cgroup-v2'), 2, '/brig/nope', MEM_TOTAL), undefined);
  assert.equal(await readCgroupStats(join(TESTDATA, 'cgroup-v2'), 1, '/brig/nope', MEM_TOTAL), undefined);
});

test('v1 tree through the reader: <controller>/<cgroup path>/<file>', async () => {
  const s = await readCgroupStats(join(TESTDATA, 'cgroup-v1'), 1, '/', MEM_TOTAL);
  assert.equal(s?.memory.usage, 21610496);
  assert.equal(s?.pids.current, 3);
});

test('/proc/stat (recorded): host CPU time in ns from the first 7 fields, online CPUs from cpuN lines', () => {
  const text = readFileSync(join(TESTDATA, 'proc-stat'), 'utf8');
  const first = text.split('\n')[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  const r = parseProcStat(text);
  assert.equal(r.systemCpuUsage, first.reduce((a, b) => a + b, 0) * 10_000_000);
  assert.equal(r.onlineCpus, 2);
  assert.throws(() => parseProcStat('intr 1 2\n'), /no cpu line/);
});

test('/proc/meminfo (recorded) → MemTotal in bytes', () => {
  const text = readFileSync(join(TESTDATA, 'meminfo'), 'utf8');
  const kb = Number(/MemTotal:\s+(\d+)/.exec(text)![1]);
  assert.equal(parseMemTotal(text), kb * 1024);
  assert.equal(parseMemTotal(''), 0);
});

test('net/dev (recorded): a container with loopback only, and a host with eth0', () => {
  const lo = parseNetDev(readFileSync(join(TESTDATA, 'net-dev-lo'), 'utf8'));
  assert.deepEqual([...lo.keys()], ['lo']);
  assert.equal(lo.get('lo')!.rxBytes, 0);
  const host = parseNetDev(readFileSync(join(TESTDATA, 'net-dev-host'), 'utf8'));
  assert.deepEqual([...host.keys()], ['lo', 'ifb0', 'ifb1', 'eth0']);
  assert.deepEqual(host.get('eth0'), {
    rxBytes: 276545581, rxPackets: 11660, rxErrors: 0, rxDropped: 0, txBytes: 852956, txPackets: 9160, txErrors: 0, txDropped: 0,
  });
  assert.equal(host.get('lo')!.txBytes, 3893);
});

test('small parsers: single values, flat keys, io.stat, malformed lines ignored', () => {
  assert.equal(parseSingle('123\n'), 123);
  assert.equal(parseSingle('max\n'), undefined);
  assert.equal(parseSingle(undefined), undefined);
  assert.deepEqual(parseFlatKeyed('a 1\nb x\nc 2 3\n\nd 4'), { a: 1, d: 4 });
  assert.deepEqual(parseV1Blkio('8:0 Read 1\ngarbage\nTotal 1\n8:16 Write x\n'), [{ major: 8, minor: 0, op: 'Read', value: 1 }]);
  assert.deepEqual(parseIoStat('8:0 rbytes=1 wbytes=2 bogus\n\n'), [{ major: 8, minor: 0, values: { rbytes: 1, wbytes: 2 } }]);
});
