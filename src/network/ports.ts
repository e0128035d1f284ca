/**
 * Published ports: parsing `-p`/PortBindings into PortRequests, and reserving host ports by binding
 * and holding a socket for the container's life (Docker's behaviour with the userland proxy off:
 * another process cannot take the port, and a conflict is a clear error at start). netavark's
 * DNAT carries the traffic; the held sockets never see a connection in practice, and any they get
 * is closed at once.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { EngineError, errors } from '../errors.js';
import type { PortBinding, PortRequest } from '../model/network.js';
import { tryParseIPv4 } from './ipam.js';

function parsePort(s: string, what: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(s)) throw errors.invalid(`invalid ${what}: ${JSON.stringify(s)}`);
  const n = Number(s);
  if (n > 65535 || (n === 0 && !allowZero)) throw errors.invalid(`invalid ${what}: ${s} is not between ${allowZero ? 0 : 1} and 65535`);
  return n;
}

/** `N` or `N-M` → [N, M]. */
function parseRange(s: string, what: string, allowZero: boolean): [number, number] {
  const dash = s.indexOf('-');
  if (dash < 0) {
    const n = parsePort(s, what, allowZero);
    return [n, n];
  }
  const a = parsePort(s.slice(0, dash), what, false);
  const b = parsePort(s.slice(dash + 1), what, false);
  if (b < a) throw errors.invalid(`invalid ${what}: ${s} (end before start)`);
  return [a, b];
}

function parseProto(s: string): 'tcp' | 'udp' {
  const p = s.toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (p === 'sctp') throw errors.notImplemented('publishing sctp ports');
  throw errors.invalid(`invalid protocol ${JSON.stringify(s)} (tcp or udp)`);
}

function checkHostIp(ip: string): string {
  if (ip === '') return '';
  if (tryParseIPv4(ip) === undefined) {
    if (ip.includes(':')) throw errors.notImplemented(`publishing on IPv6 address ${ip}`);
    throw errors.invalid(`invalid host IP ${JSON.stringify(ip)}`);
  }
  return ip;
}

/**
 * One entry of the Engine API's `HostConfig.PortBindings`: key `80/tcp` (a single container
 * port, as the docker CLI sends them) with `HostIp` and `HostPort` (`''`/`0` = ephemeral,
 * `8000-8010` = one free port of the range).
 */
export function parsePortBinding(key: string, hostIp: string, hostPort: string): PortRequest {
  const slash = key.indexOf('/');
  const protocol = slash < 0 ? 'tcp' : parseProto(key.slice(slash + 1));
  const containerPort = parsePort(slash < 0 ? key : key.slice(0, slash), 'container port', false);
  const [hostPortStart, hostPortEnd] = hostPort === '' ? [0, 0] : parseRange(hostPort, 'host port', true);
  return { hostIp: checkHostIp(hostIp), hostPortStart, hostPortEnd, containerPort, protocol };
}

/**
 * A whole `-p [ip:][hostPort[-end]:]containerPort[-end][/proto]` flag. A container port range maps
 * pairwise onto a host range of the same length (`8000-8001:80-81`); a host range with a single
 * container port (`8000-8010:80`) means one free port of the range.
 */
export function parsePublishSpec(spec: string): PortRequest[] {
  let rest = spec;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = parseProto(rest.slice(slash + 1));
    rest = rest.slice(0, slash);
  }
  const parts = rest.startsWith('[') ? [] : rest.split(':');
  if (parts.length === 0 || parts.length > 3) throw errors.invalid(`invalid port specification: ${JSON.stringify(spec)}`);
  const containerPart = parts.pop()!;
  const hostPart = parts.pop() ?? '';
  const hostIp = checkHostIp(parts.pop() ?? '');
  const [cStart, cEnd] = parseRange(containerPart, 'container port', false);
  const [hStart, hEnd] = hostPart === '' ? [0, 0] : parseRange(hostPart, 'host port', true);
  if (cStart === cEnd) return [{ hostIp, hostPortStart: hStart, hostPortEnd: hEnd, containerPort: cStart, protocol }];
  const count = cEnd - cStart + 1;
  if (hStart !== 0 && hEnd - hStart + 1 !== count) {
    throw errors.invalid(`invalid port specification: ${JSON.stringify(spec)} (host and container port ranges differ in size)`);
  }
  return Array.from({ length: count }, (_, i) => {
    const h = hStart === 0 ? 0 : hStart + i;
    return { hostIp, hostPortStart: h, hostPortEnd: h, containerPort: cStart + i, protocol };
  });
}

