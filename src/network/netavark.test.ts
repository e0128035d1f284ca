import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkRecord } from '../model/network.js';
import { buildNetavarkOptions, macOf, netavarkError } from './netavark.js';

const cid = 'c'.repeat(64);
const rec = (name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord => ({
  id: name[0]!.repeat(64), name, driver: 'bridge', bridge: `bt-${name}`, subnet: '10.213.7.0/24', gateway: '10.213.7.1', ipRange: '',
  internal: false, dnsEnabled: true, labels: {}, options: {}, created: '', builtin: false, ...extra,
});
const ep = (r: NetworkRecord, ip: string, aliases: string[] = []) =>
  ({ networkId: r.id, networkName: r.name, endpointId: 'e'.repeat(64), ipv4: ip, prefixLen: 24, gateway: r.gateway, mac: '', aliases });

test('netavark JSON: the shape of platform.md §4.2, one entry per network named after its ID (never the user\'s name: chains are named after it), ports with 0.0.0.0 as ""', () => {
  const web = rec('web', { internal: true });
  const def = rec('bridge', { dnsEnabled: false, builtin: true, subnet: '10.213.8.0/24', gateway: '10.213.8.1' });
  const json = buildNetavarkOptions({
    containerId: cid, containerName: 'c1',
    ports: [{ hostIp: '127.0.0.1', hostPort: 28082, containerPort: 80, protocol: 'tcp' }, { hostIp: '0.0.0.0', hostPort: 28083, containerPort: 53, protocol: 'udp' }],
    networks: [{ record: web, endpoint: ep(web, '10.213.7.2', ['db']), interfaceName: 'eth0' }, { record: def, endpoint: ep(def, '10.213.8.2'), interfaceName: 'eth1' }],
  });
  assert.deepEqual(json, {
    container_id: cid, container_name: 'c1',
    port_mappings: [
      { container_port: 80, host_ip: '127.0.0.1', host_port: 28082, protocol: 'tcp', range: 1 },
      { container_port: 53, host_ip: '', host_port: 28083, protocol: 'udp', range: 1 },
    ],
    networks: {
      'brig-wwwwwwwwwwww': { interface_name: 'eth0', static_ips: ['10.213.7.2'], aliases: ['db', 'cccccccccccc'] },
      'brig-bbbbbbbbbbbb': { interface_name: 'eth1', static_ips: ['10.213.8.2'], aliases: [] },
    },
    network_info: {
      'brig-wwwwwwwwwwww': { name: 'brig-wwwwwwwwwwww', id: 'w'.repeat(64), driver: 'bridge', network_interface: 'bt-web', subnets: [{ subnet: '10.213.7.0/24', gateway: '10.213.7.1' }], ipv6_enabled: false, internal: true, dns_enabled: true, ipam_options: { driver: 'host-local' }, options: { isolate: 'true' } },
      'brig-bbbbbbbbbbbb': { name: 'brig-bbbbbbbbbbbb', id: 'b'.repeat(64), driver: 'bridge', network_interface: 'bt-bridge', subnets: [{ subnet: '10.213.8.0/24', gateway: '10.213.8.1' }], ipv6_enabled: false, internal: false, dns_enabled: false, ipam_options: { driver: 'host-local' }, options: { isolate: 'true' } },
    },
  });
});

test('netavark output and errors are read', () => {
  const out = JSON.parse('{"brig-777777777777":{"dns_search_domains":["dns.podman"],"dns_server_ips":["10.213.79.1"],"interfaces":{"eth0":{"mac_address":"2e:72:99:84:fb:19","subnets":[{"gateway":"10.213.79.1","ipnet":"10.213.79.2/24"}]}}}}');
  assert.equal(macOf(out, '7'.repeat(64), 'eth0'), '2e:72:99:84:fb:19');
  assert.equal(macOf(out, '8'.repeat(64), 'eth0'), '');
  assert.equal(netavarkError('{"error":"invalid namespace path: IO error"}', ''), 'invalid namespace path: IO error');
  assert.equal(netavarkError('', '[ERROR netavark] failed to connect to syslog: Initialization\nboom\n'), 'boom');
});
