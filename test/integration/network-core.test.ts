/**
 * The network service against real netavark + aardvark-dns, without a daemon: namespaces made by
 * the native addon, container↔container traffic and name DNS on a user network, a published port
 * on 127.0.0.1 reaching a listener in a namespace, the default bridge, crash recovery in init(),
 * and teardown leaving no bridge, veth, netns file, iptables rule or held port behind.
 * Only `bt*` bridges, 10.213.x.0/24 subnets and ports 28000–28999 are used.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { NetworkAttachment, NetworkSpecV2 } from '../../src/model/network.js';
import { BridgeNetworkService } from '../../src/network/bridge-service.js';
import { parseAddressPool } from '../../src/network/ipam.js';
import type { NetworkServiceOptions } from '../../src/network/service.js';
import { MetadataStore } from '../../src/store/metadata/metadata-store.js';
import { ensureLocalnetGuard, removeLocalnetGuard } from '../../src/network/firewall.js';
import { LOCALNET_PROBE } from './localnet-probe.js';

const run = promisify(execFile);
const tag = randomBytes(3).toString('hex');
const BRIDGE = `bt${tag}`;
const USER_BRIDGE = `bt${tag}u`;
const third = 100 + (randomBytes(1)[0]! % 100);
const DEFAULT_SUBNET = `10.213.${third}.0/24`;
const USER_SUBNET = `10.213.${third + 100 > 254 ? third - 50 : third + 50}.0/24`;
const PORT = 28000 + (randomBytes(2).readUInt16BE() % 900);
/** The warm-bridge test's own default network (never overlapping the two above). */
const WARM_BRIDGE = `bt${tag}w`;
const WARM_SUBNET = `10.213.${third < 150 ? third + 25 : third - 25}.0/24`;
const AUX_BRIDGE = `bt${tag}x`;
const AUX_SUBNET = `10.213.${third < 150 ? third + 75 : third - 75}.0/24`;

let dir = '';
let store: MetadataStore;
let svc: BridgeNetworkService;
let opts: NetworkServiceOptions;

async function sh(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { encoding: 'utf8', timeout: 20_000 })).stdout;
}

async function links(): Promise<{ ifname: string; master?: string }[]> {
  return JSON.parse(await sh('ip', ['-j', 'link'])) as { ifname: string; master?: string }[];
}

/** Rules that mention this test's subnets or bridges. */
async function myRules(): Promise<string[]> {
  const all = await sh('iptables-save', []);
  const marks = [DEFAULT_SUBNET, USER_SUBNET, BRIDGE, USER_BRIDGE, `:${PORT}`, `--dport ${PORT}`];
  return all.split('\n').filter((l) => marks.some((m) => l.includes(m)));
}

const spec = (over: Partial<NetworkSpecV2>): NetworkSpecV2 => ({
  mode: 'bridge', modeName: 'default', endpoints: [], ports: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], macAddress: '', ...over,
});
const cid = (c: string) => c.repeat(64).slice(0, 64);

before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (netns, bridges, iptables)');
  assert.deepEqual(await myRules(), [], 'rules of an earlier run are left over');
  dir = mkdtempSync(join(tmpdir(), 'brig-it-netcore-'));
  store = new MetadataStore(join(dir, 'db'));
  opts = {
    runRoot: join(dir, 'run'), bridgeName: BRIDGE, addressPools: [parseAddressPool(`base=${DEFAULT_SUBNET},size=24`)],
    defaultHostIp: '127.0.0.1', icc: true,
  };
  svc = new BridgeNetworkService(store, opts);
  await svc.init([]);
});

after(async () => {
  // Whatever a failed test left: tear down every sandbox through a fresh service's init.
  const s2 = new BridgeNetworkService(store, opts);
  await s2.init([]).catch(() => undefined);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function nsExec(netns: string, args: string[]): Promise<string> {
  return sh('nsenter', [`--net=${netns}`, ...args]);
}

function serve(netns: string, port: number, body: string): ChildProcess {
  const www = join(dir, `www-${port}`);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), body);
  return spawn('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', String(port), '-h', www], { stdio: 'ignore' });
}

