/** `/_ping`, `/version`, `/info`, `/events`, and the 501 answers for endpoints brig does not serve yet. */
import { once } from 'node:events';
import type { Engine } from '../../engine/engine.js';
import { API_VERSION, BRIG_VERSION, MIN_API_VERSION } from '../../engine/system.js';
import { EngineError } from '../../errors.js';
import type { EngineEvent } from '../../events/event-bus.js';
import { queryFilters, resOf, sendJson } from '../respond.js';
import type { Router } from '../router.js';

/** Docker endpoints brig does not implement yet: they answer 501 naming themselves. */
const NOT_YET: [string, string][] = [
  ['GET', '/containers/{id}/attach/ws'],
  ['POST', '/images/{name*}/tag'], ['DELETE', '/images/{name*}'],
  ['GET', '/images/{name*}/history'], ['GET', '/images/search'], ['GET', '/images/get'], ['GET', '/images/{name*}/get'],
  ['POST', '/images/load'], ['POST', '/images/prune'], ['POST', '/commit'], ['POST', '/build'], ['POST', '/build/prune'],
  ['GET', '/system/df'], ['GET', '/distribution/{name*}/json'], ['POST', '/session'], ['POST', '/grpc'],
  ['GET', '/volumes'], ['POST', '/volumes/create'], ['DELETE', '/volumes/{name}'], ['POST', '/volumes/prune'],
  ['GET', '/plugins'], ['GET', '/swarm'], ['POST', '/swarm/init'], ['POST', '/swarm/join'], ['GET', '/services'],
  ['GET', '/nodes'], ['GET', '/tasks'], ['GET', '/secrets'], ['GET', '/configs'],
];

