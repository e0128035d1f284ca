/**
 * Container resource statistics from cgroup files: pure parsers that take file contents (never
 * paths), so that they can be tested against recorded file trees (`testdata/cgroup-v1`,
 * `testdata/cgroup-v2`).
 *
 * The mapping follows dockerd (moby `daemon/daemon_unix.go` statsV1/statsV2 over containerd's
 * cgroups readers):
 *
 * | stats field                         | cgroup v1                                        | cgroup v2                     |
 * |-------------------------------------|--------------------------------------------------|-------------------------------|
 * | cpu total / percpu                  | cpuacct.usage, cpuacct.usage_percpu (ns)         | cpu.stat usage_usec ×1000     |
 * | cpu user / kernel                   | cpuacct.stat user/system (USER_HZ ticks → ns)    | cpu.stat user_usec/system_usec|
 * | throttling                          | cpu.stat nr_periods, nr_throttled, throttled_time| cpu.stat …, throttled_usec    |
 * | memory usage / max_usage / failcnt  | memory.usage_in_bytes, .max_usage_in_bytes, .failcnt | memory.current, –, memory.events oom |
 * | memory limit                        | memory.limit_in_bytes (host RAM when larger)     | memory.max (`max` → host RAM) |
 * | memory stats                        | memory.stat (containerd's v1 keys)               | memory.stat (containerd's v2 keys) |
 * | pids current / limit                | pids.current, pids.max (`max` → 0 = no limit)    | same                          |
 * | blkio                               | blkio.* (CFQ files, else blkio.throttle.*)       | io.stat rbytes/wbytes         |
 *
 * Host-wide figures come from /proc: `system_cpu_usage` is the sum of the first seven fields of the
 * `cpu` line of /proc/stat (user … softirq, in USER_HZ ticks) in ns, `online_cpus` the number of
 * `cpuN` lines (dockerd 20.10 does both exactly so), networks from `/proc/<pid>/net/dev`.
 *
 * Numbers are JS numbers: counters stay exact up to 2^53 (104 days of CPU time in ns); only
 * "unlimited" sentinels such as 9223372036854771712 lose their last digits, and those are replaced
 * (limits) or only echoed (`hierarchical_memory_limit`).
 */

/** USER_HZ: the unit of /proc/stat and cpuacct.stat, 100 on every Linux architecture brig runs on. */
export const USER_HZ = 100;
const NS_PER_TICK = 1_000_000_000 / USER_HZ;

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Docker's BlkioStats: on cgroup v2 only `ioServiceBytesRecursive` is set, the rest are null. */
export interface BlkioStats {
  ioServiceBytesRecursive: BlkioEntry[] | null;
  ioServicedRecursive: BlkioEntry[] | null;
  ioQueueRecursive: BlkioEntry[] | null;
  ioServiceTimeRecursive: BlkioEntry[] | null;
  ioWaitTimeRecursive: BlkioEntry[] | null;
  ioMergedRecursive: BlkioEntry[] | null;
  ioTimeRecursive: BlkioEntry[] | null;
  sectorsRecursive: BlkioEntry[] | null;
}

export interface CpuUsage {
  /** ns */
  totalUsage: number;
  /** ns per CPU; cgroup v1 only */
  percpuUsage?: number[];
  usageInKernelmode: number;
  usageInUsermode: number;
}

export interface ThrottlingData {
  periods: number;
  throttledPeriods: number;
  /** ns */
  throttledTime: number;
}

/** The container's CPU figures plus the host's, as one sample of `cpu_stats`. */
export interface CpuStats {
  cpuUsage: CpuUsage;
  /** Host CPU time in ns (see parseProcStat); 0 when unknown. */
  systemCpuUsage: number;
  onlineCpus: number;
  throttlingData: ThrottlingData;
}

export interface MemoryStats {
  usage: number;
  /** cgroup v1 only */
  maxUsage?: number;
  stats: Record<string, number>;
  /** bytes; the host's RAM when the cgroup is unlimited */
  limit: number;
  failcnt: number;
}

