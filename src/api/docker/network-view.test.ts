import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNetworkSpec, emptyState, type ContainerRecord } from '../../model/container.js';
import type { NetworkAttachment } from '../../model/network.js';
import { fromDockerNetworkCreate, legacyBridgeFields, networksOf, portBindingsOf, portsOf, summaryPorts } from './network-view.js';
import { isEngineError } from '../../errors.js';

const ID = 'c'.repeat(64);
const attachment: NetworkAttachment = {
  netnsPath: `/run/brig/netns/${ID}`,
  endpoints: [{ networkId: 'n'.repeat(64), networkName: 'bridge', endpointId: 'e'.repeat(64), ipv4: '10.213.0.2', prefixLen: 24, gateway: '10.213.0.1', mac: '02:00:00:00:00:01', aliases: [] }],
  ports: [{ hostIp: '127.0.0.1', hostPort: 28080, containerPort: 80, protocol: 'tcp' }],
};

function container(running: boolean): ContainerRecord {
  const network = { ...defaultNetworkSpec(), ports: [{ hostIp: '127.0.0.1', hostPortStart: 28080, hostPortEnd: 28080, containerPort: 80, protocol: 'tcp' as const }] };
  return {
    id: ID, name: 'web', created: '', imageId: 'sha256:x' as never, path: 'sh', args: [], restartCount: 0,
    spec: { exposedPorts: ['80/tcp', '443/tcp'], network } as unknown as ContainerRecord['spec'],
    state: { ...emptyState(), status: running ? 'running' : 'exited', network: running ? attachment : null },
  };
}

test('Ports: published bindings of a running container, null for exposed-only ports, {} when stopped', () => {
  assert.deepEqual(portsOf(container(true)), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '28080' }], '443/tcp': null });
  assert.deepEqual(portsOf(container(false)), {});
  assert.deepEqual(summaryPorts(container(true)), [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 28080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }]);
  assert.deepEqual(portBindingsOf(container(true).spec.network), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '28080' }] });
});

test('Networks and the legacy top-level fields come from the default bridge endpoint; a stopped container keeps its network, empty', () => {
  const ctx = { networkId: (ref: string) => (ref === 'bridge' ? 'n'.repeat(64) : undefined) };
  const live = networksOf(container(true), ctx)['bridge']!;
  assert.deepEqual([live.IPAddress, live.IPPrefixLen, live.Gateway, live.MacAddress, live.NetworkID, live.Aliases], ['10.213.0.2', 24, '10.213.0.1', '02:00:00:00:00:01', 'n'.repeat(64), null]);
  const stopped = networksOf(container(false), ctx)['bridge']!;
  assert.deepEqual([stopped.IPAddress, stopped.NetworkID, stopped.EndpointID], ['', 'n'.repeat(64), '']);
  assert.deepEqual(legacyBridgeFields(attachment), { EndpointID: 'e'.repeat(64), Gateway: '10.213.0.1', IPAddress: '10.213.0.2', IPPrefixLen: 24, MacAddress: '02:00:00:00:00:01' });
});

test('network create bodies: Docker\'s fields read, unsupported ones are 501s naming them', () => {
  assert.deepEqual(fromDockerNetworkCreate({
    Name: 'n1', CheckDuplicate: true, Driver: 'bridge', IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.213.5.0/24', Gateway: '10.213.5.1', IPRange: '10.213.5.128/25' }] },
    Internal: true, Attachable: true, Ingress: false, ConfigOnly: false, ConfigFrom: null, Options: { 'com.docker.network.bridge.name': 'bt1' }, Labels: { a: 'b' },
  }), {
    name: 'n1', driver: 'bridge', internal: true, labels: { a: 'b' }, options: { 'com.docker.network.bridge.name': 'bt1' }, checkDuplicate: true,
    subnet: '10.213.5.0/24', gateway: '10.213.5.1', ipRange: '10.213.5.128/25',
  });
  const fails = (body: unknown, code: string, re: RegExp) => assert.throws(() => fromDockerNetworkCreate(body), (e) => isEngineError(e) && e.code === code && re.test(e.message));
  fails({ Name: 'x', Driver: 'overlay' }, 'ERR_NOT_IMPLEMENTED', /overlay/);
  fails({ Name: 'x', EnableIPv6: true }, 'ERR_NOT_IMPLEMENTED', /IPv6/);
  fails({ Name: 'x', IPAM: { Config: [{ Subnet: '10.213.5.0/24', AuxiliaryAddresses: { a: '10.213.5.9' } }] } }, 'ERR_NOT_IMPLEMENTED', /aux-address/);
  fails({ Name: 'x', IPAM: { Config: [{ Gateway: '10.213.5.1' }] } }, 'ERR_INVALID_ARGUMENT', /needs a subnet/);
  fails({ Name: '' }, 'ERR_INVALID_ARGUMENT', /name is required/);
  fails({ Name: 'bad name' }, 'ERR_INVALID_ARGUMENT', /invalid network name/);
});
