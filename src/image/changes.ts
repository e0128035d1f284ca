/**
 * `--change` instructions of `docker import` / `docker commit`: the Dockerfile instructions that only
 * touch the image config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL).
 */
import { posix } from 'node:path';
import { EngineError } from '../errors.js';
import type { HealthcheckSpec } from '../model/container.js';
import type { ImageRunConfig } from '../model/image.js';
import { parseGoDuration as goDurationNs } from '../util/go-duration.js';
import { parseSignal } from '../util/signals.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'HEALTHCHECK'];

/** Applies each change to a copy of `base`; throws ERR_INVALID_ARGUMENT naming a bad instruction. */
export function applyChanges(base: ImageRunConfig, changes: readonly string[]): ImageRunConfig {
  const c: ImageRunConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.includes(instr)) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `${instr} is not a valid change command`);
    }
    switch (instr) {
      case 'CMD':
        c.cmd = execForm(rest, instr);
        break;
      case 'ENTRYPOINT':
        c.entrypoint = execForm(rest, instr);
        break;
      case 'ENV':
        for (const [k, v] of keyValues(rest, instr)) {
          c.env = c.env.filter((e) => e.split('=')[0] !== k);
          c.env.push(`${k}=${v}`);
        }
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(rest, instr)) c.labels[k] = v;
        break;
      case 'EXPOSE':
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          const port = p.includes('/') ? p.toLowerCase() : `${p}/tcp`;
          if (!/^[0-9]{1,5}\/(tcp|udp|sctp)$/.test(port) || Number.parseInt(port, 10) > 65535) {
            throw new EngineError('ERR_INVALID_ARGUMENT', `invalid EXPOSE port: ${p}`);
          }
          if (!c.exposedPorts.includes(port)) c.exposedPorts.push(port);
        }
        break;
      case 'USER':
        c.user = rest;
        break;
      case 'WORKDIR':
        // Docker: a relative path is joined to the current one and cleaned; an absolute one is kept.
        if (rest === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'WORKDIR requires exactly one argument');
        c.workingDir = rest.startsWith('/') ? rest : posix.join('/', c.workingDir, rest).replace(/(.)\/+$/, '$1');
        break;
      case 'VOLUME':
        for (const v of rest.startsWith('[') ? jsonArray(rest, instr) : rest.split(/\s+/).filter(Boolean)) {
          if (!c.volumes.includes(v)) c.volumes.push(v);
        }
        break;
      case 'HEALTHCHECK':
        c.healthcheck = parseHealthcheckInstruction(rest);
        break;
      case 'STOPSIGNAL':
        parseSignal(rest); // a bad one would make every `docker stop` of the image's containers fail
        c.stopSignal = rest;
        break;
    }
  }
  return c;
}

function execForm(rest: string, instr: string): string[] {
  if (rest.startsWith('[')) return jsonArray(rest, instr);
  if (rest === '') throw new EngineError('ERR_INVALID_ARGUMENT', `${instr} requires at least one argument`);
  return ['/bin/sh', '-c', rest];
}

function jsonArray(rest: string, instr: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    throw new EngineError('ERR_INVALID_ARGUMENT', `${instr}: invalid JSON array: ${rest}`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `${instr}: expected a JSON array of strings`);
  }
  return v as string[];
}

/** `K=V K2="v 2"` or the legacy `K V` form (Docker picks it when the first word has no `=`). */
function keyValues(rest: string, instr: string): [string, string][] {
  if (!/^\S*/.exec(rest)![0].includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new EngineError('ERR_INVALID_ARGUMENT', `${instr} requires a key and a value`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  // Sticky: every word must be a `name=value` pair; nothing is skipped silently.
  const re = /\s*([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/y;
  while (re.lastIndex < rest.length) {
    const m = re.exec(rest);
    if (!m) throw new EngineError('ERR_INVALID_ARGUMENT', `${instr}: cannot parse ${rest}: expected name=value pairs`);
    let v = m[2]!;
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

/** `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N] CMD …` or `NONE`. */
export function parseHealthcheckInstruction(rest: string): HealthcheckSpec {
  const h: HealthcheckSpec = { test: [], intervalNs: 0, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 0 };
  let r = rest.trim();
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s*/.exec(r);
    if (!m) break;
    r = r.slice(m[0].length);
    const [flag, value] = [m[1]!, m[2]!];
    if (flag === 'retries') {
      if (!/^[0-9]+$/.test(value) || Number(value) < 1) throw new EngineError('ERR_INVALID_ARGUMENT', `HEALTHCHECK: --retries must be at least 1`);
      h.retries = Number(value);
      continue;
    }
    const key = ({ interval: 'intervalNs', timeout: 'timeoutNs', 'start-period': 'startPeriodNs', 'start-interval': 'startIntervalNs' } as const)[flag as 'interval'];
    if (!key) throw new EngineError('ERR_INVALID_ARGUMENT', `HEALTHCHECK: unknown flag --${flag}`);
    h[key] = parseGoDuration(value, `HEALTHCHECK --${flag}`);
  }
  if (/^NONE$/i.test(r)) return { ...h, test: ['NONE'] };
  const cm = /^CMD\s+(.+)$/is.exec(r);
  if (!cm) throw new EngineError('ERR_INVALID_ARGUMENT', 'HEALTHCHECK needs CMD <command> or NONE');
  const cmd = cm[1]!.trim();
  h.test = cmd.startsWith('[') ? ['CMD', ...jsonArray(cmd, 'HEALTHCHECK')] : ['CMD-SHELL', cmd];
  return h;
}

/** A HEALTHCHECK duration (Go's syntax, util/go-duration.ts) in nanoseconds; 400 with Go's message otherwise. */
export function parseGoDuration(v: string, what: string): number {
  let ns: bigint;
  try {
    ns = goDurationNs(v);
  } catch (err) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `${what}: ${(err as Error).message}`);
  }
  if (ns < 0n || ns > BigInt(Number.MAX_SAFE_INTEGER)) throw new EngineError('ERR_INVALID_ARGUMENT', `${what}: duration ${v} is out of range`);
  return Number(ns);
}