export interface PidsStats {
  current: number;
  /** 0 = no limit */
  limit: number;
}

export interface NetworkStats {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** What the cgroup files of one container say (without host-wide CPU figures). */
export interface CgroupStats {
  cgroupVersion: 1 | 2;
  pids: PidsStats;
  blkio: BlkioStats;
  cpuUsage: CpuUsage;
  throttlingData: ThrottlingData;
  memory: MemoryStats;
}

/** File contents by name, `undefined` for a file that does not exist. v1 names are `<controller>/<file>`. */
export type CgroupFiles = Readonly<Record<string, string | undefined>>;

/** The v1 files statsFromV1 reads, as `<controller>/<file>`. */
export const V1_FILES = [
  'memory/memory.usage_in_bytes',
  'memory/memory.max_usage_in_bytes',
  'memory/memory.limit_in_bytes',
  'memory/memory.failcnt',
  'memory/memory.stat',
  'cpuacct/cpuacct.usage',
  'cpuacct/cpuacct.usage_percpu',
  'cpuacct/cpuacct.stat',
  'cpu/cpu.stat',
  'pids/pids.current',
  'pids/pids.max',
  ...[
    'io_service_bytes_recursive', 'io_serviced_recursive', 'io_queued_recursive', 'io_service_time_recursive',
    'io_wait_time_recursive', 'io_merged_recursive', 'time_recursive', 'sectors_recursive',
    'throttle.io_service_bytes_recursive', 'throttle.io_serviced_recursive', 'throttle.io_service_bytes', 'throttle.io_serviced',
  ].map((f) => `blkio/blkio.${f}`),
] as const;

/** The v2 files statsFromV2 reads (all in the container's cgroup directory). */
export const V2_FILES = [
  'cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'io.stat',
] as const;

/** containerd's cgroup v1 MemoryStat fields, the keys dockerd puts in `memory_stats.stats`. */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
];

/** containerd's cgroup v2 MemoryStat fields, the keys dockerd puts in `memory_stats.stats`. */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

const num = (s: string | undefined): number => {
  if (s === undefined) return 0;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

/** A single-value file (`123\n`); `max` (v2 "no limit") and garbage give `undefined`. */
export function parseSingle(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^[0-9]+$/.test(t)) return undefined;
  return Number(t);
}

/** A flat-keyed file (`key value` per line: memory.stat, cpu.stat, cpuacct.stat, memory.events). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (text === undefined) return out;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 2 || !/^[0-9]+$/.test(f[1]!)) continue;
    out[f[0]!] = Number(f[1]);
  }
  return out;
}

/** cgroup v1 blkio file (`MAJ:MIN Op value` lines; the device-less `Total n` line is dropped, as containerd does). */
export function parseV1Blkio(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  if (text === undefined) return out;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^([0-9]+):([0-9]+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    // `time_recursive` and `sectors_recursive` have no op column: `MAJ:MIN value`
    if (f.length === 2 && /^[0-9]+$/.test(f[1]!)) {
      out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: '', value: Number(f[1]) });
    } else if (f.length === 3 && /^[0-9]+$/.test(f[2]!)) {
      out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: f[1]!, value: Number(f[2]) });
    }
  }
  return out;
}

/** cgroup v2 io.stat: `MAJ:MIN key=value …` per device. */
export function parseIoStat(text: string | undefined): { major: number; minor: number; values: Record<string, number> }[] {
  const out: { major: number; minor: number; values: Record<string, number> }[] = [];
  if (text === undefined) return out;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^([0-9]+):([0-9]+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const values: Record<string, number> = {};
    for (const kv of f.slice(1)) {
      const m = /^([a-z_]+)=([0-9]+)$/.exec(kv);
      if (m) values[m[1]!] = Number(m[2]);
    }
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), values });
  }
  return out;
}

