/**
 * Container domain types. `ContainerSpec` is what the user asked for, already validated at the edge
 * (API mapper or CLI); `ContainerRecord` is what the metadata store keeps; `ContainerState` is the
 * part that changes over a container's life.
 */
import type { Digest } from './image.js';
import type { NetworkAttachment, NetworkSpecV2 } from './network.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  name: RestartPolicyName;
  maximumRetryCount: number;
}

/** A capability name in canonical form: upper case with the `CAP_` prefix, or the literal `ALL`. */
export type Capability = string;

/** Security intent of one container, after parsing `--security-opt`, `--cap-*`, `--privileged`. */
export interface SecuritySpec {
  privileged: boolean;
  capAdd: Capability[];
  capDrop: Capability[];
  /** `true` = no-new-privileges (brig's default). */
  noNewPrivileges: boolean;
  /** `default` = brig's profile, `unconfined` = none, or a parsed custom profile (OCI `linux.seccomp` JSON). */
  seccomp: { kind: 'default' } | { kind: 'unconfined' } | { kind: 'custom'; profile: unknown };
  readonlyRootfs: boolean;
}

export interface ResourceSpec {
  /** Max number of processes; `null` = daemon default, `-1`/0 = unlimited. */
  pidsLimit: number | null;
  /** Bytes; 0 = unlimited. */
  memory: number;
  /** Bytes of memory+swap; 0 = unset, -1 = unlimited swap. */
  memorySwap: number;
  cpuShares: number;
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
}

/** Network intent (`--network`, `-p`, `--dns`, `--add-host`…), validated at the edge. */
export type NetworkSpec = NetworkSpecV2;

/** The network intent of a container created before networking existed (or the default one). */
export function defaultNetworkSpec(mode: NetworkSpec['mode'] = 'bridge', modeName = 'default'): NetworkSpec {
  return { mode, modeName, endpoints: [], ports: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], macAddress: '' };
}

/** A stored spec's network intent in today's shape (records of the walking skeleton had `{ mode: 'none' }`). */
export function networkSpecOf(spec: ContainerSpec): NetworkSpec {
  const n = spec.network as Partial<NetworkSpec> | undefined;
  if (!n || n.modeName === undefined) return defaultNetworkSpec('none', 'none');
  return n as NetworkSpec;
}

/** A health check (Docker's `HEALTHCHECK` / `--health-*`); durations in nanoseconds, 0 = default. */
export interface HealthcheckSpec {
  /** `["NONE"]` disables; `["CMD", arg…]` runs directly; `["CMD-SHELL", "cmd"]` runs with /bin/sh -c. */
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

export interface HealthLogEntry {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  log: HealthLogEntry[];
}

/** Log driver settings: brig's `k8s-file` (json-file is accepted as a name for the same thing). */
export interface LogConfigSpec {
  type: 'k8s-file';
  /** Rotate when the log reaches this many bytes; 0 = never. */
  maxSize: number;
  /** How many files to keep, the live one included (>= 1). */
  maxFile: number;
  /** The options as the user wrote them (`max-size: 10m`), shown by inspect. */
  options?: Record<string, string>;
}

export interface ContainerSpec {
  /** The image reference as the user wrote it (shown by `ps` and inspect `Config.Image`). */
  image: string;
  cmd: string[] | null;
  entrypoint: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  domainname: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  labels: Record<string, string>;
  stopSignal: string | null;
  stopTimeout: number | null;
  exposedPorts: string[];
  autoRemove: boolean;
  restartPolicy: RestartPolicy;
  network: NetworkSpec;
  security: SecuritySpec;
  resources: ResourceSpec;
  /** [height, width] of the terminal at creation, from `ConsoleSize`. */
  consoleSize: [number, number];
  logConfig: LogConfigSpec;
  /** Run a minimal init (tini) as PID 1 (`--init`). */
  init: boolean;
  /** The container's own health check; null = the image's (if any). */
  healthcheck: HealthcheckSpec | null;
}

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  /** ISO 8601 timestamps; empty string = never. */
  startedAt: string;
  finishedAt: string;
  /** Set by stop/kill from a user, cleared by start: `unless-stopped` and `always` then stay down. */
  manuallyStopped?: boolean;
  health?: HealthState | null;
  /** Network state of the current run (namespace, endpoints, published ports); null/absent when not running or mode none. */
  network?: NetworkAttachment | null;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  imageId: Digest;
  spec: ContainerSpec;
  /** Resolved process: what runs as PID 1 (entrypoint + cmd after image defaults). */
  path: string;
  args: string[];
  state: ContainerState;
  restartCount: number;
}

export function emptyState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: '', finishedAt: '' };
}
