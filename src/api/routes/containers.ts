/** `/containers/*` routes: parse the request, call the engine, map the answer. No business logic here. */
import { once } from 'node:events';
import type { Engine } from '../../engine/engine.js';
import type { WaitCondition } from '../../engine/containers.js';
import { parseDetachKeys } from '../../engine/attach-hub.js';
import { familiarName } from '../../image/reference.js';
import { EngineError } from '../../errors.js';
import { dockerTimestamp, type LogEntry } from '../../logs/cri-log.js';
import type { ContainerRecord } from '../../model/container.js';
import { fromDockerCreate } from '../docker/container-create.js';
import { toDockerInspect, toDockerSummary } from '../docker/container-view.js';
import { networkViewContext } from '../docker/network-view.js';
import { PS_FILTER_KEYS, psPredicate } from '../docker/ps-filter.js';
import { handleResize, queryBool, queryFilters, queryInt, resOf, sendEmpty, sendJson } from '../respond.js';
import type { RouteContext, Router } from '../router.js';
import { hijack, streamContentType } from '../stream/hijack.js';
import { frame, STDERR, STDOUT } from '../stream/mux.js';

/** A hijacked client that lets this much output pile up unread is disconnected (the log keeps it all). */
const MAX_ATTACH_BACKLOG = 16 * 1024 * 1024;

export function containerRoutes(router: Router, engine: Engine): void {
  const svc = engine.containers;
  const networks = networkViewContext(engine);
  const imageName = (c: ContainerRecord) => {
    const tag = svc.imageOf(c)?.repoTags[0];
    return tag ? familiarName(tag) : undefined;
  };

  router.add('POST', '/containers/create', async (ctx) => {
    const platform = ctx.query.get('platform');
    if (platform && !/^linux(\/|$)/.test(platform)) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `platform ${platform} is not supported: brig runs linux containers`);
    }
    const { spec, warnings } = fromDockerCreate(await ctx.json());
    const name = ctx.query.get('name');
    const r = await svc.create(spec, name ?? undefined);
    sendJson(ctx, 201, { Id: r.id, Warnings: [...warnings, ...r.warnings] });
  });

  router.add('GET', '/containers/json', async (ctx) => {
    const filters = queryFilters(ctx.query, PS_FILTER_KEYS);
    const keep = psPredicate(filters, {
      container: (ref) => svc.get(ref),
      hasAncestor: (c, ref) => {
        const img = engine.images.find(ref);
        return img !== undefined && img.id === c.imageId;
      },
    });
    const limit = queryInt(ctx.query, 'limit') ?? -1;
    const all = queryBool(ctx.query, 'all') || limit > 0 || filters.size > 0;
    let list = svc.list().filter((c) => all || c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting');
    list = list.filter(keep);
    if (limit > 0) list = list.slice(0, limit);
    const size = queryBool(ctx.query, 'size');
    const out = [];
    for (const c of list) {
      const item: Record<string, unknown> = toDockerSummary(c, { imageName: imageName(c), networks });
      if (size) {
        const s = await svc.sizes(c);
        item['SizeRw'] = s.rw;
        item['SizeRootFs'] = s.rootFs;
      }
      out.push(item);
    }
    sendJson(ctx, 200, out);
  });

  router.add('GET', '/containers/{id}/json', async (ctx) => {
    const c = svc.get(ctx.params['id']!);
    sendJson(ctx, 200, toDockerInspect(c, {
      image: svc.imageOf(c), imageName: imageName(c), logPath: svc.logPath(c.id), containerDir: svc.containerDir(c.id),
      execIds: engine.exec.idsOf(c.id), networks, hostname: svc.hostnameOf(c),
    }));
  });

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    if (ctx.query.get('detachKeys')) {
      // Only meaningful for attach; accepted and ignored like Docker does here.
    }
    await svc.start(ctx.params['id']!);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    const t = queryInt(ctx.query, 't') ?? queryInt(ctx.query, 'timeout');
    await svc.stop(ctx.params['id']!, t, ctx.query.get('signal') || undefined);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await svc.kill(ctx.params['id']!, ctx.query.get('signal') || 'SIGKILL');
    sendEmpty(ctx, 204);
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    if (queryBool(ctx.query, 'link')) throw new EngineError('ERR_NOT_IMPLEMENTED', 'links are not supported by brig yet');
    await svc.remove(ctx.params['id']!, { force: queryBool(ctx.query, 'force') });
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const raw = ctx.query.get('condition') || 'not-running';
    let condition: WaitCondition = 'not-running';
    if (raw === 'not-running' || raw === 'next-exit' || raw === 'removed') condition = raw;
    else if (ctx.apiVersion >= 1.42) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid condition: "${raw}"`);
    const waiter = svc.wait(ctx.params['id']!, condition);
    const res = resOf(ctx);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.on('close', () => {
      if (!res.writableEnded) waiter.cancel();
    });
    const r = await waiter.result;
    if (!res.destroyed) res.end(`${JSON.stringify({ Error: r.error === null ? null : { Message: r.error }, StatusCode: r.statusCode })}\n`);
  });

  router.add('POST', '/containers/{id}/resize', (ctx) => handleResize(ctx, (id, h, w) => svc.resize(id, h, w)));

  router.add('POST', '/containers/{id}/attach', async (ctx) => attach(ctx, engine));

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const wantOut = queryBool(ctx.query, 'stdout');
    const wantErr = queryBool(ctx.query, 'stderr');
    if (!wantOut && !wantErr) throw new EngineError('ERR_INVALID_ARGUMENT', 'Bad parameters: you must choose at least one stream');
    const tailRaw = ctx.query.get('tail');
    let tail: number | undefined;
    if (tailRaw !== null && tailRaw !== '' && tailRaw !== 'all') {
      if (!/^[0-9]+$/.test(tailRaw)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid value for tail: ${tailRaw}`);
      tail = Number(tailRaw);
    }
    const res = resOf(ctx);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const since = parseUnixNs(ctx.query.get('since'), 'since');
    const until = parseUnixNs(ctx.query.get('until'), 'until');
    const { container, entries } = svc.logs(ctx.params['id']!, {
      follow: queryBool(ctx.query, 'follow'),
      ...(since !== undefined && since > 0n ? { sinceNs: since } : {}),
      ...(until !== undefined && until > 0n ? { untilNs: until } : {}),
      ...(tail !== undefined ? { tail } : {}),
      signal: abort.signal,
    });
    const tty = container.spec.tty;
    const headers: Record<string, string> = {};
    if (ctx.apiVersion >= 1.42) headers['Content-Type'] = streamContentType(ctx.apiVersion, tty);
    res.writeHead(200, headers);
    res.flushHeaders();
    const timestamps = queryBool(ctx.query, 'timestamps');
    for await (const e of entries) {
      if (res.destroyed) break;
      if ((e.stream === 'stdout' && !wantOut) || (e.stream === 'stderr' && !wantErr)) continue;
      const payload = timestamps ? Buffer.concat([Buffer.from(`${dockerTimestamp(e)} `), e.data]) : e.data;
      if (!res.write(tty ? payload : frame(e.stream === 'stdout' ? STDOUT : STDERR, payload))) {
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
    }
    if (!res.destroyed) res.end();
  });
}

