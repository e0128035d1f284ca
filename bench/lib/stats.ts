/**
 * Statistics and tables for the benches: interleaved sampling of both engines, median/p90/min,
 * the brig/dockerd ratio and the table the benches print.
 */
import type { EngineName } from './engines.js';
import { sleep } from './process.js';

export interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
  samples: number[];
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const at = (i: number): number => s[Math.min(n - 1, Math.max(0, i))] ?? NaN;
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return {
    median,
    p90: at(Math.ceil(0.9 * n) - 1), // nearest rank
    min: at(0),
    max: at(n - 1),
    mean: s.reduce((a, b) => a + b, 0) / n,
    samples,
  };
}

export const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
export const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

/** One measured thing, for each engine that was benchmarked, and brig/dockerd when both were. */
export interface CaseResult {
  name: string;
  description: string;
  brig?: Stats;
  dockerd?: Stats;
  ratio?: { median: number; p90: number; min: number };
}

export interface Sampling {
  runs: number;
  warmup: number;
  /** Idle time before each timed sample. */
  pauseMs?: number;
}

/**
 * Samples `once` for each engine: `warmup` untimed rounds, then `runs` rounds interleaved
 * (first engine, second engine, first, ...). `once` returns one sample in seconds.
 */
export async function interleaved<E extends { name: EngineName }>(engines: E[], s: Sampling, once: (e: E) => Promise<number>): Promise<Map<EngineName, number[]>> {
  for (let i = 0; i < s.warmup; i++) for (const e of engines) await once(e);
  const samples = new Map<EngineName, number[]>(engines.map((e) => [e.name, []]));
  for (let i = 0; i < s.runs; i++) {
    for (const e of engines) {
      if (s.pauseMs) await sleep(s.pauseMs);
      samples.get(e.name)!.push(await once(e));
    }
  }
  return samples;
}

export function caseResult(name: string, description: string, samples: Map<EngineName, number[]>): CaseResult {
  const res: CaseResult = { name, description };
  const b = samples.get('brig');
  const k = samples.get('dockerd');
  if (b) res.brig = stats(b);
  if (k) res.dockerd = stats(k);
  if (res.brig && res.dockerd) {
    res.ratio = { median: res.brig.median / res.dockerd.median, p90: res.brig.p90 / res.dockerd.p90, min: res.brig.min / res.dockerd.min };
  }
  return res;
}

/** The table of cases: one row per engine (seconds) and one for brig/dockerd. */
export function caseTable(cases: CaseResult[], nameWidth = 9): string[] {
  const out = [`${'case'.padEnd(nameWidth)}${'engine'.padEnd(14)}${'median'.padStart(8)}${'p90'.padStart(8)}${'min'.padStart(8)}`];
  for (const c of cases) {
    let first = true;
    const row = (label: string, a: number, b: number, m: number, fmt: (x: number) => string): void => {
      out.push(`${(first ? c.name : '').padEnd(nameWidth)}${label.padEnd(14)}${fmt(a).padStart(8)}${fmt(b).padStart(8)}${fmt(m).padStart(8)}`);
      first = false;
    };
    if (c.brig) row('brig', c.brig.median, c.brig.p90, c.brig.min, f3);
    if (c.dockerd) row('dockerd', c.dockerd.median, c.dockerd.p90, c.dockerd.min, f3);
    if (c.ratio) row('brig/dockerd', c.ratio.median, c.ratio.p90, c.ratio.min, f2);
  }
  return out;
}
