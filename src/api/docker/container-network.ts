/**
 * The network part of a `POST /containers/create` body → `NetworkSpec` (model/network.ts):
 * HostConfig.NetworkMode, NetworkingConfig.EndpointsConfig, PortBindings, PublishAllPorts, Dns*,
 * ExtraHosts, Links (refused) and the MAC address. Validated here, at the edge; that the named
 * networks and containers exist is checked by the engine at create.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { EngineError } from '../../errors.js';
import type { EndpointRequest, NetworkSpecV2, PortRequest } from '../../model/network.js';
import { parseExtraHost } from '../../network/etc-files.js';
import { parsePortBinding } from '../../network/ports.js';
import { isUnset, object, optObject, optString, optStringArray, type Json } from './validate.js';

const invalid = (message: string) => new EngineError('ERR_INVALID_ARGUMENT', message);

/** The message for `--link` / HostConfig.Links: brig implements user-defined networks instead. */
export const LINKS_REFUSED =
  'links (--link, HostConfig.Links) are not supported by brig: create a user-defined network (docker network create NET) and ' +
  'run both containers with --network NET; they then reach each other by container name and --network-alias';

/**
 * Parses the network fields of a create body. `exposedPorts` are the body's own ExposedPorts
 * (image EXPOSE is merged later, at create).
 */
export function parseNetworkSpec(cfg: Json, host: Json, exposedPorts: string[], warnings: string[]): NetworkSpecV2 {
  const links = optStringArray(host, 'Links', 'HostConfig.Links') ?? [];
  if (links.length > 0) throw invalid(LINKS_REFUSED);

  const raw = optString(host, 'NetworkMode', 'HostConfig.NetworkMode', 'default');
  const modeName = raw === '' ? 'default' : raw;
  const netCfg = optObject(cfg, 'NetworkingConfig', 'NetworkingConfig');
  const endpointsCfg = netCfg ? optObject(netCfg, 'EndpointsConfig', 'NetworkingConfig.EndpointsConfig') ?? {} : {};
  const macAddress = parseMac(optString(cfg, 'MacAddress', 'MacAddress'));

  const spec: NetworkSpecV2 = {
    mode: 'bridge',
    modeName,
    endpoints: [],
    ports: parsePortBindings(host),
    publishAll: host['PublishAllPorts'] === true,
    dns: parseDns(optStringArray(host, 'Dns', 'HostConfig.Dns') ?? []),
    dnsSearch: optStringArray(host, 'DnsSearch', 'HostConfig.DnsSearch') ?? [],
    dnsOptions: optStringArray(host, 'DnsOptions', 'HostConfig.DnsOptions') ?? [],
    extraHosts: parseExtraHosts(optStringArray(host, 'ExtraHosts', 'HostConfig.ExtraHosts') ?? []),
    macAddress,
  };
  if (host['PublishAllPorts'] !== undefined && host['PublishAllPorts'] !== null && typeof host['PublishAllPorts'] !== 'boolean') {
    throw invalid('invalid value for HostConfig.PublishAllPorts: expected a boolean');
  }
  for (const s of spec.dnsSearch) if (!/^[a-zA-Z0-9.\-_]{1,253}$/.test(s) && s !== '.') throw invalid(`invalid --dns-search: ${s}`);
  for (const o of spec.dnsOptions) if (!/^[a-zA-Z0-9_\-:.]{1,64}$/.test(o)) throw invalid(`invalid --dns-option: ${o}`);

  const endpoint = (name: string): EndpointRequest => {
    const e = endpointsCfg[name] === undefined || endpointsCfg[name] === null ? {} : object(endpointsCfg[name], `NetworkingConfig.EndpointsConfig.${name}`);
    const field = `NetworkingConfig.EndpointsConfig.${name}`;
    const ipam = optObject(e, 'IPAMConfig', `${field}.IPAMConfig`) ?? {};
    const ipv4 = optString(ipam, 'IPv4Address', `${field}.IPAMConfig.IPv4Address`);
    if (ipv4 !== '' && !isIPv4(ipv4)) throw invalid(`invalid IPv4 address: ${ipv4}`);
    if (optString(ipam, 'IPv6Address', `${field}.IPAMConfig.IPv6Address`) !== '') {
      throw new EngineError('ERR_NOT_IMPLEMENTED', 'IPv6 addresses (--ip6) are not supported by brig yet');
    }
    if ((optStringArray(ipam, 'LinkLocalIPs', `${field}.IPAMConfig.LinkLocalIPs`) ?? []).length > 0) {
      throw new EngineError('ERR_NOT_IMPLEMENTED', 'link-local addresses (--link-local-ip) are not supported by brig yet');
    }
    if ((optStringArray(e, 'Links', `${field}.Links`) ?? []).length > 0) throw invalid(LINKS_REFUSED);
    if (!isUnset(e['DriverOpts'])) throw new EngineError('ERR_NOT_IMPLEMENTED', `endpoint driver options (${field}.DriverOpts) are not supported by brig yet`);
    const mac = parseMac(optString(e, 'MacAddress', `${field}.MacAddress`));
    if (mac !== '') spec.macAddress = mac;
    const aliases = optStringArray(e, 'Aliases', `${field}.Aliases`) ?? [];
    for (const a of aliases) if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/.test(a)) throw invalid(`invalid network alias: ${a}`);
    return { network: name, aliases: [...new Set(aliases)], ipv4 };
  };

  // `default` is what the docker CLI keys its endpoint config by without --network: nothing asked.
  const others = Object.keys(endpointsCfg).filter((k) => k !== modeName && k !== 'default');
  if (modeName === 'default' || modeName === 'bridge') {
    spec.mode = 'bridge';
    const e = endpoint(modeName);
    if (e.ipv4 !== '') throw invalid('user specified IP address is supported on user defined networks only');
    if (e.aliases.length > 0) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (others.some((k) => k !== 'default' && k !== 'bridge')) {
      throw invalid('Container cannot be connected to network endpoints: the default bridge and a user-defined network (connect it after create with docker network connect)');
    }
  } else if (modeName === 'none' || modeName === 'host') {
    spec.mode = modeName;
    if (others.length > 0) throw invalid(`container sharing network namespace with another container or host cannot be connected to any other network`);
    if (modeName === 'host' && (spec.ports.length > 0 || spec.publishAll)) {
      warnings.push('Published ports are discarded when using host network mode');
      spec.ports = [];
      spec.publishAll = false;
    }
    if (modeName === 'none' && (spec.ports.length > 0 || spec.publishAll)) {
      throw invalid('conflicting options: port publishing and the none network mode (a container without a network cannot publish ports)');
    }
    if (spec.macAddress !== '') throw invalid(`conflicting options: mac-address and the network mode`);
  } else if (modeName.startsWith('container:')) {
    spec.mode = 'container';
    const ref = modeName.slice('container:'.length);
    if (ref === '') throw invalid('Invalid network mode: invalid container format container:<name|id>');
    spec.container = ref;
    if (others.length > 0) throw invalid('container sharing network namespace with another container or host cannot be connected to any other network');
    if (spec.ports.length > 0 || spec.publishAll) throw invalid('conflicting options: port publishing and the container type network mode');
    if (exposedPorts.length > 0) throw invalid('conflicting options: port exposing and the container type network mode');
    if (spec.dns.length > 0 || spec.dnsSearch.length > 0 || spec.dnsOptions.length > 0) throw invalid('conflicting options: dns and the network mode');
    if (spec.extraHosts.length > 0) throw invalid('conflicting options: custom host-to-IP mapping and the network mode');
    if (spec.macAddress !== '') throw invalid('conflicting options: mac-address and the network mode');
    if (optString(cfg, 'Hostname', 'Hostname') !== '') throw invalid('conflicting options: hostname and the network mode');
  } else {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(modeName)) throw invalid(`invalid network mode: ${modeName}`);
    spec.mode = 'user';
    spec.endpoints = [endpoint(modeName), ...others.map(endpoint)];
  }
  return spec;
}

