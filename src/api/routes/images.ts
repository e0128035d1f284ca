/** `/images/*` routes. */
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import { familiarName } from '../../image/reference.js';
import type { ImageRecord } from '../../model/image.js';
import { toDockerImageInspect, toDockerImageSummary } from '../docker/image-view.js';
import { queryBool, queryFilters, resOf, sendJson } from '../respond.js';
import type { Router } from '../router.js';
import { pullImage } from './registry.js';

export function imageRoutes(router: Router, engine: Engine): void {
  const tags = (img: ImageRecord) => img.repoTags.map(familiarName);
  const usage = () => {
    const counts = new Map<string, number>();
    for (const c of engine.containers.list()) counts.set(c.imageId, (counts.get(c.imageId) ?? 0) + 1);
    return counts;
  };

  router.add('GET', '/images/json', async (ctx) => {
    const filters = queryFilters(ctx.query, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
    for (const k of filters.keys()) {
      if (!['dangling', 'reference', 'label'].includes(k)) {
        throw new EngineError('ERR_NOT_IMPLEMENTED', `the images filter '${k}' is not supported by brig yet`);
      }
    }
    const all = queryBool(ctx.query, 'all');
    void all; // brig has no intermediate images: every image is a top-level image.
    const counts = usage();
    const out = engine.images.list().filter((img) => {
      const t = tags(img);
      const dangling = filters.get('dangling');
      if (dangling?.length && (dangling.includes('true') || dangling.includes('1')) !== (t.length === 0)) return false;
      const refs = filters.get('reference');
      if (refs?.length && !refs.some((r) => t.some((tag) => refMatches(r, tag)))) return false;
      const labels = filters.get('label') ?? [];
      for (const l of labels) {
        const [k, v] = l.split('=', 2) as [string, string | undefined];
        const have = img.config.config.labels[k];
        if (have === undefined || (v !== undefined && have !== v)) return false;
      }
      return true;
    });
    sendJson(ctx, 200, out.map((img) => toDockerImageSummary(img, tags(img), counts.get(img.id) ?? 0)));
  });

  router.add('GET', '/images/{name*}/json', async (ctx) => {
    const img = engine.images.resolve(ctx.params['name']!);
    sendJson(ctx, 200, toDockerImageInspect(img, tags(img)));
  });

  router.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromImage) return pullImage(ctx, engine, fromImage);
    if (fromSrc !== '-') {
      if (fromSrc) throw new EngineError('ERR_NOT_IMPLEMENTED', `importing from a URL (${fromSrc}) is not supported by brig yet`);
      throw new EngineError('ERR_INVALID_ARGUMENT', 'either fromSrc or fromImage must be given');
    }
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    const image = await engine.images.importRootfs(ctx.req, {
      ...(repo ? { repo: tag ? `${repo}:${tag}` : repo } : {}),
      changes: ctx.query.getAll('changes'),
      message: ctx.query.get('message') ?? '',
    });
    const res = resOf(ctx);
    const body = `${JSON.stringify({ status: image.id })}\n`;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** `reference` filter: `busybox`, `busybox:latest`, `busy*` (glob on the familiar name). */
function refMatches(pattern: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  if (re.test(tag)) return true;
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  return re.test(repo);
}
