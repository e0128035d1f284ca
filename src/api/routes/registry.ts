/**
 * Registry endpoints: `POST /images/create?fromImage=` (docker pull, a JSON progress stream) and
 * `POST /auth` (docker login). Credentials arrive in `X-Registry-Auth` or the body, are used for
 * this request only, and are never stored or logged.
 */
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import type { ProgressMessage } from '../../image/pull.js';
import { familiarName, fullName, parseReference, repositoryName, type ImageRef } from '../../image/reference.js';
import { decodeRegistryAuth, parseAuthConfig } from '../../image/registry/auth.js';
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
  const header = ctx.req.headers['x-registry-auth'];
  const credentials = decodeRegistryAuth(Array.isArray(header) ? header[0] : header);
  const res = resOf(ctx);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new EngineError('ERR_UNAVAILABLE', 'the client went away'));
  });
  let started = false;
  const write = (m: ProgressMessage | Record<string, unknown>) => {
    if (!started) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      started = true;
    }
    if (!res.destroyed) res.write(`${JSON.stringify(m)}\n`);
  };
  try {
    const out = await engine.puller.pull({ ref, credentials, signal: abort.signal, progress: write, ...(platform ? { platform } : {}) });
    engine.events.publish('image', 'pull', familiarName(ref.digest ? `${repositoryName(ref)}@${ref.digest}` : fullName(ref)), { name: familiarName(fullName(ref.digest ? { ...ref, tag: null } : ref)) });
    void out;
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
