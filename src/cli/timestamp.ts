/**
 * Times on the command line and in output, the way the docker CLI handles them:
 * `--since`/`--until` values (Go durations, RFC 3339 forms, Unix seconds) become the query value
 * docker sends (moby's `GetTimestamp`), and event times / `CreatedAt` print in Go's layouts.
 */
import { parseGoDuration } from '../util/go-duration.js';

interface Layout {
  name: string;
  re: RegExp;
  zone: boolean;
}

const D = '(\\d{4})-(\\d{2})-(\\d{2})';
const Z = '(Z|[+-]\\d{2}:\\d{2})';
const LAYOUTS: Record<string, Layout> = {
  rfc3339NanoLocal: { name: '2006-01-02T15:04:05.999999999', re: new RegExp(`^${D}T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?$`), zone: false },
  rfc3339Nano: { name: '2006-01-02T15:04:05.999999999Z07:00', re: new RegExp(`^${D}T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?${Z}$`), zone: true },
  hourLocal: { name: '2006-01-02T15', re: new RegExp(`^${D}T(\\d{2})()()()$`), zone: false },
  minuteLocal: { name: '2006-01-02T15:04', re: new RegExp(`^${D}T(\\d{2}):(\\d{2})()()$`), zone: false },
  rfc3339Local: { name: '2006-01-02T15:04:05', re: new RegExp(`^${D}T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?$`), zone: false },
  hourZone: { name: '2006-01-02T15Z07:00', re: new RegExp(`^${D}T(\\d{2})()()()${Z}$`), zone: true },
  minuteZone: { name: '2006-01-02T15:04Z07:00', re: new RegExp(`^${D}T(\\d{2}):(\\d{2})()()${Z}$`), zone: true },
  rfc3339: { name: '2006-01-02T15:04:05Z07:00', re: new RegExp(`^${D}T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?${Z}$`), zone: true },
  dateLocal: { name: '2006-01-02', re: new RegExp(`^${D}()()()()$`), zone: false },
  dateZone: { name: '2006-01-02Z07:00', re: new RegExp(`^${D}()()()()${Z}$`), zone: true },
};

/** The layout moby's `GetTimestamp` picks for a value that is not a duration. */
function pickLayout(value: string): Layout {
  const inLocation = !/[zZ+]/.test(value) && (value.match(/-/g) ?? []).length !== 3;
  if (value.includes('.')) return inLocation ? LAYOUTS['rfc3339NanoLocal']! : LAYOUTS['rfc3339Nano']!;
  if (value.includes('T')) {
    let colons = (value.match(/:/g) ?? []).length;
    if (!inLocation && !/[zZ]/.test(value) && colons > 0) colons--;
    if (inLocation) return colons === 0 ? LAYOUTS['hourLocal']! : colons === 1 ? LAYOUTS['minuteLocal']! : LAYOUTS['rfc3339Local']!;
    return colons === 0 ? LAYOUTS['hourZone']! : colons === 1 ? LAYOUTS['minuteZone']! : LAYOUTS['rfc3339']!;
  }
  return inLocation ? LAYOUTS['dateLocal']! : LAYOUTS['dateZone']!;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses `value` in `layout`; the result is Unix nanoseconds. `localOffsetMin` is east of UTC. */
function parseLayout(value: string, layout: Layout, localOffsetMin: number): bigint {
  const m = layout.re.exec(value);
  if (!m) throw new Error(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout.name)}: cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout.name)}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const n = (x: string | undefined) => (x === undefined || x === '' ? 0 : Number(x));
  const range = (what: string) => new Error(`parsing time ${JSON.stringify(value)}: ${what} out of range`);
  const year = n(y);
  const month = n(mo);
  const day = n(d);
  if (month < 1 || month > 12) throw range('month');
  if (day < 1 || day > daysIn(year, month)) throw range('day');
  if (n(h) > 23) throw range('hour');
  if (n(mi) > 59) throw range('minute');
  if (n(s) > 59) throw range('second');
  let offsetMin = localOffsetMin;
  if (layout.zone) {
    if (zone === 'Z') offsetMin = 0;
    else {
      const sign = zone!.startsWith('-') ? -1 : 1;
      const zh = Number(zone!.slice(1, 3));
      const zm = Number(zone!.slice(4, 6));
      if (zh > 24) throw range('time zone offset hour');
      if (zm > 59) throw range('time zone offset minute');
      offsetMin = sign * (zh * 60 + zm);
    }
  }
  const ms = Date.UTC(year, month - 1, day, n(h), n(mi), n(s)) - offsetMin * 60_000;
  const fracNs = frac ? BigInt(frac.slice(0, 9).padEnd(9, '0')) : 0n;
  return BigInt(ms) * 1_000_000n + fracNs;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * moby's `GetTimestamp`: a Go duration (not "0") → Unix seconds of now minus it; an RFC 3339-like
 * time → `seconds.nanoseconds`; Unix seconds (with optional fraction) pass through. Times without a
 * zone are in the local zone at `nowMs`. Throws Error with moby's message otherwise.
 */
