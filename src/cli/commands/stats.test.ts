import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStats } from '../../client/types.js';
import { cpuPercent, memoryUsage, statsRow } from './stats.js';
import { formatTopTable } from './top.js';

const base: ContainerStats = {
  read: '2026-11-28T14:47:57Z',
  preread: '2026-11-28T14:47:56Z',
  pids_stats: { current: 3 },
  blkio_stats: { io_service_bytes_recursive: [{ major: 254, minor: 0, op: 'Read', value: 4096 }, { major: 254, minor: 0, op: 'Write', value: 8_400_000 }, { major: 254, minor: 0, op: 'Total', value: 8_404_096 }] },
  cpu_stats: { cpu_usage: { total_usage: 2_000_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 12_000_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 1_500_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 10_000_000_000 },
  memory_stats: { usage: 21_610_496, stats: { total_inactive_file: 0, inactive_file: 5 }, limit: 67_108_864 },
  name: '/web',
  id: 'c2e296798b7f193f769c07c955dcb8e6ba1c7b7b7fcbd8f7cdd429be5168d387',
};

test('CPU %: container delta over host delta times CPUs (0.5 s of 2 s on 2 CPUs = 50 %)', () => {
  assert.equal(cpuPercent(base), 50);
  assert.equal(cpuPercent({ ...base, precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 } } }), (2e9 / 12e9) * 200);
  // no online_cpus: the length of percpu_usage counts
  const noOnline = { ...base, cpu_stats: { ...base.cpu_stats, online_cpus: undefined, cpu_usage: { ...base.cpu_stats.cpu_usage, percpu_usage: [1, 1, 1, 1] } } };
  assert.equal(cpuPercent(noOnline), 100);
});

test('memory: usage minus inactive file pages (v1 total_inactive_file first, then v2 inactive_file)', () => {
  assert.equal(memoryUsage({ usage: 100, stats: { total_inactive_file: 30, inactive_file: 10 } }), 70);
  assert.equal(memoryUsage({ usage: 100, stats: { inactive_file: 10 } }), 90);
  assert.equal(memoryUsage({ usage: 100, stats: { total_inactive_file: 300 } }), 100);
  assert.equal(memoryUsage({}), 0);
});

test('a row as docker stats prints it; an ended stream shows --', () => {
  assert.deepEqual(statsRow(base.id!, 'web', base), ['c2e296798b7f', 'web', '50.00%', '20.61MiB / 64MiB', '32.20%', '0B / 0B', '4.1kB / 8.4MB', '3']);
  assert.deepEqual(statsRow(base.id!, 'web', undefined, true).slice(0, 3), [base.id, 'web', '--']);
});

test('top table: tabwriter with minwidth 20 and padding 3, the last column unpadded', () => {
  assert.equal(
    formatTopTable(['UID', 'PID', 'CMD'], [['root', '3313', 'sleep 1000'], ['a-very-long-user-name', '1', 'x']]),
    'UID                     PID                 CMD\n' +
      'root                    3313                sleep 1000\n' +
      'a-very-long-user-name   1                   x\n',
  );
});
