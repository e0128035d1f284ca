/**
 * Linux capabilities: the name table, Docker's and brig's default sets, and Docker's rules for
 * `--cap-add`, `--cap-drop` and `--privileged`.
 *
 * Everything here is pure except `readHostBoundingSet`, which reads `/proc/self/status` once so the
 * daemon can pass the result to `resolveCapabilities`.
 */
import { readFile } from 'node:fs/promises';
import { EngineError } from '../errors.js';

/** Every capability the kernel defines (linux/capability.h), by bit number. */
export const CAPABILITY_BITS: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** All capability names, in bit order. */
export const ALL_CAPABILITIES: readonly string[] = Object.freeze(
  Object.entries(CAPABILITY_BITS)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name),
);

/** Docker's 14 default capabilities, in Docker's order (the order its generated config.json uses). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

/**
 * brig's defaults: Docker's 14 minus NET_RAW (raw sockets: spoofing, ARP/ICMP tricks; unprivileged
 * ICMP sockets cover ping), MKNOD (device nodes are useless behind the device cgroup anyway) and
 * AUDIT_WRITE (a container has no business writing to the host's audit log). Podman ships the same 11.
 */
export const BRIG_DEFAULT_CAPS: readonly string[] = Object.freeze(
  DOCKER_DEFAULT_CAPS.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD' && c !== 'CAP_AUDIT_WRITE'),
);

/**
 * Canonical form of a capability name: `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all give
 * `CAP_NET_ADMIN`; `all` gives `ALL`.
 * @throws EngineError ERR_INVALID_ARGUMENT for a name the kernel does not define.
 */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const canonical = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!(canonical in CAPABILITY_BITS)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `unknown capability: "${canonical}"`);
  }
  return canonical;
}

export interface ResolveCapabilitiesOptions {
  /** `brig` starts from BRIG_DEFAULT_CAPS, `docker` from DOCKER_DEFAULT_CAPS. */
  compat: 'brig' | 'docker';
  capAdd: readonly string[];
  capDrop: readonly string[];
  privileged: boolean;
  /** The daemon's own bounding set (`readHostBoundingSet()`): the most a container can ever get. */
  hostBounding: readonly string[];
}

/**
 * The final capability set of a container, following Docker's `TweakCapabilities`:
 * - privileged: the host's bounding set (add/drop are ignored, as in Docker). Never a fixed list of
 *   every capability: a host whose bounding set lacks one (CAP_SYS_RESOURCE here) would fail in runc.
 * - `ALL` in capAdd: every capability the host can grant, minus capDrop (drops apply after the add).
 * - `ALL` in capDrop: exactly capAdd.
 * - otherwise: defaults minus capDrop, then capAdd appended. A name in both lists therefore stays,
 *   which is what dockerd (and the docker CLI's EffectiveCapAddCapDrop) do.
 * Default capabilities the host cannot grant are left out silently; an explicitly added one is an error.
 * @throws EngineError ERR_INVALID_ARGUMENT for an unknown name, or a capAdd the host's bounding set lacks.
 */
export function resolveCapabilities(options: ResolveCapabilitiesOptions): string[] {
  const host = new Set(options.hostBounding.map(normalizeCapability));
  const adds = unique(options.capAdd.map(normalizeCapability));
  const drops = unique(options.capDrop.map(normalizeCapability));
  if (options.privileged) return ALL_CAPABILITIES.filter((c) => host.has(c));

  let caps: string[];
  if (adds.includes('ALL')) {
    caps = ALL_CAPABILITIES.filter((c) => host.has(c) && !drops.includes(c));
  } else {
    const base = options.compat === 'docker' ? DOCKER_DEFAULT_CAPS : BRIG_DEFAULT_CAPS;
    const kept = drops.includes('ALL') ? [] : base.filter((c) => host.has(c) && !drops.includes(c));
    for (const c of adds) {
      if (!host.has(c)) {
        throw new EngineError('ERR_INVALID_ARGUMENT', `capability ${c} is not in the host's bounding set, so it cannot be added`);
      }
    }
    caps = unique([...kept, ...adds]);
  }
  return caps;
}

/** Names of the capabilities set in a mask such as `CapBnd` of `/proc/<pid>/status` (hex, no prefix). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return ALL_CAPABILITIES.filter((c) => (mask >> BigInt(CAPABILITY_BITS[c]!)) & 1n);
}

/** The 16-hex-digit mask that `/proc/<pid>/status` prints for a set (`CapEff: 00000000a80425fb`). */
export function capabilityMask(caps: Iterable<string>): string {
  let mask = 0n;
  for (const c of caps) {
    const canonical = normalizeCapability(c);
    if (canonical === 'ALL') throw new EngineError('ERR_INVALID_ARGUMENT', 'ALL has no capability mask');
    mask |= 1n << BigInt(CAPABILITY_BITS[canonical]!);
  }
  return mask.toString(16).padStart(16, '0');
}

/** Parses `CapBnd:` out of the text of `/proc/<pid>/status`. */
export function parseBoundingSet(statusText: string): string[] {
  const m = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (!m) throw new EngineError('ERR_INTERNAL', 'no CapBnd line in process status');
  return capabilitiesFromMask(m[1]!);
}

/** Reads the daemon's own capability bounding set (host fact; call once at startup). */
export async function readHostBoundingSet(statusPath = '/proc/self/status'): Promise<string[]> {
  return parseBoundingSet(await readFile(statusPath, 'utf8'));
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}
