/**
 * Paths of /proc and /sys that a container must not read (masked) or write (read-only), as Docker
 * sets them. runc masks a file with a bind of /dev/null and a directory with an empty read-only
 * tmpfs; a path missing on the host is skipped by runc, so the lists may name paths that do not exist.
 */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Docker's masked paths. /proc/interrupts and the per-CPU thermal_throttle directories are a host
 * information leak and side channel (GHSA-6fw5-f8r9-fgfm); /sys/devices/virtual/powercap exposes RAPL
 * energy counters (GHSA-jq35-85cj-fj4p, the PLATYPUS attack).
 */
export const MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
]);

/** Docker's read-only paths (/sys and the cgroup mount are read-only mounts of their own). */
export const READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
]);

/** The masked paths of a container: MASKED_PATHS plus the host's per-CPU thermal_throttle dirs. */
export function maskedPaths(thermalThrottlePaths: readonly string[]): string[] {
  return [...MASKED_PATHS, ...thermalThrottlePaths.filter((p) => !MASKED_PATHS.includes(p))];
}

/**
 * Host fact: `/sys/devices/system/cpu/cpu<N>/thermal_throttle` for every CPU directory where it
 * exists, sorted by CPU number. `sysRoot` is for tests. Call once at daemon start.
 */
export async function findThermalThrottlePaths(sysRoot = '/sys'): Promise<string[]> {
  const cpuDir = join(sysRoot, 'devices/system/cpu');
  let entries: string[];
  try {
    entries = await readdir(cpuDir);
  } catch {
    return [];
  }
  const cpus = entries
    .filter((e) => /^cpu\d+$/.test(e))
    .map((e) => Number(e.slice(3)))
    .sort((a, b) => a - b);
  const found: string[] = [];
  for (const n of cpus) {
    const rel = `devices/system/cpu/cpu${n}/thermal_throttle`;
    try {
      await access(join(sysRoot, rel));
      found.push(`/sys/${rel}`);
    } catch {
      // This CPU has no thermal_throttle directory (no such driver, or a VM): nothing to mask.
    }
  }
  return found;
}
