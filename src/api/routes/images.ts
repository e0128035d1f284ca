/** `/images/*` routes. */
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import { familiarName } from '../../image/reference.js';
import { openLoopbackUrl } from '../../image/url-source.js';
import type { ImageRecord } from '../../model/image.js';
import { toDockerImageInspect, toDockerImageSummary } from '../docker/image-view.js';
import { labelsMatch, parseUntil } from '../docker/ps-filter.js';
import { queryBool, queryFilters, resOf, sendJson } from '../respond.js';
import type { Router } from '../router.js';
import { pullImage, pushImage } from './registry.js';

export function imageRoutes(router: Router, engine: Engine): void {
  const tags = (img: ImageRecord) => img.repoTags.map(familiarName);
  const usage = () => {
    const counts = new Map<string, number>();
    for (const c of engine.containers.list()) counts.set(c.imageId, (counts.get(c.imageId) ?? 0) + 1);
    return counts;
  };

  router.add('GET', '/images/json', async (ctx) => {
    const filters = queryFilters(ctx.query, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
    const all = queryBool(ctx.query, 'all');
    void all; // brig has no intermediate images: every image is a top-level image.
    const counts = usage();
    const keep = imageFilter(filters, (ref) => engine.localImages.resolve(ref));
    const out = engine.images.list().filter(keep);
    sendJson(ctx, 200, out.map((img) => toDockerImageSummary(img, tags(img), counts.get(img.id) ?? 0)));
  });

  router.add('GET', '/images/{name*}/json', async (ctx) => {
    const img = engine.images.resolve(ctx.params['name']!);
    sendJson(ctx, 200, toDockerImageInspect(img, tags(img)));
  });

  router.add('POST', '/images/{name*}/push', async (ctx) => pushImage(ctx, engine, ctx.params['name']!));

  router.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromImage) return pullImage(ctx, engine, fromImage);
    if (!fromSrc) throw new EngineError('ERR_INVALID_ARGUMENT', 'either fromSrc or fromImage must be given');
    const source = fromSrc === '-' ? ctx.req : await openLoopbackUrl(fromSrc);
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    const image = await engine.images.importRootfs(source, {
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

/**
 * `GET /images/json` filters: dangling, reference (globs), label (`k`, `k=v`), before/since (an
 * image: created strictly earlier/later), until (a time).
 */
export function imageFilter(filters: Map<string, string[]>, resolve: (ref: string) => ImageRecord): (img: ImageRecord) => boolean {
  let dangling: boolean | undefined;
  for (const v of filters.get('dangling') ?? []) {
    if (v === 'true' || v === '1') dangling = true;
    else if (v === 'false' || v === '0') dangling = false;
    else throw new EngineError('ERR_INVALID_FILTER', `Invalid filter 'dangling=${v}'`);
  }
  const before = (filters.get('before') ?? []).map((r) => Date.parse(resolve(r).created));
  const since = (filters.get('since') ?? []).map((r) => Date.parse(resolve(r).created));
  const until = (filters.get('until') ?? []).map((v) => parseUntil(v));
  const refs = filters.get('reference') ?? [];
  const labels = filters.get('label') ?? [];
  return (img) => {
    const t = img.repoTags.map(familiarName);
    const created = Date.parse(img.created);
    if (dangling !== undefined && dangling !== (t.length === 0)) return false;
    if (refs.length && !refs.some((r) => t.some((tag) => refMatches(r, tag)))) return false;
    if (!labelsMatch(img.config.config.labels, labels)) return false;
    return before.every((b) => created < b) && since.every((x) => created > x) && until.every((u) => created < u);
  };
}

/** `reference` filter: `busybox`, `busybox:latest`, `busy*` (glob on the familiar name). */
function refMatches(pattern: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  if (re.test(tag)) return true;
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  return re.test(repo);
}
