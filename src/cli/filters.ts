/**
 * `--filter key=value` flags (repeatable) as the docker CLI collects them (`opts.FilterOpt`): the
 * key is trimmed and lower-cased, the value trimmed, and the set is sent as the JSON map form
 * `{"key":{"value":true}}` with sorted keys (Go's `json.Marshal` of a map).
 */
import { UsageError } from './command.js';

export type FilterArgs = Record<string, Record<string, boolean>>;

/** Parses the flag values; `flag` names the flag in errors (`-f, --filter`). */
export function parseFilters(values: readonly string[] | undefined, flag = '-f, --filter'): FilterArgs | undefined {
  const collected = new Map<string, Set<string>>();
  for (const v of values ?? []) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    if (eq === -1) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    if (!collected.has(key)) collected.set(key, new Set());
    collected.get(key)!.add(value);
  }
  if (collected.size === 0) return undefined;
  const out: FilterArgs = {};
  for (const key of [...collected.keys()].sort()) {
    const inner: Record<string, boolean> = {};
    for (const value of [...collected.get(key)!].sort()) inner[value] = true;
    out[key] = inner;
  }
  return out;
}
