/**
 * The image configuration blob (OCI image config / Docker image JSON): parse it strictly into
 * `ImageConfig`, and serialise `ImageConfig` canonically (the image ID is the digest of these bytes).
 */
import { EngineError } from '../errors.js';
import type { HealthcheckSpec } from '../model/container.js';
import type { Digest, ImageConfig, ImageHistoryEntry, ImageRunConfig } from '../model/image.js';
import { parseDigest } from '../util/digest.js';

export function emptyRunConfig(): ImageRunConfig {
  return { user: '', env: [], entrypoint: null, cmd: null, workingDir: '', labels: {}, stopSignal: '', exposedPorts: [], volumes: [] };
}

/** Serialises a config in the wire format registries and `docker save` use (keys in a fixed order). */
export function serializeImageConfig(c: ImageConfig): Buffer {
  const rc = c.config;
  const config: Record<string, unknown> = {};
  if (rc.user) config['User'] = rc.user;
  if (rc.exposedPorts.length) config['ExposedPorts'] = Object.fromEntries(rc.exposedPorts.map((p) => [p, {}]));
  if (rc.env.length) config['Env'] = rc.env;
  if (rc.entrypoint) config['Entrypoint'] = rc.entrypoint;
  if (rc.cmd) config['Cmd'] = rc.cmd;
  if (rc.volumes.length) config['Volumes'] = Object.fromEntries(rc.volumes.map((v) => [v, {}]));
  if (rc.workingDir) config['WorkingDir'] = rc.workingDir;
  if (Object.keys(rc.labels).length) config['Labels'] = rc.labels;
  if (rc.stopSignal) config['StopSignal'] = rc.stopSignal;
  if (rc.healthcheck) config['Healthcheck'] = healthcheckToJson(rc.healthcheck);
  const doc: Record<string, unknown> = {
    architecture: c.architecture,
    ...(c.author ? { author: c.author } : {}),
    config,
    created: c.created,
    history: c.history.map((h) => ({
      created: h.created,
      ...(h.createdBy ? { created_by: h.createdBy } : {}),
      ...(h.comment ? { comment: h.comment } : {}),
      ...(h.emptyLayer ? { empty_layer: true } : {}),
    })),
    os: c.os,
    rootfs: { type: 'layers', diff_ids: c.rootfs.diffIds },
  };
  return Buffer.from(JSON.stringify(doc));
}

/** Parses a config blob; every field is type-checked, unknown fields are ignored. */
export function parseImageConfig(bytes: Buffer): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'image config is not valid JSON', { cause: err });
  }
  const o = obj(doc, 'image config');
  const rootfs = obj(o['rootfs'], 'rootfs');
  const diffIds = arr(rootfs['diff_ids'], 'rootfs.diff_ids').map((d) => parseDigest(d, 'diff ID'));
  const cfg = o['config'] === undefined || o['config'] === null ? {} : obj(o['config'], 'config');
  const history = o['history'] === undefined || o['history'] === null ? [] : arr(o['history'], 'history');
  return {
    architecture: str(o['architecture'] ?? 'amd64', 'architecture'),
    os: str(o['os'] ?? 'linux', 'os'),
    created: str(o['created'] ?? '1970-01-01T00:00:00Z', 'created'),
    author: str(o['author'] ?? '', 'author'),
    config: {
      user: str(cfg['User'] ?? '', 'config.User'),
      env: strArr(cfg['Env'] ?? [], 'config.Env'),
      entrypoint: cfg['Entrypoint'] == null ? null : strArr(cfg['Entrypoint'], 'config.Entrypoint'),
      cmd: cfg['Cmd'] == null ? null : strArr(cfg['Cmd'], 'config.Cmd'),
      workingDir: str(cfg['WorkingDir'] ?? '', 'config.WorkingDir'),
      labels: strMap(cfg['Labels'] ?? {}, 'config.Labels'),
      stopSignal: str(cfg['StopSignal'] ?? '', 'config.StopSignal'),
      exposedPorts: Object.keys(cfg['ExposedPorts'] == null ? {} : obj(cfg['ExposedPorts'], 'config.ExposedPorts')),
      volumes: Object.keys(cfg['Volumes'] == null ? {} : obj(cfg['Volumes'], 'config.Volumes')),
      ...(cfg['Healthcheck'] == null ? {} : { healthcheck: parseHealthcheck(cfg['Healthcheck'], 'config.Healthcheck') }),
    },
    rootfs: { type: 'layers', diffIds: diffIds as Digest[] },
    history: history.map((h): ImageHistoryEntry => {
      const e = obj(h, 'history entry');
      return {
        created: str(e['created'] ?? '', 'history.created'),
        createdBy: str(e['created_by'] ?? '', 'history.created_by'),
        comment: str(e['comment'] ?? '', 'history.comment'),
        emptyLayer: e['empty_layer'] === true,
      };
    }),
  };
}

function bad(what: string): EngineError {
  return new EngineError('ERR_INVALID_ARGUMENT', `invalid image config: ${what} has the wrong type`);
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(what);
  return v as Record<string, unknown>;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw bad(what);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(what);
  return v;
}
function strArr(v: unknown, what: string): string[] {
  return arr(v, what).map((x) => str(x, what));
}
function strMap(v: unknown, what: string): Record<string, string> {
  const o = obj(v, what);
  for (const x of Object.values(o)) str(x, what);
  return o as Record<string, string>;
}

/** The Docker JSON form of a health check (image configs, inspect output). */
export function healthcheckToJson(h: HealthcheckSpec): Record<string, unknown> {
  return {
    Test: h.test,
    ...(h.intervalNs ? { Interval: h.intervalNs } : {}),
    ...(h.timeoutNs ? { Timeout: h.timeoutNs } : {}),
    ...(h.startPeriodNs ? { StartPeriod: h.startPeriodNs } : {}),
    ...(h.startIntervalNs ? { StartInterval: h.startIntervalNs } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

/** Docker's `Healthcheck` object (also used for image configs); null = not given. */
export function parseHealthcheck(v: unknown, field = 'Healthcheck'): HealthcheckSpec | null {
  if (v === undefined || v === null) return null;
  const h = obj(v, field);
  const test = h['Test'] === undefined || h['Test'] === null ? [] : strArr(h['Test'], `${field}.Test`);
  if (test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `${field}.Test must start with NONE, CMD or CMD-SHELL`);
  }
  const int = (key: string): number => {
    const x = h[key];
    if (x === undefined || x === null) return 0;
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw bad(`${field}.${key}`);
    return x;
  };
  const dur = (key: string) => {
    const n = int(key);
    if (n < 0) throw new EngineError('ERR_INVALID_ARGUMENT', `${field}.${key} cannot be negative`);
    if (n !== 0 && n < 1_000_000) throw new EngineError('ERR_INVALID_ARGUMENT', `${field}.${key} in a health check must be at least 1ms`);
    return n;
  };
  const retries = int('Retries');
  if (retries < 0) throw new EngineError('ERR_INVALID_ARGUMENT', `${field}.Retries cannot be negative`);
  return {
    test,
    intervalNs: dur('Interval'),
    timeoutNs: dur('Timeout'),
    startPeriodNs: dur('StartPeriod'),
    startIntervalNs: dur('StartInterval'),
    retries,
  };
}
