/**
 * Networks on the wire: `POST /networks/create` bodies → CreateNetworkOptions (validated here),
 * records → Docker's `Network` objects (`GET /networks`, `GET /networks/{id}`), and the container
 * side of it (`NetworkSettings` of inspect and ps, `HostConfig.PortBindings`).
 */
import { EngineError } from '../../errors.js';
import type { ContainerRecord } from '../../model/container.js';
import { networkSpecOf } from '../../model/container.js';
import type { EndpointState, NetworkAttachment, NetworkSpecV2 } from '../../model/network.js';
import type { CreateNetworkOptions } from '../../network/service.js';
import type { Engine } from '../../engine/engine.js';
import type { AnyNetwork, NetworkMember } from '../../engine/networks.js';
import { PSEUDO_NETWORKS } from '../../engine/networks.js';
import { object, optBool, optObject, optString, optStringMap, isUnset } from './validate.js';

const notImplemented = (what: string) => new EngineError('ERR_NOT_IMPLEMENTED', `${what} is not supported by brig yet`);

/** `POST /networks/create` body → options; anything brig cannot do is a 501 naming it. */
export function fromDockerNetworkCreate(body: unknown): CreateNetworkOptions {
  const b = object(body ?? {}, 'body');
  const name = optString(b, 'Name', 'Name');
  if (name === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'network name is required (Name)');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || name.length > 128) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const driver = optString(b, 'Driver', 'Driver', 'bridge') || 'bridge';
  if (driver !== 'bridge') throw notImplemented(`network driver "${driver}" (only bridge)`);
  if (optBool(b, 'EnableIPv6', 'EnableIPv6')) throw notImplemented('IPv6 networks (EnableIPv6, --ipv6)');
  if (optBool(b, 'Ingress', 'Ingress')) throw notImplemented('ingress networks (swarm)');
  if (optBool(b, 'ConfigOnly', 'ConfigOnly')) throw notImplemented('config-only networks (--config-only)');
  const from = optObject(b, 'ConfigFrom', 'ConfigFrom');
  if (from && optString(from, 'Network', 'ConfigFrom.Network') !== '') throw notImplemented('networks made from a config (--config-from)');
  const scope = optString(b, 'Scope', 'Scope');
  if (scope !== '' && scope !== 'local') throw notImplemented(`network scope "${scope}" (only local)`);
  optBool(b, 'Attachable', 'Attachable'); // type-checked; every brig network is attachable

  const o: CreateNetworkOptions = {
    name,
    driver,
    internal: optBool(b, 'Internal', 'Internal'),
    labels: optStringMap(b, 'Labels', 'Labels'),
    options: optStringMap(b, 'Options', 'Options'),
    checkDuplicate: optBool(b, 'CheckDuplicate', 'CheckDuplicate', true),
  };
  const ipam = optObject(b, 'IPAM', 'IPAM') ?? {};
  const ipamDriver = optString(ipam, 'Driver', 'IPAM.Driver');
  if (ipamDriver !== '' && ipamDriver !== 'default') throw notImplemented(`IPAM driver "${ipamDriver}"`);
  if (!isUnset(ipam['Options'])) throw notImplemented('IPAM options (--ipam-opt)');
  const configs = ipam['Config'];
  if (configs !== undefined && configs !== null) {
    if (!Array.isArray(configs)) throw new EngineError('ERR_INVALID_ARGUMENT', 'invalid value for IPAM.Config: expected an array');
    if (configs.length > 1) throw notImplemented('more than one subnet per network');
    if (configs.length === 1) {
      const c = object(configs[0], 'IPAM.Config[0]');
      if (!isUnset(c['AuxiliaryAddresses'])) throw notImplemented('auxiliary addresses (--aux-address)');
      const subnet = optString(c, 'Subnet', 'IPAM.Config[0].Subnet');
      const gateway = optString(c, 'Gateway', 'IPAM.Config[0].Gateway');
      const ipRange = optString(c, 'IPRange', 'IPAM.Config[0].IPRange');
      if (subnet.includes(':')) throw notImplemented('IPv6 subnets');
      if (subnet === '' && (gateway !== '' || ipRange !== '')) {
        throw new EngineError('ERR_INVALID_ARGUMENT', 'a gateway or an ip range needs a subnet (--subnet)');
      }
      if (subnet !== '') o.subnet = subnet;
      if (gateway !== '') o.gateway = gateway;
      if (ipRange !== '') o.ipRange = ipRange;
    }
  }
  return o;
}

/** `"172.18.0.2/16"`-style address of an endpoint. */
const cidr = (e: EndpointState) => `${e.ipv4}/${e.prefixLen}`;

/** One Docker `Network` object; `members` only for inspect (the list leaves `Containers` empty, as Docker). */
export function toDockerNetwork(n: AnyNetwork, members: NetworkMember[] | null) {
  const containers: Record<string, unknown> = {};
  for (const m of members ?? []) {
    containers[m.container.id] = {
      Name: m.container.name,
      EndpointID: m.endpoint?.endpointId ?? '',
      MacAddress: m.endpoint?.mac ?? '',
      IPv4Address: m.endpoint ? cidr(m.endpoint) : '',
      IPv6Address: '',
    };
  }
  if (n.kind === 'pseudo') {
    return {
      Name: n.pseudo.name, Id: n.pseudo.id, Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: n.pseudo.driver, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
      ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: containers, Options: {}, Labels: {},
    };
  }
  const r = n.record;
  const options = r.builtin
    ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': r.bridge, ...r.options }
    : r.options;
  return {
    Name: r.name,
    Id: r.id,
    Created: r.created,
    Scope: 'local',
    Driver: r.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: r.builtin ? null : {},
      Config: [{ Subnet: r.subnet, Gateway: r.gateway, ...(r.ipRange ? { IPRange: r.ipRange } : {}) }],
    },
    Internal: r.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: r.labels,
  };
}

