/**
 * The network side of a container's run, per mode, between the container lifecycle and the
 * NetworkService (network/service.ts):
 *
 * - none: runc's own namespace (loopback only), hosts/resolv.conf from the service's texts;
 * - host: no network namespace, the host's hostname, a copy of the host's /etc/hosts and resolv.conf;
 * - container:<x>: joins x's namespace and shares x's hostname, hosts and resolv.conf (x must run);
 * - bridge / user: a netns file from `NetworkService.prepare`, addresses and ports when `ready`.
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { EngineError, errors, isEngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import { networkSpecOf } from '../model/container.js';
import type { NetworkAttachment, NetworkSpecV2 } from '../model/network.js';
import type { NetworkService } from '../network/service.js';
import type { OciMount } from '../spec/oci.js';
import { PRIVATE_NETNS_SYSCTLS } from '../spec/build.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { etcMounts, writeEtcFiles, type EtcFiles } from './bundle.js';

/** What the OCI spec of one run needs from the network side. */
export interface NetworkBundle {
  hostname: string;
  /** `--network host`. */
  hostNetwork: boolean;
  /** Namespace to join (container mode), null = new (none) or set at start (bridge/user). */
  netnsPath: string | null;
  sysctl: Record<string, string>;
  mounts: OciMount[];
}

/** The mode a run really uses: a user-mode container disconnected from every network has none. */
export function effectiveMode(spec: NetworkSpecV2): NetworkSpecV2['mode'] {
  return spec.mode === 'user' && spec.endpoints.length === 0 ? 'none' : spec.mode;
}

/** Whether the service attaches this run (bridge or user networks). */
export function needsAttach(spec: NetworkSpecV2): boolean {
  const m = effectiveMode(spec);
  return m === 'bridge' || m === 'user';
}

export class ContainerNetworking {
  readonly service: NetworkService;
  private readonly meta: MetadataStore;
  private readonly containerDir: (id: string) => string;

  constructor(service: NetworkService, meta: MetadataStore, containerDir: (id: string) => string) {
    this.service = service;
    this.meta = meta;
    this.containerDir = containerDir;
  }

  /**
   * Create-time checks: the networks named must exist, and `container:<ref>` is resolved to the
   * other container's ID. Both are 400s, not 404s: the docker CLI takes any 404 of create for a
   * missing image and starts pulling it.
   */
  resolveAtCreate(spec: NetworkSpecV2): NetworkSpecV2 {
    if (spec.mode === 'container') {
      const other = this.meta.findContainer(spec.container ?? '');
      if (!other) throw errors.invalid(`No such container: ${spec.container} (network mode ${spec.modeName})`);
      return { ...spec, container: other.id };
    }
    if (spec.mode === 'user') {
      const get = (ref: string) => {
        try {
          return this.service.get(ref);
        } catch (err) {
          if (isEngineError(err, 'ERR_NO_SUCH_NETWORK')) throw errors.invalid(err.message);
          throw err;
        }
      };
      for (const e of spec.endpoints) {
        const n = get(e.network);
        if (n.builtin && e.ipv4 !== '') throw errors.invalid('user specified IP address is supported on user defined networks only');
        if (n.builtin && e.aliases.length > 0) throw errors.invalid('network-scoped alias is supported only for containers in user defined networks');
      }
      const ids = spec.endpoints.map((e) => get(e.network).id);
      if (new Set(ids).size !== ids.length) throw errors.invalid('a container cannot be connected to the same network twice');
    }
    return spec;
  }

  /**
   * The hostname a container's processes see (and inspect's Config.Hostname): its own or its short
   * ID; with `--network host` the host's; with `container:<x>` x's, as Docker does.
   */
  hostnameOf(c: ContainerRecord): string {
    const spec = networkSpecOf(c.spec);
    const mode = effectiveMode(spec);
    if (mode === 'host') return c.spec.hostname || osHostname();
    if (mode === 'container') {
      const other = this.meta.getContainer(spec.container ?? '');
      if (other && other.id !== c.id) return this.hostnameOf(other);
    }
    return c.spec.hostname || c.id.slice(0, 12);
  }

