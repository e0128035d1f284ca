/**
 * `EngineClient`: a typed Docker Engine API client over a UNIX socket, built on `node:http`.
 *
 * It is what the `brig` CLI and the integration tests use to talk to a daemon (brig's or Docker's),
 * and it behaves like the docker CLI's client on the wire: versioned paths (`/v1.41/…`), query
 * booleans as `1`, JSON bodies with a Content-Length, streamed bodies chunked, bodyless POSTs with
 * `Content-Length: 0`, and hijacked attach streams that require `101 UPGRADED`.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import net, { type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../errors.js';
import { ApiError, connectionError, errorMessageFromBody, isConnectFailure } from './api-error.js';
import { DEFAULT_SOCKET_PATH } from './host.js';
import { decodeJsonObjects, jsonMessages } from './json-stream.js';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspect,
  ContainerPruneResponse,
  ContainerSummary,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerWaitResponse,
  EventMessage,
  JsonMessage,
  ImageInspect,
  ImageSummary,
  InfoResponse,
  PingResult,
  VersionResponse,
  WaitCondition,
} from './types.js';
import type { ContainerStats, ContainerTopResponse, FilesystemChange, NetworkCreateRequest, NetworkSummary } from './types.js';
import { CLIENT_VERSION, DEFAULT_API_VERSION } from './version.js';

export interface EngineClientOptions {
  /** Default `/run/brig/brig.sock`. */
  socketPath?: string;
  /** Version prefix of API paths (`'1.41'` → `/v1.41/…`); `null` sends unversioned paths. */
  apiVersion?: string | null;
  userAgent?: string;
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[] | Record<string, unknown>;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /**
   * `Readable` → sent chunked as is; `Buffer`/`Uint8Array`/`string` → sent as is with a length;
   * anything else → JSON with `Content-Type: application/json`.
   */
  body?: unknown;
  /** Content-Type for a raw or streamed body (JSON bodies always get `application/json`). */
  contentType?: string;
  headers?: OutgoingHttpHeaders;
  signal?: AbortSignal;
}

/** The registration of a `POST /containers/{id}/wait`: its headers have arrived, the body has not. */
export interface ContainerWait {
  /** Settles when the daemon sends the body. Rejects with an AbortError after `cancel()`. */
  result: Promise<ContainerWaitResponse>;
  /** Drops the connection (what `docker run -d` does after start). */
  cancel(): void;
}

export interface AttachOptions {
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  logs?: boolean;
  detachKeys?: string;
  signal?: AbortSignal;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  timestamps?: boolean;
  /** A number of lines or `'all'` (the default, as the docker CLI sends it). */
  tail?: number | string;
  since?: string;
  until?: string;
  signal?: AbortSignal;
}

export interface ImportImageOptions {
  /** Target reference, tag included (`busybox:latest`); Docker has no separate `tag` parameter for imports. */
  repo?: string;
  /** Dockerfile instructions applied to the image config, e.g. `CMD ["sh"]` (one `changes=` each). */
  changes?: string | readonly string[];
  message?: string;
  signal?: AbortSignal;
}

export interface EventsOptions {
  /** Already in the wire form (`getTimestamp` turns CLI values into it). */
  since?: string;
  until?: string;
  filters?: Record<string, Record<string, boolean>>;
  signal?: AbortSignal;
}

/** Parses one `/events` object, keeping the top-level `timeNano` exact as a bigint. */
export function parseEventMessage(text: string): EventMessage {
  // only an unescaped top-level key can be followed by a bare number (Attributes values are strings)
  const quoted = text.replace(/(?<!\\)"timeNano":\s*(-?[0-9]+)/g, '"timeNano":"$1"');
  const raw = JSON.parse(quoted) as Omit<EventMessage, 'timeNano'> & { timeNano?: string | number };
  const { timeNano, ...rest } = raw;
  const msg: EventMessage = { ...rest, Actor: { ID: raw.Actor?.ID ?? '', Attributes: raw.Actor?.Attributes ?? null } };
  if (timeNano !== undefined && timeNano !== null) msg.timeNano = BigInt(timeNano);
  return msg;
}

/** The `POST /containers/{id}/exec` body, field for field as the docker CLI sends it. */
export interface ExecCreateRequest {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize?: [number, number] | null;
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  Detach: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[];
}