async function curl(url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await sh('curl', ['-sS', '--max-time', '3', url]);
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('user network: two namespaces reach each other by address and by name; a published port reaches a listener; teardown leaves nothing', async (t) => {
  const before = new Set((await links()).map((l) => l.ifname));
  const user = await svc.create({ name: `nc${tag}`, subnet: USER_SUBNET, options: { 'com.docker.network.bridge.name': USER_BRIDGE } });
  t.after(() => svc.remove(user.id).catch(() => undefined));

  const a1 = await svc.attach({ id: cid('a1'), name: 'web', exposedPorts: [], spec: spec({
    mode: 'user', modeName: user.name, endpoints: [{ network: user.name, aliases: ['web-alias'], ipv4: '' }],
    ports: [{ hostIp: '', hostPortStart: PORT, hostPortEnd: PORT, containerPort: 8080, protocol: 'tcp' }],
  }) });
  const a2 = await svc.attach({ id: cid('b2'), name: 'client', exposedPorts: [], spec: spec({ mode: 'user', modeName: user.name, endpoints: [{ network: user.name, aliases: [], ipv4: '' }] }) });
  const gw = user.gateway;
  const [e1] = a1.endpoints;
  const [e2] = a2.endpoints;
  assert.ok(e1 && e2);
  assert.equal(e1.ipv4, USER_SUBNET.replace('0/24', '2'));
  assert.equal(e2.ipv4, USER_SUBNET.replace('0/24', '3'));
  assert.match(e1.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.deepEqual(a1.ports, [{ hostIp: '127.0.0.1', hostPort: PORT, containerPort: 8080, protocol: 'tcp' }]);
  assert.equal(a1.netnsPath, join(opts.runRoot, 'netns', cid('a1')));
  assert.deepEqual(svc.endpointsOf(user.id).map((e) => e.containerId).sort(), [cid('a1'), cid('b2')]);
  await assert.rejects(svc.remove(user.name), /error while removing network: network nc.* has active endpoints/);

  const routes = JSON.parse(await nsExec(a1.netnsPath, ['ip', '-j', 'route'])) as { dst: string; gateway?: string }[];
  assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === gw), 'a non-internal network has a default route via its gateway');
  // Address and name reachability from the second namespace.
  await nsExec(a2.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '3', e1.ipv4]);
  assert.match(await nsExec(a2.netnsPath, ['busybox', 'nslookup', 'web', gw]), new RegExp(`Address:\\s+${e1.ipv4.replace(/\./g, '\\.')}`));
  assert.match(await nsExec(a2.netnsPath, ['busybox', 'nslookup', 'web-alias.dns.podman', gw]), new RegExp(e1.ipv4.replace(/\./g, '\\.')));
  assert.equal(svc.resolvConf(spec({ mode: 'user' }), a2).split('\n')[1], `nameserver ${gw}`);

  // The published port: host curl on 127.0.0.1 reaches httpd in the first namespace.
  const httpd = serve(a1.netnsPath, 8080, `hello-${tag}\n`);
  t.after(() => httpd.kill());
  assert.equal(await curl(`http://127.0.0.1:${PORT}/`), `hello-${tag}\n`);
  // The port is held: nobody else can bind it.
  await assert.rejects(new Promise((res, rej) => net.createServer().once('error', rej).listen(PORT, '127.0.0.1', () => res(undefined))), { code: 'EADDRINUSE' });
  // A second container asking for the same port gets Docker's message and nothing is left made.
  await assert.rejects(
    svc.attach({ id: cid('c3'), name: 'dup', exposedPorts: [], spec: spec({ ports: [{ hostIp: '', hostPortStart: PORT, hostPortEnd: PORT, containerPort: 80, protocol: 'tcp' }] }) }),
    { message: `Bind for 127.0.0.1:${PORT} failed: port is already allocated` },
  );
  assert.deepEqual(readdirSync(join(opts.runRoot, 'netns')).sort(), [cid('a1'), cid('b2')]);
  httpd.kill();

  await svc.detach(cid('a1'), a1);
  await svc.detach(cid('b2'), a2);
  await svc.detach(cid('b2'), a2); // idempotent
  await svc.remove(user.name);
  assert.deepEqual(readdirSync(join(opts.runRoot, 'netns')), []);
  assert.deepEqual(store.listSandboxes(), []);
  const now = await links();
  assert.deepEqual(now.filter((l) => [BRIDGE, USER_BRIDGE].includes(l.ifname) || [BRIDGE, USER_BRIDGE].includes(l.master ?? '')), []);
  assert.deepEqual(now.filter((l) => !before.has(l.ifname) && l.ifname.startsWith('veth') && l.master === USER_BRIDGE), []);
  assert.deepEqual(await myRules(), []);
  await new Promise<void>((res, rej) => { const s = net.createServer().once('error', rej).listen(PORT, '127.0.0.1', () => s.close(() => res())); });
});