/** Docker's memory limit: the cgroup's, or the host's RAM when the cgroup's is larger (unlimited). */
function clampLimit(limit: number | undefined, memTotal: number): number {
  if (limit === undefined) return memTotal;
  return memTotal > 0 && limit > memTotal ? memTotal : limit;
}

/** `pids.max`: a number, or `max` (no limit) → 0. */
function pidsLimit(text: string | undefined): number {
  return parseSingle(text) ?? 0;
}

/** Stats from cgroup v1 files (see V1_FILES); `memTotal` is the host's RAM in bytes. */
export function statsFromV1(files: CgroupFiles, host: { memTotal: number }): CgroupStats {
  const cpuacct = parseFlatKeyed(files['cpuacct/cpuacct.stat']);
  const cpuStat = parseFlatKeyed(files['cpu/cpu.stat']);
  const percpu = (files['cpuacct/cpuacct.usage_percpu'] ?? '').trim().split(/\s+/).filter((s) => /^[0-9]+$/.test(s)).map(Number);
  const mem = parseFlatKeyed(files['memory/memory.stat']);
  const stats: Record<string, number> = {};
  for (const k of V1_MEMORY_KEYS) {
    stats[k] = mem[k] ?? 0;
    stats[`total_${k}`] = mem[`total_${k}`] ?? 0;
  }
  stats['hierarchical_memory_limit'] = mem['hierarchical_memory_limit'] ?? 0;
  stats['hierarchical_memsw_limit'] = mem['hierarchical_memsw_limit'] ?? 0;

  const blk = (name: string) => parseV1Blkio(files[`blkio/blkio.${name}`]);
  // CFQ files first; with blk-mq (no CFQ) they are missing or empty and the throttle files count (containerd's rule).
  let blkio: BlkioStats = {
    ioServiceBytesRecursive: blk('io_service_bytes_recursive'),
    ioServicedRecursive: blk('io_serviced_recursive'),
    ioQueueRecursive: blk('io_queued_recursive'),
    ioServiceTimeRecursive: blk('io_service_time_recursive'),
    ioWaitTimeRecursive: blk('io_wait_time_recursive'),
    ioMergedRecursive: blk('io_merged_recursive'),
    ioTimeRecursive: blk('time_recursive'),
    sectorsRecursive: blk('sectors_recursive'),
  };
  if (Object.values(blkio).every((l) => l === null || l.length === 0)) {
    const recursive = files['blkio/blkio.throttle.io_service_bytes_recursive'] !== undefined;
    blkio = {
      ...blkio,
      ioServiceBytesRecursive: blk(recursive ? 'throttle.io_service_bytes_recursive' : 'throttle.io_service_bytes'),
      ioServicedRecursive: blk(recursive ? 'throttle.io_serviced_recursive' : 'throttle.io_serviced'),
    };
  }

  return {
    cgroupVersion: 1,
    pids: { current: num(files['pids/pids.current']?.trim()), limit: pidsLimit(files['pids/pids.max']) },
    blkio,
    cpuUsage: {
      totalUsage: num(files['cpuacct/cpuacct.usage']?.trim()),
      percpuUsage: percpu,
      usageInKernelmode: (cpuacct['system'] ?? 0) * NS_PER_TICK,
      usageInUsermode: (cpuacct['user'] ?? 0) * NS_PER_TICK,
    },
    throttlingData: {
      periods: cpuStat['nr_periods'] ?? 0,
      throttledPeriods: cpuStat['nr_throttled'] ?? 0,
      throttledTime: cpuStat['throttled_time'] ?? 0,
    },
    memory: {
      usage: num(files['memory/memory.usage_in_bytes']?.trim()),
      maxUsage: num(files['memory/memory.max_usage_in_bytes']?.trim()),
      stats,
      limit: clampLimit(parseSingle(files['memory/memory.limit_in_bytes']), host.memTotal),
      failcnt: num(files['memory/memory.failcnt']?.trim()),
    },
  };
}

