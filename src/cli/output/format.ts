/**
 * Value formatting exactly as the docker CLI prints it (go-units durations and sizes, Go's `%g`,
 * `strconv.Quote`, the formatter's ellipsis and port list), so `brig` output can be diffed against
 * `docker` output.
 */
import type { Port } from '../../client/types.js';
import { humanDuration } from '../../util/time.js';

export { humanDuration };

/** "`<duration>` ago" for a Unix time in seconds, as in the CREATED columns. */
export function timeAgo(unixSeconds: number, nowMs: number): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

/** Go's `fmt.Sprintf("%.<precision>g", x)` for finite non-negative numbers. */
export function goFormatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const [mantissa, expText] = x.toExponential(precision - 1).split('e') as [string, string];
  const exp = Number(expText);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= precision) {
    const e = Math.abs(exp);
    return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return trim(x.toFixed(Math.max(0, precision - 1 - exp)));
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function customSize(size: number, precision: number, base: number, units: string[]): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${goFormatG(size, precision)}${units[i]}`;
}

/** go-units `HumanSizeWithPrecision` (decimal units): `docker images` uses precision 3 → `4.26MB`. */
export function humanSize(bytes: number, precision = 3): string {
  return customSize(bytes, precision, 1000, DECIMAL_UNITS);
}

/** go-units `BytesSize` (binary units, precision 4) → `7.631GiB`, as `docker info` prints memory. */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 4, 1024, BINARY_UNITS);
}

/** The docker formatter's `Ellipsis`: cut to `max` characters, the last one being `…`. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (max <= 0) return '';
  if (chars.length <= max) return s;
  if (max === 1) return chars[0]!;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Go's `strconv.Quote` for the COMMAND column. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** An image ID or reference as the tables show it: `sha256:<hex>` shortened to 12 hex digits. */
export function shortImageId(id: string): string {
  return id.startsWith('sha256:') ? id.slice('sha256:'.length, 'sha256:'.length + 12) : id;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  const ipA = a.IP ?? '';
  const ipB = b.IP ?? '';
  if (ipA !== ipB) return ipA < ipB ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

/**
 * The PORTS column, as the docker CLI's `DisplayablePorts` builds it: ports published on the same
 * number (or not published) are merged into ranges per IP and protocol (`0.0.0.0:8000-8001->8000-8001/tcp`,
 * `80/tcp`); other mappings follow one by one (`0.0.0.0:18081->80/tcp, [::]:18081->80/tcp`).
 */
export function displayPorts(ports: readonly Port[] | null | undefined): string {
  if (!ports || ports.length === 0) return '';
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const form = (g: { ip: string; type: string; first: number; last: number }) => {
    const span = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return g.ip === '' ? `${span}/${g.type}` : `${joinHostPort(g.ip, span)}->${span}/${g.type}`;
  };
  for (const p of [...ports].sort(comparePorts)) {
    const ip = p.IP ?? '';
    if (ip !== '' && (p.PublicPort ?? 0) !== p.PrivatePort) {
      hostMappings.push(`${joinHostPort(ip, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
      continue;
    }
    const key = `${ip}/${p.Type}`;
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { ip, type: p.Type, first: p.PrivatePort, last: p.PrivatePort });
    } else if (p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
    } else {
      result.push(form(g));
      g.first = g.last = p.PrivatePort;
    }
  }
  for (const g of groups.values()) result.push(form(g));
  return [...result, ...hostMappings].join(', ');
}
