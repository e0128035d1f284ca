/**
 * The subset of the OCI runtime spec (1.0.2, as runc 1.1 reads it) that brig writes to config.json.
 * Field names are the spec's own JSON names.
 */
import type { OciDevice, OciDeviceCgroup } from '../security/devices.js';
import type { OciSeccomp } from '../security/seccomp-types.js';

export type { OciDevice, OciDeviceCgroup } from '../security/devices.js';
export type { OciSeccomp, OciSeccompArg, OciSeccompSyscall, SeccompAction, SeccompOperator } from '../security/seccomp-types.js';

export const OCI_VERSION = '1.0.2-dev';

/** The whole config.json. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: OciLinux;
}

/** `process`: what runs as the container's PID 1, and with which privileges. */
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

/** `process.user`: numeric ids only (names are resolved by `resolveUser`). */
export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

/** Inheritable and ambient are deliberately absent from brig's type: brig never fills them. */
export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
}

/** One `process.rlimits` entry (`RLIMIT_NOFILE`…). */
export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

/** One `mounts` entry; applied in order, after the rootfs. */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** Namespace kinds runc 1.1 knows (no `time` namespace yet). */
export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

/** One `linux.namespaces` entry. */
export interface OciNamespace {
  type: OciNamespaceType;
  /** Join this namespace (e.g. `/var/run/netns/x`) instead of creating a new one. */
  path?: string;
}

/** One `linux.uidMappings`/`gidMappings` range of a user namespace. */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** `linux.resources.memory`, bytes; swap is memory+swap, -1 = unlimited. */
export interface OciMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** `linux.resources.cpu`: shares, CFS quota/period in µs, cpuset. */
export interface OciCpu {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
}

/** `linux.resources`: the container's cgroup settings. */
export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: { limit: number };
}

/** `linux`: namespaces, cgroup, seccomp and the /proc and /sys hardening. */
export interface OciLinux {
  namespaces: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  resources?: OciResources;
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  rootfsPropagation?: string;
}
