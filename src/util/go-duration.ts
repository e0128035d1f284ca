/** Go's duration syntax, as the docker CLI and dockerd read it (flags, HEALTHCHECK, filters). */

const INT64_MAX = 2n ** 63n - 1n;

/** Go's `%q` for the strings these errors quote (enough for the ASCII of durations). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Go's `time.ParseDuration` → nanoseconds (int64 range): `1m30s`, `500ms`, `1.5h`, `-2s`, `0`.
 * Throws Go's messages (`time: missing unit in duration "1"`, `time: unknown unit "d" in duration
 * "1d"`, `time: invalid duration "x"`).
 */
export function parseGoDuration(orig: string): bigint {
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9'))) throw invalid();
    const intPart = /^[0-9]*/.exec(s)![0];
    s = s.slice(intPart.length);
    let v = intPart === '' ? 0n : BigInt(intPart);
    if (v > 2n ** 63n) throw invalid(); // Go's leadingInt overflows
    let frac = '';
    let post = false;
    if (s[0] === '.') {
      frac = /^[0-9]*/.exec(s.slice(1))![0];
      s = s.slice(1 + frac.length);
      post = frac.length > 0;
    }
    if (intPart === '' && !post) throw invalid();
    const unitLen = /^[^0-9.]*/.exec(s)![0].length;
    if (unitLen === 0) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const u = s.slice(0, unitLen);
    s = s.slice(unitLen);
    const unit = DURATION_UNITS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    if (v > 2n ** 63n / unit) throw invalid();
    v *= unit;
    if (frac !== '') {
      // Go's leadingFraction stops taking digits once they would overflow; float64 math as in Go
      let f = 0n;
      let scale = 1;
      let overflow = false;
      for (const c of frac) {
        if (overflow) continue;
        if (f > INT64_MAX / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(c);
        if (y > 2n ** 63n) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 2n ** 63n) throw invalid();
    }
    total += v;
    if (total > 2n ** 63n) throw invalid();
  }
  if (!neg && total > INT64_MAX) throw invalid();
  return neg ? -total : total;
}
