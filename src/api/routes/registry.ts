/**
 * Registry endpoints: `POST /images/create?fromImage=` (docker pull, a JSON progress stream),
 * `POST /images/{name}/push` (docker push, the same kind of stream) and
 * `POST /auth` (docker login). Credentials arrive in `X-Registry-Auth` or the body, are used for
 * this request only, and are never stored or logged.
 */
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import { familiarName, fullName, parseReference, repositoryName, type ImageRef } from '../../image/reference.js';
import { decodeRegistryAuth, parseAuthConfig, type Credentials } from '../../image/registry/auth.js';
import { parsePlatform } from '../../image/registry/manifest.js';
import { isDigest } from '../../util/digest.js';
import { messageOf } from '../errors.js';
import { resOf, sendJson } from '../respond.js';
import type { RouteContext, Router } from '../router.js';

/** `fromImage` + `tag` as Docker reads them: the tag parameter overrides, and may be a digest. */
export function pullReference(fromImage: string, tag: string): ImageRef {
  const ref = parseReference(fromImage);
  if (tag !== '') {
    if (isDigest(tag)) return { ...ref, tag: null, digest: tag };
    return parseReference(`${repositoryName({ ...ref, tag: null, digest: null })}:${tag}`);
  }
  if (ref.tag === null && ref.digest === null) {
    throw new EngineError('ERR_NOT_IMPLEMENTED', `pulling all tags of ${fromImage} is not supported by brig yet; name a tag`);
  }
  return ref;
}

/**
 * The `fromImage` branch of `POST /images/create`. Progress goes out as Docker's JSON messages; an
 * error before the first message is an ordinary error response, after it an `errorDetail` message.
 */
export async function pullImage(ctx: RouteContext, engine: Engine, fromImage: string): Promise<void> {
  const ref = pullReference(fromImage, ctx.query.get('tag') ?? '');
  const platformParam = ctx.query.get('platform') ?? '';
  const platform = platformParam ? parsePlatform(platformParam) : undefined;
  const credentials = registryAuth(ctx);
  await streamProgress(ctx, async (write, signal) => {
    await engine.puller.pull({ ref, credentials, signal, progress: write, ...(platform ? { platform } : {}) });
    engine.events.publish('image', 'pull', familiarName(ref.digest ? `${repositoryName(ref)}@${ref.digest}` : fullName(ref)), { name: familiarName(fullName(ref.digest ? { ...ref, tag: null } : ref)) });
  });
}

/** `POST /images/{name}/push?tag=` (docker push; no tag = every tag of the repository). */
export async function pushImage(ctx: RouteContext, engine: Engine, name: string): Promise<void> {
  const credentials = registryAuth(ctx);
  const tag = ctx.query.get('tag') ?? '';
  await streamProgress(ctx, async (write, signal) => {
    const pushed = await engine.pusher.push({ name, tag, credentials, signal, progress: write });
    const repo = familiarName(repositoryName(parseReference(name)));
    for (const p of pushed) engine.events.publish('image', 'push', `${repo}:${p.tag}`, { name: `${repo}:${p.tag}` });
  });
}

/** Credentials of this request (`X-Registry-Auth`), used for it only. */
function registryAuth(ctx: RouteContext): Credentials {
  const header = ctx.req.headers['x-registry-auth'];
  return decodeRegistryAuth(Array.isArray(header) ? header[0] : header);
}

/**
 * Runs `work` with a writer of Docker JSON progress messages. Headers go out with the first
 * message; an error before it is an ordinary error response, after it an `errorDetail` message.
 * The signal aborts when the client goes away.
 */
async function streamProgress(ctx: RouteContext, work: (write: (m: object) => void, signal: AbortSignal) => Promise<void>): Promise<void> {
  const res = resOf(ctx);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new EngineError('ERR_UNAVAILABLE', 'the client went away'));
  });
  let started = false;
  const write = (m: object) => {
    if (!started) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      started = true;
    }
    if (!res.destroyed) res.write(`${JSON.stringify(m)}\n`);
  };
  try {
    await work(write, abort.signal);
  } catch (err) {
    if (!started) throw err;
    const message = messageOf(err);
    write({ errorDetail: { message }, error: message });
  }
  res.end();
}

export function registryRoutes(router: Router, engine: Engine): void {
  router.add('POST', '/auth', async (ctx) => {
    const credentials = parseAuthConfig(await ctx.json(), 'auth config');
    await engine.registries.login(credentials.serverAddress, credentials);
    sendJson(ctx, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });
}
