/**
 * Docker Engine API wire types (API 1.41), as far as the client and the `brig` CLI use them.
 *
 * PascalCase field names are the wire format (style B3: they appear only here and in `api/docker/`).
 * Responses are typed loosely on purpose: a daemon may send more fields than listed, and the CLI
 * prints what it gets rather than validating it.
 */

/** Headers of `GET /_ping`. */
export interface PingResult {
  apiVersion: string | undefined;
  osType: string | undefined;
  experimental: boolean;
  builderVersion: string | undefined;
  swarm: string | undefined;
}

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

/** `GET /version`. */
export interface VersionResponse {
  Platform?: { Name: string };
  Components?: ComponentVersion[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  [key: string]: unknown;
}

/** `GET /info` (only the fields `brig info` prints are named). */
export interface InfoResponse {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
  SecurityOptions?: string[] | null;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSVersion?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Name?: string;
  DockerRootDir?: string;
  Debug?: boolean;
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  LiveRestoreEnabled?: boolean;
  Labels?: string[] | null;
  Warnings?: string[] | null;
  RegistryConfig?: { InsecureRegistryCIDRs?: string[] | null; IndexConfigs?: Record<string, { Name: string; Secure: boolean }> | null };
  DefaultAddressPools?: { Base: string; Size: number }[] | null;
  [key: string]: unknown;
}

export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** One item of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command: string;
  Created: number;
  Ports?: Port[] | null;
  Labels?: Record<string, string> | null;
  State: string;
  Status: string;
  /** With `size=1`: bytes written to the container's layer, and the whole rootfs. */
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts?: { Name?: string; Source?: string; Driver?: string; [key: string]: unknown }[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  [key: string]: unknown;
}

/** One published port of `NetworkSettings.Ports` (`"80/tcp": [{HostIp, HostPort}]`). */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** `GET /containers/{id}/json` (partial). */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Created?: string;
  Image?: string;
  State?: {
    Status: string;
    Running: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    ExitCode: number;
    Error?: string;
    [key: string]: unknown;
  };
  Config?: ContainerConfig;
  HostConfig?: HostConfig;
  NetworkSettings?: { Ports?: Record<string, PortBinding[] | null> | null; [key: string]: unknown } | null;
  [key: string]: unknown;
}

/** One item of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  VirtualSize?: number;
  SharedSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
  [key: string]: unknown;
}

/** `GET /images/{name}/json` (partial). */
export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  Created?: string;
  Size?: number;
  Config?: Partial<ContainerConfig> | null;
  [key: string]: unknown;
}

/** The container part of `POST /containers/create` (Docker's `container.Config`). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
}

/** Docker's `HealthConfig`; durations in nanoseconds; zero fields are left out (Go's omitempty). */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", arg…]` or `["CMD-SHELL", command]`; absent: inherit the image's. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

/** Docker's `container.HostConfig` (the fields brig's CLI sets). */
export interface HostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  ConsoleSize?: [number, number];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  SecurityOpt?: string[] | null;
  PidsLimit?: number | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  MemorySwappiness?: number | null;
  ReadonlyRootfs?: boolean;
  Init?: boolean | null;
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  [key: string]: unknown;
}

export interface EndpointSettings {
  Aliases?: string[] | null;
  [key: string]: unknown;
}

export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[] | null;
}

/** Body of `POST /containers/{id}/wait`. A non-null `Error` means the wait itself failed. */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error: { Message: string } | null;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** One object of a JSON progress stream (pull, push, load, import, build). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: Record<string, unknown>;
  errorDetail?: { code?: number; message: string };
  error?: string;
  [key: string]: unknown;
}

/** Body of `POST /containers/{id}/update` (Docker's `UpdateConfig`: `Resources` inlined, plus `RestartPolicy`). */
export interface ContainerUpdateRequest {
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  BlkioWeightDevice: null;
  BlkioDeviceReadBps: null;
  BlkioDeviceWriteBps: null;
  BlkioDeviceReadIOps: null;
  BlkioDeviceWriteIOps: null;
  CpuPeriod: number;
  CpuQuota: number;
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: null;
  DeviceCgroupRules: null;
  DeviceRequests: null;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: null;
  OomKillDisable: null;
  PidsLimit: number | null;
  Ulimits: null;
  CpuCount: number;
  CpuPercent: number;
  IOMaximumIOps: number;
  IOMaximumBandwidth: number;
  RestartPolicy: RestartPolicy;
}

export interface ContainerUpdateResponse {
  Warnings: string[] | null;
}

/** `POST /containers/prune`. */
export interface ContainerPruneResponse {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** One object of `GET /events`; `timeNano` is kept exact (it does not fit a double). */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> | null };
  scope?: string;
  time?: number;
  timeNano?: bigint;
}

/** One object of `GET /containers/{id}/stats` (API 1.41; cgroup v2 daemons leave the v1-only fields out). */
export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface ContainerCpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface ContainerStats {
  read: string;
  preread: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: { io_service_bytes_recursive?: BlkioStatEntry[] | null; [key: string]: BlkioStatEntry[] | null | undefined };
  num_procs?: number;
  storage_stats?: Record<string, unknown>;
  cpu_stats: ContainerCpuStats;
  precpu_stats: ContainerCpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  name?: string;
  id?: string;
  networks?: Record<string, { rx_bytes: number; tx_bytes: number; [key: string]: number }>;
}

/** `GET /containers/{id}/top`. */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][] | null;
}

/** One item of `GET /containers/{id}/changes`: Kind 0 modified, 1 added, 2 deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** Docker's `Network` object (`GET /networks`, `GET /networks/{id}`), the fields the CLI reads. */
export interface NetworkSummary {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  Internal: boolean;
  IPAM: { Driver: string; Config: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null };
  Containers?: Record<string, { Name: string; IPv4Address: string; MacAddress: string; EndpointID: string }> | null;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  [key: string]: unknown;
}

/** `POST /networks/create`, shaped as the docker CLI sends it. */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver: string;
  Scope?: string;
  EnableIPv6?: boolean;
  IPAM: { Driver: string; Options: Record<string, string>; Config: { Subnet?: string; IPRange?: string; Gateway?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigOnly: boolean;
  ConfigFrom: null;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}