test('default bridge: address from the pool, reachable from the host; --icc=false drops bridge-internal traffic', async (t) => {
  // Control: with icc on (the default), two containers on the default bridge reach each other.
  const c1 = await svc.attach({ id: cid('c1'), name: 'c1', exposedPorts: [], spec: spec({}) });
  const c2 = await svc.attach({ id: cid('c2'), name: 'c2', exposedPorts: [], spec: spec({}) });
  await nsExec(c2.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '3', c1.endpoints[0]!.ipv4]);
  await svc.detach(cid('c1'), c1);
  await svc.detach(cid('c2'), c2);
  const iccOff = new BridgeNetworkService(store, { ...opts, icc: false });
  await iccOff.init([]);
  const a = await iccOff.attach({ id: cid('d4'), name: 'd4', exposedPorts: [], spec: spec({}) });
  const b = await iccOff.attach({ id: cid('e5'), name: 'e5', exposedPorts: [], spec: spec({}) });
  t.after(async () => {
    await iccOff.detach(cid('d4'), a);
    await iccOff.detach(cid('e5'), b);
  });
  assert.equal(a.endpoints[0]?.ipv4, DEFAULT_SUBNET.replace('0/24', '2'));
  assert.equal(a.endpoints[0]?.networkName, 'bridge');
  // Host → container works.
  await sh('busybox', ['ping', '-c', '1', '-W', '3', a.endpoints[0]!.ipv4]);
  const rules = await sh('iptables', ['-S', 'FORWARD']);
  assert.equal(rules.split('\n').find((l) => l.startsWith('-A FORWARD')), `-A FORWARD -i ${BRIDGE} -o ${BRIDGE} -j BRIG-ICC-${BRIDGE}`);
  await assert.rejects(nsExec(b.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '2', a.endpoints[0]!.ipv4]), 'container → container is dropped');
  assert.equal(iccOff.resolvConf(spec({}), a).includes('dns.podman'), false);
  await iccOff.detach(cid('d4'), a);
  await iccOff.detach(cid('e5'), b);
  assert.equal((await sh('iptables-save', [])).includes(`BRIG-ICC-${BRIDGE}`), false, 'the icc chain goes with the last container');
});

test('a restarted daemon finishes the teardown of containers that are not running and keeps their addresses until then', async () => {
  const a = await svc.attach({ id: cid('f6'), name: 'f6', exposedPorts: ['8080/tcp'], spec: spec({ publishAll: true }) });
  assert.equal(a.ports.length, 1);
  assert.ok(a.ports[0]!.hostPort > 0);
  // "Crash": a new service on the same store, with the container not running.
  const restarted = new BridgeNetworkService(store, opts);
  // Before init, the allocation is still in the store: a new container cannot get that address.
  assert.deepEqual(store.listSandboxes().map((s) => s.endpoints[0]?.ipv4), [a.endpoints[0]!.ipv4]);
  await restarted.init([]);
  assert.deepEqual(store.listSandboxes(), []);
  assert.deepEqual(readdirSync(join(opts.runRoot, 'netns')), []);
  assert.equal((await links()).some((l) => l.ifname === BRIDGE), false);
  assert.deepEqual(await myRules(), []);
  // The old service still holds the socket in this process; release it like a dead daemon would.
  await svc.close();
});

