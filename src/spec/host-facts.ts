/**
 * Host facts the spec builder needs, read once by the daemon at startup and passed in, so that
 * `buildOciSpec` itself stays pure. Each reader is small and takes its source path for tests.
 */
import { readFile } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import { readHostBoundingSet } from '../security/capabilities.js';
import { findThermalThrottlePaths } from '../security/paths.js';

export type RlimitPair = [soft: number, hard: number];

/** Soft and hard NOFILE and NPROC limits of the daemon. */
export interface HostRlimits {
  nofile: RlimitPair;
  nproc: RlimitPair;
}

/** The host facts `SpecInput.daemon` needs. */
export interface HostFacts {
  hostBounding: string[];
  hostRlimits: HostRlimits;
  thermalThrottlePaths: string[];
}

/** Parses the text of `/proc/<pid>/limits`; "unlimited" becomes Number.MAX_SAFE_INTEGER. */
export function parseProcLimits(text: string): HostRlimits {
  const pick = (label: string): RlimitPair => {
    const m = new RegExp(`^${label}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    if (!m) throw new EngineError('ERR_INTERNAL', `no "${label}" line in process limits`);
    return [limitValue(m[1]!), limitValue(m[2]!)];
  };
  return { nofile: pick('Max open files'), nproc: pick('Max processes') };
}

/** The daemon's own NOFILE and NPROC limits (getrlimit through /proc). */
export async function readHostRlimits(limitsPath = '/proc/self/limits'): Promise<HostRlimits> {
  return parseProcLimits(await readFile(limitsPath, 'utf8'));
}

/** Everything above, for `SpecInput.daemon`. */
export async function readHostFacts(): Promise<HostFacts> {
  const [hostBounding, hostRlimits, thermalThrottlePaths] = await Promise.all([
    readHostBoundingSet(),
    readHostRlimits(),
    findThermalThrottlePaths(),
  ]);
  return { hostBounding, hostRlimits, thermalThrottlePaths };
}

function limitValue(text: string): number {
  if (text === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new EngineError('ERR_INTERNAL', `bad limit value "${text}" in process limits`);
  return n;
}
