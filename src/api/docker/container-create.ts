/**
 * `POST /containers/create` body (Docker's Config + HostConfig + NetworkingConfig) → `ContainerSpec`.
 * Every field brig reads is type-checked; a field that asks for a feature brig does not have yet is
 * refused with ERR_NOT_IMPLEMENTED naming it, never silently ignored.
 */
import { EngineError } from '../../errors.js';
import type { ContainerSpec, LogConfigSpec, RestartPolicyName, SecuritySpec } from '../../model/container.js';
import { parseHealthcheck } from '../../image/config-format.js';
import { parseSignal } from '../../util/signals.js';
import {
  isUnset, object, optBool, optInt, optIntOrNull, optKeySet, optObject, optString, optStringArray,
  optStringMap, optStrSlice, type Json,
} from './validate.js';
import { checkExposedPort, parseNetworkSpec } from './container-network.js';

/** HostConfig fields brig does not implement yet, with what to say when one is set. */
const UNSUPPORTED_HOST_FIELDS: [string, string][] = [
  ['Binds', 'bind mounts and volumes (-v)'],
  ['Mounts', 'mounts (--mount)'],
  ['VolumesFrom', '--volumes-from'],
  ['Tmpfs', '--tmpfs'],
  ['Devices', '--device'],
  ['DeviceCgroupRules', '--device-cgroup-rule'],
  ['DeviceRequests', '--gpus'],
  ['Sysctls', '--sysctl'],
  ['Ulimits', '--ulimit'],
  ['GroupAdd', '--group-add'],
  ['VolumeDriver', '--volume-driver'],
  ['StorageOpt', '--storage-opt'],
  ['CpusetCpus', '--cpuset-cpus'],
  ['CpusetMems', '--cpuset-mems'],
  ['BlkioWeight', '--blkio-weight'],
  ['BlkioWeightDevice', '--blkio-weight-device'],
  ['BlkioDeviceReadBps', '--device-read-bps'],
  ['BlkioDeviceWriteBps', '--device-write-bps'],
  ['BlkioDeviceReadIOps', '--device-read-iops'],
  ['BlkioDeviceWriteIOps', '--device-write-iops'],
  ['CpuRealtimePeriod', '--cpu-rt-period'],
  ['CpuRealtimeRuntime', '--cpu-rt-runtime'],
  ['KernelMemoryTCP', 'kernel TCP memory limits'],
  ['Annotations', '--annotation'],
  ['Cgroup', 'sharing the cgroup of another container'],
  ['MemoryReservation', '--memory-reservation'],
  ['KernelMemory', '--kernel-memory'],
  ['OomKillDisable', '--oom-kill-disable'],
  ['OomScoreAdj', '--oom-score-adj'],
  ['CgroupParent', '--cgroup-parent'],
];

export interface CreateRequest {
  spec: ContainerSpec;
  warnings: string[];
}