/** What the container views need to know about networks besides the container record. */
export interface NetworkViewContext {
  /** ID of a network by name or ID; undefined when it is gone. */
  networkId(ref: string): string | undefined;
}

/** The lookups of {@link NetworkViewContext}, from the engine. */
export function networkViewContext(engine: Engine): NetworkViewContext {
  return {
    networkId: (ref) => {
      try {
        const n = engine.networks.get(ref);
        return n.kind === 'bridge' ? n.record.id : n.pseudo.id;
      } catch {
        return undefined;
      }
    },
  };
}

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';

function endpointJson(o: {
  networkId: string; ipamIpv4?: string; aliases: string[] | null; dnsNames: string[] | null; e?: EndpointState;
}) {
  return {
    IPAMConfig: o.ipamIpv4 ? { IPv4Address: o.ipamIpv4 } : null,
    Links: null,
    Aliases: o.aliases,
    MacAddress: o.e?.mac ?? '',
    NetworkID: o.networkId,
    EndpointID: o.e?.endpointId ?? '',
    Gateway: o.e?.gateway ?? '',
    IPAddress: o.e?.ipv4 ?? '',
    IPPrefixLen: o.e?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DriverOpts: null,
    DNSNames: o.dnsNames,
  };
}

/** `NetworkSettings.Networks`: the networks a container is (or, stopped, will be) on. */
export function networksOf(c: ContainerRecord, ctx: NetworkViewContext): Record<string, ReturnType<typeof endpointJson>> {
  const spec = networkSpecOf(c.spec);
  const pseudo = (name: 'host' | 'none') => ({
    [name]: endpointJson({ networkId: PSEUDO_NETWORKS.find((p) => p.name === name)!.id, aliases: null, dnsNames: null }),
  });
  if (spec.mode === 'host' || spec.mode === 'none') return pseudo(spec.mode);
  if (spec.mode === 'container') return {};
  const live = isRunning(c) ? c.state.network ?? null : null;
  const requests = spec.mode === 'bridge' ? [{ network: 'bridge', aliases: [], ipv4: '' }] : spec.endpoints;
  const out: Record<string, ReturnType<typeof endpointJson>> = {};
  const shortId = c.id.slice(0, 12);
  for (const req of requests) {
    const id = ctx.networkId(req.network) ?? '';
    const e = live?.endpoints.find((x) => x.networkId === id || x.networkName === req.network);
    const name = e?.networkName ?? req.network;
    const user = name !== 'bridge';
    out[name] = endpointJson({
      networkId: id,
      ...(req.ipv4 ? { ipamIpv4: req.ipv4 } : {}),
      aliases: user ? [...req.aliases, shortId] : null,
      dnsNames: user && e ? [c.name, shortId, ...req.aliases] : null,
      ...(e ? { e } : {}),
    });
  }
  // Endpoints connected while running that the spec does not list (should not happen, shown anyway).
  for (const e of live?.endpoints ?? []) {
    if (!out[e.networkName]) out[e.networkName] = endpointJson({ networkId: e.networkId, aliases: e.aliases, dnsNames: null, e });
  }
  return out;
}

/** `NetworkSettings.Ports`: published ports of a running container, `null` for exposed-but-unpublished ones. */
export function portsOf(c: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[] | null> {
  if (!isRunning(c)) return {};
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  const mode = networkSpecOf(c.spec).mode;
  if (mode === 'host' || mode === 'container') return out;
  for (const p of c.spec.exposedPorts) out[p.includes('/') ? p : `${p}/tcp`] = null;
  for (const b of c.state.network?.ports ?? []) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}

/** `GET /containers/json` `Ports`: published ones with their host side, exposed ones without. */
export function summaryPorts(c: ContainerRecord): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  for (const [key, list] of Object.entries(portsOf(c))) {
    const [port, type] = key.split('/') as [string, string];
    if (list === null) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of list) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

/** `HostConfig.PortBindings` as asked (`HostPort` '' = ephemeral, `8000-8010` = a range). */
export function portBindingsOf(spec: NetworkSpecV2): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const hostPort = p.hostPortStart === 0 ? '' : p.hostPortEnd !== p.hostPortStart ? `${p.hostPortStart}-${p.hostPortEnd}` : String(p.hostPortStart);
    (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: hostPort });
  }
  return out;
}

/** The top-level (legacy) NetworkSettings fields: Docker fills them from the default bridge endpoint. */
export function legacyBridgeFields(a: NetworkAttachment | null | undefined) {
  const e = a?.endpoints.find((x) => x.networkName === 'bridge');
  return {
    EndpointID: e?.endpointId ?? '',
    Gateway: e?.gateway ?? '',
    IPAddress: e?.ipv4 ?? '',
    IPPrefixLen: e?.prefixLen ?? 0,
    MacAddress: e?.mac ?? '',
  };
}
