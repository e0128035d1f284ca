import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatsSample } from '../../engine/stats.js';
import { goTime, toDockerStats } from './stats-view.js';

const ID = 'c2e296798b7f193f769c07c955dcb8e6ba1c7b7b7fcbd8f7cdd429be5168d387';

test('a container that is not running: dockerd 20.10 zeroed object, byte for byte', () => {
  assert.equal(
    JSON.stringify(toDockerStats({ id: ID, name: 'x' })),
    `{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,` +
      `"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,` +
      `"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},` +
      `"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},` +
      `"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},` +
      `"memory_stats":{},"name":"/x","id":"${ID}"}`,
  );
});

function sample(over: Partial<StatsSample> = {}): StatsSample {
  const cpu = {
    cpuUsage: { totalUsage: 1562333931, percpuUsage: [759201210, 803132721], usageInKernelmode: 50_000_000, usageInUsermode: 1_500_000_000 },
    systemCpuUsage: 11_720_000_000_000,
    onlineCpus: 2,
    throttlingData: { periods: 30, throttledPeriods: 30, throttledTime: 3718934580 },
  };
  return {
    cgroupVersion: 1,
    readNs: 1_795_877_277_123_456_789n,
    pids: { current: 3, limit: 0 },
    blkio: {
      ioServiceBytesRecursive: [{ major: 254, minor: 0, op: 'Read', value: 4096 }],
      ioServicedRecursive: [], ioQueueRecursive: [], ioServiceTimeRecursive: [], ioWaitTimeRecursive: [],
      ioMergedRecursive: [], ioTimeRecursive: [], sectorsRecursive: [],
    },
    cpuUsage: cpu.cpuUsage,
    throttlingData: cpu.throttlingData,
    cpu,
    memory: { usage: 21573632, maxUsage: 22786048, stats: { cache: 20971520, total_inactive_file: 0 }, limit: 67108864, failcnt: 0 },
    networks: undefined,
    ...over,
  };
}

test('a running container: field order and Go omitempty (no failcnt 0, no pids limit 0, no networks)', () => {
  const s = sample();
  const j = toDockerStats({ id: ID, name: 'web', sample: s, previous: { readNs: 1_795_877_276_000_000_000n, cpu: s.cpu } });
  assert.deepEqual(Object.keys(j), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id']);
  assert.equal(j['read'], '2026-11-28T14:47:57.123456789Z');
  assert.equal(j['preread'], '2026-11-28T14:47:56Z');
  assert.deepEqual(j['pids_stats'], { current: 3 });
  assert.deepEqual(j['memory_stats'], { usage: 21573632, max_usage: 22786048, stats: { cache: 20971520, total_inactive_file: 0 }, limit: 67108864 });
  assert.deepEqual(j['cpu_stats'], {
    cpu_usage: { total_usage: 1562333931, percpu_usage: [759201210, 803132721], usage_in_kernelmode: 50_000_000, usage_in_usermode: 1_500_000_000 },
    system_cpu_usage: 11_720_000_000_000,
    online_cpus: 2,
    throttling_data: { periods: 30, throttled_periods: 30, throttled_time: 3718934580 },
  });
  assert.deepEqual((j['blkio_stats'] as Record<string, unknown>)['io_service_bytes_recursive'], [{ major: 254, minor: 0, op: 'Read', value: 4096 }]);
  assert.deepEqual((j['blkio_stats'] as Record<string, unknown>)['sectors_recursive'], []);
});

test('cgroup v2 and networks: no percpu_usage, no max_usage; interfaces keyed by name', () => {
  const base = sample();
  const cpu = { ...base.cpu, cpuUsage: { totalUsage: 5, usageInKernelmode: 1, usageInUsermode: 4 } };
  const s = sample({
    cgroupVersion: 2, cpu, cpuUsage: cpu.cpuUsage,
    memory: { usage: 10, stats: { inactive_file: 2 }, limit: 100, failcnt: 1 },
    networks: new Map([['eth0', { rxBytes: 1, rxPackets: 2, rxErrors: 0, rxDropped: 0, txBytes: 3, txPackets: 4, txErrors: 0, txDropped: 0 }]]),
  });
  const j = toDockerStats({ id: ID, name: 'web', sample: s });
  assert.deepEqual((j['cpu_stats'] as { cpu_usage: unknown }).cpu_usage, { total_usage: 5, usage_in_kernelmode: 1, usage_in_usermode: 4 });
  assert.deepEqual(j['memory_stats'], { usage: 10, stats: { inactive_file: 2 }, failcnt: 1, limit: 100 });
  assert.equal(j['preread'], '0001-01-01T00:00:00Z');
  assert.deepEqual(j['networks'], { eth0: { rx_bytes: 1, rx_packets: 2, rx_errors: 0, rx_dropped: 0, tx_bytes: 3, tx_packets: 4, tx_errors: 0, tx_dropped: 0 } });
});

test("goTime is Go's RFC3339Nano: trailing zeros dropped", () => {
  assert.equal(goTime(1_795_877_277_000_000_000n), '2026-11-28T14:47:57Z');
  assert.equal(goTime(1_795_877_277_100_000_000n), '2026-11-28T14:47:57.1Z');
  assert.equal(goTime(1_795_877_277_000_000_001n), '2026-11-28T14:47:57.000000001Z');
});
