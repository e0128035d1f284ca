/** `/networks/*` routes: list, inspect, create, remove, prune, connect, disconnect. */
import type { Engine } from '../../engine/engine.js';
import type { AnyNetwork } from '../../engine/networks.js';
import { EngineError } from '../../errors.js';
import { fromDockerNetworkCreate, toDockerNetwork } from '../docker/network-view.js';
import { parseUntil } from '../docker/ps-filter.js';
import { object, optBool, optObject, optString, optStringArray } from '../docker/validate.js';
import { queryBool, queryFilters, sendEmpty, sendJson } from '../respond.js';
import type { Router } from '../router.js';
import { isIPv4 } from 'node:net';

const LIST_FILTERS = ['name', 'id', 'label', 'driver', 'type', 'dangling', 'scope'] as const;

/** Docker's label filter: `key` (present) or `key=value`. */
function labelMatches(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    return eq === -1 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

export function networkRoutes(router: Router, engine: Engine): void {
  const svc = engine.networks;
  const nameOf = (n: AnyNetwork) => (n.kind === 'bridge' ? n.record.name : n.pseudo.name);
  const idOf = (n: AnyNetwork) => (n.kind === 'bridge' ? n.record.id : n.pseudo.id);

  router.add('GET', '/networks', async (ctx) => {
    const f = queryFilters(ctx.query, LIST_FILTERS);
    const types = f.get('type') ?? [];
    for (const t of types) if (t !== 'custom' && t !== 'builtin') throw new EngineError('ERR_INVALID_FILTER', `invalid filter: 'type'='${t}'`);
    const dangling = f.get('dangling') ?? [];
    for (const v of dangling) if (!['true', 'false', '1', '0'].includes(v)) throw new EngineError('ERR_INVALID_FILTER', `invalid filter: 'dangling'='${v}'`);
    const any = (key: string, pred: (v: string) => boolean) => {
      const vs = f.get(key);
      return !vs || vs.length === 0 || vs.some(pred);
    };
    const list = svc.list().filter((n) => {
      const builtin = n.kind === 'pseudo' || n.record.builtin;
      const driver = n.kind === 'bridge' ? n.record.driver : n.pseudo.driver;
      return any('name', (v) => nameOf(n).includes(v))
        && any('id', (v) => idOf(n).startsWith(v))
        && any('driver', (v) => v === driver)
        && any('scope', (v) => v === 'local')
        && any('type', (v) => (v === 'builtin') === builtin)
        && any('dangling', (v) => (v === 'true' || v === '1') === (!builtin && svc.members(n).length === 0))
        && labelMatches(n.kind === 'bridge' ? n.record.labels : {}, f.get('label') ?? []);
    });
    sendJson(ctx, 200, list.map((n) => toDockerNetwork(n, null)));
  });

  router.add('GET', '/networks/{id}', async (ctx) => {
    const scope = ctx.query.get('scope');
    if (scope && scope !== 'local') throw new EngineError('ERR_NO_SUCH_NETWORK', `network ${ctx.params['id']} not found`);
    queryBool(ctx.query, 'verbose'); // validated; brig has no swarm details to add
    const n = svc.get(ctx.params['id']!);
    sendJson(ctx, 200, toDockerNetwork(n, svc.members(n)));
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const r = await svc.create(fromDockerNetworkCreate(await ctx.json()));
    sendJson(ctx, 201, { Id: r.id, Warning: '' });
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    await svc.remove(ctx.params['id']!);
    sendEmpty(ctx, 204);
  });

  router.add('POST', '/networks/prune', async (ctx) => {
    const f = queryFilters(ctx.query, ['until', 'label', 'label!']);
    const until = f.get('until') ?? [];
    const cutoff = until.length ? parseUntil(until[0]!) : undefined;
    const removed = await svc.prune((r) => labelMatches(r.labels, f.get('label') ?? [])
      && (f.get('label!') ?? []).every((l) => !labelMatches(r.labels, [l]))
      && (cutoff === undefined || Date.parse(r.created) < cutoff));
    sendJson(ctx, 200, { NetworksDeleted: removed });
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const b = object((await ctx.json()) ?? {}, 'body');
    const container = optString(b, 'Container', 'Container');
    if (container === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'Container is required');
    const ec = optObject(b, 'EndpointConfig', 'EndpointConfig') ?? {};
    const ipam = optObject(ec, 'IPAMConfig', 'EndpointConfig.IPAMConfig') ?? {};
    const ipv4 = optString(ipam, 'IPv4Address', 'EndpointConfig.IPAMConfig.IPv4Address');
    if (ipv4 !== '' && !isIPv4(ipv4)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid IPv4 address: ${ipv4}`);
    if (optString(ipam, 'IPv6Address', 'EndpointConfig.IPAMConfig.IPv6Address') !== '') {
      throw new EngineError('ERR_NOT_IMPLEMENTED', 'IPv6 addresses (--ip6) are not supported by brig yet');
    }
    if ((optStringArray(ec, 'Links', 'EndpointConfig.Links') ?? []).length > 0) {
      throw new EngineError('ERR_INVALID_ARGUMENT', 'links (--link) are not supported by brig: containers on a user-defined network reach each other by name and --alias');
    }
    const aliases = optStringArray(ec, 'Aliases', 'EndpointConfig.Aliases') ?? [];
    for (const a of aliases) if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/.test(a)) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid network alias: ${a}`);
    await svc.connect(ctx.params['id']!, container, { aliases, ipv4 });
    sendEmpty(ctx, 200);
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const b = object((await ctx.json()) ?? {}, 'body');
    const container = optString(b, 'Container', 'Container');
    if (container === '') throw new EngineError('ERR_INVALID_ARGUMENT', 'Container is required');
    await svc.disconnect(ctx.params['id']!, container, optBool(b, 'Force', 'Force'));
    sendEmpty(ctx, 200);
  });
}
