/** Small response writers shared by the routes. */
import type { ServerResponse } from 'node:http';
import { EngineError } from '../errors.js';
import type { RouteContext } from './router.js';

export function resOf(ctx: RouteContext): ServerResponse {
  if (!ctx.res) throw new EngineError('ERR_INVALID_ARGUMENT', 'this endpoint does not support HTTP upgrade');
  return ctx.res;
}

export function sendJson(ctx: RouteContext, status: number, value: unknown): void {
  const res = resOf(ctx);
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

export function sendEmpty(ctx: RouteContext, status: number): void {
  const res = resOf(ctx);
  res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  res.end();
}

/** Query booleans as Docker clients send them: `1`, `true`, `True`, `0`, `false`, `False`. */
export function queryBool(q: URLSearchParams, key: string, dflt = false): boolean {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  const l = v.toLowerCase();
  if (l === '1' || l === 'true') return true;
  if (l === '0' || l === 'false') return false;
  throw new EngineError('ERR_INVALID_ARGUMENT', `invalid boolean value for ${key}: ${v}`);
}

export function queryInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (!/^-?[0-9]+$/.test(v)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid integer value for ${key}: ${v}`);
  return Number(v);
}

/** Parses Docker's `filters` JSON: `{"key":{"value":true}}` or the list form `{"key":["value"]}`. */
export function queryFilters(q: URLSearchParams, allowed: readonly string[]): Map<string, string[]> {
  const raw = q.get('filters');
  const out = new Map<string, string[]>();
  if (raw === null || raw === '') return out;
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new EngineError('ERR_INVALID_FILTER', `invalid filters: ${raw}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new EngineError('ERR_INVALID_FILTER', `invalid filters: ${raw}`);
  for (const [k, v] of Object.entries(doc)) {
    if (!allowed.includes(k)) throw new EngineError('ERR_INVALID_FILTER', `Invalid filter '${k}'`);
    // Docker accepts a map of values or a list of strings; anything else is an error, never ignored.
    let values: string[];
    if (v === null) values = [];
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) values = v;
    else if (typeof v === 'object' && !Array.isArray(v)) values = Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]);
    else throw new EngineError('ERR_INVALID_FILTER', `invalid filters: ${raw}`);
    out.set(k, values);
  }
  return out;
}

/**
 * `POST /containers/{id}/resize` and `/exec/{id}/resize`: reads `h` and `w` (0 when absent;
 * negative or above 65535 → 400), calls `resize`, answers an empty 200.
 */
export async function handleResize(ctx: RouteContext, resize: (id: string, h: number, w: number) => Promise<void>): Promise<void> {
  const h = queryInt(ctx.query, 'h') ?? 0;
  const w = queryInt(ctx.query, 'w') ?? 0;
  if (h < 0 || w < 0 || h > 65535 || w > 65535) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid terminal size ${h}x${w}`);
  await resize(ctx.params['id']!, h, w);
  const res = resOf(ctx);
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
  res.end();
}
