/**
 * `buildOciSpec`: a container's intent (model types) plus daemon facts -> the OCI config.json for runc.
 * Pure: every host fact arrives in `SpecInput.daemon` (see `host-facts.ts`).
 */
import type { ResourceSpec, SecuritySpec } from '../model/container.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { defaultDeviceCgroupRules, privilegedDeviceCgroupRules } from '../security/devices.js';
import { maskedPaths, READONLY_PATHS } from '../security/paths.js';
import { defaultSeccompProfile } from '../security/seccomp.js';
import { dockerProfileToOci } from '../security/seccomp-docker.js';
import type { HostRlimits } from './host-facts.js';
import { defaultMounts, mergeMounts } from './mounts.js';
import { OCI_VERSION, type OciMount, type OciNamespace, type OciResources, type OciSeccomp, type OciSpec } from './oci.js';

/** What the daemon knows and decides once, for every container. */
export interface DaemonSpecDefaults {
  /** `brig` = brig's 11 default capabilities; `docker` = Docker's 14. */
  compat: 'brig' | 'docker';
  /** Pids limit when the container sets none (brig: 2048). 0 or -1 = unlimited. */
  defaultPidsLimit: number;
  /** The daemon's capability bounding set (`readHostBoundingSet`). */
  hostBounding: string[];
  /**
   * The daemon's own limits (`readHostRlimits`): runc cannot raise a hard limit above them (this host
   * lacks CAP_SYS_RESOURCE). Only NOFILE is set: RLIMIT_NPROC counts a uid's processes host-wide, so
   * the container keeps the daemon's and pids.max bounds it instead.
   */
  hostRlimits: HostRlimits;
  /** `findThermalThrottlePaths()`, masked in every unprivileged container. */
  thermalThrottlePaths: string[];
  /** For `minKernel` in custom seccomp profiles; default: this host's release. */
  kernelRelease?: string;
}

/** Everything `buildOciSpec` needs for one container. */
export interface SpecInput {
  id: string;
  rootfsPath: string;
  args: string[];
  env: string[];
  cwd: string;
  /** Already resolved against the image (`resolveUser`). */
  user: { uid: number; gid: number; additionalGids: number[] };
  terminal: boolean;
  /** [height, width]. */
  consoleSize?: [number, number];
  hostname: string;
  domainname: string;
  security: SecuritySpec;
  resources: ResourceSpec;
  daemon: DaemonSpecDefaults;
  cgroupsPath: string;
  /** Join this network namespace; null = a new one (runc brings up its loopback). Ignored with `hostNetwork`. */
  netnsPath: string | null;
  /** `--network host`: no network namespace at all (the host's interfaces); no network sysctls. */
  hostNetwork?: boolean;
  /** Bind mounts, volumes, tmpfs, /etc/hosts…: they replace a default mount with the same destination. */
  extraMounts: OciMount[];
  /** /dev/shm size in bytes; default 64 MiB. */
  shmSize?: number;
  /** Extra sysctls, on top of PRIVATE_NETNS_SYSCTLS (applied only when netnsPath is null). */
  sysctl?: Record<string, string>;
}

/** Docker's default RLIMIT_NOFILE for containers (Podman's too), clamped to the host's hard limit. */
export const DEFAULT_NOFILE = 1048576;

/**
 * Sysctls Docker sets in every container that has its own network namespace: binding ports below
 * 1024 and unprivileged ICMP sockets (so `ping` works without CAP_NET_RAW, which brig drops).
 * The engine should pass them in `sysctl` when it provides the namespace itself (bridge networking);
 * never for the host's namespace.
 */
export const PRIVATE_NETNS_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

/**
 * Builds the OCI runtime spec for one container.
 *
 * `--privileged` follows Docker: the host's bounding set, no seccomp, no masked or read-only paths,
 * writable /sys and cgroupfs, and every device allowed by the device cgroup. Unlike Docker, brig
 * does not yet copy the host's /dev nodes into a privileged container: /dev holds only runc's
 * defaults (null, zero, full, random, urandom, tty, ptmx, pts).
 * @throws EngineError ERR_INVALID_ARGUMENT for bad capability names or a malformed custom seccomp profile.
 */
