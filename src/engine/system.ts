/** System facts for `docker version` and `docker info`, gathered from the engine and the host. */
import { readFile } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import type { AddressPool } from '../network/service.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { execFileResult } from '../util/exec.js';
import { access } from 'node:fs/promises';

export const BRIG_VERSION = '0.1.0';
/** The Engine API version brig implements, and the oldest it accepts. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

export interface SystemInfo {
  id: string;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
  dataRoot: string;
  runRoot: string;
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  architecture: string;
  ncpu: number;
  memTotal: number;
  name: string;
  cgroupVersion: 1 | 2;
  runcVersion: string;
  conmonVersion: string;
  compat: 'brig' | 'docker';
  defaultPidsLimit: number;
  securityOptions: string[];
  warnings: string[];
  /** Subnets networks get their addresses from (`--default-address-pool`, or brig's defaults). */
  addressPools: AddressPool[];
  /** Registries reached over plain HTTP besides loopback (`--insecure-registry`): IPv4 CIDRs and host[:port] names apart. */
  insecureRegistries: { cidrs: string[]; hosts: string[] };
  /** `net.ipv4.ip_forward` and `net.bridge.bridge-nf-call-iptables/ip6tables` of the host. */
  ipv4Forwarding: boolean;
  bridgeNfIptables: boolean;
  bridgeNfIp6tables: boolean;
}

/** The daemon settings `docker info` reports. */
export interface SystemOptions {
  dataRoot: string;
  runRoot: string;
  compat: 'brig' | 'docker';
  defaultPidsLimit: number;
  runcPath: string;
  conmonPath: string;
  addressPools: AddressPool[];
  insecureRegistries: string[];
}

export class SystemService {
  #versions: Promise<{ runc: string; conmon: string }> | undefined;

  private readonly meta: MetadataStore;
  private readonly options: SystemOptions;

  constructor(meta: MetadataStore, options: SystemOptions) {
    this.meta = meta;
    this.options = options;
  }

  /** Versions of the helper programs, read once. */
  versions(): Promise<{ runc: string; conmon: string }> {
    this.#versions ??= (async () => {
      const runc = await execFileResult(this.options.runcPath, ['--version']).catch(() => undefined);
      const conmon = await execFileResult(this.options.conmonPath, ['--version']).catch(() => undefined);
      return {
        runc: /runc version (\S+)/.exec(runc?.stdout ?? '')?.[1] ?? 'unknown',
        conmon: /conmon version (\S+)/.exec(conmon?.stdout ?? '')?.[1] ?? 'unknown',
      };
    })();
    return this.#versions;
  }

  async info(): Promise<SystemInfo> {
    const all = this.meta.listContainers();
    const running = all.filter((c) => c.state.status === 'running').length;
    const paused = all.filter((c) => c.state.status === 'paused').length;
    const os = await osRelease();
    const v = await this.versions();
    const warnings: string[] = [];
    const [ipv4Forwarding, bridgeNfIptables, bridgeNfIp6tables] = await Promise.all([
      sysctlOn('/proc/sys/net/ipv4/ip_forward'),
      sysctlOn('/proc/sys/net/bridge/bridge-nf-call-iptables'),
      sysctlOn('/proc/sys/net/bridge/bridge-nf-call-ip6tables'),
    ]);
    if (!bridgeNfIptables) warnings.push('WARNING: bridge-nf-call-iptables is disabled');
    if (!bridgeNfIp6tables) warnings.push('WARNING: bridge-nf-call-ip6tables is disabled');
    if (this.options.compat === 'docker') {
      warnings.push('WARNING: --compat docker: containers get Docker\'s 14 default capabilities (incl. NET_RAW, MKNOD, AUDIT_WRITE)');
    }
    return {
      id: this.meta.daemonId(),
      containers: { total: all.length, running, paused, stopped: all.length - running - paused },
      images: this.meta.listImages().length,
      dataRoot: this.options.dataRoot,
      runRoot: this.options.runRoot,
      kernelVersion: (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim(),
      operatingSystem: os.pretty,
      osVersion: os.version,
      architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      ncpu: cpus().length,
      memTotal: totalmem(),
      name: hostname(),
      cgroupVersion: await cgroupVersion(),
      runcVersion: v.runc,
      conmonVersion: v.conmon,
      compat: this.options.compat,
      defaultPidsLimit: this.options.defaultPidsLimit,
      securityOptions: ['name=seccomp,profile=brig-default', 'name=no-new-privileges', `name=cgroupns`],
      warnings,
      addressPools: this.options.addressPools.map((p) => ({ ...p })),
      insecureRegistries: {
        cidrs: this.options.insecureRegistries.filter((r) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(r)),
        hosts: this.options.insecureRegistries.filter((r) => !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(r)),
      },
      ipv4Forwarding,
      bridgeNfIptables,
      bridgeNfIp6tables,
    };
  }
}

/** A 0/1 sysctl file; false when it is absent (e.g. br_netfilter not loaded). */
async function sysctlOn(path: string): Promise<boolean> {
  return (await readFile(path, 'utf8').catch(() => '0')).trim() === '1';
}

async function osRelease(): Promise<{ pretty: string; version: string }> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    return { pretty: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') };
  } catch {
    return { pretty: 'Linux', version: '' };
  }
}

async function cgroupVersion(): Promise<1 | 2> {
  try {
    await access('/sys/fs/cgroup/cgroup.controllers');
    return 2;
  } catch {
    return 1;
  }
}
