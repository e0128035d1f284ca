import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortSpecs, validateExtraHost, validateIpAddress } from './publish.js';

test('-p forms as docker reads them: ip:host:container, host:container, container, ranges, protocols', () => {
  const r = parsePortSpecs(['127.0.0.1:28080:80', '80', '28090-28091:90-91/udp', '28100-28110:100', '[::1]:28200:200', '127.0.0.1::300'], ['7000-7001', '53/udp']);
  assert.deepEqual(r.bindings, {
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '28080' }, { HostIp: '', HostPort: '' }],
    '90/udp': [{ HostIp: '', HostPort: '28090' }],
    '91/udp': [{ HostIp: '', HostPort: '28091' }],
    '100/tcp': [{ HostIp: '', HostPort: '28100-28110' }],
    '200/tcp': [{ HostIp: '::1', HostPort: '28200' }],
    '300/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
  });
  assert.deepEqual(Object.keys(r.exposed).sort(), ['100/tcp', '200/tcp', '300/tcp', '53/udp', '7000/tcp', '7001/tcp', '80/tcp', '90/udp', '91/udp']);
});

test('-p and --expose errors carry docker\'s messages', () => {
  assert.throws(() => parsePortSpecs(['x:80:80'], []), /invalid IP address: x/);
  assert.throws(() => parsePortSpecs(['80:abc'], []), /invalid containerPort: abc/);
  assert.throws(() => parsePortSpecs(['a:80'], []), /invalid hostPort: a/);
  assert.throws(() => parsePortSpecs(['1-3:80-81'], []), /invalid ranges specified for container and host Ports: 80-81 and 1-3/);
  assert.throws(() => parsePortSpecs(['80/xyz'], []), /invalid proto: xyz/);
  assert.throws(() => parsePortSpecs([], ['1:2']), /invalid port format for --expose: 1:2/);
});

test('--dns needs an address; --add-host needs name:ip or name:host-gateway', () => {
  assert.equal(validateIpAddress(' 192.0.2.1 '), '192.0.2.1');
  assert.throws(() => validateIpAddress('dns.example'), /IP address is not correctly formatted: dns.example/);
  assert.equal(validateExtraHost('gw:host-gateway'), 'gw:host-gateway');
  assert.equal(validateExtraHost('db=192.0.2.7'), 'db=192.0.2.7');
  assert.throws(() => validateExtraHost('nohost'), /bad format for add-host/);
  assert.throws(() => validateExtraHost('a:b'), /invalid IP address in add-host/);
});