export function buildOciSpec(input: SpecInput): OciSpec {
  const { security, daemon } = input;
  const privileged = security.privileged;
  const caps = resolveCapabilities({
    compat: daemon.compat,
    capAdd: security.capAdd,
    capDrop: security.capDrop,
    privileged,
    hostBounding: daemon.hostBounding,
  });
  const nofile = Math.min(DEFAULT_NOFILE, daemon.hostRlimits.nofile[1]);

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: input.terminal,
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length > 0 ? { additionalGids: [...input.user.additionalGids] } : {}),
      },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd || '/',
      // Same three sets for every user, as Docker does. For a non-root uid they do not survive
      // execve: with inheritable and ambient empty, the kernel computes the new permitted set from
      // file capabilities only, so a non-root process starts with CapEff 0 (Docker's
      // TestUserNoEffectiveCapabilities*), while setuid-root binaries stay limited by `bounding`.
      // Inheritable stays empty on purpose (CVE-2022-24769).
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: security.noNewPrivileges !== false,
    },
    root: { path: input.rootfsPath, readonly: security.readonlyRootfs },
    mounts: mergeMounts(defaultMounts({ privileged, shmSize: input.shmSize }), input.extraMounts),
    linux: {
      namespaces: namespaces(input.hostNetwork === true ? 'host' : input.netnsPath),
      resources: resources(input),
      cgroupsPath: input.cgroupsPath,
    },
  };
  if (input.terminal && input.consoleSize && input.consoleSize[0] > 0 && input.consoleSize[1] > 0) {
    spec.process.consoleSize = { height: input.consoleSize[0], width: input.consoleSize[1] };
  }
  if (input.hostname) spec.hostname = input.hostname;
  if (input.domainname) spec.domainname = input.domainname;

  const sysctl = { ...(input.netnsPath === null && input.hostNetwork !== true ? PRIVATE_NETNS_SYSCTLS : {}), ...input.sysctl };
  if (Object.keys(sysctl).length > 0) spec.linux.sysctl = sysctl;

  if (!privileged) {
    const seccomp = seccompFor(security.seccomp, caps, daemon.kernelRelease, daemon.compat === 'docker');
    if (seccomp) spec.linux.seccomp = seccomp;
    spec.linux.maskedPaths = maskedPaths(daemon.thermalThrottlePaths);
    spec.linux.readonlyPaths = [...READONLY_PATHS];
  }
  return spec;
}

/** Default profiles by capability set: building one costs a few ms, and a spec is serialised at once. */
const profileCache = new Map<string, OciSeccomp>();

function cachedDefaultProfile(caps: string[], compatArchitectures: boolean): OciSeccomp {
  const key = `${compatArchitectures}:${[...caps].sort().join(',')}`;
  let p = profileCache.get(key);
  if (!p) {
    p = defaultSeccompProfile(caps, { compatArchitectures });
    if (profileCache.size > 64) profileCache.clear();
    profileCache.set(key, p);
  }
  return p;
}

function seccompFor(seccomp: SecuritySpec['seccomp'], caps: string[], kernelRelease: string | undefined, compatArchitectures: boolean): OciSeccomp | undefined {
  switch (seccomp.kind) {
    case 'default':
      return cachedDefaultProfile(caps, compatArchitectures);
    case 'unconfined':
      return undefined;
    case 'custom':
      return dockerProfileToOci(seccomp.profile, caps, kernelRelease === undefined ? {} : { kernelRelease });
  }
}

/**
 * mount, network (none for host networking), uts, pid, ipc (Docker's five) plus cgroup: a private cgroup namespace hides the
 * host's cgroup paths; it works on this cgroup v1 host with runc 1.1.
 */
function namespaces(netnsPath: string | null | 'host'): OciNamespace[] {
  return [
    { type: 'mount' },
    ...(netnsPath === 'host' ? [] : [netnsPath === null ? { type: 'network' as const } : { type: 'network' as const, path: netnsPath }]),
    { type: 'uts' },
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'cgroup' },
  ];
}

function resources(input: SpecInput): OciResources {
  const r = input.resources;
  const out: OciResources = {
    devices: input.security.privileged ? privilegedDeviceCgroupRules() : defaultDeviceCgroupRules(),
  };
  const pids = r.pidsLimit ?? input.daemon.defaultPidsLimit;
  if (pids > 0) out.pids = { limit: pids };
  if (r.memory > 0) {
    out.memory = { limit: r.memory };
    if (r.memorySwap !== 0) out.memory.swap = r.memorySwap;
  }
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.nanoCpus > 0) {
    cpu.period = 100_000;
    cpu.quota = Math.floor((r.nanoCpus * cpu.period) / 1e9);
  } else {
    if (r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
    if (r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  return out;
}
