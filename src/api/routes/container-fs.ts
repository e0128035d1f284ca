/** `GET /containers/{id}/changes` and `GET /containers/{id}/export`. */
import { pipeline } from 'node:stream/promises';
import { ContainerFsService } from '../../engine/container-fs.js';
import type { Engine } from '../../engine/engine.js';
import { resOf, sendJson } from '../respond.js';
import type { Router } from '../router.js';

export function containerFsRoutes(router: Router, engine: Engine, fs = new ContainerFsService(engine.containers)): void {
  router.add('GET', '/containers/{id}/changes', async (ctx) => {
    const changes = await fs.changes(ctx.params['id']!);
    sendJson(ctx, 200, changes.map((c) => ({ Path: c.path, Kind: c.kind })));
  });

  router.add('GET', '/containers/{id}/export', async (ctx) => {
    const res = resOf(ctx);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const { tar } = await fs.export(ctx.params['id']!, { signal: abort.signal });
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    // A failure after this point can only cut the stream (the server destroys the response).
    await pipeline(tar, res);
  });
}
