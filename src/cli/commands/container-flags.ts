/**
 * The flags `brig run` and `brig create` share, parsed like the docker CLI's `addFlags` + `parse`
 * (docker/cli `cli/command/container/opts.go`), and the `POST /containers/create` body they make.
 * One implementation for both commands: `run` adds `-d`, `--detach-keys` and `--sig-proxy`, as
 * docker does.
 *
 * Flag values use Go's formats (durations `1m30s`, sizes `64m`, `--cpus 0.5`, ints `0x10`) with
 * pflag's error texts; docker flags brig does not implement are unknown flags (exit 125).
 */
import { readFileSync } from 'node:fs';
import type { ContainerCreateRequest, EndpointSettings, HealthConfig, RestartPolicy } from '../../client/types.js';
import { flagValue, intFlag, parseCommandArgs, type OptionSpecs, type ParsedValues } from '../args.js';
import { UsageError } from '../command.js';
import { memSwapBytes, parseCpus, parseGoDuration, parseRestartPolicy, ramInBytes } from '../flag-values.js';
import { readKvStrings, type ReadFileBytes } from '../kvfile.js';
import { parsePortSpecs, validateExtraHost, validateIpAddress, type PortSpecs } from '../publish.js';

/** Flags of both `run` and `create` (docker's `addFlags`, as far as brig's daemon implements them). */
export const containerOptions = {
  'add-host': { type: 'string', multiple: true, description: 'Add a custom host-to-IP mapping (host:ip)' },
  attach: { type: 'string', short: 'a', multiple: true, description: 'Attach to STDIN, STDOUT or STDERR' },
  'cap-add': { type: 'string', multiple: true, description: 'Add Linux capabilities' },
  'cap-drop': { type: 'string', multiple: true, description: 'Drop Linux capabilities' },
  'cpu-period': { type: 'string', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  'cpu-quota': { type: 'string', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  'cpu-shares': { type: 'string', short: 'c', valueName: 'int', description: 'CPU shares (relative weight)' },
  cpus: { type: 'string', valueName: 'decimal', description: 'Number of CPUs' },
  dns: { type: 'string', multiple: true, description: 'Set custom DNS servers' },
  'dns-option': { type: 'string', multiple: true, description: 'Set DNS options' },
  'dns-search': { type: 'string', multiple: true, description: 'Set custom DNS search domains' },
  domainname: { type: 'string', description: 'Container NIS domain name' },
  entrypoint: { type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  env: { type: 'string', short: 'e', multiple: true, description: 'Set environment variables' },
  'env-file': { type: 'string', multiple: true, description: 'Read in a file of environment variables' },
  expose: { type: 'string', multiple: true, description: 'Expose a port or a range of ports' },
  'health-cmd': { type: 'string', description: 'Command to run to check health' },
  'health-interval': { type: 'string', valueName: 'duration', description: 'Time between running the check (ms|s|m|h) (default 0s)' },
  'health-retries': { type: 'string', valueName: 'int', description: 'Consecutive failures needed to report unhealthy' },
  'health-start-interval': {
    type: 'string', valueName: 'duration', description: 'Time between running the check during the start period (ms|s|m|h) (default 0s)',
  },
  'health-start-period': {
    type: 'string', valueName: 'duration',
    description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  },
  'health-timeout': { type: 'string', valueName: 'duration', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  hostname: { type: 'string', short: 'h', description: 'Container host name' },
  init: { type: 'boolean', description: 'Run an init inside the container that forwards signals and reaps processes' },
  interactive: { type: 'boolean', short: 'i', description: 'Keep STDIN open even if not attached' },
  ip: { type: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  label: { type: 'string', short: 'l', multiple: true, description: 'Set meta data on a container' },
  'label-file': { type: 'string', multiple: true, description: 'Read in a line delimited file of labels' },
  link: { type: 'string', multiple: true, description: 'Add link to another container (refused by brig: use a user-defined network)' },
  'log-driver': { type: 'string', description: 'Logging driver for the container' },
  'log-opt': { type: 'string', multiple: true, description: 'Log driver options' },
  memory: { type: 'string', short: 'm', valueName: 'bytes', description: 'Memory limit' },
  'memory-swap': { type: 'string', valueName: 'bytes', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  name: { type: 'string', description: 'Assign a name to the container' },
  network: { type: 'string', valueName: 'network', description: 'Connect a container to a network' },
  'network-alias': { type: 'string', multiple: true, description: 'Add network-scoped alias for the container' },
  'no-healthcheck': { type: 'boolean', description: 'Disable any container-specified HEALTHCHECK' },
  'pids-limit': { type: 'string', valueName: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  privileged: { type: 'boolean', description: 'Give extended privileges to this container' },
  publish: { type: 'string', short: 'p', multiple: true, description: "Publish a container's port(s) to the host" },
  'publish-all': { type: 'boolean', short: 'P', description: 'Publish all exposed ports to random ports' },
  'read-only': { type: 'boolean', description: "Mount the container's root filesystem as read only" },
  restart: { type: 'string', description: 'Restart policy to apply when a container exits (default "no")' },
  rm: { type: 'boolean', description: 'Automatically remove the container when it exits' },
  'security-opt': { type: 'string', multiple: true, description: 'Security Options (seccomp=FILE reads the profile from FILE)' },
  'stop-signal': { type: 'string', description: 'Signal to stop the container' },
  'stop-timeout': { type: 'string', valueName: 'int', description: 'Timeout (in seconds) to stop a container' },
  pull: { type: 'string', valueName: 'string', description: 'Pull image before running ("always", "missing", "never") (default "missing")' },
  tty: { type: 'boolean', short: 't', description: 'Allocate a pseudo-TTY' },
  user: { type: 'string', short: 'u', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  workdir: { type: 'string', short: 'w', description: 'Working directory inside the container' },
} as const satisfies OptionSpecs;

/** `brig run`: the shared flags plus the ones docker keeps out of `create`. */
export const runOptions = {
  ...containerOptions,
  detach: { type: 'boolean', short: 'd', description: 'Run container in background and print container ID' },
  'detach-keys': { type: 'string', description: 'Override the key sequence for detaching a container' },
  'sig-proxy': { type: 'boolean', description: 'Proxy received signals to the process (default true)' },
} as const satisfies OptionSpecs;

export type AttachStream = 'stdin' | 'stdout' | 'stderr';

/** Everything `run`/`create` need from their command line, before talking to the daemon. */
export type PullPolicy = 'always' | 'missing' | 'never';

export interface ContainerFlags {
  image: string;
  /** `--pull`: when the CLI pulls the image (the daemon never pulls on create). */
  pull: PullPolicy;
  /** The container command: everything after IMAGE, untouched (flags included). */
  cmd: string[];
  name: string | undefined;
  /** run only (false for create). */
  detach: boolean;
  /** run only. */
  detachKeys: string | undefined;
  /** run only; docker's default is true. */
  sigProxy: boolean;
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  /** `-a`, lowercased; empty: stdout and stderr. */
  attach: AttachStream[];
  /** `--env-file` entries, then `-e` ones (one a key, the last wins, as docker). */
  env: string[];
  labels: Record<string, string>;
  entrypoint: string | undefined;
  workdir: string | undefined;
  user: string | undefined;
  hostname: string;
  domainname: string;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  privileged: boolean;
  readOnly: boolean;
  /** undefined unless `--init`/`--init=false` was given (docker sends `Init` only then). */
  init: boolean | undefined;
  pidsLimit: number | undefined;
  network: string | undefined;
  /** `-p`/`--expose`, as docker's body carries them. */
  ports: PortSpecs;
  publishAll: boolean;
  ip: string;
  networkAliases: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addHost: string[];
  links: string[];
  stopSignal: string | undefined;
  stopTimeout: number | undefined;
  restart: RestartPolicy;
  healthcheck: HealthConfig | undefined;
  logDriver: string;
  logOpts: Record<string, string>;
  memory: number;
  memorySwap: number;
  nanoCpus: number;
  cpuShares: number;
  cpuQuota: number;
  cpuPeriod: number;
}

/** docker `ValidateEnv`: `KEY=VALUE` as is; a bare `KEY` takes the client's value when it has one. */
export function resolveEnv(entry: string, env: NodeJS.ProcessEnv): string {
  const eq = entry.indexOf('=');
  const key = eq === -1 ? entry : entry.slice(0, eq);
  if (key === '') throw new UsageError(`invalid environment variable: ${entry}`);
  if (eq !== -1) return entry;
  const value = env[key];
  return value === undefined ? entry : `${key}=${value}`;
}

/**
 * What docker does to the `-e` list before the env files are merged in (`ParseProxyConfig` turns it
 * into a map and back): one entry a key, the last one given wins (a bare unresolved `KEY` too).
 * docker's order is then Go's random map order; brig keeps the order of first appearance.
 */
export function dedupeEnv(entries: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    byKey.set(eq === -1 ? e : e.slice(0, eq), e);
  }
  return [...byKey.values()];
}

/** docker `ValidateLabel`: the key (leading blanks aside) must be non-empty and without blanks. */
export function validateLabel(label: string): string {
  const eq = label.indexOf('=');
  const key = (eq === -1 ? label : label.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${label}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return label;
}

/** docker `ConvertKVStringsToMap`: `k=v` → {k: v}; a bare `k` → {k: ""}; the last one wins. */
export function kvToMap(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    out[eq === -1 ? e : e.slice(0, eq)] = eq === -1 ? '' : e.slice(eq + 1);
  }
  return out;
}

/** docker `validateAttach`: stdin, stdout or stderr in any case. */
export function validateAttach(value: string): AttachStream {
  const s = value.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

export interface HealthFlags {
  cmd?: string | undefined;
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
  none?: boolean;
}

/**
 * docker's healthcheck handling in `parse`: `--no-healthcheck` → `{Test:["NONE"]}` (and conflicts
 * with any `--health-*`), any `--health-*` → a config with only the non-zero fields (Go's
 * omitempty), nothing → undefined (the image's HEALTHCHECK applies).
 */
export function buildHealthcheck(h: HealthFlags): HealthConfig | undefined {
  const cmd = h.cmd ?? '';
  const interval = h.interval ?? 0;
  const timeout = h.timeout ?? 0;
  const startPeriod = h.startPeriod ?? 0;
  const startInterval = h.startInterval ?? 0;
  const retries = h.retries ?? 0;
  const have = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (h.none === true) {
    if (have) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!have) return undefined;
  if (interval < 0) throw new UsageError('--health-interval cannot be negative');
  if (timeout < 0) throw new UsageError('--health-timeout cannot be negative');
  if (retries < 0) throw new UsageError('--health-retries cannot be negative');
  if (startPeriod < 0) throw new UsageError('--health-start-period cannot be negative');
  if (startInterval < 0) throw new UsageError('--health-start-interval cannot be negative');
  return {
    ...(cmd !== '' ? { Test: ['CMD-SHELL', cmd] } : {}),
    ...(interval !== 0 ? { Interval: interval } : {}),
    ...(timeout !== 0 ? { Timeout: timeout } : {}),
    ...(startPeriod !== 0 ? { StartPeriod: startPeriod } : {}),
    ...(startInterval !== 0 ? { StartInterval: startInterval } : {}),
    ...(retries !== 0 ? { Retries: retries } : {}),
  };
}

export interface ParseContainerOptions {
  /** The client's environment: bare `-e KEY` and env-file `KEY` lines take their values from it. */
  env?: NodeJS.ProcessEnv;
  /** Reads `--env-file`/`--label-file` files (tests). */
  readFile?: ReadFileBytes;
}

/** A plain Error from a docker-side parser becomes a usage error (exit 125), keeping its text. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

/**
 * Parses `brig run`/`brig create` arguments. Flags end at IMAGE (or at `--`); everything after
 * IMAGE is the container's command line. Reads the env and label files. Throws UsageError (exit
 * 125, as docker) or HelpRequested.
 */
export function parseContainerArgs(command: 'run' | 'create', args: string[], options: ParseContainerOptions = {}): ContainerFlags {
  const env = options.env ?? {};
  const specs: OptionSpecs = command === 'run' ? runOptions : containerOptions;
  const parsed = parseCommandArgs(specs, args, { interspersed: false });
  const v = parsed.values as ParsedValues<typeof runOptions>;
  const [image, ...cmd] = parsed.positionals;
  if (image === undefined || image === '') throw new UsageError(`"brig ${command}" requires at least 1 argument.`);

  // what pflag checks while setting each flag
  const attach = (v.attach ?? []).map((a) => flagValue(specs, 'attach', a, validateAttach)!);
  const cliEnv = (v.env ?? []).map((e) => flagValue(specs, 'env', e, (x) => resolveEnv(x, env))!);
  const cliLabels = (v.label ?? []).map((l) => flagValue(specs, 'label', l, validateLabel)!);
  const int = (name: keyof typeof containerOptions) => intFlag(name, v[name] as string | undefined, specs[name]?.short);
  const duration = (name: keyof typeof containerOptions) => flagValue(specs, name, v[name] as string | undefined, parseGoDuration);
  const memory = flagValue(specs, 'memory', v.memory, ramInBytes) ?? 0;
  const memorySwap = flagValue(specs, 'memory-swap', v['memory-swap'], memSwapBytes) ?? 0;
  const nanoCpus = flagValue(specs, 'cpus', v.cpus, parseCpus) ?? 0;
  const cpuShares = int('cpu-shares') ?? 0;
  const cpuPeriod = int('cpu-period') ?? 0;
  const cpuQuota = int('cpu-quota') ?? 0;
  const pidsLimit = int('pids-limit');
  const stopTimeout = int('stop-timeout');
  const health: HealthFlags = {
    cmd: v['health-cmd'],
    interval: duration('health-interval'),
    timeout: duration('health-timeout'),
    startPeriod: duration('health-start-period'),
    startInterval: duration('health-start-interval'),
    retries: int('health-retries'),
    none: v['no-healthcheck'],
  };

  // then docker's parse()
  const lookup = (key: string) => env[key];
  const envList = usage(() => readKvStrings(v['env-file'] ?? [], dedupeEnv(cliEnv), lookup, options.readFile));
  const dns = (v.dns ?? []).map((x) => flagValue(specs, 'dns', x, validateIpAddress)!);
  const addHost = (v['add-host'] ?? []).map((x) => flagValue(specs, 'add-host', x, validateExtraHost)!);
  const ports = usage(() => parsePortSpecs(v.publish ?? [], v.expose ?? []));
  const labels = usage(() => readKvStrings(v['label-file'] ?? [], cliLabels, undefined, options.readFile));
  const restart = usage(() => parseRestartPolicy(v.restart ?? 'no'));
  const logDriver = v['log-driver'] ?? '';
  const logOpts = kvToMap(v['log-opt'] ?? []);
  if (logDriver === 'none' && (v['log-opt'] ?? []).length > 0) throw new UsageError(`invalid logging opts for driver ${logDriver}`);
  const healthcheck = buildHealthcheck(health);
  const rm = v.rm === true;
  const pull = v.pull ?? 'missing';
  if (pull !== 'always' && pull !== 'missing' && pull !== 'never') {
    throw new UsageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  if (rm && restart.Name !== '' && restart.Name !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');

  return {
    image,
    pull,
    cmd,
    name: v.name,
    detach: v.detach === true,
    detachKeys: v['detach-keys'],
    sigProxy: v['sig-proxy'] ?? true,
    rm,
    interactive: v.interactive === true,
    tty: v.tty === true,
    attach,
    env: envList,
    labels: kvToMap(labels),
    entrypoint: v.entrypoint,
    workdir: v.workdir,
    user: v.user,
    hostname: v.hostname ?? '',
    domainname: v.domainname ?? '',
    capAdd: v['cap-add'] ?? [],
    capDrop: v['cap-drop'] ?? [],
    securityOpt: v['security-opt'] ?? [],
    privileged: v.privileged === true,
    readOnly: v['read-only'] === true,
    init: v.init,
    pidsLimit,
    network: v.network,
    ports,
    publishAll: v['publish-all'] === true,
    ip: v.ip ?? '',
    networkAliases: v['network-alias'] ?? [],
    dns,
    dnsSearch: v['dns-search'] ?? [],
    dnsOptions: v['dns-option'] ?? [],
    addHost,
    links: v.link ?? [],
    stopSignal: v['stop-signal'],
    stopTimeout,
    restart,
    healthcheck,
    logDriver,
    logOpts,
    memory,
    memorySwap,
    nanoCpus,
    cpuShares,
    cpuQuota,
    cpuPeriod,
  };
}

/** Go's `json.Compact`: removes insignificant whitespace, keeps everything else byte for byte. */
export function compactJson(text: string): string {
  JSON.parse(text); // validate first, like json.Compact does
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      out += c;
    }
  }
  return out;
}

/**
 * docker's `parseSecurityOpts`: `key=value` or `key:value` (a value is required except for
 * `no-new-privileges`); `seccomp=FILE` (other than `unconfined`/`builtin`) is replaced by
 * `seccomp=<the file's JSON, compacted>`.
 */
export function parseSecurityOpts(opts: readonly string[], readFile: (path: string) => string): string[] {
  return opts.map((opt) => {
    let sep = opt.indexOf('=');
    if (sep === -1 && opt !== 'no-new-privileges') sep = opt.indexOf(':');
    const key = sep === -1 ? opt : opt.slice(0, sep);
    const value = sep === -1 ? '' : opt.slice(sep + 1);
    if ((sep === -1 || value === '') && key !== 'no-new-privileges') {
      throw new UsageError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
    if (key !== 'seccomp' || value === 'unconfined' || value === 'builtin') return opt;
    let content: string;
    try {
      content = readFile(value);
    } catch (err) {
      throw new UsageError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
    try {
      return `seccomp=${compactJson(content)}`;
    } catch (err) {
      throw new UsageError(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
  });
}

/**
 * docker's `parseSystemPaths`: `systempaths=unconfined` is handled by the client, which drops it
 * and sends empty `MaskedPaths`/`ReadonlyPaths` instead.
 */
export function parseSystemPaths(opts: readonly string[]): { securityOpt: string[]; unconfinedPaths: boolean } {
  const securityOpt = opts.filter((o) => o !== 'systempaths=unconfined');
  return { securityOpt, unconfinedPaths: securityOpt.length !== opts.length };
}

export interface CreateBodyOptions {
  /** `[height, width]` of the local terminal when stdout is one (docker sends it for any run); `[0, 0]` otherwise. */
  consoleSize?: [number, number];
  readFile?: (path: string) => string;
}

/** The endpoint settings of `--network` (docker's `parseNetworkOpts`): `--ip` and `--network-alias`. */
function endpointSettings(f: ContainerFlags): EndpointSettings {
  return {
    ...(f.ip !== '' ? { IPAMConfig: { IPv4Address: f.ip } } : {}),
    ...(f.networkAliases.length > 0 ? { Aliases: f.networkAliases } : {}),
  };
}

/** The `POST /containers/create` body, shaped like the one the docker CLI sends. */
export function buildCreateBody(f: ContainerFlags, options: CreateBodyOptions = {}): ContainerCreateRequest {
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  // docker's parse(): -i attaches stdin; without -a, stdout and stderr are attached; `run -d` attaches nothing
  const attached = !f.detach;
  const attachStdin = attached && (f.interactive || f.attach.includes('stdin'));
  const attachStdout = attached && (f.attach.length === 0 || f.attach.includes('stdout'));
  const attachStderr = attached && (f.attach.length === 0 || f.attach.includes('stderr'));
  let entrypoint: string[] | null = null;
  if (f.entrypoint !== undefined) entrypoint = [f.entrypoint]; // `--entrypoint ""` resets it: [""]
  const networkMode = f.network ?? 'default';
  const security = parseSystemPaths(f.securityOpt.length > 0 ? parseSecurityOpts(f.securityOpt, readFile) : []);
  const body: ContainerCreateRequest = {
    Hostname: f.hostname,
    Domainname: f.domainname,
    User: f.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: f.tty,
    OpenStdin: f.interactive,
    StdinOnce: f.interactive && attachStdin,
    Env: f.env.length > 0 ? f.env : null,
    Cmd: f.cmd.length > 0 ? f.cmd : null,
    ...(f.healthcheck !== undefined ? { Healthcheck: f.healthcheck } : {}),
    Image: f.image,
    Volumes: {},
    WorkingDir: f.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: f.labels,
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: f.logDriver, Config: f.logOpts },
      NetworkMode: networkMode,
      PortBindings: f.ports.bindings,
      RestartPolicy: f.restart,
      AutoRemove: f.rm,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: options.consoleSize ?? [0, 0],
      CapAdd: f.capAdd.length > 0 ? f.capAdd : null,
      CapDrop: f.capDrop.length > 0 ? f.capDrop : null,
      CgroupnsMode: '',
      Dns: f.dns,
      DnsOptions: f.dnsOptions,
      DnsSearch: f.dnsSearch,
      ExtraHosts: f.addHost.length > 0 ? f.addHost : null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: f.links.length > 0 ? f.links : null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: f.privileged,
      PublishAllPorts: f.publishAll,
      ReadonlyRootfs: f.readOnly,
      SecurityOpt: f.securityOpt.length > 0 ? security.securityOpt : null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      CpuShares: f.cpuShares,
      Memory: f.memory,
      NanoCpus: f.nanoCpus,
      CpuPeriod: f.cpuPeriod,
      CpuQuota: f.cpuQuota,
      MemorySwap: f.memorySwap,
      MemorySwappiness: -1,
      PidsLimit: f.pidsLimit ?? 0,
      ...(security.unconfinedPaths ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
      ...(f.init !== undefined ? { Init: f.init } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [networkMode]: endpointSettings(f) } },
  };
  if (Object.keys(f.ports.exposed).length > 0) body.ExposedPorts = f.ports.exposed;
  if (f.stopSignal !== undefined && f.stopSignal !== '') body.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) body.StopTimeout = f.stopTimeout;
  return body;
}
