/**
 * brig's NetworkService on Linux bridges through netavark + aardvark-dns.
 *
 * Ownership: network records and address allocations live in the metadata store (written before
 * netavark setup, deleted after teardown: a restarted daemon never hands out an address still in
 * use and finishes interrupted teardowns in init()). netavark applies bridges, veths, NAT, port
 * DNAT and name DNS. Host ports are held by bound sockets (./ports.ts). Netns files are made by
 * the native addon under `<runRoot>/netns/<container id>`.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, errors } from '../errors.js';
import type {
  EndpointRequest, EndpointState, NetworkAttachment, NetworkRecord, NetworkSpecV2, SandboxRecord,
} from '../model/network.js';
import { createNetns, isSystemError, removeNetns } from '../native/index.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { newId } from '../util/ids.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { RwLock } from '../util/rw-lock.js';
import { hostsText, readHostResolvConf, resolvText } from './etc-files.js';
import { ensureIccDrop, ensureLocalnetGuard, localnetGuards, removeIccDrop, removeLocalnetGuard } from './firewall.js';
import {
  checkRequestedAddress, type Cidr, DEFAULT_ADDRESS_POOLS, hostRoutes, overlaps, parseCidr, pickAddress, pickSubnet, validateAddressing,
} from './ipam.js';
import { macOf, Netavark, type NetavarkNetwork, type NetavarkRequest } from './netavark.js';
import { PortReservations, withPublishAll } from './ports.js';
import { WarmBridge, type WarmEndpoint } from './warm-bridge.js';
import type { CreateNetworkOptions, NetworkService, NetworkServiceOptions } from './service.js';

const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

/** Test seams: where the host's routes and resolv.conf come from, and which localnet guards exist. */
export interface BridgeServiceHooks {
  hostRoutes?: () => Cidr[];
  hostResolvConf?: () => string;
  localnetGuards?: () => Promise<string[]>;
}

export class BridgeNetworkService implements NetworkService {
  readonly #store: MetadataStore;
  readonly #o: NetworkServiceOptions;
  readonly #hooks: Required<BridgeServiceHooks>;
  readonly #netavark: Netavark;
  readonly #ports: PortReservations;
  readonly #lock = new KeyedMutex();
  /** See #netavarkRun. */
  readonly #netavarkLock = new RwLock();
  /** Containers whose netavark setup is complete and whose teardown has not begun. */
  readonly #live = new Set<string>();
  #networks = new Map<string, NetworkRecord>();
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #warm: WarmBridge;
  /** Bridges whose localnet guard (firewall.ts) is in place. */
  readonly #guarded = new Set<string>();

