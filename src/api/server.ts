/**
 * The Engine API server: Node's `http` on a UNIX socket, routing both plain requests and HTTP
 * Upgrade requests (attach, exec start) through one router.
 */
import { chmod, chown, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { API_VERSION, BRIG_VERSION, MIN_API_VERSION } from '../engine/system.js';
import { messageOf, sendError, statusOf } from './errors.js';
import { Router, splitVersion, type RouteContext } from './router.js';
import { archiveRoutes } from './routes/archive.js';
import { containerAdminRoutes } from './routes/container-admin.js';
import { containerFsRoutes } from './routes/container-fs.js';
import { containerRoutes } from './routes/containers.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { registryRoutes } from './routes/registry.js';
import { localImageRoutes } from './routes/images-local.js';
import { networkRoutes } from './routes/networks.js';
import { statsRoutes } from './routes/stats.js';
import { notYetRoutes, systemRoutes } from './routes/system.js';

/** Largest JSON body brig reads (bigger bodies are refused, never skipped: CVE-2024-41110 class). */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

export interface ApiServerOptions {
  socketPath: string;
  /** Group that may use the socket (mode 0660); undefined = root only (0600). */
  socketGid?: number;
  log?: (line: string) => void;
}

export function buildRouter(engine: Engine): Router {
  const router = new Router();
  systemRoutes(router, engine);
  containerRoutes(router, engine);
  containerAdminRoutes(router, engine);
  statsRoutes(router, engine);
  containerFsRoutes(router, engine);
  archiveRoutes(router, engine);
  execRoutes(router, engine);
  imageRoutes(router, engine);
  registryRoutes(router, engine);
  localImageRoutes(router, engine);
  networkRoutes(router, engine);
  notYetRoutes(router);
  return router;
}

export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `brig/${BRIG_VERSION} (linux)`,
  };
}

export class ApiServer {
  readonly #server: Server;
  readonly #router: Router;
  readonly #sockets = new Set<Duplex>();

  private readonly options: ApiServerOptions;

  constructor(engine: Engine, options: ApiServerOptions) {
    this.options = options;
    this.#router = buildRouter(engine);
    this.#server = createServer({ keepAlive: true }, (req, res) => void this.#dispatch(req, res, req.socket, Buffer.alloc(0)));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#dispatch(req, undefined, socket, head));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  }

  async listen(): Promise<void> {
    const path = this.options.socketPath;
    await rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    if (this.options.socketGid !== undefined) {
      await chown(path, 0, this.options.socketGid);
      await chmod(path, 0o660);
    } else {
      await chmod(path, 0o600);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    await rm(this.options.socketPath, { force: true });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, head: Buffer): Promise<void> {
    const started = Date.now();
    if (res) for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
    try {
      const url = new URL(req.url ?? '/', 'http://brig');
      const { version, rest } = splitVersion(url.pathname, API_VERSION, MIN_API_VERSION);
      const method = req.method ?? 'GET';
      const route = this.#router.match(method, rest);
      if (route === undefined) throw new EngineError('ERR_NOT_FOUND', 'page not found');
      if (route === null) throw new EngineError('ERR_NOT_FOUND', `page not found (no route for ${method} ${rest})`);
      const ctx: RouteContext = {
        req, res, socket, head,
        params: route.params,
        query: url.searchParams,
        apiVersion: version,
        json: () => readJson(req),
      };
      await route.handler(ctx);
    } catch (err) {
      if (res) sendError(res, err);
      else writeUpgradeError(socket, err);
    } finally {
      this.options.log?.(`${req.method} ${req.url} ${res?.statusCode ?? 101} ${Date.now() - started}ms`);
    }
  }
}

function writeUpgradeError(socket: Duplex, err: unknown): void {
  const status = statusOf(err);
  const body = JSON.stringify({ message: messageOf(err) });
  if (!socket.writable) return;
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Reads a JSON body up to MAX_JSON_BODY; malformed JSON is a 400 naming the problem. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) {
      throw new EngineError('ERR_LIMIT_EXCEEDED', `request body is larger than ${MAX_JSON_BODY} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (type !== undefined && !/^application\/json\b/.test(type) && !/^text\/plain\b/.test(type)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `Content-Type specified (${type}) must be 'application/json'`);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new EngineError('ERR_INVALID_JSON', `invalid JSON in request body: ${(err as Error).message}`);
  }
}
