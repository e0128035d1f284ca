/**
 * Network use cases: list/inspect (with the containers on each network), create, remove, prune,
 * and `docker network connect/disconnect` of a container, running or not. Records, addresses and
 * the host side belong to the NetworkService; this layer keeps the containers' network intent
 * (their spec) and live attachment (their state) in step with it.
 */
import { createHash } from 'node:crypto';
import { EngineError, errors, isEngineError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ContainerRecord } from '../model/container.js';
import { networkSpecOf } from '../model/container.js';
import type { EndpointState, NetworkRecord, NetworkSpecV2 } from '../model/network.js';
import type { CreateNetworkOptions, NetworkService } from '../network/service.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import { rewriteEtcFile } from './bundle.js';
import { effectiveMode, type ContainerNetworking } from './container-network.js';
import type { ContainerService } from './containers.js';

/** `host` and `none`: networks in Docker's listing, modes in brig (no record, no IPAM). */
export interface PseudoNetwork {
  id: string;
  name: 'host' | 'none';
  driver: 'host' | 'null';
}

export const PSEUDO_NETWORKS: readonly PseudoNetwork[] = (['host', 'none'] as const).map((name) => ({
  id: createHash('sha256').update(`brig network ${name}`).digest('hex'),
  name,
  driver: name === 'host' ? 'host' : 'null',
}));

/** A network as listed: a record, or one of the pseudo networks. */
export type AnyNetwork = { kind: 'bridge'; record: NetworkRecord } | { kind: 'pseudo'; pseudo: PseudoNetwork };

/** One container on a network, for inspect's `Containers`. */
export interface NetworkMember {
  container: ContainerRecord;
  endpoint: EndpointState | null;
}

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

export class NetworkUseCases {
  private readonly service: NetworkService;
  private readonly networking: ContainerNetworking;
  private readonly containers: ContainerService;
  private readonly meta: MetadataStore;
  private readonly events: EventBus;

  constructor(networking: ContainerNetworking, containers: ContainerService, meta: MetadataStore, events: EventBus) {
    this.service = networking.service;
    this.networking = networking;
    this.containers = containers;
    this.meta = meta;
    this.events = events;
  }

  list(): AnyNetwork[] {
    return [
      ...this.service.list().map((record) => ({ kind: 'bridge' as const, record })),
      ...PSEUDO_NETWORKS.map((pseudo) => ({ kind: 'pseudo' as const, pseudo })),
    ];
  }

  /** By name, full ID or unique ID prefix; ERR_NO_SUCH_NETWORK otherwise. */
  get(ref: string): AnyNetwork {
    const pseudo = PSEUDO_NETWORKS.find((p) => p.name === ref || p.id === ref || (ref.length >= 1 && p.id.startsWith(ref)));
    try {
      return { kind: 'bridge', record: this.service.get(ref) };
    } catch (err) {
      if (pseudo && isEngineError(err, 'ERR_NO_SUCH_NETWORK')) return { kind: 'pseudo', pseudo };
      throw err;
    }
  }

  /** Containers on a network now: running ones with an endpoint on it (or in the pseudo network's mode). */
  members(n: AnyNetwork): NetworkMember[] {
    if (n.kind === 'pseudo') {
      return this.meta.listContainers()
        .filter((c) => isRunning(c) && effectiveMode(networkSpecOf(c.spec)) === n.pseudo.name)
        .map((container) => ({ container, endpoint: null }));
    }
    const out: NetworkMember[] = [];
    for (const { containerId, endpoint } of this.service.endpointsOf(n.record.id)) {
      const container = this.meta.getContainer(containerId);
      if (container) out.push({ container, endpoint });
    }
    return out;
  }

  async create(o: CreateNetworkOptions): Promise<NetworkRecord> {
    if (PSEUDO_NETWORKS.some((p) => p.name === o.name)) {
      throw new EngineError('ERR_FORBIDDEN', `${o.name} is a pre-defined network and cannot be created`);
    }
    const r = await this.service.create(o);
    this.#event(r, 'create');
    return r;
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (n.kind === 'pseudo') throw new EngineError('ERR_FORBIDDEN', `${n.pseudo.name} is a pre-defined network and cannot be removed`);
    await this.service.remove(n.record.id);
    this.#event(n.record, 'destroy');
  }

  /** Removes every user network no container is attached to that `keep` selects; returns their names. */
  async prune(keep: (r: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const r of this.service.list()) {
      if (r.builtin || !keep(r) || this.service.endpointsOf(r.id).length > 0) continue;
      try {
        await this.service.remove(r.id);
      } catch (err) {
        if (isEngineError(err, 'ERR_NETWORK_IN_USE') || isEngineError(err, 'ERR_NO_SUCH_NETWORK')) continue;
        throw err;
      }
      this.#event(r, 'destroy');
      removed.push(r.name);
    }
    return removed;
  }

