/** Container state changes besides start/stop: restart, pause, unpause, rename, update, prune. */
import type { Engine } from '../../engine/engine.js';
import { EngineError } from '../../errors.js';
import type { ResourceSpec, RestartPolicy, RestartPolicyName } from '../../model/container.js';
import { labelsMatch, parseUntil } from '../docker/ps-filter.js';
import { object, optInt, optIntOrNull, optObject, optString, type Json } from '../docker/validate.js';
import { queryFilters, queryInt, sendEmpty, sendJson } from '../respond.js';
import type { Router } from '../router.js';

export function containerAdminRoutes(router: Router, engine: Engine): void {
  const svc = engine.containers;

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await svc.restart(ctx.params['id']!, queryInt(ctx.query, 't'), ctx.query.get('signal') || undefined);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await svc.pause(ctx.params['id']!);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await svc.unpause(ctx.params['id']!);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name');
    if (!name) throw new EngineError('ERR_INVALID_ARGUMENT', 'a new name is required (?name=)');
    await svc.rename(ctx.params['id']!, name);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const change = fromDockerUpdate(await ctx.json());
    const warnings = await svc.update(ctx.params['id']!, change);
    sendJson(ctx, 200, { Warnings: warnings });
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    const f = queryFilters(ctx.query, ['label', 'label!', 'until']);
    const until = f.get('until')?.map((v) => parseUntil(v));
    const removed = await svc.prune((c) =>
      labelsMatch(c.spec.labels, f.get('label') ?? []) &&
      (f.get('label!') ?? []).every((l) => !labelsMatch(c.spec.labels, [l])) &&
      (until ?? []).every((t) => Date.parse(c.created) < t));
    sendJson(ctx, 200, { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: 0 });
  });
}

const UPDATABLE: Record<string, keyof ResourceSpec> = {
  Memory: 'memory', MemorySwap: 'memorySwap', CpuShares: 'cpuShares', NanoCpus: 'nanoCpus',
  CpuQuota: 'cpuQuota', CpuPeriod: 'cpuPeriod',
};

/** `POST /containers/{id}/update` body → the change; fields brig cannot update are refused by name. */
export function fromDockerUpdate(body: unknown): { restartPolicy?: RestartPolicy; resources?: Partial<ResourceSpec> } {
  const b: Json = object(body ?? {}, 'body');
  const resources: Partial<ResourceSpec> = {};
  for (const [k, v] of Object.entries(b)) {
    if (k === 'RestartPolicy' || v === null || v === undefined || v === 0 || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    const field = UPDATABLE[k];
    if (field) (resources as Record<string, number>)[field] = optInt(b, k, k);
    else if (k === 'PidsLimit') resources.pidsLimit = optIntOrNull(b, k, k);
    else throw new EngineError('ERR_NOT_IMPLEMENTED', `updating ${k} is not supported by brig yet`);
  }
  if (resources.memory !== undefined && resources.memory < 6 * 1024 * 1024) {
    throw new EngineError('ERR_INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB');
  }
  const out: { restartPolicy?: RestartPolicy; resources?: Partial<ResourceSpec> } = {};
  if (Object.keys(resources).length) out.resources = resources;
  const rp = optObject(b, 'RestartPolicy', 'RestartPolicy');
  if (rp && optString(rp, 'Name', 'RestartPolicy.Name') !== '') {
    const name = optString(rp, 'Name', 'RestartPolicy.Name');
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
      throw new EngineError('ERR_INVALID_ARGUMENT', `invalid restart policy '${name}'`);
    }
    const max = optInt(rp, 'MaximumRetryCount', 'RestartPolicy.MaximumRetryCount');
    if (max < 0) throw new EngineError('ERR_INVALID_ARGUMENT', 'maximum retry count cannot be negative');
    if (max > 0 && name !== 'on-failure') {
      throw new EngineError('ERR_INVALID_ARGUMENT', `maximum retry count cannot be used with restart policy '${name}'`);
    }
    out.restartPolicy = { name: name as RestartPolicyName, maximumRetryCount: max };
  }
  return out;
}
