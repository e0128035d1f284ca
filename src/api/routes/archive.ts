/**
 * `HEAD`, `GET` and `PUT /containers/{id}/archive` (docker cp), with dockerd's status codes and
 * messages. The stat of the path travels in `X-Docker-Container-Path-Stat`: base64 of
 * `{"name","size","mode","mtime","linkTarget"}` where `mode` uses Go's `os.FileMode` bits (the
 * docker CLI decodes it with Go's JSON into an `os.FileMode`) and `mtime` is RFC 3339 with
 * nanoseconds. The request body of a PUT is a tar stream (the CLI sends it chunked as `text/plain`).
 */
import { pipeline } from 'node:stream/promises';
import { ArchiveService, type PathStat } from '../../engine/archive.js';
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import { queryBool, resOf, sendEmpty } from '../respond.js';
import type { RouteContext, Router } from '../router.js';

export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

// Go's os.FileMode type bits (io/fs): numbers, not bit operations (bit 31 would make them negative).
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_NAMED_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHAR_DEVICE = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** POSIX `st_mode` → Go's `os.FileMode` (as `os.Lstat` fills it on Linux). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & 0o170000) {
    case 0o040000:
      m += GO_DIR;
      break;
    case 0o120000:
      m += GO_SYMLINK;
      break;
    case 0o060000:
      m += GO_DEVICE;
      break;
    case 0o020000:
      m += GO_DEVICE + GO_CHAR_DEVICE;
      break;
    case 0o010000:
      m += GO_NAMED_PIPE;
      break;
    case 0o140000:
      m += GO_SOCKET;
      break;
  }
  if (mode & 0o4000) m += GO_SETUID;
  if (mode & 0o2000) m += GO_SETGID;
  if (mode & 0o1000) m += GO_STICKY;
  return m;
}

/** Nanoseconds since the epoch → Go's RFC 3339 with nanoseconds in UTC (`…T14:48:39.3934613Z`). */
export function rfc3339Nano(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const digits = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${digits}Z`;
}

/** The `X-Docker-Container-Path-Stat` header value. */
export function pathStatHeader(s: PathStat): string {
  const json = JSON.stringify({ name: s.name, size: s.size, mode: goFileMode(s.mode), mtime: rfc3339Nano(s.mtimeNs), linkTarget: s.linkTarget });
  return Buffer.from(json).toString('base64');
}

function pathOf(ctx: RouteContext): string {
  const path = ctx.query.get('path');
  if (path === null || path === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'Path cannot be empty');
  return path;
}

export function archiveRoutes(router: Router, engine: Engine, archive = new ArchiveService(engine.containers)): void {
  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const stat = await archive.stat(ctx.params['id']!, pathOf(ctx));
    const res = resOf(ctx);
    res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/json', 'Content-Length': 0 });
    res.end();
  });

  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const path = pathOf(ctx);
    const res = resOf(ctx);
    const abort = new AbortController();
    res.on('close', () => abort.abort(new EngineError('ERR_UNAVAILABLE', 'the client went away')));
    const { stat, tar } = await archive.read(ctx.params['id']!, path, { signal: abort.signal });
    res.writeHead(200, { 'Content-Type': 'application/x-tar', [PATH_STAT_HEADER]: pathStatHeader(stat) });
    // A failure after this point can only cut the stream (the server destroys the response).
    await pipeline(tar, res);
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    const path = pathOf(ctx);
    const res = resOf(ctx);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new EngineError('ERR_UNAVAILABLE', 'the client went away'));
    });
    try {
      await archive.write(ctx.params['id']!, path, ctx.req, {
        noOverwriteDirNonDir: queryBool(ctx.query, 'noOverwriteDirNonDir'),
        copyUIDGID: queryBool(ctx.query, 'copyUIDGID'),
        signal: abort.signal,
      });
    } catch (err) {
      // Refused before a byte of the upload was read (no such path, read-only rootfs): Node reads
      // and discards the rest of the body after the answer, so the client, still sending, reads
      // the error instead of failing on a closed socket. Half read: answer, then close the
      // connection instead of parsing the rest of the body as the next request.
      if (!ctx.req.complete && ctx.req.readableDidRead) res.setHeader('Connection', 'close');
      throw err;
    }
    sendEmpty(ctx, 200);
  });
}