test('a restarted daemon keeps running containers attached and holds their ports again', async (t) => {
  const a = await svc.attach({ id: cid('a7'), name: 'a7', exposedPorts: [], spec: spec({ ports: [{ hostIp: '', hostPortStart: PORT + 1, hostPortEnd: PORT + 1, containerPort: 80, protocol: 'tcp' }] }) });
  await svc.close(); // the old daemon's sockets go
  const restarted = new BridgeNetworkService(store, opts);
  await restarted.init([{ containerId: cid('a7'), attachment: a }]);
  t.after(() => restarted.detach(cid('a7'), a));
  assert.deepEqual(readdirSync(join(opts.runRoot, 'netns')), [cid('a7')]);
  assert.equal(restarted.endpointsOf(restarted.get('bridge').id).length, 1);
  await assert.rejects(new Promise((res, rej) => net.createServer().once('error', rej).listen(PORT + 1, '127.0.0.1', () => res(undefined))), { code: 'EADDRINUSE' });
  await restarted.detach(cid('a7'), a);
  assert.deepEqual(await myRules(), []);
});

test('--internal: no route out of the subnet (netavark adds no default route and no masquerade)', async (t) => {
  const internal = await svc.create({ name: `ni${tag}`, subnet: USER_SUBNET, internal: true, options: { 'com.docker.network.bridge.name': USER_BRIDGE } });
  const a = await svc.attach({ id: cid('b8'), name: 'b8', exposedPorts: [], spec: spec({ mode: 'user', modeName: internal.name, endpoints: [{ network: internal.name, aliases: [], ipv4: '' }] }) });
  t.after(async () => {
    await svc.detach(cid('b8'), a);
    await svc.remove(internal.id).catch(() => undefined);
  });
  const routes = JSON.parse(await nsExec(a.netnsPath, ['ip', '-j', 'route'])) as { dst: string }[];
  assert.deepEqual(routes.map((r) => r.dst), [USER_SUBNET]);
  const hostIp = (JSON.parse(await sh('ip', ['-j', '-4', 'route', 'get', '192.0.2.1'])) as { prefsrc: string }[])[0]!.prefsrc;
  await assert.rejects(nsExec(a.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '1', hostIp]), /unreachable|exit|Command failed/i);
  assert.equal((await myRules()).some((l) => l.includes('MASQUERADE')), false);
});

/** A daemon's network service of its own (store, run root, default bridge), torn down after the test. */
function ownDaemon(t: TestContext, bridge: string, subnet: string): { opts: NetworkServiceOptions; store: MetadataStore } {
  const d = mkdtempSync(join(tmpdir(), 'brig-it-netown-'));
  const st = new MetadataStore(join(d, 'db'));
  const o: NetworkServiceOptions = { ...opts, runRoot: join(d, 'run'), bridgeName: bridge, addressPools: [parseAddressPool(`base=${subnet},size=24`)] };
  t.after(async () => {
    await new BridgeNetworkService(st, o).init([]).catch(() => undefined); // whatever a failed test left
    st.close();
    rmSync(d, { recursive: true, force: true });
  });
  return { opts: o, store: st };
}

