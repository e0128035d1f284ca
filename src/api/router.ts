/**
 * Request routing: `/vX.Y/` prefix handling (with version checks), path patterns with `{params}`,
 * and a context object handlers use to read the request and write responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineError } from '../errors.js';

export interface RouteContext {
  req: IncomingMessage;
  /** Undefined for an HTTP Upgrade request (then use `socket`). */
  res: ServerResponse | undefined;
  socket: Duplex;
  head: Buffer;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version of the request (the prefix, or the current version). */
  apiVersion: number;
  /** Reads and parses a JSON body (empty body = undefined). */
  json(): Promise<unknown>;
}

export type Handler = (ctx: RouteContext) => Promise<void>;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds a route; `undefined` if the path matches nothing, `null` if only the method is wrong. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined | null {
    const segs = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const r of this.#routes) {
      const params = matchParts(r.parts, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method || (r.method === 'GET' && method === 'HEAD' && !this.#hasHead(r.parts))) {
        return { handler: r.handler, params };
      }
    }
    return pathMatched ? null : undefined;
  }

  #hasHead(parts: string[]): boolean {
    return this.#routes.some((r) => r.method === 'HEAD' && r.parts.join('/') === parts.join('/'));
  }
}

/** Matches segments; a `{name}` param takes one segment, `{name*}` the rest (image names have slashes). */
function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let i = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (part.startsWith('{') && part.endsWith('*}')) {
      const rest = parts.length - p - 1;
      const take = segs.length - i - rest;
      if (take < 1) return undefined;
      params[part.slice(1, -2)] = segs.slice(i, i + take).map(decode).join('/');
      i += take;
    } else if (part.startsWith('{')) {
      if (i >= segs.length) return undefined;
      params[part.slice(1, -1)] = decode(segs[i++]!);
    } else {
      if (segs[i] !== part) return undefined;
      i++;
    }
  }
  return i === segs.length ? params : undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new EngineError('ERR_INVALID_ARGUMENT', `invalid URL escape in ${s}`);
  }
}

/** Splits `/v1.41/containers/json` into the version and the rest; checks the version range. */
export function splitVersion(path: string, current: string, minimum: string): { version: number; rest: string } {
  const m = /^\/v([0-9]+(?:\.[0-9]+)?)(\/.*)?$/.exec(path);
  if (!m) return { version: Number(current), rest: path };
  const v = m[1]!;
  if (compareVersions(v, current) > 0) {
    throw new EngineError('ERR_API_VERSION', `client version ${v} is too new. Maximum supported API version is ${current}`);
  }
  if (compareVersions(v, minimum) < 0) {
    throw new EngineError(
      'ERR_API_VERSION',
      `client version ${v} is too old. Minimum supported API version is ${minimum}, please upgrade your client to a newer version`,
    );
  }
  return { version: Number(v), rest: m[2] ?? '/' };
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
