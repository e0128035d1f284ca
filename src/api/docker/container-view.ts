/**
 * Container records → Docker's wire shapes: `GET /containers/json` items and `GET /containers/{id}/json`.
 */
import { healthcheckToJson } from '../../image/config-format.js';
import type { ContainerRecord } from '../../model/container.js';
import type { ImageRecord } from '../../model/image.js';
import { networkSpecOf } from '../../model/container.js';
import { legacyBridgeFields, networksOf, portBindingsOf, portsOf, summaryPorts, type NetworkViewContext } from './network-view.js';
import { humanDuration, unixSeconds, ZERO_TIME } from '../../util/time.js';

export interface ContainerViewContext {
  image: ImageRecord | undefined;
  logPath: string;
  containerDir: string;
  /** Docker "familiar" name of the image's first tag, if any. */
  imageName: string | undefined;
  /** IDs of the container's exec sessions that have not ended (`ExecIDs`; null when none). */
  execIds?: string[];
  networks: NetworkViewContext;
  /** Config.Hostname: the hostname the container's processes see (the host's with --network host). */
  hostname: string;
}

/** The `Status` column of `docker ps`, written by the daemon (`Up 3 seconds`, `Exited (0) 2 minutes ago`). */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  switch (s.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${s.health ? ` (${s.health.status === 'starting' ? 'health: starting' : s.health.status})` : ''}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return s.finishedAt ? `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago` : 'Exited';
    default:
      return 'Created';
  }
}

/** Docker joins path and args with spaces, unquoted; the CLI quotes and truncates it. */
function commandLine(c: ContainerRecord): string {
  return [c.path, ...c.args].join(' ');
}

/** One item of `GET /containers/json`. */
export function toDockerSummary(c: ContainerRecord, ctx: Pick<ContainerViewContext, 'imageName' | 'networks'>) {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.spec.image || ctx.imageName || c.imageId,
    ImageID: c.imageId,
    Command: commandLine(c),
    Created: unixSeconds(c.created),
    Ports: summaryPorts(c),
    Labels: c.spec.labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: networkSpecOf(c.spec).modeName },
    NetworkSettings: { Networks: networksOf(c, ctx.networks) },
    Mounts: [],
  };
}

/** `GET /containers/{id}/json`. */
export function toDockerInspect(c: ContainerRecord, ctx: ContainerViewContext) {
  const s = c.state;
  const sec = c.spec.security;
  const net = networkSpecOf(c.spec);
  const running = s.status === 'running' || s.status === 'paused';
  const attachment = running ? s.network ?? null : null;
  const securityOpt: string[] = [];
  if (sec.noNewPrivileges) securityOpt.push('no-new-privileges');
  if (sec.seccomp.kind === 'unconfined') securityOpt.push('seccomp=unconfined');
  if (sec.seccomp.kind === 'custom') securityOpt.push('seccomp=<custom profile>');
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt || ZERO_TIME,
      FinishedAt: s.finishedAt || ZERO_TIME,
      ...(s.health ? {
        Health: {
          Status: s.health.status,
          FailingStreak: s.health.failingStreak,
          Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })),
        },
      } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: `${ctx.containerDir}/resolv.conf`,
    HostnamePath: `${ctx.containerDir}/hostname`,
    HostsPath: `${ctx.containerDir}/hosts`,
    LogPath: ctx.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: ctx.execIds && ctx.execIds.length > 0 ? [...ctx.execIds] : null,
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: {
        Type: 'k8s-file',
        Config: c.spec.logConfig.options ?? {},
      },
      NetworkMode: net.modeName,
      PortBindings: portBindingsOf(net),
      RestartPolicy: { Name: c.spec.restartPolicy.name, MaximumRetryCount: c.spec.restartPolicy.maximumRetryCount },
      AutoRemove: c.spec.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: c.spec.consoleSize,
      CapAdd: sec.capAdd.length ? sec.capAdd : null,
      CapDrop: sec.capDrop.length ? sec.capDrop : null,
      CgroupnsMode: 'private',
      Dns: net.dns,
      DnsOptions: net.dnsOptions,
      DnsSearch: net.dnsSearch,
      ExtraHosts: net.extraHosts.length > 0 ? net.extraHosts : null,
      GroupAdd: null,
      IpcMode: 'private',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: sec.privileged,
      PublishAllPorts: net.publishAll,
      ReadonlyRootfs: sec.readonlyRootfs,
      SecurityOpt: securityOpt.length ? securityOpt : null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 67108864,
      Runtime: 'runc',
      Isolation: '',
      CpuShares: c.spec.resources.cpuShares,
      Memory: c.spec.resources.memory,
      NanoCpus: c.spec.resources.nanoCpus,
      CgroupParent: '',
      CpuPeriod: c.spec.resources.cpuPeriod,
      CpuQuota: c.spec.resources.cpuQuota,
      MemorySwap: c.spec.resources.memorySwap,
      PidsLimit: c.spec.resources.pidsLimit,
      Devices: [],
      Ulimits: null,
      MaskedPaths: null,
      ReadonlyPaths: null,
      Init: c.spec.init ? true : null,
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        MergedDir: `${ctx.containerDir}/merged`,
        UpperDir: `${ctx.containerDir}/upper`,
        WorkDir: `${ctx.containerDir}/work`,
      },
    },
    Mounts: [],
    Config: {
      Hostname: ctx.hostname,
      Domainname: c.spec.domainname,
      User: c.spec.user,
      AttachStdin: c.spec.attachStdin,
      AttachStdout: c.spec.attachStdout,
      AttachStderr: c.spec.attachStderr,
      ...(c.spec.exposedPorts.length ? { ExposedPorts: Object.fromEntries(c.spec.exposedPorts.map((p) => [p, {}])) } : {}),
      Tty: c.spec.tty,
      OpenStdin: c.spec.openStdin,
      StdinOnce: c.spec.stdinOnce,
      Env: c.spec.env,
      Cmd: c.spec.cmd,
      Image: c.spec.image,
      Volumes: null,
      WorkingDir: c.spec.workingDir,
      Entrypoint: c.spec.entrypoint,
      OnBuild: null,
      Labels: c.spec.labels,
      ...(c.spec.stopSignal ? { StopSignal: c.spec.stopSignal } : {}),
      ...(c.spec.stopTimeout !== null ? { StopTimeout: c.spec.stopTimeout } : {}),
      ...(c.spec.healthcheck ? { Healthcheck: healthcheckToJson(c.spec.healthcheck) } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: attachment?.netnsPath ? c.id : '',
      SandboxKey: attachment?.netnsPath ?? '',
      Ports: portsOf(c),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPv6Gateway: '',
      ...legacyBridgeFields(attachment),
      Networks: networksOf(c, ctx.networks),
    },
  };
}