  /**
   * The network parts of a run's bundle: writes hostname, hosts and resolv.conf (bridge and user
   * runs get their final hosts text once their addresses are known, see {@link writeAttachedFiles}).
   */
  async bundle(c: ContainerRecord, dir: string): Promise<NetworkBundle> {
    const spec = networkSpecOf(c.spec);
    const mode = effectiveMode(spec);
    const names = { hostname: this.hostnameOf(c), domainname: c.spec.domainname, extraHosts: spec.extraHosts };
    if (mode === 'container') {
      const other = this.runningPeer(c, spec);
      const otherSpec = networkSpecOf(other.spec);
      const hostNetwork = effectiveMode(otherSpec) === 'host';
      return {
        hostname: this.hostnameOf(other),
        hostNetwork,
        netnsPath: hostNetwork ? null : other.state.network?.netnsPath || `/proc/${other.state.pid}/ns/net`,
        sysctl: {},
        mounts: etcMounts(this.containerDir(other.id)),
      };
    }
    if (mode === 'host') {
      const hostname = this.hostnameOf(c);
      const files: EtcFiles = { hostname, hosts: await this.#hostModeHosts(spec), resolvConf: await this.#hostModeResolvConf(spec) };
      return { hostname, hostNetwork: true, netnsPath: null, sysctl: {}, mounts: await writeEtcFiles(dir, files) };
    }
    const files: EtcFiles = {
      hostname: names.hostname, hosts: this.service.hostsFile(names, null), resolvConf: this.service.resolvConf(spec, null),
    };
    const mounts = await writeEtcFiles(dir, files);
    // none: runc makes the namespace and PRIVATE_NETNS_SYSCTLS are buildOciSpec's default; bridge
    // and user runs join a namespace brig made, so the sysctls are asked for explicitly.
    return { hostname: names.hostname, hostNetwork: false, netnsPath: null, sysctl: mode === 'none' ? {} : { ...PRIVATE_NETNS_SYSCTLS }, mounts };
  }

  /** The container whose namespace a `container:<x>` run joins; 409 unless it is running. */
  runningPeer(c: ContainerRecord, spec: NetworkSpecV2): ContainerRecord {
    const other = this.meta.getContainer(spec.container ?? '');
    if (!other) throw new EngineError('ERR_NO_SUCH_CONTAINER', `No such container: ${spec.container}: cannot join its network namespace`);
    if (other.id === c.id) throw errors.invalid('cannot join own network namespace');
    if (other.state.status !== 'running' && other.state.status !== 'paused') {
      throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `cannot join network namespace of a non running container: ${other.id}`);
    }
    return other;
  }

  /** hosts and resolv.conf of an attached run (its addresses known now), rewritten in place. */
  etcTexts(c: ContainerRecord, a: NetworkAttachment): { hosts: string; resolvConf: string } {
    const spec = networkSpecOf(c.spec);
    return {
      hosts: this.service.hostsFile({ hostname: this.hostnameOf(c), domainname: c.spec.domainname, extraHosts: spec.extraHosts }, a),
      resolvConf: this.service.resolvConf(spec, a),
    };
  }

  /** A copy of the host's /etc/hosts plus `--add-host` entries (`host-gateway` = the default bridge's gateway). */
  async #hostModeHosts(spec: NetworkSpecV2): Promise<string> {
    let text = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    for (const entry of spec.extraHosts) {
      const sep = entry.indexOf(':');
      const name = entry.slice(0, sep);
      let ip = entry.slice(sep + 1);
      if (ip === 'host-gateway') ip = this.service.get('bridge').gateway;
      text += `${ip}\t${name}\n`;
    }
    return text;
  }

  /** The host's resolv.conf as is (its nameservers work in the host's namespace), unless --dns* override it. */
  async #hostModeResolvConf(spec: NetworkSpecV2): Promise<string> {
    if (spec.dns.length > 0 || spec.dnsSearch.length > 0 || spec.dnsOptions.length > 0) return this.service.resolvConf(spec, null);
    return readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  }
}
