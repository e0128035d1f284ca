/**
 * A private `docker-registry` (Debian's distribution 2.8) for the benches: plain HTTP on a free port
 * of 127.0.0.1, storage in a directory the caller owns, stopped again by `stop()`. Docker treats
 * 127.0.0.0/8 as an insecure registry, so dockerd pulls from it over plain HTTP without config.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { deadline, isStopping, sleep } from './process.js';

export interface Registry {
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  logFile: string;
  /** Stops the registry (SIGTERM to its process group, SIGKILL after 10 s); safe to call twice. */
  stop(): Promise<void>;
}

const REGISTRY_BIN = 'docker-registry';

/** A port that was free on 127.0.0.1 a moment ago (the registry binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Starts a registry storing its data under `dir` and waits until `GET /v2/` answers 200. */
export async function startRegistry(dir: string): Promise<Registry> {
  await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 });
  const port = await freePort();
  const config = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  await writeFile(config, [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port} }`,
    '',
  ].join('\n'));
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise<Error>((r) => child.once('error', r));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch { /* gone */ }
      if (!(await Promise.race([exited.then(() => true), deadline(10_000)]))) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch { /* gone */ }
        await exited;
      }
    })();
    return stopped;
  };
  const host = `127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failed) throw new Error(`cannot start ${REGISTRY_BIN}: ${failed.message} (is Debian's docker-registry installed? scripts/setup.sh installs it)`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${REGISTRY_BIN} exited during startup (${child.exitCode ?? child.signalCode}):\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    if ((await getStatus(`http://${host}/v2/`)) === 200) return { host, logFile, stop };
    if (isStopping() || Date.now() > until) {
      await stop();
      throw new Error(isStopping() ? 'interrupted' : `${REGISTRY_BIN} did not answer GET /v2/ within 20 s; log:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
  }
}