/** `HostConfig.PortBindings` (`{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`) → port requests. */
export function parsePortBindings(host: Json): PortRequest[] {
  const bindings = optObject(host, 'PortBindings', 'HostConfig.PortBindings') ?? {};
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const entries = list === null ? [] : list;
    if (!Array.isArray(entries)) throw invalid(`invalid value for HostConfig.PortBindings.${key}: expected an array`);
    // `-p 80` sends [{HostIp:"", HostPort:""}]; an empty list still publishes the port (Docker).
    for (const [i, b] of (entries.length === 0 ? [{}] : entries).entries()) {
      const field = `HostConfig.PortBindings.${key}[${i}]`;
      const o = object(b, field);
      let hostIp = optString(o, 'HostIp', `${field}.HostIp`);
      if (hostIp.startsWith('[') && hostIp.endsWith(']')) hostIp = hostIp.slice(1, -1);
      out.push(parsePortBinding(key, hostIp, optString(o, 'HostPort', `${field}.HostPort`)));
    }
  }
  return out;
}

/** An `ExposedPorts` key (`80/tcp`, `53/udp`, `80`), checked. */
export function checkExposedPort(key: string): void {
  parsePortBinding(key, '', '');
}

function parseDns(list: string[]): string[] {
  for (const d of list) if (!isIPv4(d) && !isIPv6(d)) throw invalid(`${d} is not an ip address`);
  return list;
}

/** `name:ip` (or `name=ip`, newer CLIs); ip may be `host-gateway`. Normalised to `name:ip`. */
function parseExtraHosts(list: string[]): string[] {
  return list.map((entry) => {
    const { name, ip } = parseExtraHost(entry);
    return `${name}:${ip}`;
  });
}

function parseMac(mac: string): string {
  if (mac === '') return '';
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw invalid(`invalid MAC address: ${mac}`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw invalid(`invalid MAC address: ${mac} is a multicast address`);
  return mac.toLowerCase();
}