/** Parses and validates a create body. `name` comes from the query and is validated elsewhere. */
export function fromDockerCreate(body: unknown): CreateRequest {
  const cfg = object(body ?? {}, 'body');
  const host = optObject(cfg, 'HostConfig', 'HostConfig') ?? {};
  const warnings: string[] = [];

  const image = optString(cfg, 'Image', 'Image');
  if (image === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'Config.Image is required (no image specified)');

  for (const [field, what] of UNSUPPORTED_HOST_FIELDS) {
    if (!isUnset(host[field])) {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `${what} (HostConfig.${field}) is not supported by brig yet`);
    }
  }
  // An empty list is not "unset" here: `--security-opt systempaths=unconfined` sends [] for "none".
  for (const field of ['MaskedPaths', 'ReadonlyPaths']) {
    if (host[field] !== undefined && host[field] !== null) {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `custom system paths (HostConfig.${field}) are not supported by brig yet`);
    }
  }
  const healthcheck = parseHealthcheck(cfg['Healthcheck']);
  const volumes = optKeySet(cfg, 'Volumes', 'Volumes');
  if (volumes.length > 0) throw new EngineError('ERR_NOT_IMPLEMENTED', 'Volumes: anonymous volumes are not supported by brig yet');

  for (const [field, allowed] of [['PidMode', ['']], ['IpcMode', ['', 'private', 'shareable']], ['UTSMode', ['']],
    ['UsernsMode', ['']], ['CgroupnsMode', ['', 'private']], ['Isolation', ['', 'default']], ['Runtime', ['', 'runc']]] as const) {
    const v = optString(host, field, `HostConfig.${field}`);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `HostConfig.${field}=${v} is not supported by brig yet`);
    }
  }

  const exposedPorts = optKeySet(cfg, 'ExposedPorts', 'ExposedPorts');
  for (const p of exposedPorts) checkExposedPort(p);
  const network = parseNetworkSpec(cfg, host, exposedPorts, warnings);

  const restart = optObject(host, 'RestartPolicy', 'HostConfig.RestartPolicy') ?? {};
  const restartName = optString(restart, 'Name', 'HostConfig.RestartPolicy.Name', 'no') || 'no';
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(restartName)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid restart policy '${restartName}'`);
  }
  const maxRetries = optInt(restart, 'MaximumRetryCount', 'HostConfig.RestartPolicy.MaximumRetryCount');
  if (maxRetries < 0) throw new EngineError('ERR_INVALID_ARGUMENT', 'maximum retry count cannot be negative');
  if (maxRetries > 0 && restartName !== 'on-failure') {
    throw new EngineError('ERR_INVALID_ARGUMENT', `maximum retry count cannot be used with restart policy '${restartName}'`);
  }
  const autoRemove = optBool(host, 'AutoRemove', 'HostConfig.AutoRemove');
  if (autoRemove && restartName !== 'no') {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'can\'t create \'AutoRemove\' container with restart policy');
  }

  const log = optObject(host, 'LogConfig', 'HostConfig.LogConfig') ?? {};
  const logType = optString(log, 'Type', 'HostConfig.LogConfig.Type');
  if (!['', 'k8s-file', 'json-file'].includes(logType)) {
    throw new EngineError('ERR_NOT_IMPLEMENTED', `log driver "${logType}" (HostConfig.LogConfig.Type) is not supported by brig yet`);
  }
  const logConfig = parseLogOptions(optStringMap(log, 'Config', 'HostConfig.LogConfig.Config'));

  const consoleSize = optIntArray2(host, 'ConsoleSize', 'HostConfig.ConsoleSize');
  const shmSize = optInt(host, 'ShmSize', 'HostConfig.ShmSize');
  if (shmSize !== 0) throw new EngineError('ERR_NOT_IMPLEMENTED', 'HostConfig.ShmSize: --shm-size is not supported by brig yet');

  const memory = optInt(host, 'Memory', 'HostConfig.Memory');
  if (memory !== 0 && memory < 6 * 1024 * 1024) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB');
  }
  let memorySwap = optInt(host, 'MemorySwap', 'HostConfig.MemorySwap');
  if (memory === 0 && memorySwap > 0) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  // Docker's default: as much swap as memory (memory+swap = 2 × memory).
  if (memory > 0 && memorySwap === 0) memorySwap = memory * 2;
  if (memory > 0 && memorySwap > 0 && memorySwap < memory) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  const swappiness = optIntOrNull(host, 'MemorySwappiness', 'HostConfig.MemorySwappiness');
  if (swappiness !== null && swappiness !== -1) {
    throw new EngineError('ERR_NOT_IMPLEMENTED', 'HostConfig.MemorySwappiness: --memory-swappiness is not supported by brig yet');
  }
  const nanoCpus = optInt(host, 'NanoCpus', 'HostConfig.NanoCpus');
  const cpuQuota = optInt(host, 'CpuQuota', 'HostConfig.CpuQuota');
  if (nanoCpus !== 0 && cpuQuota !== 0) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  }
  const cpuPeriod = optInt(host, 'CpuPeriod', 'HostConfig.CpuPeriod');
  if (nanoCpus !== 0 && cpuPeriod !== 0) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  // The docker CLI sends 0 when --pids-limit is not given, so 0 means "daemon default" (2048) here;
  // -1 asks for no limit.
  const rawPids = optIntOrNull(host, 'PidsLimit', 'HostConfig.PidsLimit');
  const pidsLimit = rawPids === 0 ? null : rawPids;

  const stopTimeout = optIntOrNull(cfg, 'StopTimeout', 'StopTimeout');
  const stopSignal = optString(cfg, 'StopSignal', 'StopSignal');
  if (stopSignal !== '') parseSignal(stopSignal); // else `docker stop` would fail later, every time

  const tty = optBool(cfg, 'Tty', 'Tty');
  const spec: ContainerSpec = {
    image,
    cmd: emptyToNull(optStrSlice(cfg, 'Cmd', 'Cmd')),
    entrypoint: optStrSlice(cfg, 'Entrypoint', 'Entrypoint'),
    env: validateEnv(optStringArray(cfg, 'Env', 'Env') ?? []),
    workingDir: validateWorkdir(optString(cfg, 'WorkingDir', 'WorkingDir')),
    user: optString(cfg, 'User', 'User'),
    hostname: validateHostname(optString(cfg, 'Hostname', 'Hostname')),
    domainname: optString(cfg, 'Domainname', 'Domainname'),
    tty,
    openStdin: optBool(cfg, 'OpenStdin', 'OpenStdin'),
    stdinOnce: optBool(cfg, 'StdinOnce', 'StdinOnce'),
    attachStdin: optBool(cfg, 'AttachStdin', 'AttachStdin'),
    attachStdout: optBool(cfg, 'AttachStdout', 'AttachStdout'),
    attachStderr: optBool(cfg, 'AttachStderr', 'AttachStderr'),
    labels: optStringMap(cfg, 'Labels', 'Labels'),
    stopSignal: stopSignal === '' ? null : stopSignal,
    stopTimeout,
    exposedPorts: exposedPorts.map((p) => (p.includes('/') ? p : `${p}/tcp`)),
    autoRemove,
    restartPolicy: { name: restartName as RestartPolicyName, maximumRetryCount: maxRetries },
    network,
    security: parseSecurity(host),
    resources: {
      pidsLimit,
      memory,
      memorySwap,
      cpuShares: optInt(host, 'CpuShares', 'HostConfig.CpuShares'),
      nanoCpus,
      cpuQuota,
      cpuPeriod,
    },
    consoleSize,
    logConfig,
    init: host['Init'] === undefined || host['Init'] === null ? false : optBool(host, 'Init', 'HostConfig.Init'),
    healthcheck,
  };
  // The entrypoint `[""]` (docker run --entrypoint "") means "no entrypoint".
  if (spec.entrypoint && spec.entrypoint.length === 1 && spec.entrypoint[0] === '') spec.entrypoint = [];
  return { spec, warnings };
}

function emptyToNull(v: string[] | null): string[] | null {
  return v && v.length > 0 ? v : null;
}

function optIntArray2(o: Json, key: string, field: string): [number, number] {
  const v = o[key];
  if (v === undefined || v === null) return [0, 0];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid value for ${field}: expected [height, width]`);
  }
  return [v[0] as number, v[1] as number];
}

