/**
 * `brig daemon`: the composition root. Reads the options, prepares the data and run roots, builds
 * the stores, runtime, engine and API server, reconciles containers left from a previous run, and
 * serves until SIGTERM/SIGINT. Stopping the daemon never stops containers (live restore).
 */
import { access, chmod, chown, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiServer } from '../api/server.js';
import { ContainerService } from '../engine/containers.js';
import { LogRotator } from '../engine/log-rotation.js';
import type { Engine } from '../engine/engine.js';
import { ExecService } from '../engine/exec.js';
import { HealthMonitor } from '../engine/health.js';
import { ExecProbeRunner } from '../engine/health-probe.js';
import { readHostFacts } from '../spec/host-facts.js';
import { SystemService } from '../engine/system.js';
import { EventBus } from '../events/event-bus.js';
import { GarbageCollector } from '../image/gc.js';
import { ImageStore } from '../image/image-store.js';
import { ImagePuller } from '../image/pull.js';
import { ImagePusher } from '../image/push.js';
import { DEFAULT_CERTS_DIR } from '../image/registry/endpoint.js';
import { Registries } from '../image/registry/registries.js';
import { LocalImageService } from '../engine/local-images.js';
import { ContainerNetworking } from '../engine/container-network.js';
import { NetworkUseCases } from '../engine/networks.js';
import { DEFAULT_ADDRESS_POOLS, parseAddressPool } from '../network/ipam.js';
import type { AddressPool } from '../network/service.js';
import { BridgeNetworkService } from '../network/bridge-service.js';
import { RuncConmonRuntime } from '../runtime/runc-conmon.js';
import { FsContentStore } from '../store/content/content-store.js';
import { LayerStore } from '../store/layers/layer-store.js';
import { MetadataStore } from '../store/metadata/metadata-store.js';
import { mkdirPrivate } from '../util/fs.js';
import { execFileResult } from '../util/exec.js';

export interface DaemonOptions {
  socket: string;
  dataRoot: string;
  runRoot: string;
  pidFile: string;
  group: string;
  compat: 'brig' | 'docker';
  cgroupParent: string;
  defaultPidsLimit: number;
  runc: string;
  conmon: string;
  /** Static init binary bind-mounted by `--init`. */
  initPath: string;
  /** Per-registry TLS files (`<dir>/<host[:port]>/ca.crt`, `client.cert`, `client.key`). */
  certsDir: string;
  /** Registries reachable over plain HTTP (besides 127.0.0.0/8 and ::1). */
  insecureRegistries: string[];
  /** Linux bridge of the default `bridge` network. */
  bridgeName: string;
  /** Address pools for the default bridge and user networks without --subnet. */
  addressPools: AddressPool[];
  /** `--icc=false`: no container↔container traffic on the default bridge. */
  icc: boolean;
  debug: boolean;
}

const USAGE = `Usage: brig daemon [OPTIONS]

Run the brig engine in the foreground, serving the Docker Engine API.

Options:
  -H, --host, --socket PATH   UNIX socket to listen on (default /run/brig/brig.sock)
      --data-root DIR         persistent state (default /var/lib/brig)
      --run-root DIR          runtime state (default /run/brig, or <data-root>/run for a custom data root)
      --pidfile PATH          pid file (default <run-root>/brig.pid)
  -G, --group NAME            group allowed to use the socket (default brig; 0600 root-only if missing)
      --compat MODE           brig (default: 11 capabilities) or docker (Docker's 14)
      --cgroup-parent PATH    cgroup prefix for containers (default /brig)
      --default-pids-limit N  pids limit for containers without --pids-limit (default 2048, 0 = none)
      --runc PATH, --conmon PATH   helper binaries
      --init-path PATH        static init for --init (default /usr/bin/tini-static)
      --certs-dir DIR         registry TLS files, <DIR>/<host[:port]>/{ca.crt,client.cert,client.key} (default /etc/brig/certs.d)
      --insecure-registry H   allow plain HTTP to registry host[:port] or CIDR (repeatable; loopback always is)
      --bridge-name NAME      Linux bridge of the default network (default brig0)
      --default-address-pool base=CIDR,size=N   subnets for networks (repeatable; default private ranges, size 16)
      --icc[=false]           container-to-container traffic on the default bridge (default true)
                              ports are published on 127.0.0.1 unless -p names an address (0.0.0.0 with --compat docker)
  -D, --debug                 log every request`;

