/**
 * The text of a container's /etc/hosts and /etc/resolv.conf, laid out as Docker writes them.
 *
 * Name resolution on user networks goes to aardvark-dns on each network's gateway. The search list
 * starts with `dns.podman` (the domain aardvark serves), so a short name like `web` is tried as
 * `web.dns.podman` and resolves for every resolver (musl, glibc, busybox), followed by the user's
 * `--dns-search` domains or else the host's. Deviation from Docker: `--dns` servers on a user
 * network are listed after the gateway instead of being the embedded server's upstreams.
 */
import { readFileSync } from 'node:fs';
import { errors } from '../errors.js';
import type { NetworkAttachment, NetworkSpecV2 } from '../model/network.js';
import { tryParseIPv4 } from './ipam.js';

/** The search domain aardvark-dns answers for (netavark 1.4). */
export const DNS_DOMAIN = 'dns.podman';
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/** `/etc/hosts`: Docker's fixed head, the `--add-host` entries, then the container's own addresses. */
export function hostsText(
  c: { hostname: string; domainname: string; extraHosts: readonly string[] },
  a: NetworkAttachment | null,
  hostGateway: string,
): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of c.extraHosts) {
    const { name, ip } = parseExtraHost(entry);
    lines.push(`${ip === 'host-gateway' ? hostGateway || failNoGateway(entry) : ip}\t${name}`);
  }
  const names = c.domainname ? `${c.hostname}.${c.domainname} ${c.hostname}` : c.hostname;
  for (const ep of a?.endpoints ?? []) if (ep.ipv4) lines.push(`${ep.ipv4}\t${names}`);
  return lines.join('\n') + '\n';
}

function failNoGateway(entry: string): never {
  throw errors.invalid(`--add-host ${entry}: host-gateway has no address (the container is on no bridge network)`);
}

/** `name:ip` (the ip may be IPv6 or `host-gateway`); also accepts Docker's newer `name=ip`. */
export function parseExtraHost(entry: string): { name: string; ip: string } {
  const eq = entry.indexOf('=');
  const sep = eq >= 0 ? eq : entry.indexOf(':');
  const name = sep < 0 ? '' : entry.slice(0, sep);
  let ip = sep < 0 ? '' : entry.slice(sep + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!name || !ip || /\s/.test(name) || (ip !== 'host-gateway' && tryParseIPv4(ip) === undefined && !/^[0-9a-fA-F:.]+$/.test(ip))) {
    throw errors.invalid(`invalid argument "${entry}" for "--add-host" flag: expected host:ip`);
  }
  return { name, ip };
}

/** The parts of a resolv.conf brig cares about. */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function isLoopback(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1' || ns === '0:0:0:0:0:0:0:1';
}

/** Reads the host's resolv.conf ('' if it is missing). */
export function readHostResolvConf(path = '/etc/resolv.conf'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * `/etc/resolv.conf` for a container. `dnsServers` are the aardvark addresses (gateways of the
 * DNS-enabled networks it is on), empty on the default bridge and for `none`.
 */
export function resolvText(spec: Pick<NetworkSpecV2, 'dns' | 'dnsSearch' | 'dnsOptions'>, dnsServers: readonly string[], hostResolv: string): string {
  const host = parseResolvConf(hostResolv);
  let nameservers: string[];
  let search: string[];
  if (dnsServers.length > 0) {
    nameservers = [...dnsServers, ...spec.dns];
    search = [DNS_DOMAIN, ...(spec.dnsSearch.length > 0 ? spec.dnsSearch : host.search)];
  } else {
    nameservers = spec.dns.length > 0 ? [...spec.dns] : host.nameservers.filter((n) => !isLoopback(n));
    if (nameservers.length === 0) nameservers = [...FALLBACK_NAMESERVERS];
    search = spec.dnsSearch.length > 0 ? [...spec.dnsSearch] : host.search;
  }
  search = search.filter((s) => s !== '.');
  const options = spec.dnsOptions.length > 0 ? spec.dnsOptions : host.options;
  const lines: string[] = [];
  if (search.length > 0) lines.push(`search ${[...new Set(search)].join(' ')}`);
  for (const ns of [...new Set(nameservers)]) lines.push(`nameserver ${ns}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}
