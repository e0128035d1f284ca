/**
 * Test support for the CLI's unit tests (not used by brig itself): a scripted fake daemon on a temp
 * unix socket that records every request in arrival order, and in-memory terminal streams.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import type { CliIo } from './command.js';
import { main } from './main.js';

export interface SeenRequest {
  method: string;
  /** Path without the `/v1.41` prefix, with the query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** ms since the daemon started. */
  at: number;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
export type UpgradeRouteHandler = (req: IncomingMessage, socket: Duplex) => void;

export const UPGRADED_101 =
  'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A fake daemon. Routes are `"METHOD /path"` prefixes matched against the unversioned path, most
 * specific first; a request with no route gets 404 `{"message":"page not found"}`.
 */
export class FakeDaemon {
  readonly seen: SeenRequest[] = [];
  socketPath = '';
  private dir = '';
  private readonly started = Date.now();
  private readonly routes: [string, RouteHandler][] = [];
  private readonly upgrades: [string, UpgradeRouteHandler][] = [];
  private readonly server: http.Server;
  private readonly hijacked = new Set<Duplex>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = this.record(req, body);
        const route = this.match(this.routes, req.method!, url);
        if (route) route(req, res, body);
        else sendJson(res, 404, { message: 'page not found' });
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const url = this.record(req, Buffer.alloc(0));
      this.hijacked.add(socket);
      socket.on('close', () => this.hijacked.delete(socket));
      const route = this.match(this.upgrades, req.method!, url);
      if (route) route(req, socket);
      else socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{"message":"page not found"}\r\n');
    });
  }

  private record(req: IncomingMessage, body: Buffer): string {
    const url = req.url!.replace(/^\/v[0-9.]+/, '');
    this.seen.push({ method: req.method!, url, headers: req.headers, body, at: Date.now() - this.started });
    return url;
  }

  private match<T>(routes: [string, T][], method: string, url: string): T | undefined {
    const key = `${method} ${url}`;
    let best: [string, T] | undefined;
    for (const r of routes) if (key.startsWith(r[0]) && (best === undefined || r[0].length > best[0].length)) best = r;
    return best?.[1];
  }

  on(route: string, handler: RouteHandler): this {
    this.routes.push([route, handler]);
    return this;
  }

  onUpgrade(route: string, handler: UpgradeRouteHandler): this {
    this.upgrades.push([route, handler]);
    return this;
  }

  /** Request lines in arrival order, e.g. `POST /containers/create?name=x`. */
  get log(): string[] {
    return this.seen.map((s) => `${s.method} ${s.url}`);
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'brig-cli-test-'));
    this.socketPath = join(this.dir, 'brig.sock');
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  async stop(): Promise<void> {
    // a half-closed socket that nobody reads keeps neither the loop alive nor lets close() finish
    for (const socket of this.hijacked) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A writable that keeps what it gets, optionally pretending to be a terminal. */
export class CaptureStream extends Writable {
  readonly chunks: Buffer[] = [];
  isTTY: boolean | undefined;
  rows: number | undefined;
  columns: number | undefined;

  constructor(tty?: { rows: number; columns: number }) {
    super();
    if (tty) {
      this.isTTY = true;
      this.rows = tty.rows;
      this.columns = tty.columns;
    }
  }

  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** A stdin that can pretend to be a terminal and records raw-mode changes. */
export class FakeStdin extends PassThrough {
  isTTY: boolean | undefined;
  readonly rawModes: boolean[] = [];

  constructor(tty = false) {
    super();
    if (tty) this.isTTY = true;
  }

  setRawMode(mode: boolean): this {
    this.rawModes.push(mode);
    return this;
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  stdin?: FakeStdin;
  stdout?: CaptureStream;
  env?: NodeJS.ProcessEnv;
  signals?: EventEmitter;
}

/** Runs `brig -H unix://<daemon> argv…` in-process with in-memory terminal streams. */
export async function runCli(daemon: FakeDaemon | null, argv: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const stdout = options.stdout ?? new CaptureStream();
  const stderr = new CaptureStream();
  const stdin = options.stdin ?? new FakeStdin();
  const io: CliIo = { stdin, stdout, stderr, env: options.env ?? {}, signals: options.signals ?? new EventEmitter() };
  const host = daemon ? ['-H', `unix://${daemon.socketPath}`] : [];
  const code = await main([...host, ...argv], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
