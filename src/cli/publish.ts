/**
 * `-p/--publish` and `--expose` as the docker CLI reads them (go-connections `nat.ParsePortSpecs`
 * and the expose loop of docker/cli `opts.go`), into the create body's `ExposedPorts` and
 * `HostConfig.PortBindings`; and the address checks of `--dns` and `--add-host`.
 */
import { isIP } from 'node:net';

export interface PortSpecs {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, { HostIp: string; HostPort: string }[]>;
}

/** `N` or `N-M` (nat.ParsePortRange). */
function portRange(s: string): [number, number] {
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(s);
  if (!m) throw new Error(`invalid port: ${s}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a) throw new Error(`invalid port range: ${s}`);
  return [a, b];
}

/** `80/udp` → ['udp', '80']; `80` → ['tcp', '80'] (nat.SplitProtoPort). */
function splitProtoPort(s: string): [string, string] {
  const slash = s.indexOf('/');
  if (slash === -1) return ['tcp', s];
  return [s.slice(slash + 1) || 'tcp', s.slice(0, slash)];
}

/** `[ip:][hostPort:]containerPort[/proto]` → bindings; throws docker's messages. */
export function parsePortSpecs(publish: readonly string[], expose: readonly string[]): PortSpecs {
  const out: PortSpecs = { exposed: {}, bindings: {} };
  for (const raw of publish) {
    const parts = raw.split(':');
    const n = parts.length;
    const containerPart = parts[n - 1]!;
    const hostPort = n >= 2 ? parts[n - 2]! : '';
    let ip = n === 3 ? parts[0]! : n > 3 ? parts.slice(0, n - 2).join(':') : '';
    const [proto, containerPort] = splitProtoPort(containerPart);
    if (ip !== '') {
      const bare = ip.replace(/^\[|\]$/g, '');
      if (isIP(bare) === 0) throw new Error(`invalid IP address: ${ip}`);
      ip = bare;
    }
    if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
    let c: [number, number];
    try {
      c = portRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
    let h: [number, number] = [0, 0];
    if (hostPort !== '') {
      try {
        h = portRange(hostPort);
      } catch {
        throw new Error(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== '' && c[1] - c[0] !== h[1] - h[0] && c[1] !== c[0]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
    const p = proto.toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= c[1] - c[0]; i++) {
      let hp = hostPort === '' ? '' : String(h[0] + i);
      if (c[0] === c[1] && h[0] !== h[1]) hp = `${hp}-${h[1]}`;
      const key = `${c[0] + i}/${p}`;
      out.exposed[key] = {};
      (out.bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let r: [number, number];
    try {
      r = portRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = r[0]; i <= r[1]; i++) out.exposed[`${i}/${proto.toLowerCase()}`] ??= {};
  }
  return out;
}

/** docker's `ValidateIPAddress` (for `--dns`): the address, normalised. */
export function validateIpAddress(v: string): string {
  const s = v.trim();
  if (isIP(s) === 0) throw new Error(`IP address is not correctly formatted: ${v}`);
  return s;
}

/** docker's `ValidateExtraHost`: `name:ip` or `name=ip`, ip an address or `host-gateway`; kept as given. */
export function validateExtraHost(v: string): string {
  const sep = v.includes('=') ? v.indexOf('=') : v.indexOf(':');
  const name = sep === -1 ? '' : v.slice(0, sep);
  const ip = sep === -1 ? '' : v.slice(sep + 1).replace(/^\[|\]$/g, '');
  if (name === '' || ip === '') throw new Error(`bad format for add-host: "${v}"`);
  if (ip !== 'host-gateway' && isIP(ip) === 0) throw new Error(`invalid IP address in add-host: "${ip}"`);
  return v;
}
