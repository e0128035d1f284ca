/**
 * Local image management routes: tag, remove, history, prune, save (`/images/get`), load and
 * `/system/df`. The work is in engine/local-images.ts; this file maps the wire.
 */
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import { familiarName } from '../../image/reference.js';
import type { ImageRecord } from '../../model/image.js';
import { toDockerSummary } from '../docker/container-view.js';
import { networkViewContext } from '../docker/network-view.js';
import { toDockerImageSummary } from '../docker/image-view.js';
import { labelsMatch, parseUntil } from '../docker/ps-filter.js';
import { messageOf, sendError } from '../errors.js';
import { queryBool, queryFilters, resOf, sendEmpty, sendJson } from '../respond.js';
import type { RouteContext, Router } from '../router.js';

export function localImageRoutes(router: Router, engine: Engine): void {
  const svc = engine.localImages;

  router.add('POST', '/images/{name*}/tag', async (ctx) => {
    svc.tag(ctx.params['name']!, ctx.query.get('repo') ?? '', ctx.query.get('tag') ?? '');
    sendEmpty(ctx, 201);
  });

  router.add('DELETE', '/images/{name*}', async (ctx) => {
    const items = await svc.remove(ctx.params['name']!, { force: queryBool(ctx.query, 'force'), prune: !queryBool(ctx.query, 'noprune') });
    sendJson(ctx, 200, items);
  });

  router.add('GET', '/images/{name*}/history', async (ctx) => {
    sendJson(ctx, 200, svc.history(ctx.params['name']!).map((h) => ({
      Comment: h.comment, Created: h.created, CreatedBy: h.createdBy, Id: h.id, Size: h.size, Tags: h.tags,
    })));
  });

  router.add('POST', '/images/prune', async (ctx) => {
    const f = queryFilters(ctx.query, ['dangling', 'until', 'label', 'label!']);
    let danglingOnly = true;
    for (const v of f.get('dangling') ?? []) danglingOnly = parseDangling(v);
    const until = (f.get('until') ?? []).map((v) => parseUntil(v));
    const keep = (img: ImageRecord) =>
      until.every((t) => Date.parse(img.created) < t) &&
      labelsMatch(img.config.config.labels, f.get('label') ?? []) &&
      (f.get('label!') ?? []).every((l) => !labelsMatch(img.config.config.labels, [l]));
    const r = await svc.prune({ danglingOnly, keep });
    sendJson(ctx, 200, { ImagesDeleted: r.deleted.length ? r.deleted : null, SpaceReclaimed: r.spaceReclaimed });
  });

  router.add('GET', '/system/df', async (ctx) => {
    const du = await svc.diskUsage();
    const imageName = (id: string) => {
      const img = engine.images.find(id);
      return img?.repoTags[0] ? familiarName(img.repoTags[0]) : id;
    };
    sendJson(ctx, 200, {
      LayersSize: du.layersSize,
      Images: du.images.map((i) => ({ ...toDockerImageSummary(i.image, i.image.repoTags.map(familiarName), i.containers), SharedSize: i.sharedSize })),
      Containers: du.containers.map((c) => ({ ...toDockerSummary(c.container, { imageName: imageName(c.container.imageId), networks: networkViewContext(engine) }), SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs })),
      Volumes: [],
      BuildCache: [],
    });
  });

  const save = async (ctx: RouteContext, names: string[]) => {
    const stream = await svc.save(names);
    const res = resOf(ctx);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(stream, res);
    } catch (err) {
      sendError(res, err); // headers are out: this ends the connection, so the client sees a broken tar
    }
  };
  router.add('GET', '/images/get', async (ctx) => save(ctx, ctx.query.getAll('names')));
  router.add('GET', '/images/{name*}/get', async (ctx) => save(ctx, [ctx.params['name']!]));

  router.add('POST', '/images/load', async (ctx) => {
    queryBool(ctx.query, 'quiet');
    const res = resOf(ctx);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const line = (v: unknown) => res.write(`${JSON.stringify(v)}\n`);
    try {
      await svc.load(ctx.req, (img) => {
        for (const t of img.tags) line({ stream: `Loaded image: ${familiarName(t)}\n` });
        if (img.tags.length === 0) line({ stream: `Loaded image ID: ${img.id}\n` });
      });
    } catch (err) {
      const message = messageOf(err);
      line({ errorDetail: { message }, error: message });
    }
    res.end();
  });
}

function parseDangling(v: string): boolean {
  const l = v.toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  throw new EngineError('ERR_INVALID_FILTER', `Invalid filter 'dangling=${v}'`);
}
