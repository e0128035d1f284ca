/**
 * IPv4 address management: CIDR parsing, overlap checks, subnet pools and address choice.
 * Pure functions; the allocations themselves are rows of the metadata store (see service).
 */
import { readFileSync } from 'node:fs';
import { EngineError, errors } from '../errors.js';
import type { AddressPool } from './service.js';

/** A parsed IPv4 CIDR; addresses are unsigned 32-bit numbers. */
export interface Cidr {
  /** Network address (host bits cleared). */
  network: number;
  prefix: number;
  /** Last address of the block. */
  last: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted IPv4 address; undefined if it is not one. */
export function tryParseIPv4(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined; // no octal-looking octets
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function parseIPv4(s: string, what = 'IP address'): number {
  const n = tryParseIPv4(s);
  if (n === undefined) throw errors.invalid(`invalid ${what}: ${JSON.stringify(s)} is not an IPv4 address`);
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `a.b.c.d/n`; host bits are cleared (`10.1.2.3/24` → 10.1.2.0/24, as Docker does). */
export function parseCidr(s: string, what = 'subnet'): Cidr {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? undefined : tryParseIPv4(s.slice(0, slash));
  const p = slash < 0 ? '' : s.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) {
    if (s.includes(':')) throw new EngineError('ERR_NOT_IMPLEMENTED', `invalid ${what} ${s}: IPv6 networks are not supported by brig yet`);
    throw errors.invalid(`invalid ${what}: ${JSON.stringify(s)} is not an IPv4 CIDR (like 10.1.0.0/16)`);
  }
  const prefix = Number(p);
  const network = (addr & mask(prefix)) >>> 0;
  return { network, prefix, last: (network | ~mask(prefix)) >>> 0 };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.network)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.network && ip <= c.last;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= b.last && b.network <= a.last;
}

/** `inner` lies entirely inside `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.network >= outer.network && inner.last <= outer.last;
}

/** The addressing of one network, validated: what `network create --subnet --gateway --ip-range` gives. */
export interface Addressing {
  subnet: string;
  gateway: string;
  ipRange: string;
}

/**
 * Validates a subnet with optional gateway and ip-range: the gateway defaults to the first address
 * and must be a usable host address inside the subnet; the range must lie inside the subnet.
 */
export function validateAddressing(subnet: string, gateway = '', ipRange = ''): Addressing {
  const s = parseCidr(subnet);
  if (s.prefix > 30) throw errors.invalid(`invalid subnet ${subnet}: a /${s.prefix} has no room for a gateway and containers (use /30 or larger)`);
  let gw = s.network + 1;
  if (gateway !== '') {
    gw = parseIPv4(gateway, 'gateway');
    if (!contains(s, gw)) throw errors.invalid(`invalid gateway ${gateway}: it is not inside subnet ${formatCidr(s)}`);
    if (gw === s.network || gw === s.last) throw errors.invalid(`invalid gateway ${gateway}: it is the network or broadcast address of ${formatCidr(s)}`);
  }
  let range = '';
  if (ipRange !== '') {
    const r = parseCidr(ipRange, 'ip-range');
    if (!within(r, s)) throw errors.invalid(`invalid ip-range ${ipRange}: it is not inside subnet ${formatCidr(s)}`);
    range = formatCidr(r);
  }
  return { subnet: formatCidr(s), gateway: formatIPv4(gw), ipRange: range };
}

/**
 * The lowest free address for a container: inside `ipRange` (or the whole subnet), never the
 * network or broadcast address or the gateway, and not in `taken`. 409-class error when full.
 */
export function pickAddress(a: Addressing, taken: ReadonlySet<string>, networkName: string): string {
  const s = parseCidr(a.subnet);
  const r = a.ipRange ? parseCidr(a.ipRange) : s;
  const gw = parseIPv4(a.gateway);
  for (let ip = Math.max(r.network, s.network + 1); ip <= Math.min(r.last, s.last - 1); ip++) {
    if (ip === gw) continue;
    const text = formatIPv4(ip);
    if (!taken.has(text)) return text;
  }
  throw errors.conflict(`no available IPv4 addresses on network ${networkName} (${a.ipRange || a.subnet})`);
}

/** Checks a requested `--ip`: a usable address inside the range (or subnet) and not taken. */
export function checkRequestedAddress(a: Addressing, ip: string, taken: ReadonlySet<string>, networkName: string): string {
  const n = parseIPv4(ip);
  const s = parseCidr(a.subnet);
  const r = a.ipRange ? parseCidr(a.ipRange) : s;
  if (!contains(r, n)) throw errors.invalid(`no configured subnet or ip-range contain the IP address ${ip} (network ${networkName}: ${a.ipRange || a.subnet})`);
  if (n === s.network || n === s.last) throw errors.invalid(`invalid IP address ${ip}: it is the network or broadcast address of ${a.subnet}`);
  if (ip === a.gateway || taken.has(ip)) throw errors.conflict(`Address already in use: ${ip} on network ${networkName}`);
  return formatIPv4(n);
}

/** Parses `base=CIDR,size=N` (the `--default-address-pool` daemon option). */
export function parseAddressPool(s: string): AddressPool {
  const fields = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw errors.invalid(`invalid address pool ${JSON.stringify(s)}: expected base=CIDR,size=N`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const base = fields.get('base');
  const size = Number(fields.get('size'));
  if (!base || !Number.isInteger(size)) throw errors.invalid(`invalid address pool ${JSON.stringify(s)}: expected base=CIDR,size=N`);
  const c = parseCidr(base, 'address pool base');
  if (size < c.prefix || size > 30) throw errors.invalid(`invalid address pool ${JSON.stringify(s)}: size must be between ${c.prefix} and 30`);
  return { base: formatCidr(c), size };
}

/**
 * brig's default pools: Docker's private ranges minus 172.17.0.0/16 (docker0's, so brig and a
 * Docker daemon on one host do not collide): /16 blocks of 172.18–31, then /20 blocks of 192.168.
 */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/13', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/**
 * The first block of the pools overlapping none of `avoid` (host routes and existing networks).
 * Undefined when every block is used.
 */
export function pickSubnet(pools: readonly AddressPool[], avoid: readonly Cidr[]): string | undefined {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    const step = 2 ** (32 - pool.size);
    for (let n = base.network; n <= base.last; n += step) {
      const block: Cidr = { network: n, prefix: pool.size, last: n + step - 1 };
      const clash = avoid.find((a) => overlaps(a, block));
      // Skip straight past a large clashing route instead of walking it block by block.
      if (clash) {
        if (clash.last > block.last) n = clash.last + 1 - step;
        continue;
      }
      return formatCidr(block);
    }
  }
  return undefined;
}

/** IPv4 routes of the host's main table (`/proc/net/route`), except default routes. */
export function hostRoutes(procNetRoute = '/proc/net/route'): Cidr[] {
  const out: Cidr[] = [];
  const lines = readFileSync(procNetRoute, 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1]!);
    const m = leHex(f[7]!);
    if (m === 0) continue;
    const prefix = popcount(m);
    out.push({ network: (dest & mask(prefix)) >>> 0, prefix, last: (dest | ~mask(prefix)) >>> 0 });
  }
  return out;
}

/** /proc/net/route prints addresses as host-order (little-endian here) hex. */
function leHex(h: string): number {
  const v = parseInt(h, 16);
  return (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) | (v >>> 24)) >>> 0;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}
