/**
 * `docker import URL`: the daemon fetches the tarball itself, so only loopback URLs are allowed.
 * Anything else would let an API client make the daemon (root, with the host's network position)
 * request arbitrary internal addresses (SSRF). Redirects are refused for the same reason.
 */
import { get, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { EngineError } from '../errors.js';

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h);
  return false;
}

/** Opens `url` (http, loopback only) and resolves with the response body stream once it answered 200. */
export function openLoopbackUrl(raw: string, signal?: AbortSignal): Promise<IncomingMessage> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return Promise.reject(new EngineError('ERR_INVALID_ARGUMENT', `invalid import source URL: ${raw}`));
  }
  if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
    return Promise.reject(new EngineError('ERR_FORBIDDEN',
      `importing from ${raw} is refused: brig only fetches import URLs from loopback addresses over http (127.0.0.0/8, ::1, localhost), ` +
      'because the daemon would otherwise fetch any address its host can reach on behalf of API clients; ' +
      "download the file and run 'docker import FILE' instead"));
  }
  return new Promise((resolve, reject) => {
    const req = get(url, { ...(signal ? { signal } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const redirect = res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
        reject(new EngineError('ERR_INVALID_ARGUMENT', `fetching ${raw} failed: HTTP ${res.statusCode ?? '?'}${redirect}`));
        return;
      }
      resolve(res);
    });
    req.on('error', (err) => reject(new EngineError('ERR_INVALID_ARGUMENT', `fetching ${raw} failed: ${err.message}`, { cause: err })));
  });
}