function validateEnv(env: string[]): string[] {
  for (const e of env) {
    if (e.startsWith('=') || e === '') throw new EngineError('ERR_INVALID_ARGUMENT', `invalid environment variable: ${e}`);
    if (e.includes('\0')) throw new EngineError('ERR_INVALID_ARGUMENT', 'invalid environment variable: contains a NUL byte');
  }
  return env;
}

function validateWorkdir(dir: string): string {
  if (dir !== '' && !dir.startsWith('/')) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `the working directory '${dir}' is invalid, it needs to be an absolute path`);
  }
  return dir;
}

function validateHostname(h: string): string {
  if (h !== '' && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(h)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid hostname: ${h}`);
  }
  return h;
}

/** `--privileged`, `--cap-add/--cap-drop`, `--read-only` and `--security-opt` → SecuritySpec. */
export function parseSecurity(host: Json): SecuritySpec {
  const sec: SecuritySpec = {
    privileged: optBool(host, 'Privileged', 'HostConfig.Privileged'),
    capAdd: optStrSlice(host, 'CapAdd', 'HostConfig.CapAdd') ?? [],
    capDrop: optStrSlice(host, 'CapDrop', 'HostConfig.CapDrop') ?? [],
    noNewPrivileges: true,
    seccomp: { kind: 'default' },
    readonlyRootfs: optBool(host, 'ReadonlyRootfs', 'HostConfig.ReadonlyRootfs'),
  };
  for (const opt of optStringArray(host, 'SecurityOpt', 'HostConfig.SecurityOpt') ?? []) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      // Docker reads the value with Go's strconv.ParseBool.
      if (value === undefined || ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) sec.noNewPrivileges = true;
      else if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) sec.noNewPrivileges = false;
      else throw new EngineError('ERR_INVALID_ARGUMENT', `invalid --security-opt: ${opt}: no-new-privileges takes true or false`);
    } else if (key === 'seccomp' && value !== undefined) {
      if (value === 'unconfined') sec.seccomp = { kind: 'unconfined' };
      else if (value === 'builtin' || value === '') sec.seccomp = { kind: 'default' };
      else {
        let profile: unknown;
        try {
          profile = JSON.parse(value);
        } catch {
          throw new EngineError('ERR_INVALID_ARGUMENT', 'invalid --security-opt seccomp: the profile is not valid JSON');
        }
        sec.seccomp = { kind: 'custom', profile };
      }
    } else if (key === 'apparmor') {
      if (value !== 'unconfined') {
        throw new EngineError('ERR_INVALID_ARGUMENT', `invalid --security-opt ${opt}: AppArmor is not enabled on this host`);
      }
    } else if (key === 'label') {
      if (value !== 'disable') {
        throw new EngineError('ERR_INVALID_ARGUMENT', `invalid --security-opt ${opt}: SELinux is not enabled on this host`);
      }
    } else {
      throw new EngineError('ERR_INVALID_ARGUMENT', `invalid --security-opt: ${opt.length > 80 ? `${opt.slice(0, 80)}…` : opt}`);
    }
  }
  return sec;
}

/** `--log-opt max-size=10m max-file=3` (Docker's json-file options), the ones brig implements. */
export function parseLogOptions(opts: Record<string, string>): LogConfigSpec {
  const out: LogConfigSpec = { type: 'k8s-file', maxSize: 0, maxFile: 1 };
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'max-size') {
      out.maxSize = parseByteSize(v, 'max-size');
    } else if (k === 'max-file') {
      if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid value for log opt max-file: ${v}`);
      out.maxFile = Number(v);
    } else {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `log option "${k}" (HostConfig.LogConfig.Config) is not supported by brig yet`);
    }
  }
  if (Object.keys(opts).length) out.options = { ...opts };
  if (out.maxFile > 1 && out.maxSize === 0) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'max-file cannot be used without max-size');
  }
  return out;
}

/** `10m`, `1g`, `512k`, `100` (bytes), as go-units RAMInBytes (binary multiples). */
export function parseByteSize(v: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid size for ${what}: ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n <= 0) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid size for ${what}: ${v}`);
  return n;
}