export function getTimestamp(value: string, nowMs: number = Date.now()): string {
  if (value !== '0') {
    let d: bigint | undefined;
    try {
      d = parseGoDuration(value);
    } catch {
      d = undefined;
    }
    if (d !== undefined) return String(floorDiv(BigInt(nowMs) * 1_000_000n - d, 1_000_000_000n));
  }
  const layout = pickLayout(value);
  const localOffsetMin = -new Date(nowMs).getTimezoneOffset();
  try {
    const ns = parseLayout(value, layout, localOffsetMin);
    const sec = floorDiv(ns, 1_000_000_000n);
    return `${sec}.${String(ns - sec * 1_000_000_000n).padStart(9, '0')}`;
  } catch (err) {
    if (value.includes('-')) throw err;
    if (!/^[0-9]+(\.[0-9]*)?$|^[+-][0-9]+(\.[0-9]*)?$/.test(value) || value.endsWith('.')) {
      throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
    }
    return value;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** A local-time view of a Unix time in ms: fields plus the zone offset in minutes east of UTC. */
function localParts(ms: number) {
  const date = new Date(ms);
  const offset = -date.getTimezoneOffset();
  const shifted = new Date(ms + offset * 60_000);
  return {
    date: `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`,
    time: `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`,
    offset,
  };
}

function offsetText(offsetMin: number, colon: boolean): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/** Go's `2006-01-02T15:04:05.000000000Z07:00` (docker's `rfc3339NanoFixed`) in local time, from Unix ns. */
export function formatRfc3339NanoFixed(unixNano: bigint): string {
  const sec = floorDiv(unixNano, 1_000_000_000n);
  const nanos = unixNano - sec * 1_000_000_000n;
  const p = localParts(Number(sec) * 1000);
  const zone = p.offset === 0 ? 'Z' : offsetText(p.offset, true);
  return `${p.date}T${p.time}.${String(nanos).padStart(9, '0')}${zone}`;
}

/** The local zone's abbreviation as Go prints it (`UTC`, `CET`; `+0530`-style when there is none). */
function zoneName(ms: number, offsetMin: number): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (offsetMin === 0 && (tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Etc/Universal' || tz === 'Universal')) return 'UTC';
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value;
  if (name !== undefined && /^[A-Z]{2,5}$/.test(name)) return name;
  const a = Math.abs(offsetMin);
  return `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${a % 60 ? pad(a % 60) : ''}`;
}

/** Go's `time.Unix(sec, 0).String()`: `2006-01-02 15:04:05 -0700 MST` in local time (ps `CreatedAt`). */
export function goTimeString(unixSeconds: number): string {
  const ms = unixSeconds * 1000;
  const p = localParts(ms);
  return `${p.date} ${p.time} ${offsetText(p.offset, false)} ${zoneName(ms, p.offset)}`;
}
