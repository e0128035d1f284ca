/**
 * Where a registry is and how to talk to it: Docker Hub's real host, the `library/` prefix, TLS
 * material from `<certsDir>/<host[:port]>/`, and which hosts may be reached over plain HTTP
 * (loopback implicitly, as Docker does, plus the daemon's `--insecure-registry` list).
 */
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';

/** Daemon-wide registry settings. */
export interface RegistryOptions {
  /** Directory with one sub-directory of TLS files per registry (`ca.crt`, `client.cert`, `client.key`). */
  certsDir: string;
  /** Hosts (`host[:port]`) or CIDRs that may be reached over plain HTTP or with unverified TLS. */
  insecureRegistries: string[];
}

export const DEFAULT_CERTS_DIR = '/etc/brig/certs.d';

export interface TlsMaterial {
  /** Extra CA certificates (PEM), added to the system CAs. */
  ca: string[];
  cert?: string;
  key?: string;
}

export interface Endpoint {
  /** The registry's name in references (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** host[:port] actually connected to (`registry-1.docker.io` for Docker Hub). */
  host: string;
  /** May be reached over plain HTTP (loopback, or listed as insecure). */
  allowHttp: boolean;
  /**
   * Verify the registry's TLS certificate. Only hosts listed with `--insecure-registry` skip it;
   * loopback may use plain HTTP but its HTTPS is verified (stricter than Docker, so a certs dir CA
   * on 127.0.0.1 means something).
   */
  verifyTls: boolean;
  tls: TlsMaterial;
}

/** The host to connect to for a reference domain. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}

/**
 * Normalises a registry address as clients write it (`https://index.docker.io/v1/`,
 * `http://127.0.0.1:5000`, `127.0.0.1:5000/`) to a reference domain (`docker.io`, `127.0.0.1:5000`).
 */
export function normalizeRegistryAddress(address: string | undefined): string {
  let a = (address ?? '').trim();
  if (a === '') return DEFAULT_DOMAIN;
  a = a.replace(/^[a-z]+:\/\//i, '');
  a = a.split('/')[0]!;
  const lower = a.toLowerCase();
  if (['index.docker.io', 'registry-1.docker.io', 'docker.io', 'registry.hub.docker.com'].includes(lower)) return DEFAULT_DOMAIN;
  if (!/^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9a-fA-F:]+\](:[0-9]+)?$/.test(a)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid registry address: ${address}`);
  }
  return a;
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const i = hostPort.lastIndexOf(':');
  return i >= 0 && hostPort.indexOf(':') === i ? hostPort.slice(0, i) : hostPort;
}

/** 127.0.0.0/8, ::1 and `localhost`: implicitly insecure, as in Docker. */
export function isLoopback(hostPort: string): boolean {
  const h = hostOnly(hostPort).toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Whether `host` (host[:port]) is listed, by name or by an IPv4 CIDR. */
export function isInsecure(hostPort: string, list: readonly string[]): boolean {
  return isLoopback(hostPort) || isListed(hostPort, list);
}

/** Whether `host` is in an `--insecure-registry` list, by name, host:port or IPv4 CIDR. */
export function isListed(hostPort: string, list: readonly string[]): boolean {
  const h = hostOnly(hostPort);
  for (const entry of list) {
    if (entry === hostPort || entry === h) return true;
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(entry);
    if (m && isIP(h) === 4) {
      const bits = Number(m[2]);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if (((ipv4(h) & mask) >>> 0) === ((ipv4(m[1]!) & mask) >>> 0)) return true;
    }
  }
  return false;
}

function ipv4(s: string): number {
  return s.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/**
 * Reads the TLS files of `host` from `<certsDir>/<host>/`: every `*.crt` is a CA; `<name>.cert`
 * with `<name>.key` is the client certificate. A missing directory means system CAs only; a
 * certificate without its key (or the reverse) is an error, as in Docker.
 */
export async function loadTlsMaterial(certsDir: string, host: string): Promise<TlsMaterial> {
  if (host.includes('/') || host === '..' || host === '.') throw new EngineError('ERR_INVALID_ARGUMENT', `invalid registry host: ${host}`);
  const dir = join(certsDir, host);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return { ca: [] };
    throw err;
  }
  const out: TlsMaterial = { ca: [] };
  for (const name of names) {
    if (name.endsWith('.crt')) out.ca.push(await readFile(join(dir, name), 'utf8'));
  }
  const certs = names.filter((n) => n.endsWith('.cert'));
  const keys = names.filter((n) => n.endsWith('.key'));
  for (const c of certs) {
    const key = `${c.slice(0, -'.cert'.length)}.key`;
    if (!keys.includes(key)) throw new EngineError('ERR_INVALID_ARGUMENT', `missing key ${key} for client certificate ${c} in ${dir}`);
  }
  for (const k of keys) {
    const cert = `${k.slice(0, -'.key'.length)}.cert`;
    if (!certs.includes(cert)) throw new EngineError('ERR_INVALID_ARGUMENT', `missing client certificate ${cert} for key ${k} in ${dir}`);
  }
  if (certs[0]) {
    out.cert = await readFile(join(dir, certs[0]), 'utf8');
    out.key = await readFile(join(dir, `${certs[0].slice(0, -'.cert'.length)}.key`), 'utf8');
  }
  return out;
}

/** Resolves the endpoint of a reference domain. */
export async function resolveEndpoint(domain: string, options: RegistryOptions): Promise<Endpoint> {
  const host = registryHost(domain);
  const listed = isListed(host, options.insecureRegistries);
  return { domain, host, allowHttp: listed || isLoopback(host), verifyTls: !listed, tls: await loadTlsMaterial(options.certsDir, host) };
}
