/**
 * `docker exec` routes: `POST /containers/{id}/exec`, `POST /exec/{id}/start` (hijacked: 101 with
 * Upgrade, the old 200 raw-stream form without; `{"Detach":true}` answers 200 at once),
 * `POST /exec/{id}/resize` and `GET /exec/{id}/json`. Parse, call the engine, map; no business logic.
 */
import type { Duplex } from 'node:stream';
import type { Engine } from '../../engine/engine.js';
import { parseDetachKeys } from '../../engine/attach-hub.js';
import type { ExecConfig, ExecRecord } from '../../engine/exec.js';
import { EngineError } from '../../errors.js';
import { messageOf } from '../errors.js';
import { handleResize, sendEmpty, sendJson } from '../respond.js';
import type { RouteContext, Router } from '../router.js';
import { hijack, streamContentType } from '../stream/hijack.js';
import { frame, STDERR, STDOUT } from '../stream/mux.js';

/** A hijacked client that lets this much output pile up unread is disconnected (as for attach). */
const MAX_EXEC_BACKLOG = 16 * 1024 * 1024;
/** Largest exec start body read from an upgraded connection (it is a few bytes of JSON). */
const MAX_START_BODY = 64 * 1024;

export function execRoutes(router: Router, engine: Engine): void {
  const svc = engine.exec;

  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const id = await svc.create(ctx.params['id']!, fromDockerExecCreate(await ctx.json(), ctx.apiVersion));
    sendJson(ctx, 201, { Id: id });
  });

  router.add('POST', '/exec/{id}/start', async (ctx) => start(ctx, engine));

  router.add('POST', '/exec/{id}/resize', (ctx) => handleResize(ctx, (id, h, w) => svc.resize(id, h, w)));

  router.add('GET', '/exec/{id}/json', async (ctx) => {
    sendJson(ctx, 200, toDockerExecInspect(svc.inspect(ctx.params['id']!)));
  });
}

/** `POST /exec/{id}/start`: errors before the hijack are HTTP errors; after it they go into the stream (as dockerd does). */
async function start(ctx: RouteContext, engine: Engine): Promise<void> {
  const svc = engine.exec;
  const id = ctx.params['id']!;
  const { body, rest } = ctx.res ? { body: await ctx.json(), rest: Buffer.alloc(0) } : await readUpgradeBody(ctx);
  const opts = fromDockerExecStart(body, ctx.apiVersion);
  const rec = svc.checkStartable(id);

  if (opts.detach) {
    await svc.start(id, { detach: true, ...(opts.consoleSize ? { consoleSize: opts.consoleSize } : {}) });
    if (ctx.res) sendEmpty(ctx, 200);
    else ctx.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }

  const tty = rec.config.tty;
  const { input, output, head } = hijack(ctx.req, ctx.res, ctx.socket, ctx.head, streamContentType(ctx.apiVersion, tty));
  // Bytes after the body (upgrade form) are the first stdin.
  const stdinHead = Buffer.concat([rest, head]);
  const send = (stream: number, chunk: Buffer) => {
    if (output.destroyed || output.writableEnded) return;
    output.write(tty ? chunk : frame(stream, chunk));
    if (output.writableLength > MAX_EXEC_BACKLOG) output.destroy();
  };
  let finished = false;
  let gone = false;
  const end = () => {
    finished = true;
    if (!output.destroyed && !output.writableEnded) output.end();
  };
  output.on('close', () => (gone = true));
  output.on('error', () => (gone = true));

  let handle;
  try {
    handle = await svc.start(id, {
      detach: false,
      sink: { stdout: (b) => send(STDOUT, b), stderr: (b) => send(STDERR, b), end },
      ...(opts.consoleSize ? { consoleSize: opts.consoleSize } : {}),
    });
  } catch (err) {
    // dockerd writes the failure as text on the (stdout) stream; the exit code is in the record.
    send(STDOUT, Buffer.from(`${messageOf(err)}\r\n`));
    end();
    input.resume();
    return;
  }
  if (!handle) return;
  const h = handle;
  const detach = () => {
    if (!finished) h.detach();
  };
  if (gone) detach();
  output.on('close', detach);
  output.on('error', detach);
  if (rec.config.attachStdin && ctx.res) {
    // The old 200 form: the request body (already read) was all the client sent; stdin is at its end.
    h.endStdin();
  } else if (rec.config.attachStdin) {
    if (stdinHead.length) h.writeStdin(stdinHead);
    input.on('data', (d: Buffer) => h.writeStdin(d));
    input.on('end', () => h.endStdin());
  } else {
    input.resume(); // the client's FIN only means "no stdin"
  }
}

/**
 * The JSON body of an Upgrade request. Node hands such a request over without reading its body:
 * the body's bytes are at the start of `head` (or still to come on the socket); bytes after it are
 * already the client's stdin and are returned in `rest`.
 */
