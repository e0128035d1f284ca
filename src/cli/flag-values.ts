/**
 * Flag values in the docker CLI's formats, with its error texts: Go's `strconv.ParseBool` and
 * `strconv.ParseInt(s, 0, 64)` (pflag's bool and int flags), Go's `time.ParseDuration`
 * (`--health-interval 1m30s`), go-units `RAMInBytes` (`-m 64m`), `opts.ParseCPUs` (`--cpus 1.5`)
 * and `opts.ParseRestartPolicy` (`--restart on-failure:3`).
 *
 * Each parser throws a plain Error with Go's message; `flagValue` in args.ts wraps it in pflag's
 * `invalid argument "V" for "-m, --memory" flag: …`.
 */
import type { RestartPolicy } from '../client/types.js';
import { parseGoDuration as goDurationNs } from '../util/go-duration.js';
import { goQuote } from './output/format.js';

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

/** Go's `underscoreOK`: underscores only between digits (a base prefix counts as a digit). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'boxBOX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Go's `strconv.ParseInt(s, 0, bits)`, what pflag uses for int flags: `42`, `-1`, `0x10`, `0o17`,
 * `0b11`, `017` (octal), `1_000`. Throws `strconv.ParseInt: parsing "s": invalid syntax` or
 * `… value out of range`.
 */
export function parseGoInt(s: string, bits = 64): number {
  const syntax = () => new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  let body = s;
  let neg = false;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  if (body === '') throw syntax();
  let base = 10;
  if (body[0] === '0' && body.length > 1) {
    const p = body[1]!.toLowerCase();
    if (p === 'x' || p === 'o' || p === 'b') {
      base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      body = body.slice(2);
    } else {
      base = 8;
      body = body.slice(1);
    }
  }
  if (body.includes('_')) {
    if (!underscoreOK(s)) throw syntax();
    body = body.replaceAll('_', '');
  }
  const digits = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (body === '' && base === 8) body = '0'; // "0" itself, and "0_0"
  if (!digits.test(body)) throw syntax();
  const prefix = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[base as 2 | 8 | 10 | 16];
  let n = BigInt(`${prefix}${body}`);
  if (neg) n = -n;
  const min = bits === 64 ? INT64_MIN : -(2n ** BigInt(bits - 1));
  const max = bits === 64 ? INT64_MAX : 2n ** BigInt(bits - 1) - 1n;
  if (n < min || n > max) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/**
 * Go's `time.ParseDuration` → nanoseconds as a number (see util/go-duration.ts). Durations beyond
 * 2^53 ns (about 104 days), which a JSON number cannot carry exactly, are refused.
 */
export function parseGoDuration(orig: string): number {
  const total = goDurationNs(orig);
  const abs = total < 0n ? -total : total;
  if (abs > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`time: duration ${goQuote(orig)} is longer than brig can send (2^53ns, about 104 days)`);
  }
  return Number(total);
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units `RAMInBytes`: `512m`, `1.5g`, `1024`, `2 GiB` (binary multiples, case-insensitive). */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  const num = size[sep] === ' ' ? size.slice(0, sep) : size.slice(0, sep + 1);
  let sfx = size.slice(sep + 1);
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(num)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(num)}: invalid syntax`);
  }
  let value = Number(num);
  if (value < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx === '') return Math.trunc(value);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(value);
  }
  const mul = BINARY[sfx[0]!];
  if (mul === undefined) throw bad();
  value *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(value);
}

/** docker's `MemSwapBytes`: `-1` (unlimited swap) or a `RAMInBytes` size. */
export function memSwapBytes(size: string): number {
  return size === '-1' ? -1 : ramInBytes(size);
}

/** docker's `ParseCPUs`: a rational number of CPUs (`1.5`, `3/2`, `2e-1`) → nano CPUs, exactly. */
export function parseCpus(value: string): number {
  const fail = () => new Error(`failed to parse ${value} as a rational number`);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?[0-9]+)\/([0-9]+)$/.exec(value);
  const dec = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
    if (den === 0n) throw fail();
  } else if (dec && (dec[2] !== '' || (dec[3] ?? '') !== '')) {
    const digits = `${dec[2]}${dec[3] ?? ''}`;
    const exp = Number(dec[4] ?? '0') - (dec[3] ?? '').length;
    num = BigInt(digits || '0') * (exp > 0 ? 10n ** BigInt(exp) : 1n);
    den = exp < 0 ? 10n ** BigInt(-exp) : 1n;
    if (dec[1] === '-') num = -num;
  } else {
    throw fail();
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/** docker's `ParseRestartPolicy`: `NAME[:MAX_RETRIES]`; the daemon validates the name. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon === -1 ? policy : policy.slice(0, colon);
  const count = colon === -1 ? '' : policy.slice(colon + 1);
  if (colon !== -1 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?[0-9]+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}