test('the default bridge is kept warm: it outlives its last container, the next container gets an endpoint set up ahead, and close() or a restart after a crash leaves nothing', async (t) => {
  const { opts: wopts, store: wstore } = ownDaemon(t, WARM_BRIDGE, WARM_SUBNET);
  const warmDir = join(wopts.runRoot, 'netns-warm');
  const onBridge = async () => (await links()).filter((l) => l.master === WARM_BRIDGE).map((l) => l.ifname);
  const rules = async () => (await sh('iptables-save', [])).split('\n').filter((l) => l.includes(WARM_SUBNET) || l.includes(WARM_BRIDGE));
  const poolReady = async (n: number) => {
    for (let i = 0; w.warmStatus().ready < n; i++) {
      assert.ok(i < 100, `the pool did not fill: ${JSON.stringify(w.warmStatus())} ${readdirSync(warmDir).join(' ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let w = new BridgeNetworkService(wstore, wopts);
  await w.init([]);
  assert.equal((await links()).some((l) => l.ifname === WARM_BRIDGE), false, 'no bridge before the first container');

  // The first container is set up by netavark itself; the keeper and the pool come with it.
  const first = await w.attach({ id: cid('w1'), name: 'w1', exposedPorts: [], spec: spec({}) });
  assert.equal(first.netnsPath, join(wopts.runRoot, 'netns', cid('w1')));
  await w.detach(cid('w1'), first);
  await poolReady(2);
  assert.equal(readdirSync(warmDir).filter((f) => f.endsWith('.json')).length, 2);
  assert.deepEqual((await onBridge()).length, 3, 'keeper + two pool endpoints keep the bridge after its last container');
  assert.deepEqual(w.endpointsOf(w.get('bridge').id), [], 'pool endpoints are not containers');
  assert.ok((await rules()).length > 0, 'the network\'s NAT rules stay with the bridge');

  // The next container takes an endpoint of the pool: a namespace already wired to the bridge.
  const second = await w.attach({ id: cid('w2'), name: 'w2', exposedPorts: [], spec: spec({}) });
  assert.equal(second.netnsPath.startsWith(`${warmDir}/`), true, second.netnsPath);
  const ip = second.endpoints[0]!.ipv4;
  assert.notEqual(ip, WARM_SUBNET.replace('0/24', '254'), 'the keeper\'s address is never a container\'s');
  assert.match(second.endpoints[0]!.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.deepEqual(w.endpointsOf(w.get('bridge').id).map((e) => [e.containerId, e.endpoint.ipv4]), [[cid('w2'), ip]]);
  assert.match(await nsExec(second.netnsPath, ['ip', '-4', '-o', 'addr', 'show', 'eth0']), new RegExp(` ${ip.replace(/\./g, '\\.')}/24 `));
  await sh('busybox', ['ping', '-c', '1', '-W', '3', ip]);
  // A second container at the same time gets an address of its own.
  const third2 = await w.attach({ id: cid('w3'), name: 'w3', exposedPorts: [], spec: spec({}) });
  assert.notEqual(third2.endpoints[0]!.ipv4, ip);
  await nsExec(third2.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '3', ip]);
  await w.detach(cid('w2'), second);
  await w.detach(cid('w3'), third2);
  assert.equal(readdirSync(warmDir).includes(second.netnsPath.slice(warmDir.length + 1)), false, 'a taken endpoint goes with its container');

  // Daemon stop: pool and keeper are torn down, and with them the bridge and its rules.
  await poolReady(2);
  await w.close();
  assert.deepEqual(readdirSync(warmDir), []);
  assert.equal((await links()).some((l) => l.ifname === WARM_BRIDGE), false);
  assert.deepEqual(await rules(), []);

  // A daemon killed with its pool up: the next start tears down what it left.
  w = new BridgeNetworkService(wstore, wopts);
  await w.init([]);
  const a = await w.attach({ id: cid('w4'), name: 'w4', exposedPorts: [], spec: spec({}) });
  await w.detach(cid('w4'), a);
  await poolReady(2);
  const restarted = new BridgeNetworkService(wstore, wopts);
  await restarted.init([]);
  assert.deepEqual(readdirSync(warmDir), []);
  assert.equal((await links()).some((l) => l.ifname === WARM_BRIDGE), false);
  assert.deepEqual(await rules(), []);
});

test('two daemons, each with a network called bridge: one tearing its network down leaves the other\'s NAT and port rules alone', async (t) => {
  const a = ownDaemon(t, AUX_BRIDGE, AUX_SUBNET);
  const b = ownDaemon(t, WARM_BRIDGE, WARM_SUBNET);
  const svcA = new BridgeNetworkService(a.store, a.opts);
  const svcB = new BridgeNetworkService(b.store, b.opts);
  await svcA.init([]);
  await svcB.init([]);
  const port = PORT + 2;
  const web = await svcA.attach({ id: cid('a9'), name: 'web', exposedPorts: [], spec: spec({ ports: [{ hostIp: '', hostPortStart: port, hostPortEnd: port, containerPort: 8080, protocol: 'tcp' }] }) });
  const httpd = serve(web.netnsPath, 8080, `a-${tag}\n`);
  t.after(() => httpd.kill());
  assert.equal(await curl(`http://127.0.0.1:${port}/`), `a-${tag}\n`);
  // B's only container comes and goes, then B stops: its network's chains are deleted.
  const other = await svcB.attach({ id: cid('b9'), name: 'other', exposedPorts: [], spec: spec({}) });
  await svcB.detach(cid('b9'), other);
  await svcB.close();
  assert.equal((await links()).some((l) => l.ifname === WARM_BRIDGE), false);
  // A's port and masquerading are untouched.
  assert.equal(await curl(`http://127.0.0.1:${port}/`), `a-${tag}\n`);
  const nat = await sh('iptables-save', ['-t', 'nat']);
  assert.match(nat, new RegExp(`-A POSTROUTING -s ${AUX_SUBNET.replace(/\./g, '\\.')} -j NETAVARK-`));
  assert.match(nat, new RegExp(`--dport ${port} -m comment --comment "dnat name: \\S+ id: ${cid('a9')}" -j NETAVARK-DN-`));
  httpd.kill();
  await svcA.detach(cid('a9'), web);
  await svcA.close();
  assert.equal((await links()).some((l) => l.ifname === AUX_BRIDGE), false);
});

test('localnet guard: with route_localnet on for a published port, a container with CAP_NET_RAW cannot reach the host\'s 127.0.0.1 through the bridge', async (t) => {
  const o = ownDaemon(t, AUX_BRIDGE, AUX_SUBNET);
  const s = new BridgeNetworkService(o.store, o.opts);
  await s.init([]);
  const web = await s.attach({ id: cid('g1'), name: 'web', exposedPorts: [], spec: spec({ ports: [{ hostIp: '', hostPortStart: PORT + 4, hostPortEnd: PORT + 4, containerPort: 80, protocol: 'tcp' }] }) });
  const x = await s.attach({ id: cid('g2'), name: 'x', exposedPorts: [], spec: spec({}) });
  assert.equal((await sh('cat', [`/proc/sys/net/ipv4/conf/${AUX_BRIDGE}/route_localnet`])).trim(), '1', 'netavark turned route_localnet on');
  // A service the host keeps on loopback only.
  const secret = net.createServer((c) => c.end('secret\n'));
  await new Promise<void>((res) => secret.listen(PORT + 3, '127.0.0.1', () => res()));
  t.after(() => secret.close());
  const mac = (await sh('cat', [`/sys/class/net/${AUX_BRIDGE}/address`])).trim();
  // The host must know the container's MAC to answer (an attacker pings its gateway first, too).
  await nsExec(x.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '2', x.endpoints[0]!.gateway]);
  const probe = () => nsExec(x.netnsPath, ['python3', '-c', LOCALNET_PROBE, String(PORT + 3), mac]);
  assert.match(await sh('iptables', ['-t', 'raw', '-S', 'PREROUTING']), new RegExp(`-A PREROUTING -d 127\\.0\\.0\\.0/8 -i ${AUX_BRIDGE} -m comment --comment "brig localnet guard" -j DROP`));
  assert.equal((await probe()).trim(), 'CLOSED');
  // Control: without the guard the same probe gets through (so the probe can see an open port).
  await removeLocalnetGuard(AUX_BRIDGE);
  try {
    assert.equal((await probe()).trim(), 'OPEN');
  } finally {
    await ensureLocalnetGuard(AUX_BRIDGE);
  }
  assert.equal((await probe()).trim(), 'CLOSED');
  await s.detach(cid('g1'), web);
  await s.detach(cid('g2'), x);
  await s.close();
  assert.doesNotMatch(await sh('iptables', ['-t', 'raw', '-S', 'PREROUTING']), /brig localnet guard/, 'the guard goes with the last container');
});

void ({} as NetworkAttachment);