  constructor(store: MetadataStore, o: NetworkServiceOptions, hooks: BridgeServiceHooks = {}) {
    this.#store = store;
    this.#o = { ...o, addressPools: o.addressPools.length > 0 ? o.addressPools : [...DEFAULT_ADDRESS_POOLS] };
    this.#hooks = {
      hostRoutes: hooks.hostRoutes ?? (() => hostRoutes()), hostResolvConf: hooks.hostResolvConf ?? (() => readHostResolvConf()),
      localnetGuards: hooks.localnetGuards ?? localnetGuards,
    };
    this.#netavark = new Netavark({
      netavark: o.netavarkPath ?? '/usr/lib/podman/netavark',
      aardvark: o.aardvarkPath ?? '/usr/lib/podman/aardvark-dns',
      configDir: join(o.runRoot, 'netavark'),
    });
    this.#ports = new PortReservations(o.defaultHostIp);
    this.#warm = new WarmBridge({
      netavark: this.#netavark, dir: join(o.runRoot, 'netns-warm'), lock: this.#netavarkLock, network: () => this.#defaultNetwork(),
      taken: () => new Set(this.endpointsOf(this.#defaultNetwork().id).map((e) => e.endpoint.ipv4)),
    });
  }

  #netnsDir(): string {
    return join(this.#o.runRoot, 'netns');
  }

  /** The netns file brig makes for a container. */
  netnsPathOf(containerId: string): string {
    return join(this.#netnsDir(), containerId);
  }

  // ── records ────────────────────────────────────────────────────────────────────────────────

  async init(running: { containerId: string; attachment: NetworkAttachment }[]): Promise<void> {
    mkdirSync(this.#netnsDir(), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.#o.runRoot, 'netavark'), { recursive: true, mode: 0o700 });
    this.#networks = new Map(this.#store.listNetworks().map((n) => [n.id, n]));
    for (const sb of this.#store.listSandboxes()) this.#sandboxes.set(sb.containerId, sb);
    if (![...this.#networks.values()].some((n) => n.builtin)) this.#createDefault();

    const live = new Set(running.map((r) => r.containerId));
    for (const sb of [...this.#sandboxes.values()]) {
      if (live.has(sb.containerId)) {
        this.#live.add(sb.containerId);
        await this.#ports.restore(sb.containerId, sb.ports).catch((err: unknown) => {
          process.stderr.write(`brig: cannot hold published ports of container ${sb.containerId} again: ${(err as Error).message}\n`);
        });
      } else {
        await this.detach(sb.containerId, { netnsPath: sb.netnsPath, endpoints: sb.endpoints, ports: sb.ports });
      }
    }
    for (const f of readdirSync(this.#netnsDir())) {
      if (!live.has(f)) this.#removeNetnsQuietly(join(this.#netnsDir(), f));
    }
    // The keeper and pool of a daemon that did not stop cleanly: gone now, made again at the next attach.
    await this.#warm.recover(new Set([...this.#sandboxes.values()].map((sb) => sb.netnsPath)));
    for (const bridge of await this.#hooks.localnetGuards()) this.#guarded.add(bridge);
    await this.#syncFirewall();
  }

  #createDefault(): void {
    const subnet = pickSubnet(this.#o.addressPools, [...this.#hooks.hostRoutes(), ...this.#subnets()]);
    if (!subnet) throw new EngineError('ERR_UNAVAILABLE', 'could not find an available, non-overlapping IPv4 address pool for the default bridge network');
    const a = validateAddressing(subnet);
    const rec: NetworkRecord = {
      id: newId(), name: 'bridge', driver: 'bridge', bridge: this.#o.bridgeName, subnet: a.subnet, gateway: a.gateway, ipRange: '',
      internal: false, dnsEnabled: false, labels: {}, options: { [BRIDGE_NAME_OPTION]: this.#o.bridgeName },
      created: new Date().toISOString(), builtin: true,
    };
    this.#store.insertNetwork(rec);
    this.#networks.set(rec.id, rec);
  }

  #subnets(): Cidr[] {
    return [...this.#networks.values()].map((n) => parseCidr(n.subnet));
  }

  async create(o: CreateNetworkOptions): Promise<NetworkRecord> {
    if (!NETWORK_NAME.test(o.name)) throw new EngineError('ERR_INVALID_NAME', `invalid network name ${JSON.stringify(o.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (o.name === 'host' || o.name === 'none' || this.#byName(o.name)) throw new EngineError('ERR_CONFLICT', `network with name ${o.name} already exists`);
    const driver = o.driver || 'bridge';
    if (driver !== 'bridge') throw new EngineError('ERR_NOT_IMPLEMENTED', `network driver "${driver}" is not supported by brig (only "bridge")`);
    const options = { ...(o.options ?? {}) };
    for (const key of Object.keys(options)) {
      if (key !== BRIDGE_NAME_OPTION) throw new EngineError('ERR_NOT_IMPLEMENTED', `network option ${key} is not supported by brig (supported: ${BRIDGE_NAME_OPTION})`);
    }
    const id = newId();
    const bridge = options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (!IFNAME.test(bridge)) throw errors.invalid(`invalid ${BRIDGE_NAME_OPTION} ${JSON.stringify(bridge)}: an interface name of at most 15 characters`);
    const sameBridge = [...this.#networks.values()].find((n) => n.bridge === bridge);
    if (sameBridge) throw errors.conflict(`bridge ${bridge} is already used by network ${sameBridge.name}`);

    let subnet = o.subnet ?? '';
    if (subnet === '') {
      if (o.gateway || o.ipRange) throw errors.invalid('--gateway and --ip-range need --subnet');
      subnet = pickSubnet(this.#o.addressPools, [...this.#hooks.hostRoutes(), ...this.#subnets()]) ?? '';
      if (!subnet) throw errors.conflict('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    }
    const a = validateAddressing(subnet, o.gateway ?? '', o.ipRange ?? '');
    const mine = parseCidr(a.subnet);
    for (const n of this.#networks.values()) {
      if (overlaps(mine, parseCidr(n.subnet))) {
        throw errors.conflict(`invalid pool request: Pool overlaps with other one on this address space: ${a.subnet} overlaps network ${n.name} (${n.subnet})`);
      }
    }
    const rec: NetworkRecord = {
      id, name: o.name, driver: 'bridge', bridge, subnet: a.subnet, gateway: a.gateway, ipRange: a.ipRange,
      internal: o.internal ?? false, dnsEnabled: true, labels: { ...(o.labels ?? {}) }, options,
      created: new Date().toISOString(), builtin: false,
    };
    this.#store.insertNetwork(rec);
    this.#networks.set(rec.id, rec);
    return rec;
  }

  list(): NetworkRecord[] {
    return [...this.#networks.values()];
  }

  #byName(name: string): NetworkRecord | undefined {
    for (const n of this.#networks.values()) if (n.name === name) return n;
    return undefined;
  }

  get(ref: string): NetworkRecord {
    const byId = this.#networks.get(ref) ?? this.#byName(ref);
    if (byId) return byId;
    if (/^[0-9a-f]+$/.test(ref)) {
      const found = [...this.#networks.values()].filter((n) => n.id.startsWith(ref));
      if (found.length === 1) return found[0]!;
      if (found.length > 1) throw errors.invalid(`network ${ref} is ambiguous (${found.length} matches found on name or id prefix)`);
    }
    throw new EngineError('ERR_NO_SUCH_NETWORK', `network ${ref} not found`);
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (n.builtin) throw new EngineError('ERR_FORBIDDEN', `${n.name} is a pre-defined network and cannot be removed`);
    if (this.endpointsOf(n.id).length > 0) {
      throw new EngineError('ERR_NETWORK_IN_USE', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    this.#store.deleteNetwork(n.id);
    this.#networks.delete(n.id);
  }

  endpointsOf(networkId: string): { containerId: string; endpoint: EndpointState }[] {
    const out: { containerId: string; endpoint: EndpointState }[] = [];
    for (const sb of this.#sandboxes.values()) {
      for (const e of sb.endpoints) if (e.networkId === networkId) out.push({ containerId: sb.containerId, endpoint: e });
    }
    return out;
  }

  #defaultNetwork(): NetworkRecord {
    for (const n of this.#networks.values()) if (n.builtin) return n;
    throw errors.internal('the default bridge network is missing (init() not called?)');
  }

  checkSpec(spec: NetworkSpecV2): NetworkRecord[] {
    if (spec.mode === 'bridge') {
      const ep = spec.endpoints[0];
      if (ep?.ipv4) throw errors.invalid('user specified IP address is supported on user defined networks only');
      if (ep && ep.aliases.length > 0) throw errors.invalid('network-scoped alias is supported only for containers in user defined networks');
      return [this.#defaultNetwork()];
    }
    if (spec.mode !== 'user') return [];
    if (spec.endpoints.length === 0) throw errors.invalid('no network given for a container on user networks');
    const recs: NetworkRecord[] = [];
    for (const ep of spec.endpoints) {
      const rec = this.get(ep.network);
      if (recs.some((r) => r.id === rec.id)) throw errors.invalid(`network ${rec.name} given twice`);
      if (ep.ipv4) {
        if (rec.builtin) throw errors.invalid('user specified IP address is supported on user defined networks only');
        checkRequestedAddress(rec, ep.ipv4, new Set(), rec.name);
      }
      if (rec.builtin && ep.aliases.length > 0) throw errors.invalid('network-scoped alias is supported only for containers in user defined networks');
      recs.push(rec);
    }
    return recs;
  }

  // ── containers ─────────────────────────────────────────────────────────────────────────────

  async attach(c: { id: string; name: string; spec: NetworkSpecV2; exposedPorts: string[] }): Promise<NetworkAttachment> {
    const { netnsPath, ready } = await this.prepare(c);
    try {
      return await ready;
    } catch (err) {
      this.#removeNetnsQuietly(netnsPath);
      throw err;
    }
  }

  async prepare(c: { id: string; name: string; spec: NetworkSpecV2; exposedPorts: string[] }): Promise<{ netnsPath: string; ready: Promise<NetworkAttachment> }> {
    const recs = this.checkSpec(c.spec);
    if (recs.length === 0) throw errors.invalid(`network mode ${c.spec.mode} is not handled by the network service`);
    if (this.#sandboxes.has(c.id)) throw errors.conflict(`container ${c.id} is already attached to its networks`);
    const warm = c.spec.mode === 'bridge' && c.spec.ports.length === 0 && !c.spec.publishAll && c.spec.macAddress === '' ? this.#warm.take() : undefined;
    if (warm) return this.#adopt(c, warm);
    const netnsPath = this.netnsPathOf(c.id);
    try {
      createNetns(netnsPath);
    } catch (err) {
      if (!isSystemError(err, 'EEXIST')) throw errors.internal(`cannot create the network namespace of container ${c.id}: ${(err as Error).message}`, err);
      removeNetns(netnsPath); // a stale file of an earlier run of this container
      createNetns(netnsPath);
    }
    const ready = this.#lock.run(c.id, () => this.#setup(c, recs, netnsPath));
    ready.catch(() => undefined); // the caller awaits it; never an unhandled rejection meanwhile
    return { netnsPath, ready };
  }

  /**
   * A pool endpoint of the default bridge becomes the container's sandbox (already set up: nothing
   * to run). Recorded before anything else runs, so that no allocation can hand out its address.
   */
  async #adopt(c: { id: string; name: string }, warm: WarmEndpoint): Promise<{ netnsPath: string; ready: Promise<NetworkAttachment> }> {
    const sb: SandboxRecord = { containerId: c.id, name: c.name, netnsPath: warm.netnsPath, ports: [], endpoints: [warm.endpoint] };
    try {
      this.#store.putSandbox(sb);
    } catch (err) {
      await this.#warm.drop(warm);
      throw err;
    }
    this.#sandboxes.set(c.id, sb);
    this.#live.add(c.id);
    this.#warm.refill();
    const ready = this.#lock.run(c.id, async () => {
      await this.#syncFirewall();
      return { netnsPath: sb.netnsPath, endpoints: sb.endpoints, ports: [] };
    });
    ready.catch(() => undefined); // the caller awaits it
    return { netnsPath: sb.netnsPath, ready };
  }

  async #setup(c: { id: string; name: string; spec: NetworkSpecV2; exposedPorts: string[] }, recs: NetworkRecord[], netnsPath: string): Promise<NetworkAttachment> {
    const requests = withPublishAll(c.spec.ports, c.spec.publishAll, c.exposedPorts);
    const ports = await this.#ports.reserve(c.id, requests);
    let sb: SandboxRecord;
    try {
      const endpoints = recs.map((rec, i) => this.#allocate(rec, c.spec.mode === 'user' ? c.spec.endpoints[i] : undefined, `eth${i}`));
      sb = { containerId: c.id, name: c.name, netnsPath, ports, endpoints };
      this.#store.putSandbox(sb);
      this.#sandboxes.set(c.id, sb);
    } catch (err) {
      await this.#ports.release(c.id);
      throw err;
    }
    try {
      await this.#guard(recs);
      if (recs.some((r) => r.builtin)) await this.#warm.keep();
      const req = this.#request(sb, sb.endpoints, sb.ports);
      const result = await this.#netavarkRun(c.id, sb.endpoints, sb.ports.length > 0, () => this.#netavark.setup(netnsPath, req));
      sb = { ...sb, endpoints: sb.endpoints.map((e) => ({ ...e, mac: macOf(result, e.networkId, e.interfaceName ?? '') })) };
      this.#store.putSandbox(sb);
      this.#sandboxes.set(c.id, sb);
      this.#live.add(c.id);
      if (sb.endpoints.some((e) => e.networkId === this.#defaultNetwork().id)) {
        await this.#syncFirewall();
        this.#warm.refill();
      }
    } catch (err) {
      await this.#teardown(c.id);
      throw err;
    }
    return { netnsPath, endpoints: sb.endpoints, ports: sb.ports };
  }

  /** A new endpoint on `rec` with an address (requested or the lowest free one). Synchronous, so no two callers race for an address. */
  #allocate(rec: NetworkRecord, req: EndpointRequest | undefined, interfaceName: string): EndpointState {
    const taken = new Set(this.endpointsOf(rec.id).map((e) => e.endpoint.ipv4));
    if (rec.builtin) for (const ip of this.#warm.reserved()) taken.add(ip);
    const ipv4 = req?.ipv4 ? checkRequestedAddress(rec, req.ipv4, taken, rec.name) : pickAddress(rec, taken, rec.name);
    return {
      networkId: rec.id, networkName: rec.name, endpointId: newId(), ipv4, prefixLen: parseCidr(rec.subnet).prefix,
      gateway: rec.gateway, mac: '', aliases: [...(req?.aliases ?? [])], interfaceName,
    };
  }

  #request(sb: SandboxRecord, endpoints: readonly EndpointState[], ports: SandboxRecord['ports']): NetavarkRequest {
    const networks: NetavarkNetwork[] = [];
    for (const e of endpoints) {
      const record = this.#networks.get(e.networkId);
      if (!record) continue; // cannot happen: a network with endpoints is never removed
      networks.push({ record, endpoint: e, interfaceName: e.interfaceName ?? `eth${networks.length}` });
    }
    return { containerId: sb.containerId, containerName: sb.name, ports, networks };
  }

  async detach(containerId: string, a: NetworkAttachment): Promise<void> {
    void a; // the persisted sandbox is the truth; the attachment may be stale after a crash
    await this.#lock.run(containerId, async () => {
      const path = this.#sandboxes.get(containerId)?.netnsPath ?? this.netnsPathOf(containerId);
      await this.#teardown(containerId);
      this.#removeNetnsQuietly(path);
    });
  }

  async releasePorts(containerId: string): Promise<void> {
    await this.#ports.release(containerId);
  }

  /** netavark teardown (best effort), ports released, allocations deleted. Idempotent. */
  async #teardown(containerId: string): Promise<void> {
    const sb = this.#sandboxes.get(containerId);
    if (sb && sb.endpoints.length > 0) {
      const path = sb.netnsPath;
      // netavark needs a namespace to tear down even if the old one is gone (its firewall rules and DNS entries are not).
      try {
        createNetns(path);
      } catch {
        // exists already (the normal case)
      }
      const req = this.#request(sb, sb.endpoints, sb.ports);
      this.#live.delete(containerId); // before the decision below: two last containers never both see the other
      await this.#netavarkRun(containerId, sb.endpoints, sb.ports.length > 0, () => this.#netavark.teardown(path, req)).catch((err: unknown) => {
        process.stderr.write(`brig: network teardown of container ${containerId}: ${(err as Error).message}\n`);
      });
    }
    await this.#ports.release(containerId);
    if (sb) {
      this.#store.deleteSandbox(containerId);
      this.#sandboxes.delete(containerId);
      await this.#syncFirewall();
    }
  }

  #removeNetnsQuietly(path: string): void {
    try {
      removeNetns(path);
    } catch (err) {
      process.stderr.write(`brig: cannot remove network namespace ${path}: ${(err as Error).message}\n`);
    }
  }

  async connect(containerId: string, name: string, a: NetworkAttachment, req: EndpointRequest): Promise<NetworkAttachment> {
    const rec = this.get(req.network);
    return this.#lock.run(containerId, async () => {
      const sb = this.#sandboxes.get(containerId);
      if (!sb) throw errors.conflict(`container ${name} is not on a bridge network and cannot be connected to ${rec.name}`);
      if (sb.endpoints.some((e) => e.networkId === rec.id)) throw errors.conflict(`endpoint with name ${name} already exists in network ${rec.name}`);
      if (rec.builtin && (req.ipv4 || req.aliases.length > 0)) {
        throw errors.invalid(req.ipv4 ? 'user specified IP address is supported on user defined networks only' : 'network-scoped alias is supported only for containers in user defined networks');
      }
      const used = new Set(sb.endpoints.map((e) => e.interfaceName));
      let i = 0;
      while (used.has(`eth${i}`)) i++;
      const ep = this.#allocate(rec, req, `eth${i}`);
      const next: SandboxRecord = { ...sb, endpoints: [...sb.endpoints, ep] };
      this.#store.putSandbox(next);
      this.#sandboxes.set(containerId, next);
      try {
        await this.#guard([rec]);
        const result = await this.#netavarkRun(containerId, [ep], false, () => this.#netavark.setup(sb.netnsPath, this.#request(sb, [ep], [])));
        const done = { ...next, endpoints: [...sb.endpoints, { ...ep, mac: macOf(result, rec.id, ep.interfaceName!) }] };
        this.#store.putSandbox(done);
        this.#sandboxes.set(containerId, done);
        if (rec.builtin) await this.#syncFirewall();
        return { netnsPath: a.netnsPath || sb.netnsPath, endpoints: done.endpoints, ports: done.ports };
      } catch (err) {
        await this.#netavarkRun(containerId, [ep], false, () => this.#netavark.teardown(sb.netnsPath, this.#request(sb, [ep], []))).catch(() => undefined);
        this.#store.putSandbox(sb);
        this.#sandboxes.set(containerId, sb);
        await this.#syncFirewall();
        throw err;
      }
    });
  }

  async disconnect(containerId: string, a: NetworkAttachment, network: string): Promise<NetworkAttachment> {
    const rec = this.get(network);
    return this.#lock.run(containerId, async () => {
      const sb = this.#sandboxes.get(containerId);
      const ep = sb?.endpoints.find((e) => e.networkId === rec.id);
      if (!sb || !ep) throw errors.conflict(`container ${containerId} is not connected to network ${rec.name}`);
      // Published ports were set up with the first network; they go with it.
      const first = sb.endpoints[0] === ep;
      await this.#netavarkRun(containerId, [ep], first && sb.ports.length > 0, () => this.#netavark.teardown(sb.netnsPath, this.#request(sb, [ep], first ? sb.ports : [])));
      const next: SandboxRecord = { ...sb, endpoints: sb.endpoints.filter((e) => e !== ep) };
      this.#store.putSandbox(next);
      this.#sandboxes.set(containerId, next);
      await this.#syncFirewall();
      return { netnsPath: a.netnsPath || sb.netnsPath, endpoints: next.endpoints, ports: next.ports };
    });
  }

  /** Whether the default bridge is kept, and how many pool endpoints are ready (see warm-bridge.ts). */
  warmStatus(): { kept: boolean; ready: number } {
    return { kept: this.#warm.kept, ready: this.#warm.ready };
  }

  // ── files ──────────────────────────────────────────────────────────────────────────────────

  hostsFile(c: { hostname: string; domainname: string; extraHosts: string[] }, a: NetworkAttachment | null): string {
    const gw = a?.endpoints[0]?.gateway || this.#defaultNetwork().gateway;
    return hostsText(c, a, gw);
  }

  resolvConf(spec: NetworkSpecV2, a: NetworkAttachment | null): string {
    const host = this.#hooks.hostResolvConf();
    if (spec.mode === 'host') return host;
    const servers = (a?.endpoints ?? []).filter((e) => this.#networks.get(e.networkId)?.dnsEnabled).map((e) => e.gateway);
    return resolvText(spec, [...new Set(servers)], host);
  }

  // ── netavark and brig's own rules ──────────────────────────────────────────────────────────

  /**
   * netavark 1.4 takes no lock of its own around a network's shared state: the bridge and the
   * network's firewall chains (made by the first container, deleted with the last), its port
   * forwarding chain, and aardvark's config. A call that may create or delete such state runs
   * alone; one that only adds or removes a container's own rules on a non-DNS network that another
   * live container keeps (with ports when it has ports) runs alongside others. Concurrent
   * `docker run`s on the default bridge thus do not queue behind each other's netavark call.
   */
  #netavarkRun<T>(containerId: string, endpoints: readonly EndpointState[], hasPorts: boolean, fn: () => Promise<T>): Promise<T> {
    const peers = [...this.#live].filter((id) => id !== containerId).map((id) => this.#sandboxes.get(id)).filter((sb) => sb !== undefined);
    const routine = endpoints.every((e) => {
      if (this.#networks.get(e.networkId)?.dnsEnabled !== false) return false;
      const onNetwork = peers.filter((sb) => sb.endpoints.some((x) => x.networkId === e.networkId));
      const kept = this.#warm.kept && this.#networks.get(e.networkId)?.builtin === true;
      return (onNetwork.length > 0 || kept) && (!hasPorts || onNetwork.some((sb) => sb.ports.length > 0));
    });
    return routine ? this.#netavarkLock.shared(fn) : this.#netavarkLock.exclusive(fn);
  }

  /** Puts the localnet guard on the bridges of `recs` before netavark sets anything up on them. */
  async #guard(recs: readonly NetworkRecord[]): Promise<void> {
    const missing = recs.map((r) => r.bridge).filter((b) => !this.#guarded.has(b));
    if (missing.length === 0) return;
    await this.#lock.run('firewall', async () => {
      for (const bridge of missing) {
        if (this.#guarded.has(bridge)) continue;
        await ensureLocalnetGuard(bridge);
        this.#guarded.add(bridge);
      }
    });
  }

  /**
   * brig's own rules follow what is in use: the localnet guard stays on a bridge while a container
   * (or the keeper) is on it; with `--icc=false` the DROP exists while a container is on the default bridge.
   */
  async #syncFirewall(): Promise<void> {
    await this.#lock.run('firewall', async () => {
      const inUse = new Set<string>();
      for (const sb of this.#sandboxes.values()) for (const e of sb.endpoints) inUse.add(this.#networks.get(e.networkId)?.bridge ?? '');
      const def = this.#defaultNetwork();
      if (this.#warm.kept) inUse.add(def.bridge);
      for (const bridge of [...this.#guarded]) {
        if (inUse.has(bridge)) continue;
        await removeLocalnetGuard(bridge);
        this.#guarded.delete(bridge);
      }
      if (this.#o.icc) return;
      if (this.endpointsOf(def.id).length > 0) await ensureIccDrop(def.bridge);
      else await removeIccDrop(def.bridge);
    });
  }

  /**
   * Daemon stop: closes the held port sockets (containers keep running; init() holds them again);
   * the keeper and pool go, and with them the rules of brig's that no running container needs.
   */
  async close(): Promise<void> {
    await this.#lock.idle();
    for (const id of this.#sandboxes.keys()) await this.#ports.release(id);
    await this.#warm.close();
    await this.#syncFirewall();
  }
}
