import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkAttachment } from '../model/network.js';
import { hostsText, parseExtraHost, resolvText } from './etc-files.js';

const HEAD = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
const att: NetworkAttachment = {
  netnsPath: '/run/brig/netns/x',
  ports: [],
  endpoints: [{ networkId: 'n', networkName: 'bridge', endpointId: 'e', ipv4: '10.213.0.2', prefixLen: 24, gateway: '10.213.0.1', mac: '', aliases: [] }],
};

test('/etc/hosts: Docker layout, extra hosts before the own entry, host-gateway, domainname', () => {
  assert.equal(hostsText({ hostname: 'abc', domainname: '', extraHosts: [] }, null, ''), HEAD);
  assert.equal(
    hostsText({ hostname: 'abc', domainname: 'example.org', extraHosts: ['db:10.1.1.1', 'gw:host-gateway', 'v6:::1'] }, att, '10.213.0.1'),
    HEAD + '10.1.1.1\tdb\n10.213.0.1\tgw\n::1\tv6\n10.213.0.2\tabc.example.org abc\n',
  );
  assert.equal(hostsText({ hostname: 'abc', domainname: '', extraHosts: [] }, att, ''), HEAD + '10.213.0.2\tabc\n');
  assert.throws(() => hostsText({ hostname: 'a', domainname: '', extraHosts: ['gw:host-gateway'] }, null, ''), /host-gateway has no address/);
  assert.throws(() => parseExtraHost('nocolon'), /invalid argument "nocolon" for "--add-host" flag/);
  assert.throws(() => parseExtraHost('a:not-an-ip'), /--add-host/);
  assert.deepEqual(parseExtraHost('a=[::1]'), { name: 'a', ip: '::1' });
});

const none = { dns: [], dnsSearch: [], dnsOptions: [] };

test('resolv.conf on the default bridge: host servers without loopback, fallback, overrides', () => {
  const host = 'search corp.example\nnameserver 127.0.0.53\nnameserver 10.255.255.53 # x\noptions ndots:2\n';
  assert.equal(resolvText(none, [], host), 'search corp.example\nnameserver 10.255.255.53\noptions ndots:2\n');
  assert.equal(resolvText(none, [], 'nameserver 127.0.0.1\nnameserver ::1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvText(none, [], ''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvText({ dns: ['1.1.1.1'], dnsSearch: ['a.example'], dnsOptions: ['ndots:5'] }, [], host),
    'search a.example\nnameserver 1.1.1.1\noptions ndots:5\n');
  assert.equal(resolvText({ dns: [], dnsSearch: ['.'], dnsOptions: [] }, [], host), 'nameserver 10.255.255.53\noptions ndots:2\n');
});

test('resolv.conf on user networks: aardvark at the gateways, dns.podman first in search', () => {
  const host = 'search corp.example\nnameserver 10.255.255.53\n';
  assert.equal(resolvText(none, ['10.213.1.1', '10.213.2.1'], host), 'search dns.podman corp.example\nnameserver 10.213.1.1\nnameserver 10.213.2.1\n');
  assert.equal(resolvText({ dns: ['9.9.9.9'], dnsSearch: ['x.example'], dnsOptions: ['timeout:1'] }, ['10.213.1.1'], host),
    'search dns.podman x.example\nnameserver 10.213.1.1\nnameserver 9.9.9.9\noptions timeout:1\n');
});
