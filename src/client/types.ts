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
  [key: string]: unknown;
}

/** `GET /containers/{id}/json` (partial). */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Created?: string;
  Image?: string;
  State?: { Status: string; Running: boolean; ExitCode: number; Error?: string; [key: string]: unknown };
  Config?: ContainerConfig;
  HostConfig?: HostConfig;
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
