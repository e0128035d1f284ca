/**
 * Stats frames → dockerd's `GET /containers/{id}/stats` objects (types.StatsJSON of API 1.41).
 *
 * The field order and the omissions are those of Go's encoding/json over moby's structs: zero
 * numbers tagged `omitempty` are left out (`failcnt`, `system_cpu_usage`, `pids_stats.limit`…),
 * struct fields never are (`pids_stats: {}`, `storage_stats: {}`), unset blkio lists are `null`,
 * and `networks` is left out when the container has no network interface. A container that is not
 * running gives dockerd's zeroed object (`read` = `0001-01-01T00:00:00Z`).
 */
import type { BlkioEntry, CpuStats } from '../../engine/cgroup-stats.js';
import type { StatsFrame } from '../../engine/stats.js';
import { ZERO_TIME } from '../../util/time.js';

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction when whole. */
export function goTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(ms).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

function cpuJson(cpu: CpuStats | undefined): Record<string, unknown> {
  const usage: Record<string, unknown> = { total_usage: cpu?.cpuUsage.totalUsage ?? 0 };
  if (cpu?.cpuUsage.percpuUsage?.length) usage['percpu_usage'] = cpu.cpuUsage.percpuUsage;
  usage['usage_in_kernelmode'] = cpu?.cpuUsage.usageInKernelmode ?? 0;
  usage['usage_in_usermode'] = cpu?.cpuUsage.usageInUsermode ?? 0;
  const out: Record<string, unknown> = { cpu_usage: usage };
  if (cpu?.systemCpuUsage) out['system_cpu_usage'] = cpu.systemCpuUsage;
  if (cpu?.onlineCpus) out['online_cpus'] = cpu.onlineCpus;
  out['throttling_data'] = {
    periods: cpu?.throttlingData.periods ?? 0,
    throttled_periods: cpu?.throttlingData.throttledPeriods ?? 0,
    throttled_time: cpu?.throttlingData.throttledTime ?? 0,
  };
  return out;
}

const blkio = (list: BlkioEntry[] | null | undefined) => (list ? list.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value })) : null);

/** Copies the entries whose value is not zero (Go's `omitempty` on numbers). */
function nonZero(entries: [string, number | undefined][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of entries) if (v) out[k] = v;
  return out;
}

export function toDockerStats(f: StatsFrame): Record<string, unknown> {
  const s = f.sample;
  const memory: Record<string, unknown> = {};
  if (s) {
    if (s.memory.usage) memory['usage'] = s.memory.usage;
    if (s.memory.maxUsage) memory['max_usage'] = s.memory.maxUsage;
    if (Object.keys(s.memory.stats).length) memory['stats'] = s.memory.stats;
    if (s.memory.failcnt) memory['failcnt'] = s.memory.failcnt;
    if (s.memory.limit) memory['limit'] = s.memory.limit;
  }
  const out: Record<string, unknown> = {
    read: s ? goTime(s.readNs) : ZERO_TIME,
    preread: f.previous ? goTime(f.previous.readNs) : ZERO_TIME,
    pids_stats: nonZero([['current', s?.pids.current], ['limit', s?.pids.limit]]),
    blkio_stats: {
      io_service_bytes_recursive: blkio(s?.blkio.ioServiceBytesRecursive),
      io_serviced_recursive: blkio(s?.blkio.ioServicedRecursive),
      io_queue_recursive: blkio(s?.blkio.ioQueueRecursive),
      io_service_time_recursive: blkio(s?.blkio.ioServiceTimeRecursive),
      io_wait_time_recursive: blkio(s?.blkio.ioWaitTimeRecursive),
      io_merged_recursive: blkio(s?.blkio.ioMergedRecursive),
      io_time_recursive: blkio(s?.blkio.ioTimeRecursive),
      sectors_recursive: blkio(s?.blkio.sectorsRecursive),
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuJson(s?.cpu),
    precpu_stats: cpuJson(f.previous?.cpu),
    memory_stats: memory,
    name: `/${f.name}`,
    id: f.id,
  };
  if (s?.networks && s.networks.size > 0) {
    const networks: Record<string, unknown> = {};
    for (const [name, n] of s.networks) {
      networks[name] = {
        rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped,
        tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped,
      };
    }
    out['networks'] = networks;
  }
  return out;
}