  /**
   * `docker network connect`: the container is connected now if it runs (its hosts file follows)
   * and at every later start. 409 if it already is.
   */
  async connect(networkRef: string, containerRef: string, req: { aliases: string[]; ipv4: string }): Promise<void> {
    const n = this.get(networkRef);
    const c = this.containers.get(containerRef);
    if (n.kind === 'pseudo') {
      throw new EngineError('ERR_FORBIDDEN', n.pseudo.name === 'host'
        ? 'container cannot be disconnected from host network or connected to host network'
        : 'container cannot be connected to multiple networks with one of the networks in private (none) mode');
    }
    const net = n.record;
    if (net.builtin && req.ipv4 !== '') throw errors.invalid('user specified IP address is supported on user defined networks only');
    if (net.builtin && req.aliases.length > 0) throw errors.invalid('network-scoped alias is supported only for containers in user defined networks');
    await this.containers.withLock(c.id, async () => {
      const cur = this.containers.get(c.id);
      const spec = networkSpecOf(cur.spec);
      refuseSharedNamespace(spec, 'connected to');
      if (this.#connectedIds(spec).includes(net.id)) {
        throw errors.conflict(`endpoint with name ${cur.name} already exists in network ${net.name}`);
      }
      const endpoint = { network: net.name, aliases: [...new Set(req.aliases)], ipv4: req.ipv4 };
      const next: NetworkSpecV2 = { ...spec, mode: 'user', endpoints: [...this.#endpointList(spec), endpoint] };
      if (isRunning(cur)) {
        const a = cur.state.network;
        if (!a) throw errors.conflict(`container ${cur.id} has no network namespace of its own to connect: stop it first`);
        const updated = await this.service.connect(cur.id, cur.name, a, endpoint);
        this.meta.updateContainerState(cur.id, { ...cur.state, network: updated });
        await this.#rewriteEtc({ ...cur, spec: { ...cur.spec, network: next } }, updated);
      }
      this.meta.updateContainerSpec(cur.id, { ...cur.spec, network: next });
      this.#event(net, 'connect', cur.id);
    });
  }

  /** `docker network disconnect`: from the running namespace and from the container's later starts. */
  async disconnect(networkRef: string, containerRef: string, force: boolean): Promise<void> {
    const c = this.containers.get(containerRef);
    let n: AnyNetwork;
    try {
      n = this.get(networkRef);
    } catch (err) {
      if (!force) throw err;
      return;
    }
    if (n.kind === 'pseudo') {
      throw new EngineError('ERR_FORBIDDEN', 'container cannot be disconnected from host network or connected to host network');
    }
    const net = n.record;
    await this.containers.withLock(c.id, async () => {
      const cur = this.containers.get(c.id);
      const spec = networkSpecOf(cur.spec);
      refuseSharedNamespace(spec, 'disconnected from');
      if (!this.#connectedIds(spec).includes(net.id)) {
        throw errors.conflict(`container ${cur.id} is not connected to network ${net.name}`);
      }
      const next: NetworkSpecV2 = {
        ...spec, mode: 'user', endpoints: this.#endpointList(spec).filter((e) => this.#idOf(e.network) !== net.id),
      };
      if (isRunning(cur) && cur.state.network) {
        const updated = await this.service.disconnect(cur.id, cur.state.network, net.name);
        this.meta.updateContainerState(cur.id, { ...cur.state, network: updated });
        await this.#rewriteEtc({ ...cur, spec: { ...cur.spec, network: next } }, updated);
      }
      this.meta.updateContainerSpec(cur.id, { ...cur.spec, network: next });
      this.#event(net, 'disconnect', cur.id);
    });
  }

  /** The endpoints a container's spec asks for, the default bridge written out as one. */
  #endpointList(spec: NetworkSpecV2) {
    return spec.mode === 'bridge' ? [{ network: 'bridge', aliases: [], ipv4: '' }] : spec.mode === 'user' ? spec.endpoints : [];
  }

  #idOf(ref: string): string | undefined {
    try {
      return this.service.get(ref).id;
    } catch {
      return undefined;
    }
  }

  #connectedIds(spec: NetworkSpecV2): string[] {
    return this.#endpointList(spec).map((e) => this.#idOf(e.network)).filter((x): x is string => x !== undefined);
  }

  async #rewriteEtc(c: ContainerRecord, a: import('../model/network.js').NetworkAttachment): Promise<void> {
    const etc = this.networking.etcTexts(c, a);
    const dir = this.containers.containerDir(c.id);
    await Promise.all([rewriteEtcFile(dir, 'hosts', etc.hosts), rewriteEtcFile(dir, 'resolv.conf', etc.resolvConf)]);
  }

  #event(r: NetworkRecord, action: string, container?: string): void {
    this.events.publish('network', action, r.id, { name: r.name, type: r.driver, ...(container ? { container } : {}) });
  }
}

function refuseSharedNamespace(spec: NetworkSpecV2, what: string): void {
  if (spec.mode === 'host') throw new EngineError('ERR_FORBIDDEN', 'container cannot be disconnected from host network or connected to host network');
  if (spec.mode === 'container' || spec.mode === 'none') {
    throw new EngineError('ERR_FORBIDDEN', `container sharing network namespace with another container or host cannot be ${what} any other network`);
  }
}
