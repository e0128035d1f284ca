/** Where the daemon listens: `-H/--host`, then `BRIG_HOST`, then `DOCKER_HOST`, then the default socket. */
import { isAbsolute } from 'node:path';
import { EngineError } from '../errors.js';

export const DEFAULT_SOCKET_PATH = '/run/brig/brig.sock';

/** Turns `unix:///path` (or a bare absolute path) into a socket path; other schemes are refused. */
export function socketPathFromHost(host: string): string {
  const h = host.trim();
  if (h.startsWith('unix://')) {
    const path = h.slice('unix://'.length);
    if (isAbsolute(path)) return path;
  } else if (isAbsolute(h)) {
    return h;
  }
  throw new EngineError('ERR_INVALID_ARGUMENT', `unsupported host ${JSON.stringify(host)}: brig connects only to unix:///absolute/path sockets`);
}

/** The socket to use given a `--host` flag value (if any) and the environment. */
export function resolveSocketPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const host = flag ?? (env['BRIG_HOST'] || undefined) ?? (env['DOCKER_HOST'] || undefined);
  return host === undefined ? DEFAULT_SOCKET_PATH : socketPathFromHost(host);
}