/** `POST /containers/{id}/attach`: hijack the connection and bridge it to the container's stdio. */
async function attach(ctx: RouteContext, engine: Engine): Promise<void> {
  const svc = engine.containers;
  const c = svc.get(ctx.params['id']!);
  const q = ctx.query;
  const wantStdin = queryBool(q, 'stdin');
  const wantOut = queryBool(q, 'stdout');
  const wantErr = queryBool(q, 'stderr');
  const stream = queryBool(q, 'stream');
  const logs = queryBool(q, 'logs');
  if (!stream && !logs) throw new EngineError('ERR_INVALID_ARGUMENT', 'Bad parameters: you must choose at least one of stream or logs');
  const tty = c.spec.tty;
  if (c.state.status !== 'created' && c.state.status !== 'running' && c.state.status !== 'exited') {
    throw new EngineError('ERR_CONFLICT', `You cannot attach to a container in state ${c.state.status}`);
  }
  const detachKeys = q.get('detachKeys');
  if (detachKeys) parseDetachKeys(detachKeys); // refuse bad keys before the connection is taken over
  const { input, output, head } = hijack(ctx.req, ctx.res, ctx.socket, ctx.head, streamContentType(ctx.apiVersion, tty));
  const send = (id: number, chunk: Buffer) => {
    if (output.destroyed || output.writableEnded) return;
    output.write(tty ? chunk : frame(id, chunk));
    if (output.writableLength > MAX_ATTACH_BACKLOG) output.destroy();
  };
  if (logs) {
    const { entries } = svc.logs(c.id, { follow: false });
    for await (const e of entries as AsyncIterable<LogEntry>) {
      if ((e.stream === 'stdout' && wantOut) || (e.stream === 'stderr' && wantErr)) send(e.stream === 'stdout' ? STDOUT : STDERR, e.data);
    }
  }
  if (!stream) {
    output.end();
    return;
  }
  let finished = false;
  const handle = await svc.attach(c.id, {
    ...(detachKeys ? { detachKeys } : {}),
    stdin: wantStdin,
    sink: {
      stdout: (b) => wantOut && send(STDOUT, b),
      stderr: (b) => wantErr && send(STDERR, b),
      end: () => {
        finished = true;
        if (!output.destroyed && !output.writableEnded) output.end();
      },
    },
  });
  output.on('close', () => {
    if (!finished) handle.detach();
  });
  output.on('error', () => handle.detach());
  if (wantStdin) {
    if (head.length) handle.writeStdin(head);
    input.on('data', (d: Buffer) => handle.writeStdin(d));
    input.on('end', () => handle.endStdin());
  } else {
    input.resume();
  }
}

function parseUnixNs(v: string | null, what: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(v);
  if (!m) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid value for ${what}: ${v}`);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
