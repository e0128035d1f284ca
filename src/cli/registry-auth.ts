/**
 * Registry credentials of the CLI, kept where the docker CLI keeps them: `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`), `auths.<server>.auth` = base64 of `user:password`, the file
 * mode 0600. The daemon never stores credentials: each pull or push sends them in `X-Registry-Auth`.
 * Credential helpers (`credsStore`, `credHelpers`) are not supported: with one configured, brig
 * refuses to write the password into the file instead of bypassing the helper.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineError } from '../errors.js';

/** The key Docker Hub credentials are stored under (the docker CLI's). */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export interface StoredAuth {
  username: string;
  password: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const dir = env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
  return join(dir, 'config.json');
}

/**
 * The registry of an image name, as the docker CLI finds it: the part before the first `/` when it
 * looks like a host (has `.` or `:`, or is `localhost`), else Docker Hub.
 */
export function registryOf(name: string): string {
  const slash = name.indexOf('/');
  if (slash < 0) return DOCKER_HUB_SERVER;
  const first = name.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return DOCKER_HUB_SERVER;
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(first) ? DOCKER_HUB_SERVER : first;
}

/** A server address as the user typed it → the key in `auths` (`https://host/` → `host`). */
export function serverKey(server: string | undefined): string {
  if (!server) return DOCKER_HUB_SERVER;
  const host = server.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB_SERVER : host;
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new EngineError('ERR_INVALID_ARGUMENT', `${path}: not a valid docker config file (JSON object expected)`);
}

function auths(config: Record<string, unknown>): Record<string, { auth?: string }> {
  const a = config['auths'];
  return typeof a === 'object' && a !== null && !Array.isArray(a) ? (a as Record<string, { auth?: string }>) : {};
}

/** Stored credentials for `server` (a key from registryOf/serverKey), if any. */
export async function loadAuth(env: NodeJS.ProcessEnv, server: string): Promise<StoredAuth | undefined> {
  const entry = auths(await readConfig(configPath(env)))[server];
  if (typeof entry?.auth !== 'string' || entry.auth === '') return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Writes (or with `undefined`, removes) the credentials of `server`: temp file 0600 + rename. */
export async function saveAuth(env: NodeJS.ProcessEnv, server: string, auth: StoredAuth | undefined): Promise<boolean> {
  const path = configPath(env);
  const config = await readConfig(path);
  if (auth && (config['credsStore'] || (config['credHelpers'] as Record<string, unknown> | undefined)?.[server])) {
    throw new EngineError('ERR_NOT_IMPLEMENTED', `${path} names a credential helper, which brig does not support; remove it or use the docker CLI to log in`);
  }
  const all = { ...auths(config) };
  const had = server in all;
  if (auth) all[server] = { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
  else delete all[server];
  if (!auth && !had) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify({ ...config, auths: all }, null, '\t')}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return had || auth !== undefined;
}

/** The `X-Registry-Auth` value for an image name (base64url JSON; `{}` when not logged in). */
export async function registryAuthHeader(env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const server = registryOf(name);
  const auth = await loadAuth(env, server);
  const doc = auth ? { username: auth.username, password: auth.password, serveraddress: server } : {};
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}
