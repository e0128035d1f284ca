/** Network records and validation of the bridge service (no netavark run: no container is attached here). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isEngineError } from '../errors.js';
import type { NetworkSpecV2 } from '../model/network.js';
import { MetadataStore } from '../store/metadata/metadata-store.js';
import { BridgeNetworkService } from './bridge-service.js';
import { parseAddressPool, parseCidr } from './ipam.js';

async function service(t: TestContext, routes = ['10.213.0.0/24']): Promise<{ svc: BridgeNetworkService; dir: string; store: MetadataStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'brig-netsvc-'));
  const store = new MetadataStore(join(dir, 'db'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const svc = new BridgeNetworkService(store, {
    runRoot: join(dir, 'run'), bridgeName: 'bt0unit', addressPools: [parseAddressPool('base=10.213.0.0/16,size=24')], defaultHostIp: '127.0.0.1', icc: true,
  }, { hostRoutes: () => routes.map((r) => parseCidr(r)), hostResolvConf: () => 'nameserver 127.0.0.53\nsearch corp.example\n', localnetGuards: async () => [] });
  await svc.init([]);
  return { svc, dir, store };
}

const is = (code: string, re: RegExp) => (err: unknown) => isEngineError(err) && err.code === code && re.test(err.message);

test('init makes the builtin bridge from the pool, skipping host routes; it survives a restart unchanged', async (t) => {
  const { svc, dir, store } = await service(t);
  const [def] = svc.list();
  assert.equal(def?.name, 'bridge');
  assert.equal(def?.builtin, true);
  assert.equal(def?.bridge, 'bt0unit');
  assert.equal(def?.subnet, '10.213.1.0/24');
  assert.equal(def?.gateway, '10.213.1.1');
  assert.equal(def?.dnsEnabled, false);
  const again = new BridgeNetworkService(store, { runRoot: join(dir, 'run'), bridgeName: 'bt0unit', addressPools: [], defaultHostIp: '127.0.0.1', icc: true }, { localnetGuards: async () => [] });
  await again.init([]);
  assert.deepEqual(again.list(), svc.list());
});

test('create: pool subnets, explicit subnet/gateway/ip-range, bridge name option, labels, internal', async (t) => {
  const { svc } = await service(t);
  const a = await svc.create({ name: 'a', labels: { x: 'y' }, internal: true });
  assert.equal(a.subnet, '10.213.2.0/24');
  assert.match(a.bridge, /^br-[0-9a-f]{12}$/);
  assert.equal(a.bridge, `br-${a.id.slice(0, 12)}`);
  assert.deepEqual([a.internal, a.dnsEnabled, a.labels], [true, true, { x: 'y' }]);
  const b = await svc.create({ name: 'b', subnet: '10.213.40.0/24', gateway: '10.213.40.254', ipRange: '10.213.40.128/25', options: { 'com.docker.network.bridge.name': 'bt0b' } });
  assert.deepEqual([b.subnet, b.gateway, b.ipRange, b.bridge], ['10.213.40.0/24', '10.213.40.254', '10.213.40.128/25', 'bt0b']);
  assert.equal((await svc.create({ name: 'c' })).subnet, '10.213.3.0/24');
});

test('create refuses: duplicate name 409, overlap 409 naming the network, bad addressing 400, other drivers/options 501', async (t) => {
  const { svc } = await service(t);
  await svc.create({ name: 'n1', subnet: '10.213.50.0/24' });
  await assert.rejects(svc.create({ name: 'n1' }), is('ERR_CONFLICT', /network with name n1 already exists/));
  await assert.rejects(svc.create({ name: 'bridge' }), is('ERR_CONFLICT', /already exists/));
  await assert.rejects(svc.create({ name: 'host' }), is('ERR_CONFLICT', /already exists/));
  await assert.rejects(svc.create({ name: 'n2', subnet: '10.213.50.128/25' }), is('ERR_CONFLICT', /overlaps network n1 \(10.213.50.0\/24\)/));
  await assert.rejects(svc.create({ name: 'n2', subnet: '10.213.51.0/24', gateway: '10.213.52.1' }), is('ERR_INVALID_ARGUMENT', /not inside subnet/));
  await assert.rejects(svc.create({ name: 'n2', subnet: '10.213.51.0/24', ipRange: '10.213.52.0/25' }), is('ERR_INVALID_ARGUMENT', /not inside subnet/));
  await assert.rejects(svc.create({ name: 'n2', gateway: '10.213.51.1' }), is('ERR_INVALID_ARGUMENT', /need --subnet/));
  await assert.rejects(svc.create({ name: 'n2', subnet: 'bogus' }), is('ERR_INVALID_ARGUMENT', /not an IPv4 CIDR/));
  await assert.rejects(svc.create({ name: 'n2', driver: 'macvlan' }), is('ERR_NOT_IMPLEMENTED', /network driver "macvlan" is not supported/));
  await assert.rejects(svc.create({ name: 'n2', options: { 'com.docker.network.driver.mtu': '1400' } }), is('ERR_NOT_IMPLEMENTED', /mtu/));
  await assert.rejects(svc.create({ name: 'n2', options: { 'com.docker.network.bridge.name': 'bt0unit' } }), is('ERR_CONFLICT', /already used by network bridge/));
  await assert.rejects(svc.create({ name: '-bad' }), is('ERR_INVALID_NAME', /invalid network name/));
  assert.deepEqual(svc.list().map((n) => n.name), ['bridge', 'n1']);
});

test('get by name, id, unique prefix; 404 otherwise; remove rules', async (t) => {
  const { svc } = await service(t);
  const n = await svc.create({ name: 'web' });
  assert.equal(svc.get('web').id, n.id);
  assert.equal(svc.get(n.id).id, n.id);
  assert.equal(svc.get(n.id.slice(0, 5)).id, n.id);
  assert.throws(() => svc.get('nope'), is('ERR_NO_SUCH_NETWORK', /^network nope not found$/));
  await assert.rejects(svc.remove('bridge'), is('ERR_FORBIDDEN', /^bridge is a pre-defined network and cannot be removed$/));
  await svc.remove('web');
  assert.throws(() => svc.get('web'), is('ERR_NO_SUCH_NETWORK', /not found/));
});

const spec = (over: Partial<NetworkSpecV2>): NetworkSpecV2 => ({
  mode: 'bridge', modeName: 'default', endpoints: [], ports: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], macAddress: '', ...over,
});

test('checkSpec: --ip/--alias only on user networks, --ip inside the subnet, unknown network 404', async (t) => {
  const { svc } = await service(t);
  await svc.create({ name: 'u', subnet: '10.213.60.0/24' });
  assert.deepEqual(svc.checkSpec(spec({})).map((n) => n.name), ['bridge']);
  assert.throws(() => svc.checkSpec(spec({ endpoints: [{ network: 'bridge', aliases: [], ipv4: '10.213.1.5' }] })), /user specified IP address is supported on user defined networks only/);
  assert.throws(() => svc.checkSpec(spec({ endpoints: [{ network: 'bridge', aliases: ['x'], ipv4: '' }] })), /network-scoped alias is supported only/);
  assert.deepEqual(svc.checkSpec(spec({ mode: 'user', endpoints: [{ network: 'u', aliases: ['x'], ipv4: '10.213.60.9' }] })).map((n) => n.name), ['u']);
  assert.throws(() => svc.checkSpec(spec({ mode: 'user', endpoints: [{ network: 'u', aliases: [], ipv4: '10.213.61.9' }] })), is('ERR_INVALID_ARGUMENT', /no configured subnet or ip-range contain the IP address 10.213.61.9/));
  assert.throws(() => svc.checkSpec(spec({ mode: 'user', endpoints: [{ network: 'zz', aliases: [], ipv4: '' }] })), is('ERR_NO_SUCH_NETWORK', /network zz not found/));
  assert.deepEqual(svc.checkSpec(spec({ mode: 'none' })), []);
});

test('hosts and resolv.conf through the service: host-gateway = default bridge gateway; aardvark only on DNS networks', async (t) => {
  const { svc } = await service(t);
  assert.match(svc.hostsFile({ hostname: 'h', domainname: '', extraHosts: ['gw:host-gateway'] }, null), /\n10\.213\.1\.1\tgw\n$/);
  assert.equal(svc.resolvConf(spec({}), null), 'search corp.example\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  const u = await svc.create({ name: 'u', subnet: '10.213.60.0/24' });
  const a = { netnsPath: '', ports: [], endpoints: [{ networkId: u.id, networkName: 'u', endpointId: 'e', ipv4: '10.213.60.2', prefixLen: 24, gateway: '10.213.60.1', mac: '', aliases: [] }] };
  assert.equal(svc.resolvConf(spec({ mode: 'user' }), a), 'search dns.podman corp.example\nnameserver 10.213.60.1\n');
  assert.equal(svc.resolvConf(spec({ mode: 'host' }), null), 'nameserver 127.0.0.53\nsearch corp.example\n');
});
