/** Facts about the host that container specs depend on, read once at daemon start. */
import { readFile, readdir, access } from 'node:fs/promises';
import { readHostBoundingSet } from '../security/capabilities.js';

export interface HostFacts {
  /** The daemon's capability bounding set (what `--privileged` can get at most). */
  boundingSet: string[];
  rlimits: { nofile: [number, number]; nproc: [number, number] };
  /** `/sys/devices/system/cpu/cpuN/thermal_throttle` paths that exist (masked in containers). */
  thermalThrottlePaths: string[];
  kernelVersion: string;
  cgroupVersion: 1 | 2;
}

export async function readHostFacts(): Promise<HostFacts> {
  return {
    boundingSet: await readHostBoundingSet(),
    rlimits: await readRlimits(),
    thermalThrottlePaths: await thermalThrottlePaths(),
    kernelVersion: (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim(),
    cgroupVersion: await cgroupVersion(),
  };
}

async function readRlimits(): Promise<HostFacts['rlimits']> {
  const text = await readFile('/proc/self/limits', 'utf8');
  const pick = (label: string): [number, number] => {
    const line = text.split('\n').find((l) => l.startsWith(label));
    const parts = line?.slice(26).trim().split(/\s+/) ?? [];
    const num = (s: string | undefined) => (s === undefined || s === 'unlimited' ? 1 << 30 : Number(s));
    return [num(parts[0]), num(parts[1])];
  };
  return { nofile: pick('Max open files'), nproc: pick('Max processes') };
}

async function thermalThrottlePaths(): Promise<string[]> {
  const base = '/sys/devices/system/cpu';
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(base);
  } catch {
    return out;
  }
  for (const n of names.filter((x) => /^cpu[0-9]+$/.test(x))) {
    const p = `${base}/${n}/thermal_throttle`;
    try {
      await access(p);
      out.push(p);
    } catch {
      /* not present on this CPU */
    }
  }
  return out;
}

async function cgroupVersion(): Promise<1 | 2> {
  try {
    await access('/sys/fs/cgroup/cgroup.controllers');
    return 2;
  } catch {
    return 1;
  }
}
