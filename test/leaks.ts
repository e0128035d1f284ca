/**
 * What brig's tests may leave on the host, listed so that a test can compare before and after:
 * mounts, network namespaces, cgroups, runc state and conmon processes that belong to test roots
 * (`/tmp/brig-it-*`, cgroup parents `brig-it-*`), plus every network namespace.
 */
import { readdir, readFile } from 'node:fs/promises';

export const TEST_MARK = 'brig-it-';

export interface HostSnapshot {
  mounts: string[];
  netns: string[];
  cgroups: string[];
  processes: string[];
  dirs: string[];
}

export async function snapshotHost(mark = TEST_MARK): Promise<HostSnapshot> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => l.includes(mark))
    .map((l) => l.split(' ')[4] ?? l);
  const netns = await readdir('/run/netns').catch(() => [] as string[]);
  const cgroups: string[] = [];
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const d of await readdir(`/sys/fs/cgroup/${ctrl}`).catch(() => [] as string[])) {
      if (d.startsWith(mark)) {
        const kids = (await readdir(`/sys/fs/cgroup/${ctrl}/${d}`, { withFileTypes: true }).catch(() => []))
          .filter((k) => k.isDirectory()).map((k) => k.name);
        cgroups.push(`${ctrl}/${d}`, ...kids.map((k) => `${ctrl}/${d}/${k}`));
      }
    }
  }
  const processes: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (cmd.includes(mark) && state !== 'Z') processes.push(`${pid} ${cmd.replace(/\0/g, ' ').trim()}`);
  }
  const dirs = (await readdir('/tmp').catch(() => [] as string[])).filter((d) => d.startsWith(mark)).map((d) => `/tmp/${d}`);
  return { mounts, netns, cgroups, processes, dirs };
}

/** Items present in `after` but not in `before`, per category (empty object = no leak). */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): Partial<HostSnapshot> {
  const out: Partial<HostSnapshot> = {};
  for (const k of Object.keys(after) as (keyof HostSnapshot)[]) {
    const added = after[k].filter((x) => !before[k].includes(x));
    if (added.length) out[k] = added;
  }
  return out;
}