async function readUpgradeBody(ctx: RouteContext): Promise<{ body: unknown; rest: Buffer }> {
  const raw = ctx.req.headers['content-length'];
  const length = raw === undefined ? 0 : Number(raw);
  if (!Number.isSafeInteger(length) || length < 0) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid Content-Length: ${raw}`);
  if (length > MAX_START_BODY) throw new EngineError('ERR_LIMIT_EXCEEDED', `request body is larger than ${MAX_START_BODY} bytes`);
  if (ctx.req.headers['transfer-encoding'] !== undefined) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'a chunked body is not supported on an upgraded exec start');
  }
  let buf = ctx.head;
  while (buf.length < length) {
    const more = await readSome(ctx.socket);
    if (more === null) throw new EngineError('ERR_INVALID_ARGUMENT', 'the connection ended inside the request body');
    buf = Buffer.concat([buf, more]);
  }
  const type = ctx.req.headers['content-type'];
  if (length > 0 && type !== undefined && !/^application\/json\b/.test(type) && !/^text\/plain\b/.test(type)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `Content-Type specified (${type}) must be 'application/json'`);
  }
  let body: unknown;
  if (length > 0) {
    try {
      body = JSON.parse(buf.subarray(0, length).toString('utf8'));
    } catch (err) {
      throw new EngineError('ERR_INVALID_JSON', `invalid JSON in request body: ${(err as Error).message}`);
    }
  }
  ctx.head = Buffer.alloc(0);
  return { body, rest: buf.subarray(length) };
}

/** Reads what is available from a paused stream (null at its end), leaving it paused. */
function readSome(s: Duplex): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (v: Buffer | null, err?: Error) => {
      s.off('readable', tryRead);
      s.off('end', onEnd);
      s.off('error', onError);
      if (err) reject(err);
      else resolve(v);
    };
    const tryRead = () => {
      const chunk = s.read() as Buffer | null;
      if (chunk !== null) done(chunk);
    };
    const onEnd = () => done(null);
    const onError = (err: Error) => done(null, err);
    s.on('readable', tryRead);
    s.once('end', onEnd);
    s.once('error', onError);
    tryRead();
  });
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new EngineError('ERR_INVALID_ARGUMENT', `${what}: the body must be a JSON object`);
  return body as Record<string, unknown>;
}

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new EngineError('ERR_INVALID_ARGUMENT', `${key} must be a boolean`);
  return v;
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new EngineError('ERR_INVALID_ARGUMENT', `${key} must be a string`);
  return v;
}

function strings(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new EngineError('ERR_INVALID_ARGUMENT', `${key} must be a list of strings`);
  return v as string[];
}

/** `ConsoleSize` [height, width]: honoured from API 1.42 on (dockerd drops it before). */
function consoleSize(o: Record<string, unknown>, apiVersion: number): [number, number] | null {
  const v = o['ConsoleSize'];
  if (v === undefined || v === null || apiVersion < 1.42) return null;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'ConsoleSize must be [height, width]');
  }
  return [v[0] as number, v[1] as number];
}

/** The `POST /containers/{id}/exec` body → ExecConfig. */
export function fromDockerExecCreate(body: unknown, apiVersion: number): ExecConfig {
  const o = asObject(body, 'exec create');
  const cmd = strings(o, 'Cmd');
  if (cmd.length === 0) throw new EngineError('ERR_INVALID_ARGUMENT', 'No exec command specified');
  const detachKeys = str(o, 'DetachKeys');
  if (detachKeys !== '') parseDetachKeys(detachKeys);
  return {
    cmd,
    env: strings(o, 'Env'),
    user: str(o, 'User'),
    workingDir: str(o, 'WorkingDir'),
    tty: bool(o, 'Tty'),
    attachStdin: bool(o, 'AttachStdin'),
    attachStdout: bool(o, 'AttachStdout'),
    attachStderr: bool(o, 'AttachStderr'),
    privileged: bool(o, 'Privileged'),
    detachKeys,
    consoleSize: consoleSize(o, apiVersion),
  };
}

/** The `POST /exec/{id}/start` body (`Tty` is the create's business; dockerd uses it only for framing). */
export function fromDockerExecStart(body: unknown, apiVersion: number): { detach: boolean; consoleSize: [number, number] | null } {
  const o = asObject(body, 'exec start');
  return { detach: bool(o, 'Detach'), consoleSize: bool(o, 'Tty') ? consoleSize(o, apiVersion) : null };
}

/** `GET /exec/{id}/json`, in dockerd's shape (`ExitCode` null until the process has ended). */
export function toDockerExecInspect(rec: ExecRecord) {
  const c = rec.config;
  return {
    ID: rec.id,
    Running: rec.status === 'starting' || rec.status === 'running',
    ExitCode: rec.exitCode,
    ProcessConfig: {
      tty: c.tty,
      entrypoint: c.cmd[0] ?? '',
      arguments: c.cmd.slice(1),
      privileged: c.privileged,
      ...(rec.user !== '' ? { user: rec.user } : {}),
    },
    OpenStdin: c.attachStdin,
    OpenStderr: c.attachStderr,
    OpenStdout: c.attachStdout,
    CanRemove: false,
    ContainerID: rec.containerId,
    // dockerd keeps the parsed keys as bytes, which Go's JSON writes as base64.
    DetachKeys: c.detachKeys === '' ? '' : parseDetachKeys(c.detachKeys).toString('base64'),
    Pid: rec.pid,
  };
}
