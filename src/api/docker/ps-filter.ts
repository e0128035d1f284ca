/**
 * `docker ps` filters (`GET /containers/json?filters=…`) and the `container prune` filters, as
 * Docker applies them: values of one key are OR-ed, keys are AND-ed.
 */
import { EngineError } from '../../errors.js';
import type { ContainerRecord } from '../../model/container.js';
import { parseGoDuration } from '../../util/go-duration.js';

export const PS_FILTER_KEYS = ['status', 'name', 'id', 'label', 'exited', 'ancestor', 'before', 'since', 'health',
  'volume', 'network', 'publish', 'expose', 'isolation', 'is-task'];

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export interface PsContext {
  /** Resolves a container reference (name or ID) for `before`/`since`; throws if unknown. */
  container(ref: string): ContainerRecord;
  /** Whether the container's image matches an `ancestor` value (image name, tag, or ID). */
  hasAncestor(c: ContainerRecord, ancestor: string): boolean;
}

/** Builds a predicate from parsed filters; invalid values are ERR_INVALID_FILTER. */
export function psPredicate(f: Map<string, string[]>, ctx: PsContext): (c: ContainerRecord) => boolean {
  for (const k of ['volume', 'network', 'publish', 'expose', 'isolation']) {
    if (f.get(k)?.length) throw new EngineError('ERR_NOT_IMPLEMENTED', `the ps filter '${k}' is not supported by brig yet`);
  }
  for (const s of f.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw new EngineError('ERR_INVALID_FILTER', `Invalid filter 'status=${s}'`);
  }
  for (const h of f.get('health') ?? []) {
    if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw new EngineError('ERR_INVALID_FILTER', `Invalid filter 'health=${h}'`);
  }
  for (const e of f.get('exited') ?? []) {
    if (!/^-?[0-9]+$/.test(e)) throw new EngineError('ERR_INVALID_FILTER', `invalid filter 'exited=${e}'`);
  }
  const names = (f.get('name') ?? []).map(nameRegExp);
  const before = f.get('before')?.map((r) => ctx.container(r));
  const since = f.get('since')?.map((r) => ctx.container(r));
  const any = (key: string, pred: (v: string) => boolean) => {
    const vs = f.get(key);
    return !vs || vs.length === 0 || vs.some(pred);
  };
  return (c) =>
    any('status', (v) => v === c.state.status) &&
    (names.length === 0 || names.some((re) => re.test(`/${c.name}`))) &&
    any('id', (v) => c.id.startsWith(v)) &&
    any('exited', (v) => c.state.status === 'exited' && String(c.state.exitCode) === v) &&
    any('health', (v) => (c.state.health?.status ?? 'none') === v) &&
    any('ancestor', (v) => ctx.hasAncestor(c, v)) &&
    any('is-task', (v) => v === 'false') &&
    (before ?? []).every((b) => createdBefore(c, b)) &&
    (since ?? []).every((s) => createdBefore(s, c)) &&
    labelsMatch(c.spec.labels, f.get('label') ?? []);
}

/** Docker's `label` filter: every `key` or `key=value` must match. */
export function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((v) => {
    const [k, val] = v.split('=', 2) as [string, string | undefined];
    return val === undefined ? k in labels : labels[k] === val;
  });
}

function createdBefore(a: ContainerRecord, b: ContainerRecord): boolean {
  return a.created < b.created || (a.created === b.created && a.id < b.id);
}

/** Docker matches `name` filters as regular expressions; a bad one is a 400, and length is capped. */
function nameRegExp(v: string): RegExp {
  if (v.length > 256) throw new EngineError('ERR_INVALID_FILTER', 'name filter is too long');
  try {
    return new RegExp(v);
  } catch {
    throw new EngineError('ERR_INVALID_FILTER', `invalid name filter: ${v}`);
  }
}

/** `until` (prune): a Unix time, an RFC 3339 time, or a duration like `10m` before now. */
export function parseUntil(v: string, now = Date.now()): number {
  if (/^[0-9]+(\.[0-9]+)?$/.test(v)) return Number(v) * 1000;
  const d = goDurationOrUndefined(v);
  if (d !== undefined) return now - Number(d / 1_000_000n);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new EngineError('ERR_INVALID_FILTER', `invalid until filter: ${v}`);
  return t;
}

function goDurationOrUndefined(v: string): bigint | undefined {
  try {
    return parseGoDuration(v);
  } catch {
    return undefined;
  }
}
