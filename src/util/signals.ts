/** Signal names and numbers (Linux x86-64), for `kill`, `StopSignal` and `--stop-signal`. */
import { constants } from 'node:os';
import { EngineError } from '../errors.js';

const BY_NAME = constants.signals as Record<string, number>;

/**
 * Parses `TERM`, `SIGTERM`, `sigterm`, `15` or `SIGRTMIN+3` into a signal number.
 * Throws ERR_INVALID_ARGUMENT for anything that is not a signal.
 */
export function parseSignal(raw: string): number {
  const s = raw.trim();
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const up = s.toUpperCase();
    const name = up.startsWith('SIG') ? up : `SIG${up}`;
    const n = BY_NAME[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+([0-9]+))?$/.exec(name) ?? /^SIGRTMAX(?:-([0-9]+))?$/.exec(name);
    if (rt) {
      const off = Number(rt[1] ?? 0);
      const v = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
      if (v >= 34 && v <= 64) return v;
    }
  }
  throw new EngineError('ERR_INVALID_ARGUMENT', `Invalid signal: ${raw}`);
}