/** Stats from cgroup v2 files (see V2_FILES); `memTotal` is the host's RAM in bytes. */
export function statsFromV2(files: CgroupFiles, host: { memTotal: number }): CgroupStats {
  const cpu = parseFlatKeyed(files['cpu.stat']);
  const mem = parseFlatKeyed(files['memory.stat']);
  const events = parseFlatKeyed(files['memory.events']);
  const stats: Record<string, number> = {};
  for (const k of V2_MEMORY_KEYS) {
    // Kernels ≥ 5.9 split workingset_* into _anon and _file; containerd's key is their sum's old name.
    stats[k] = mem[k] ?? (mem[`${k}_anon`] ?? 0) + (mem[`${k}_file`] ?? 0);
  }
  const io = parseIoStat(files['io.stat']);
  const serviceBytes: BlkioEntry[] = [];
  for (const d of io) {
    serviceBytes.push({ major: d.major, minor: d.minor, op: 'read', value: d.values['rbytes'] ?? 0 });
    serviceBytes.push({ major: d.major, minor: d.minor, op: 'write', value: d.values['wbytes'] ?? 0 });
  }
  return {
    cgroupVersion: 2,
    pids: { current: num(files['pids.current']?.trim()), limit: pidsLimit(files['pids.max']) },
    blkio: {
      ioServiceBytesRecursive: serviceBytes.length ? serviceBytes : null,
      ioServicedRecursive: null,
      ioQueueRecursive: null,
      ioServiceTimeRecursive: null,
      ioWaitTimeRecursive: null,
      ioMergedRecursive: null,
      ioTimeRecursive: null,
      sectorsRecursive: null,
    },
    cpuUsage: {
      totalUsage: (cpu['usage_usec'] ?? 0) * 1000,
      usageInKernelmode: (cpu['system_usec'] ?? 0) * 1000,
      usageInUsermode: (cpu['user_usec'] ?? 0) * 1000,
    },
    throttlingData: {
      periods: cpu['nr_periods'] ?? 0,
      throttledPeriods: cpu['nr_throttled'] ?? 0,
      throttledTime: (cpu['throttled_usec'] ?? 0) * 1000,
    },
    memory: {
      usage: num(files['memory.current']?.trim()),
      stats,
      limit: clampLimit(parseSingle(files['memory.max']), host.memTotal),
      // dockerd reports the `oom` count of memory.events as failcnt on cgroup v2
      failcnt: events['oom'] ?? 0,
    },
  };
}

/**
 * /proc/stat → host CPU time in ns (user+nice+system+idle+iowait+irq+softirq of the `cpu` line,
 * USER_HZ ticks) and the number of `cpuN` lines (online CPUs). Throws on a file without a `cpu` line.
 */
export function parseProcStat(text: string): { systemCpuUsage: number; onlineCpus: number } {
  let total: number | undefined;
  let cpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      if (f.length < 8) throw new Error('/proc/stat: the cpu line has fewer than 7 fields');
      total = f.slice(1, 8).reduce((s, v) => s + num(v), 0);
    } else if (/^cpu[0-9]+$/.test(f[0] ?? '')) {
      cpus++;
    }
  }
  if (total === undefined) throw new Error('/proc/stat has no cpu line');
  return { systemCpuUsage: total * NS_PER_TICK, onlineCpus: cpus };
}

/** /proc/meminfo → MemTotal in bytes (0 if missing). */
export function parseMemTotal(text: string): number {
  const m = /^MemTotal:\s+([0-9]+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** /proc/<pid>/net/dev → counters per interface (in file order). */
export function parseNetDev(text: string): Map<string, NetworkStats> {
  const out = new Map<string, NetworkStats>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || name.includes('|') || f.length < 16 || !f.every((v) => /^[0-9]+$/.test(v))) continue;
    const n = f.map(Number);
    out.set(name, {
      rxBytes: n[0]!, rxPackets: n[1]!, rxErrors: n[2]!, rxDropped: n[3]!,
      txBytes: n[8]!, txPackets: n[9]!, txErrors: n[10]!, txDropped: n[11]!,
    });
  }
  return out;
}
