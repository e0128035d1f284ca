/**
 * The mounts every container gets (Docker's defaults), and how user mounts replace them.
 */
import { posix } from 'node:path';
import type { OciMount } from './oci.js';

/** Docker's default /dev/shm size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/**
 * Docker's default mounts, in Docker's order. `privileged` makes /sys and the cgroup filesystem
 * writable (Docker's clearReadOnly); everything else is the same for every container. The cgroup
 * mount is `type: cgroup`, which runc turns into cgroup2 on a unified host.
 */
export function defaultMounts(options: { privileged: boolean; shmSize?: number }): OciMount[] {
  const ro = options.privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...ro, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${options.shmSize ?? DEFAULT_SHM_SIZE}`],
    },
  ];
}

/**
 * Defaults followed by the user's mounts. A default is dropped when a user mount has the same
 * destination, and every default under /dev is dropped when the user mounts /dev itself (as Docker does).
 */
export function mergeMounts(defaults: readonly OciMount[], extra: readonly OciMount[]): OciMount[] {
  const userDests = new Set(extra.map((m) => cleanDestination(m.destination)));
  const userDev = userDests.has('/dev');
  const kept = defaults.filter((m) => !userDests.has(m.destination) && !(userDev && m.destination.startsWith('/dev/')));
  return [...kept, ...extra];
}

function cleanDestination(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}