/**
 * The requests of a container: its explicit ones, plus with `-P` every exposed port (`80/tcp`)
 * that has no explicit binding, on an ephemeral host port.
 */
export function withPublishAll(requests: readonly PortRequest[], publishAll: boolean, exposedPorts: readonly string[]): PortRequest[] {
  const out = [...requests];
  if (!publishAll) return out;
  for (const key of exposedPorts) {
    const r = parsePortBinding(key, '', '');
    if (!out.some((o) => o.containerPort === r.containerPort && o.protocol === r.protocol)) out.push(r);
  }
  return out;
}

/** A held host port. */
interface Held {
  binding: PortBinding;
  close(): Promise<void>;
}

function bindOnce(protocol: 'tcp' | 'udp', host: string, port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    if (protocol === 'tcp') {
      const server = net.createServer((s) => s.destroy());
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.removeListener('error', reject);
        server.on('error', () => undefined);
        server.unref();
        const actual = (server.address() as net.AddressInfo).port;
        resolve({
          binding: { hostIp: host, hostPort: actual, containerPort: 0, protocol },
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    } else {
      const sock = dgram.createSocket({ type: 'udp4' });
      sock.once('error', reject);
      sock.bind({ address: host, port, exclusive: true }, () => {
        sock.removeListener('error', reject);
        sock.on('error', () => undefined);
        sock.unref();
        resolve({
          binding: { hostIp: host, hostPort: sock.address().port, containerPort: 0, protocol },
          close: () => new Promise<void>((done) => sock.close(() => done())),
        });
      });
    }
  });
}

function allocatedError(host: string, range: string, cause: unknown): EngineError {
  return new EngineError('ERR_PORT_ALLOCATED', `Bind for ${host}:${range} failed: port is already allocated`, { cause });
}

/**
 * Host port reservations per container. `reserve` is all or nothing; `release` is idempotent.
 */
export class PortReservations {
  readonly #held = new Map<string, Held[]>();
  readonly #defaultHostIp: string;

  constructor(defaultHostIp: string) {
    this.#defaultHostIp = defaultHostIp;
  }

  /** Binds every request (an empty host IP means the daemon's default); the actual ports come back. */
  async reserve(containerId: string, requests: readonly PortRequest[]): Promise<PortBinding[]> {
    const made: Held[] = [];
    try {
      for (const r of requests) made.push(await this.#reserveOne(r));
    } catch (err) {
      await Promise.all(made.map((h) => h.close()));
      throw err;
    }
    this.#held.set(containerId, [...(this.#held.get(containerId) ?? []), ...made]);
    return made.map((h) => h.binding);
  }

  /** Holds again ports already chosen (daemon restart with running containers). */
  async restore(containerId: string, bindings: readonly PortBinding[]): Promise<void> {
    await this.reserve(containerId, bindings.map((b) => ({
      hostIp: b.hostIp, hostPortStart: b.hostPort, hostPortEnd: b.hostPort, containerPort: b.containerPort, protocol: b.protocol,
    })));
  }

  async release(containerId: string): Promise<void> {
    const held = this.#held.get(containerId);
    this.#held.delete(containerId);
    if (held) await Promise.all(held.map((h) => h.close()));
  }

  async #reserveOne(r: PortRequest): Promise<Held> {
    const host = r.hostIp || this.#defaultHostIp;
    const ports = r.hostPortStart === 0 ? [0] : Array.from({ length: r.hostPortEnd - r.hostPortStart + 1 }, (_, i) => r.hostPortStart + i);
    let last: unknown;
    for (const port of ports) {
      try {
        const h = await bindOnce(r.protocol, host, port);
        h.binding.containerPort = r.containerPort;
        return h;
      } catch (err) {
        last = err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRNOTAVAIL') throw errors.invalid(`cannot publish on ${host}: no such address on this host`, err);
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw errors.internal(`binding ${host}:${port}/${r.protocol}: ${(err as Error).message}`, err);
      }
    }
    const range = r.hostPortStart === r.hostPortEnd ? String(r.hostPortStart) : `${r.hostPortStart}-${r.hostPortEnd}`;
    throw allocatedError(host, range, last);
  }
}