export function systemRoutes(router: Router, engine: Engine): void {
  const ping = async (ctx: Parameters<Parameters<Router['add']>[2]>[0]) => {
    const res = resOf(ctx);
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Content-Length': ctx.req.method === 'HEAD' ? 0 : 2,
    });
    res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.add('GET', '/_ping', ping).add('HEAD', '/_ping', ping);

  router.add('GET', '/version', async (ctx) => {
    const info = await engine.system.info();
    const details = {
      ApiVersion: API_VERSION, Arch: 'amd64', BuildTime: '', Experimental: 'false', GitCommit: '',
      GoVersion: `node ${process.version}`, KernelVersion: info.kernelVersion, MinAPIVersion: MIN_API_VERSION, Os: 'linux',
    };
    sendJson(ctx, 200, {
      Platform: { Name: 'brig' },
      Components: [
        { Name: 'Engine', Version: BRIG_VERSION, Details: details },
        { Name: 'runc', Version: info.runcVersion, Details: { GitCommit: '' } },
        { Name: 'conmon', Version: info.conmonVersion, Details: { GitCommit: '' } },
      ],
      Version: BRIG_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      KernelVersion: info.kernelVersion,
      BuildTime: '',
    });
  });

  router.add('GET', '/info', async (ctx) => {
    const i = await engine.system.info();
    sendJson(ctx, 200, {
      ID: i.id,
      Containers: i.containers.total,
      ContainersRunning: i.containers.running,
      ContainersPaused: i.containers.paused,
      ContainersStopped: i.containers.stopped,
      Images: i.images,
      Driver: 'overlay',
      DriverStatus: [['Backing Filesystem', 'kernel overlayfs'], ['Supports d_type', 'true']],
      Plugins: { Volume: [], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['k8s-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: false,
      PidsLimit: true,
      IPv4Forwarding: i.ipv4Forwarding,
      BridgeNfIptables: i.bridgeNfIptables,
      BridgeNfIp6tables: i.bridgeNfIp6tables,
      Debug: false,
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(i.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: i.kernelVersion,
      OperatingSystem: i.operatingSystem,
      OSVersion: i.osVersion,
      OSType: 'linux',
      Architecture: i.architecture,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
        InsecureRegistryCIDRs: [...i.insecureRegistries.cidrs, '127.0.0.0/8'], // loopback last, as dockerd lists it
        IndexConfigs: Object.fromEntries([
          ['docker.io', { Name: 'docker.io', Mirrors: [], Secure: true, Official: true }],
          ...i.insecureRegistries.hosts.map((h) => [h, { Name: h, Mirrors: [], Secure: false, Official: false }]),
        ]),
        Mirrors: null,
      },
      DefaultAddressPools: i.addressPools.map((p) => ({ Base: p.base, Size: p.size })),
      NCPU: i.ncpu,
      MemTotal: i.memTotal,
      GenericResources: null,
      DockerRootDir: i.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: i.name,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BRIG_VERSION,
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: i.runcVersion, Expected: i.runcVersion },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: i.securityOptions,
      Warnings: i.warnings,
    });
  });

  router.add('GET', '/events', async (ctx) => {
    const filters = queryFilters(ctx.query, ['type', 'container', 'image', 'event', 'label', 'network', 'volume', 'daemon', 'scope']);
    const since = parseTime(ctx.query.get('since'));
    const until = parseTime(ctx.query.get('until'));
    const res = resOf(ctx);
    const sub = engine.events.subscribe();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const done = () => sub.close();
    ctx.req.on('close', done);
    let timer: NodeJS.Timeout | undefined;
    if (until !== undefined) {
      const ms = Number(until / 1_000_000n) - Date.now();
      timer = setTimeout(done, Math.max(0, ms));
    }
    /** Writes one event; resolves once the client has taken it (back-pressure to the subscription). */
    const write = async (e: EngineEvent) => {
      if (!matches(e, filters)) return;
      if (since !== undefined && e.timeNano < since) return;
      if (until !== undefined && e.timeNano > until) return;
      const line = `${JSON.stringify(toDockerEvent(e)).replace('"timeNano":0', `"timeNano":${e.timeNano}`)}\n`;
      if (!res.write(line)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    };
    if (since !== undefined) for (const e of [...engine.events.history()]) await write(e);
    for await (const e of sub) {
      if (res.destroyed) break;
      await write(e);
    }
    if (timer) clearTimeout(timer);
    res.end();
  });

  // `docker inspect <name>` walks these lookups; brig has no such objects, so they are plain 404s.
  router.add('GET', '/volumes/{name}', async (ctx) => {
    throw new EngineError('ERR_NOT_FOUND', `get ${ctx.params['name']}: no such volume`);
  });
  router.add('GET', '/plugins/{name*}/json', async (ctx) => {
    throw new EngineError('ERR_NOT_FOUND', `plugin ${ctx.params['name']} not found`);
  });
}

/** Registered last, so that a real route always wins over its 501 placeholder. */
export function notYetRoutes(router: Router): void {
  for (const [method, path] of NOT_YET) {
    router.add(method, path, async () => {
      throw new EngineError('ERR_NOT_IMPLEMENTED', `${method} ${path} is not implemented by brig yet`);
    });
  }
}

/** Unix seconds (with optional fraction) → ns. */
function parseTime(v: string | null): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(v);
  if (!m) throw new EngineError('ERR_INVALID_ARGUMENT', `invalid timestamp: ${v}`);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const EVENT_PREFIXES = new Set(['exec_create', 'exec_start', 'health_status']);

function matches(e: EngineEvent, f: Map<string, string[]>): boolean {
  const any = (key: string, pred: (v: string) => boolean) => {
    const vs = f.get(key);
    return !vs || vs.length === 0 || vs.some(pred);
  };
  return (
    any('type', (v) => v === e.type) &&
    // dockerd matches exec_create, exec_start and health_status by prefix (their actions carry `: <command>`).
    any('event', (v) => v === e.action || (EVENT_PREFIXES.has(v) && e.action.startsWith(`${v}:`))) &&
    any('container', (v) => e.type === 'container' && (e.actor.id.startsWith(v) || e.actor.attributes['name'] === v)) &&
    any('image', (v) => e.actor.attributes['image'] === v || (e.type === 'image' && e.actor.id === v)) &&
    any('label', (v) => {
      const [k, val] = v.split('=', 2) as [string, string | undefined];
      return val === undefined ? k in e.actor.attributes : e.actor.attributes[k] === val;
    })
  );
}

function toDockerEvent(e: EngineEvent) {
  const time = Number(e.timeNano / 1_000_000_000n);
  const legacy = e.type === 'container' ? { status: e.action, id: e.actor.id, from: e.actor.attributes['image'] ?? '' } : {};
  return { ...legacy, Type: e.type, Action: e.action, Actor: { ID: e.actor.id, Attributes: e.actor.attributes }, scope: 'local', time, timeNano: 0 };
}
