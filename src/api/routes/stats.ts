/** `GET /containers/{id}/stats` and `GET /containers/{id}/top`. */
import type { ServerResponse } from 'node:http';
import type { Engine } from '../../engine/engine.js';
import { StatsService } from '../../engine/stats.js';
import { EngineError } from '../../errors.js';
import { toDockerStats } from '../docker/stats-view.js';
import { queryBool, resOf, sendJson } from '../respond.js';
import type { Router } from '../router.js';

/** Resolves when `res` can take more data or is gone (listeners removed either way). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function statsRoutes(router: Router, engine: Engine, stats = new StatsService(engine.containers)): void {
  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    const stream = queryBool(ctx.query, 'stream', true);
    const oneShot = queryBool(ctx.query, 'one-shot');
    if (stream && oneShot) throw new EngineError('ERR_INVALID_ARGUMENT', 'cannot have stream=true and one-shot=true');
    const res = resOf(ctx);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const { frames } = stats.frames(ctx.params['id']!, { stream, oneShot, signal: abort.signal });
    if (!stream) {
      // one object, sent whole once it is known (a failure before it is still a plain HTTP error)
      for await (const f of frames) {
        const body = `${JSON.stringify(toDockerStats(f))}\n`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      throw new EngineError('ERR_INTERNAL', 'no stats sample');
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    for await (const f of frames) {
      if (res.destroyed) break;
      // one object per write, so each goes out at once; the next sample waits for the client
      if (!res.write(`${JSON.stringify(toDockerStats(f))}\n`)) await drained(res);
    }
    if (!res.destroyed) res.end();
  });

  router.add('GET', '/containers/{id}/top', async (ctx) => {
    const r = await stats.top(ctx.params['id']!, ctx.query.get('ps_args'));
    sendJson(ctx, 200, { Processes: r.processes, Titles: r.titles });
  });
}