export function parseDaemonArgs(argv: string[]): DaemonOptions {
  // Docker's bool flag syntax `--icc=false`: node's parseArgs takes booleans without a value.
  let icc = true;
  argv = argv.filter((a) => {
    const m = /^--icc(?:=(true|false|1|0))?$/.exec(a);
    if (!m) return true;
    icc = m[1] === undefined || m[1] === 'true' || m[1] === '1';
    return false;
  });
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', short: 'H' },
      socket: { type: 'string' },
      'data-root': { type: 'string' },
      'run-root': { type: 'string' },
      pidfile: { type: 'string' },
      group: { type: 'string', short: 'G' },
      compat: { type: 'string' },
      'cgroup-parent': { type: 'string' },
      'default-pids-limit': { type: 'string' },
      runc: { type: 'string' },
      conmon: { type: 'string' },
      'init-path': { type: 'string' },
      'certs-dir': { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      'bridge-name': { type: 'string' },
      'default-address-pool': { type: 'string', multiple: true },
      debug: { type: 'boolean', short: 'D' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const dataRoot = values['data-root'] ?? '/var/lib/brig';
  const runRoot = values['run-root'] ?? (values['data-root'] ? join(dataRoot, 'run') : '/run/brig');
  let socket = values.socket ?? values.host ?? '/run/brig/brig.sock';
  if (socket.startsWith('unix://')) socket = socket.slice('unix://'.length);
  else if (/^[a-z]+:\/\//.test(socket)) {
    throw new Error(`only unix:// sockets are supported (TCP needs mutual TLS, which brig does not offer yet): ${socket}`);
  }
  const compat = values.compat ?? 'brig';
  if (compat !== 'brig' && compat !== 'docker') throw new Error(`--compat must be brig or docker, not ${compat}`);
  const pids = Number(values['default-pids-limit'] ?? '2048');
  if (!Number.isInteger(pids) || pids < 0) throw new Error('--default-pids-limit must be a non-negative integer');
  const cgroupParent = values['cgroup-parent'] ?? '/brig';
  if (!/^\/[a-zA-Z0-9_.\/-]+$/.test(cgroupParent) || cgroupParent.includes('..')) {
    throw new Error(`invalid --cgroup-parent: ${cgroupParent}`);
  }
  const bridgeName = values['bridge-name'] ?? 'brig0';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(bridgeName)) throw new Error(`invalid --bridge-name: ${bridgeName} (at most 15 characters of [a-zA-Z0-9_.-])`);
  const pools = (values['default-address-pool'] ?? []).map((p) => {
    try {
      return parseAddressPool(p);
    } catch (err) {
      throw new Error(`invalid --default-address-pool ${p}: ${(err as Error).message}`);
    }
  });
  return {
    socket,
    dataRoot,
    runRoot,
    pidFile: values.pidfile ?? join(runRoot, 'brig.pid'),
    group: values.group ?? 'brig',
    compat,
    cgroupParent,
    defaultPidsLimit: pids,
    runc: values.runc ?? '/usr/sbin/runc',
    conmon: values.conmon ?? '/usr/bin/conmon',
    initPath: values['init-path'] ?? '/usr/bin/tini-static',
    certsDir: values['certs-dir'] ?? DEFAULT_CERTS_DIR,
    insecureRegistries: values['insecure-registry'] ?? [],
    bridgeName,
    addressPools: pools.length > 0 ? pools : [...DEFAULT_ADDRESS_POOLS],
    icc,
    debug: values.debug ?? false,
  };
}

/** A running daemon (for tests and the CLI entry point). */
export interface Daemon {
  engine: Engine;
  stop(): Promise<void>;
}

export async function startDaemon(o: DaemonOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Daemon> {
  if (process.getuid?.() !== 0) throw new Error('brig daemon must run as root');
  for (const bin of [o.runc, o.conmon]) {
    try {
      await access(bin);
    } catch {
      throw new Error(`${bin} is not installed (run \`npm run setup\` or install the Debian package)`);
    }
  }
  await mkdirPrivate(o.dataRoot, 0o700);
  await mkdirPrivate(o.runRoot, 0o700);
  await mkdirPrivate(join(o.dataRoot, 'containers'), 0o700);
  await claimPidFile(o.pidFile);

  const meta = new MetadataStore(join(o.dataRoot, 'brig.db'));
  const content = new FsContentStore(o.dataRoot);
  await content.init();
  const layers = new LayerStore(o.dataRoot);
  await layers.init();
  const host = await readHostFacts();
  const events = new EventBus();
  const runtime = new RuncConmonRuntime({ runRoot: o.runRoot, runcPath: o.runc, conmonPath: o.conmon });
  const images = new ImageStore(meta, content, layers);
  const networkService = new BridgeNetworkService(meta, {
    runRoot: o.runRoot, bridgeName: o.bridgeName, addressPools: o.addressPools, icc: o.icc,
    defaultHostIp: o.compat === 'docker' ? '0.0.0.0' : '127.0.0.1',
  });
  const networking = new ContainerNetworking(networkService, meta, (id) => join(o.dataRoot, 'containers', id));
  const containers = new ContainerService(meta, images, layers, runtime, events, {
    dataRoot: o.dataRoot, compat: o.compat, defaultPidsLimit: o.defaultPidsLimit, cgroupParent: o.cgroupParent, host, networking,
    ...((await exists(o.initPath)) ? { initBinary: o.initPath } : {}),
  });
  const networks = new NetworkUseCases(networking, containers, meta, events);
  const exec = new ExecService(containers, runtime, { hostBounding: host.hostBounding, compat: o.compat });
  const system = new SystemService(meta, {
    dataRoot: o.dataRoot, runRoot: o.runRoot, compat: o.compat, defaultPidsLimit: o.defaultPidsLimit, runcPath: o.runc, conmonPath: o.conmon,
    addressPools: o.addressPools, insecureRegistries: o.insecureRegistries,
  });
  await runtime.init((id, code) => {
    containers.handleExit(id, code).catch((err: unknown) => log(`handling exit of ${id}: ${(err as Error).message}`));
  });
  // Registered before recover(): containers still running from the previous daemon are watched too.
  const logRotator = new LogRotator({
    reopen: (id) => runtime.reopenLog(containers.containerDir(id)),
    onError: (id, err) => log(`rotating the log of ${id}: ${(err as Error).message}`),
  });
  containers.listen({
    started: (c) => logRotator.watch(c.id, containers.logPath(c.id), c.spec.logConfig),
    exited: (c) => void logRotator.finish(c.id),
    removed: (c) => logRotator.unwatch(c.id),
  });
  const health = new HealthMonitor(new ExecProbeRunner(exec), {
    current: (id) => { try { return containers.get(id); } catch { return undefined; } },
    saveHealth: (id, h) => void containers.saveHealth(id, h).catch(() => {}),
    announce: (c, status) => containers.event(c, `health_status: ${status}`),
    imageHealthcheck: (c) => containers.imageOf(c)?.config.config.healthcheck,
  });
  containers.listen({ started: (c) => health.started(c), exited: (c) => health.stopped(c.id), removed: (c) => health.stopped(c.id) });
  await containers.recover();
  const registries = new Registries({ certsDir: o.certsDir, insecureRegistries: o.insecureRegistries });
  const puller = new ImagePuller({ meta, content, layers, storeLock: images.storeLock, registries });
  const pusher = new ImagePusher({ meta, content, storeLock: images.storeLock, registries });
  const gc = new GarbageCollector(meta, content, layers, images.storeLock);
  const swept = await gc.sweepOrphans();
  if (swept.leftovers + swept.blobs.length + swept.layers.length > 0) {
    log(`image store: removed ${swept.leftovers} interrupted writes, ${swept.blobs.length} unreferenced blobs, ${swept.layers.length} unreferenced layers`);
  }
  // An image deleted while stopped containers used it goes once the last of them is removed.
  containers.listen({ removed: () => { if (meta.retainedImageIds().length > 0) void gc.collect().catch((err: unknown) => log(`gc: ${(err as Error).message}`)); } });
  const localImages = new LocalImageService({ images, meta, content, containers, events, gc });
  const engine: Engine = { containers, exec, images, puller, pusher, registries, localImages, events, system, networks };
  const gid = await groupId(o.group);
  if (gid === undefined) log(`group ${o.group} does not exist: the socket is root-only (0600)`);
  const server = new ApiServer(engine, { socketPath: o.socket, ...(gid !== undefined ? { socketGid: gid } : {}), ...(o.debug ? { log } : {}) });
  await server.listen();
  if (gid !== undefined) await openSocketDir(o.socket, o.runRoot, gid);
  log(`brig daemon ready: socket ${o.socket}, data root ${o.dataRoot}, compat ${o.compat}`);
  return {
    engine,
    async stop() {
      await server.close();
      health.stopAll();
      await containers.drain();
      await networkService.close();
      logRotator.close();
      runtime.close();
      registries.close();
      meta.close();
      await rm(o.pidFile, { force: true });
    },
  };
}

/**
 * A socket inside the (private) run root must be reachable for the socket's group: the directory
 * becomes root:<group> 0750, its other contents stay 0700.
 */
async function openSocketDir(socket: string, runRoot: string, gid: number): Promise<void> {
  if (dirname(socket) !== runRoot) return;
  await chown(runRoot, 0, gid);
  await chmod(runRoot, 0o750);
}

/** Refuses to start twice on the same run root; a stale pid file (dead process) is replaced. */
async function claimPidFile(path: string): Promise<void> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`another brig daemon (pid ${pid}) is running with pid file ${path}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(path, `${process.pid}\n`, { mode: 0o644 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

async function groupId(name: string): Promise<number | undefined> {
  const r = await execFileResult('getent', ['group', name]);
  if (r.code !== 0) return undefined;
  const gid = Number(r.stdout.split(':')[2]);
  return Number.isInteger(gid) ? gid : undefined;
}

/** Entry point of `brig daemon`. */
export async function main(argv: string[]): Promise<void> {
  let options: DaemonOptions;
  try {
    options = parseDaemonArgs(argv);
  } catch (err) {
    process.stderr.write(`brig daemon: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  let daemon: Daemon;
  try {
    daemon = await startDaemon(options);
  } catch (err) {
    process.stderr.write(`brig daemon: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`brig daemon: ${sig}, shutting down (containers keep running)\n`);
    daemon.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