/** `GET /exec/{id}/json`. `ExitCode` is null while the command has not ended. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged?: boolean; user?: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

/**
 * The stat of a container path (`X-Docker-Container-Path-Stat`, docker cp). `mode` is Go's
 * `os.FileMode`: permission bits plus type bits (directory 2^31, symlink 2^27, device 2^26,
 * named pipe 2^25, socket 2^24, char device 2^21; setuid 2^23, setgid 2^22, sticky 2^20).
 */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  /** RFC 3339 with nanoseconds. */
  mtime: string;
  /** For a symlink: its target resolved inside the container (absolute), else ''. */
  linkTarget: string;
}

/** Decodes the `X-Docker-Container-Path-Stat` header of an archive answer. */
export function decodePathStat(header: string | string[] | undefined): ContainerPathStat {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') throw new EngineError('ERR_INTERNAL', 'the daemon sent no X-Docker-Container-Path-Stat header');
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as ContainerPathStat;
  } catch (err) {
    throw new EngineError('ERR_INVALID_JSON', `invalid X-Docker-Container-Path-Stat header: ${(err as Error).message}`);
  }
}

/** Encodes one path parameter the way Go's `url.URL` does for the docker client: `/`, `:` and `@` stay. */
function pathParam(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

/** Query string with sorted keys (as Go's `url.Values.Encode`), booleans as `1`, false/empty left out. */
export function encodeQuery(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === undefined || v === null || v === false) continue;
    if (v === true) params.append(key, '1');
    else if (Array.isArray(v)) for (const item of v as readonly string[]) params.append(key, item);
    else if (typeof v === 'object') params.append(key, JSON.stringify(v));
    else params.append(key, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson<T>(text: string, what: string): T {
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new EngineError('ERR_INVALID_JSON', `invalid JSON in the answer to ${what}: ${(err as Error).message}`);
  }
}

/**
 * A Docker Engine API client bound to one socket.
 *
 * Lifecycle: create one per process; requests reuse keep-alive connections (idle ones do not keep
 * the process alive); `close()` drops them all. Hijacked streams use their own connections, which
 * `close()` leaves alone.
 * Errors: `ApiError` (an EngineError with `status`) for answers ≥ 400, ERR_UNAVAILABLE or
 * ERR_FORBIDDEN when the socket cannot be reached, ERR_INVALID_JSON for unparsable answers,
 * `ProgressError` for in-stream failures of progress streams, AbortError when a signal fires.
 */
export class EngineClient {
  readonly socketPath: string;
  readonly apiVersion: string | null;
  private readonly userAgent: string;
  private readonly agent: http.Agent;

  constructor(options: EngineClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
    this.apiVersion = options.apiVersion === undefined ? DEFAULT_API_VERSION : options.apiVersion;
    this.userAgent = options.userAgent ?? `Brig-Client/${CLIENT_VERSION} (${process.platform})`;
    this.agent = new http.Agent({ keepAlive: true });
  }

  /** Closes the pooled connections, in-flight requests' included; call it when done with the client. */
  close(): void {
    this.agent.destroy();
  }

  private url(path: string, query?: Query): string {
    const prefix = this.apiVersion === null ? '' : `/v${this.apiVersion}`;
    return `${prefix}${path}${encodeQuery(query)}`;
  }

  /** Sends a request and resolves with the response once its headers are in; ≥ 400 becomes an ApiError. */
  private send(method: string, path: string, options: RequestOptions = {}, versioned = true): Promise<IncomingMessage> {
    const url = versioned ? this.url(path, options.query) : `${path}${encodeQuery(options.query)}`;
    const headers: OutgoingHttpHeaders = { 'User-Agent': this.userAgent, ...options.headers };
    const { body } = options;
    let payload: Buffer | undefined;
    let source: Readable | undefined;
    if (body instanceof Readable) {
      source = body;
      headers['Transfer-Encoding'] = 'chunked';
      if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
    } else if (body === undefined) {
      if (method !== 'GET' && method !== 'HEAD') headers['Content-Length'] = '0';
    } else {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        payload = Buffer.from(body);
        if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
      } else {
        payload = Buffer.from(JSON.stringify(body));
        headers['Content-Type'] = 'application/json';
      }
      headers['Content-Length'] = String(payload.length);
    }

    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        agent: this.agent,
        method,
        path: url,
        headers,
        signal: options.signal,
      });
      let response: IncomingMessage | undefined;
      req.on('error', (err) => {
        reject(isConnectFailure(err) ? connectionError(this.socketPath, err) : err);
      });
      req.on('response', (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        if (status < 400) {
          resolve(res);
          return;
        }
        readText(res).then(
          (text) => reject(new ApiError(status, errorMessageFromBody(status, res.headers['content-type'], text, url), method, url)),
          reject,
        );
      });
      if (source === undefined) {
        req.end(payload);
        return;
      }
      pipeline(source, req).catch((err: unknown) => {
        // A body that fails after the answer started must fail whoever reads the answer.
        if (response !== undefined && !response.complete) response.destroy(err as Error);
        reject(err);
      });
    });
  }

  /**
   * A request whose answer is JSON (or empty): resolves with the parsed body (`undefined` when empty).
   * Like the docker client, every status below 400 counts as success (stop/start answer 304 when there
   * is nothing to do).
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    return parseJson<T>(await readText(res), `${method} ${path}`);
  }

  /** A request whose answer is a stream (logs, events, progress): resolves with the raw response. */
  stream(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return this.send(method, path, options);
  }

  /**
   * Hijacks a connection: `POST path` with `Connection: Upgrade` and `Upgrade: tcp`, and resolves
   * with the raw socket once the daemon answers `101`. The socket is half-open capable: `end()` sends
   * stdin EOF while the output keeps coming; destroy it when done.
   * Errors: ApiError for an answer ≥ 400; ERR_UNAVAILABLE for any other answer than 101 (the docker
   * CLI refuses the old 200 form too: `unable to upgrade to tcp, received 200`).
   */
  hijack(path: string, query?: Query, options: { signal?: AbortSignal; body?: unknown } = {}): Promise<Socket> {
    const url = this.url(path, query);
    // exec start carries a JSON body along with the Upgrade (as the docker CLI sends it); attach has none.
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    return new Promise<Socket>((resolve, reject) => {
      const req = http.request({
        method: 'POST',
        path: url,
        // no agent: the connection is taken over after the 101 and must not return to a pool
        createConnection: () => net.createConnection({ path: this.socketPath, allowHalfOpen: true }),
        headers: {
          'User-Agent': this.userAgent,
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          'Content-Type': payload === undefined ? 'text/plain' : 'application/json',
          'Content-Length': String(payload?.length ?? 0),
        },
        signal: options.signal,
      });
      req.on('error', (err) => reject(isConnectFailure(err) ? connectionError(this.socketPath, err) : err));
      req.on('upgrade', (res, socket, head) => {
        if (res.statusCode !== 101) {
          socket.destroy();
          reject(new EngineError('ERR_UNAVAILABLE', `unable to upgrade to tcp, received ${res.statusCode}`));
          return;
        }
        socket.setNoDelay(true);
        socket.setTimeout(0);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const socket = res.socket;
        readText(res).then((text) => {
          socket.destroy(); // the half-open capable socket would otherwise stay open after the answer
          if (status >= 400) reject(new ApiError(status, errorMessageFromBody(status, res.headers['content-type'], text, url), 'POST', url));
          else reject(new EngineError('ERR_UNAVAILABLE', `unable to upgrade to tcp, received ${status}`));
        }, reject);
      });
      req.end(payload);
    });
  }

  // ---- system ----

  /** `GET /_ping` (unversioned, like the docker CLI): the negotiation headers. */
  async ping(options: { signal?: AbortSignal } = {}): Promise<PingResult> {
    const res = await this.send('GET', '/_ping', options, false);
    res.resume();
    const h = res.headers;
    const one = (name: string): string | undefined => {
      const v = h[name];
      return Array.isArray(v) ? v[0] : v;
    };
    return {
      apiVersion: one('api-version'),
      osType: one('ostype'),
      experimental: one('docker-experimental') === 'true',
      builderVersion: one('builder-version'),
      swarm: one('swarm'),
    };
  }

  version(options: { signal?: AbortSignal } = {}): Promise<VersionResponse> {
    return this.request<VersionResponse>('GET', '/version', options);
  }

  info(options: { signal?: AbortSignal } = {}): Promise<InfoResponse> {
    return this.request<InfoResponse>('GET', '/info', options);
  }

  // ---- containers ----

  createContainer(body: ContainerCreateRequest, name?: string, options: { signal?: AbortSignal } = {}): Promise<ContainerCreateResponse> {
    return this.request<ContainerCreateResponse>('POST', '/containers/create', { query: { name }, body, signal: options.signal });
  }

  /** Resolves `false` when the daemon answered 304 (already running). */
  async startContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const res = await this.send('POST', `/containers/${pathParam(id)}/start`, options);
    res.resume();
    return res.statusCode !== 304;
  }

  /**
   * Registers a wait: resolves as soon as the daemon has sent the response headers (which is its
   * acknowledgement that the waiter is registered), so that a following `start` cannot lose the exit
   * status. The exit status comes later through `result`.
   */
  async waitContainer(id: string, condition?: WaitCondition, options: { signal?: AbortSignal } = {}): Promise<ContainerWait> {
    const controller = new AbortController();
    const signal = options.signal === undefined ? controller.signal : AbortSignal.any([controller.signal, options.signal]);
    const path = `/containers/${pathParam(id)}/wait`;
    const res = await this.send('POST', path, { query: { condition }, signal });
    const result = readText(res).catch((err: unknown) => {
      throw signal.aborted ? (signal.reason as Error) : err;
    }).then((text) => {
      const body = parseJson<ContainerWaitResponse | undefined>(text, `POST ${path}`);
      if (body === undefined || typeof body.StatusCode !== 'number') {
        throw new EngineError('ERR_INVALID_JSON', `the wait answer has no StatusCode: ${text.trim()}`);
      }
      return { StatusCode: body.StatusCode, Error: body.Error ?? null };
    });
    result.catch(() => {}); // a cancelled wait that nobody awaits must not become an unhandled rejection
    return { result, cancel: () => controller.abort() };
  }

  /** `POST /containers/{id}/attach`, hijacked. Query booleans are sent as `1` in sorted order, like the docker CLI. */
  attachContainer(id: string, options: AttachOptions = {}): Promise<Socket> {
    const { signal, detachKeys, ...flags } = options;
    return this.hijack(`/containers/${pathParam(id)}/attach`, { ...flags, detachKeys }, { signal });
  }

  async resizeContainer(id: string, height: number, width: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/resize`, { query: { h: height, w: width }, signal: options.signal });
  }

  /**
   * Resolves `false` when the daemon answered 304 (already stopped). `stopSignal` is the signal to
   * stop with (`?signal=`, docker's `stop -s`); `signal` aborts the request.
   */
  async stopContainer(
    id: string,
    timeoutSeconds?: number,
    options: { signal?: AbortSignal; stopSignal?: string } = {},
  ): Promise<boolean> {
    const res = await this.send('POST', `/containers/${pathParam(id)}/stop`, {
      query: { signal: options.stopSignal, t: timeoutSeconds },
      signal: options.signal,
    });
    res.resume();
    return res.statusCode !== 304;
  }

  /** `POST /containers/{id}/restart?signal=&t=` (docker sends both only when given). */
  async restartContainer(id: string, options: { timeoutSeconds?: number; stopSignal?: string; signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/restart`, {
      query: { signal: options.stopSignal, t: options.timeoutSeconds },
      signal: options.signal,
    });
  }

  async pauseContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/pause`, options);
  }

  async unpauseContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/unpause`, options);
  }

  async renameContainer(id: string, name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/rename`, { query: { name }, signal: options.signal });
  }

  async updateContainer(id: string, body: ContainerUpdateRequest, options: { signal?: AbortSignal } = {}): Promise<ContainerUpdateResponse> {
    const r = await this.request<ContainerUpdateResponse | undefined>('POST', `/containers/${pathParam(id)}/update`, { body, signal: options.signal });
    return { Warnings: r?.Warnings ?? null };
  }

  async pruneContainers(
    options: { filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {},
  ): Promise<ContainerPruneResponse> {
    const r = await this.request<ContainerPruneResponse | undefined>('POST', '/containers/prune', {
      query: { filters: options.filters },
      signal: options.signal,
    });
    return { ContainersDeleted: r?.ContainersDeleted ?? null, SpaceReclaimed: r?.SpaceReclaimed ?? 0 };
  }

  async killContainer(id: string, signal?: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/containers/${pathParam(id)}/kill`, { query: { signal }, signal: options.signal });
  }

  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('DELETE', `/containers/${pathParam(id)}`, {
      query: { force: options.force, v: options.volumes },
      signal: options.signal,
    });
  }

  async listContainers(
    options: { all?: boolean; limit?: number; size?: boolean; filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {},
  ): Promise<ContainerSummary[]> {
    const list = await this.request<ContainerSummary[] | null>('GET', '/containers/json', {
      query: { all: options.all, limit: options.limit, size: options.size, filters: options.filters },
      signal: options.signal,
    });
    return list ?? [];
  }

  inspectContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    return this.request<ContainerInspect>('GET', `/containers/${pathParam(id)}/json`, options);
  }

  /** The raw log stream: multiplexed frames unless the container has a TTY (see `Config.Tty`). */
  containerLogs(id: string, options: LogsOptions = {}): Promise<IncomingMessage> {
    const { signal, tail, ...rest } = options;
    return this.stream('GET', `/containers/${pathParam(id)}/logs`, {
      query: { ...rest, tail: tail === undefined ? 'all' : String(tail) },
      signal,
    });
  }

  /**
   * `GET /containers/{id}/stats`: yields each stats object as it arrives: one with `stream: false`
   * (after about a second, `precpu_stats` filled; at once with `oneShot`), one per second otherwise
   * until the container stops or `signal` fires.
   */
  async *containerStats(id: string, options: { stream?: boolean; oneShot?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<ContainerStats> {
    const res = await this.stream('GET', `/containers/${pathParam(id)}/stats`, {
      // the daemon streams by default: `stream=0` has to be sent (the docker CLI sends it, too)
      query: { stream: options.stream === false ? '0' : '1', 'one-shot': options.oneShot },
      signal: options.signal,
    });
    for await (const obj of decodeJsonObjects(res)) yield obj as ContainerStats;
  }

  /** `GET /containers/{id}/top?ps_args=`: the container's processes as `ps` lists them. */
  async containerTop(id: string, psArgs?: string, options: { signal?: AbortSignal } = {}): Promise<ContainerTopResponse> {
    const r = await this.request<ContainerTopResponse>('GET', `/containers/${pathParam(id)}/top`, {
      query: { ps_args: psArgs === '' ? undefined : psArgs },
      signal: options.signal,
    });
    return { Titles: r.Titles ?? [], Processes: r.Processes ?? [] };
  }

  /** `GET /containers/{id}/changes` (`null` from dockerd when nothing changed becomes `[]`). */
  async containerChanges(id: string, options: { signal?: AbortSignal } = {}): Promise<FilesystemChange[]> {
    return (await this.request<FilesystemChange[] | null>('GET', `/containers/${pathParam(id)}/changes`, options)) ?? [];
  }

  /** `GET /containers/{id}/export`: the root filesystem as a tar stream. */
  containerExport(id: string, options: { signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.stream('GET', `/containers/${pathParam(id)}/export`, options);
  }

  // ---- events ----

  /**
   * `GET /events?filters=&since=&until=`: yields each event as it arrives; ends when the daemon ends
   * the stream (at `until`). Errors: ApiError for a refused query, ERR_INVALID_JSON for a bad stream.
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<EventMessage> {
    const res = await this.stream('GET', '/events', {
      query: { filters: options.filters, since: options.since, until: options.until },
      signal: options.signal,
    });
    try {
      for await (const msg of decodeJsonObjects(res, parseEventMessage)) yield msg as EventMessage;
    } finally {
      res.destroy();
    }
  }

  // ---- exec ----

  /** `POST /containers/{id}/exec`: registers a command to run in a running container; resolves with its ID. */
  async execCreate(container: string, body: ExecCreateRequest, options: { signal?: AbortSignal } = {}): Promise<string> {
    const r = await this.request<{ Id: string }>('POST', `/containers/${pathParam(container)}/exec`, { body, signal: options.signal });
    return r.Id;
  }

  /**
   * `POST /exec/{id}/start`. Attached (the default): hijacked, resolves with the raw stream (framed
   * unless `tty`) once the daemon answers 101. Detached: resolves once the command runs.
   */
  execStart(id: string, options: { detach: true; tty?: boolean; signal?: AbortSignal }): Promise<undefined>;
  execStart(id: string, options?: { detach?: false; tty?: boolean; signal?: AbortSignal }): Promise<Socket>;
  async execStart(id: string, options: { detach?: boolean; tty?: boolean; signal?: AbortSignal } = {}): Promise<Socket | undefined> {
    const body = { Detach: options.detach === true, Tty: options.tty === true };
    const path = `/exec/${pathParam(id)}/start`;
    if (options.detach === true) {
      await this.request<void>('POST', path, { body, signal: options.signal });
      return undefined;
    }
    return this.hijack(path, undefined, { body, signal: options.signal });
  }

  execInspect(id: string, options: { signal?: AbortSignal } = {}): Promise<ExecInspect> {
    return this.request<ExecInspect>('GET', `/exec/${pathParam(id)}/json`, options);
  }

  async execResize(id: string, height: number, width: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request<void>('POST', `/exec/${pathParam(id)}/resize`, { query: { h: height, w: width }, signal: options.signal });
  }

  // ---- archive (docker cp) ----

  /** `HEAD /containers/{id}/archive?path=`: the stat of a container path (404 ApiError when missing). */
  async statContainerPath(id: string, path: string, options: { signal?: AbortSignal } = {}): Promise<ContainerPathStat> {
    const res = await this.send('HEAD', `/containers/${pathParam(id)}/archive`, { query: { path }, signal: options.signal });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  }

  /** `GET /containers/{id}/archive?path=`: the path's stat and a tar stream of it (read or destroy it). */
  async getContainerArchive(id: string, path: string, options: { signal?: AbortSignal } = {}): Promise<{ stat: ContainerPathStat; tar: IncomingMessage }> {
    const res = await this.send('GET', `/containers/${pathParam(id)}/archive`, { query: { path }, signal: options.signal });
    try {
      return { stat: decodePathStat(res.headers['x-docker-container-path-stat']), tar: res };
    } catch (err) {
      res.destroy();
      throw err;
    }
  }

  /**
   * `PUT /containers/{id}/archive?path=`: extracts `tar` (sent chunked as `text/plain`, like the
   * docker CLI) into the existing directory `path` of the container.
   */
  async putContainerArchive(
    id: string,
    path: string,
    tar: Readable,
    options: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.request<void>('PUT', `/containers/${pathParam(id)}/archive`, {
      query: { copyUIDGID: options.copyUIDGID, noOverwriteDirNonDir: options.noOverwriteDirNonDir, path },
      body: tar,
      contentType: 'text/plain',
      signal: options.signal,
    });
  }

  // ---- images ----

  async listImages(
    options: { all?: boolean; filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {},
  ): Promise<ImageSummary[]> {
    const list = await this.request<ImageSummary[] | null>('GET', '/images/json', {
      query: { all: options.all, filters: options.filters },
      signal: options.signal,
    });
    return list ?? [];
  }

  inspectImage(name: string, options: { signal?: AbortSignal } = {}): Promise<ImageInspect> {
    return this.request<ImageInspect>('GET', `/images/${pathParam(name)}/json`, options);
  }

  /**
   * `docker import`: sends `tar` (a rootfs tarball) chunked to `POST /images/create?fromSrc=-` and
   * resolves with the image ID the progress stream reports (`{"status":"sha256:…"}`).
   * Errors: ProgressError for an in-stream error message; the tar stream's own error if it fails.
   */
  async importImage(tar: Readable, options: ImportImageOptions = {}): Promise<string> {
    const res = await this.send('POST', '/images/create', {
      query: { fromSrc: '-', repo: options.repo, changes: options.changes, message: options.message },
      body: tar,
      contentType: 'text/plain',
      signal: options.signal,
    });
    let id: string | undefined;
    for await (const msg of jsonMessages(res)) {
      if (typeof msg.status === 'string' && /^sha256:[0-9a-f]{64}$/.test(msg.status.trim())) id = msg.status.trim();
    }
    if (id === undefined) throw new EngineError('ERR_INTERNAL', 'the daemon did not report the imported image ID');
    return id;
  }

  // ── registry ─────────────────────────────────────────────────────────────────────────────────

  /**
   * `docker pull`: `POST /images/create?fromImage=&tag=`; yields the progress messages. `registryAuth`
   * is the encoded `X-Registry-Auth` value. Errors: ApiError before the stream, ProgressError in it.
   */
  async *pullImage(fromImage: string, options: { tag?: string; platform?: string; registryAuth?: string; signal?: AbortSignal } = {}): AsyncGenerator<JsonMessage> {
    const res = await this.send('POST', '/images/create', {
      query: { fromImage, tag: options.tag, platform: options.platform },
      headers: { 'X-Registry-Auth': options.registryAuth ?? '' }, signal: options.signal,
    });
    yield* jsonMessages(res);
  }

  /** `docker push`: `POST /images/{name}/push?tag=` (no tag = every tag); yields the progress messages. */
  async *pushImage(name: string, options: { tag?: string; registryAuth?: string; signal?: AbortSignal } = {}): AsyncGenerator<JsonMessage> {
    const res = await this.send('POST', `/images/${pathParam(name)}/push`, {
      query: { tag: options.tag }, headers: { 'X-Registry-Auth': options.registryAuth ?? '' }, signal: options.signal,
    });
    yield* jsonMessages(res);
  }

  /** `docker login`: `POST /auth`; the daemon checks the credentials against the registry. */
  async login(auth: { username: string; password: string; serveraddress: string }, options: { signal?: AbortSignal } = {}): Promise<{ Status: string; IdentityToken?: string }> {
    return this.request('POST', '/auth', { body: auth, signal: options.signal });
  }

  // ── local image management ───────────────────────────────────────────────────────────────────

  async tagImage(source: string, repo: string, tag?: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag }, signal: options.signal });
  }

  async removeImage(name: string, options: { force?: boolean; noPrune?: boolean; signal?: AbortSignal } = {}): Promise<({ Untagged: string } | { Deleted: string })[]> {
    return this.request('DELETE', `/images/${encodeURIComponent(name)}`, {
      query: { force: options.force ? '1' : undefined, noprune: options.noPrune ? '1' : undefined }, signal: options.signal,
    });
  }

  async imageHistory(name: string, options: { signal?: AbortSignal } = {}): Promise<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }[]> {
    return this.request('GET', `/images/${encodeURIComponent(name)}/history`, { signal: options.signal });
  }

  async pruneImages(options: { filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {}): Promise<{ ImagesDeleted: ({ Untagged?: string; Deleted?: string })[] | null; SpaceReclaimed: number }> {
    return this.request('POST', '/images/prune', { query: { filters: options.filters }, signal: options.signal });
  }

  /** `GET /system/df`: the raw answer (Images, Containers, Volumes, BuildCache, LayersSize). */
  async systemDf(options: { signal?: AbortSignal } = {}): Promise<{ LayersSize: number; Images: ImageSummary[]; Containers: (ContainerSummary & { SizeRw?: number; SizeRootFs?: number })[]; Volumes: unknown[]; BuildCache: unknown[] }> {
    return this.request('GET', '/system/df', { signal: options.signal });
  }

  /** `docker save`: the archive stream. */
  saveImages(names: string[], options: { signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.stream('GET', '/images/get', { query: { names }, signal: options.signal });
  }

  /** `docker load`: yields the `stream` lines; a failed load throws ProgressError. */
  async *loadImages(tar: Readable, options: { quiet?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const res = await this.send('POST', '/images/load', { query: { quiet: options.quiet === false ? '0' : '1' }, body: tar, contentType: 'application/x-tar', signal: options.signal });
    for await (const msg of jsonMessages(res)) if (typeof msg.stream === 'string') yield msg.stream;
  }

  // ── networks ──────────────────────────────────────────────────────────────────────────────────

  async listNetworks(options: { filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {}): Promise<NetworkSummary[]> {
    return this.request('GET', '/networks', { query: { filters: options.filters }, signal: options.signal });
  }

  async inspectNetwork(id: string, options: { signal?: AbortSignal } = {}): Promise<NetworkSummary> {
    return this.request('GET', `/networks/${encodeURIComponent(id)}`, { signal: options.signal });
  }

  async createNetwork(body: NetworkCreateRequest, options: { signal?: AbortSignal } = {}): Promise<{ Id: string; Warning?: string }> {
    return this.request('POST', '/networks/create', { body, signal: options.signal });
  }

  async removeNetwork(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request('DELETE', `/networks/${encodeURIComponent(id)}`, { signal: options.signal });
  }

  async pruneNetworks(options: { filters?: Record<string, Record<string, boolean>>; signal?: AbortSignal } = {}): Promise<{ NetworksDeleted: string[] | null }> {
    return this.request('POST', '/networks/prune', { query: { filters: options.filters }, signal: options.signal });
  }

  async connectNetwork(
    id: string, container: string, endpoint: { IPAMConfig?: { IPv4Address: string }; Aliases?: string[] } = {}, options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.request('POST', `/networks/${encodeURIComponent(id)}/connect`, { body: { Container: container, EndpointConfig: endpoint }, signal: options.signal });
  }

  async disconnectNetwork(id: string, container: string, force: boolean, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request('POST', `/networks/${encodeURIComponent(id)}/disconnect`, { body: { Container: container, Force: force }, signal: options.signal });
  }
}
