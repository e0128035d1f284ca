import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkRequestedAddress,
  DEFAULT_ADDRESS_POOLS,
  formatCidr,
  formatIPv4,
  hostRoutes,
  overlaps,
  parseAddressPool,
  parseCidr,
  parseIPv4,
  pickAddress,
  pickSubnet,
  tryParseIPv4,
  validateAddressing,
} from './ipam.js';

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

test('IPv4 addresses parse and format; junk is refused', () => {
  assert.equal(parseIPv4('10.213.1.2'), 0x0ad50102);
  assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
  for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4 ', '::1']) assert.equal(tryParseIPv4(bad), undefined, bad);
  assert.throws(() => parseIPv4('1.2.3.999', 'gateway'), /invalid gateway: "1.2.3.999" is not an IPv4 address/);
});

test('CIDRs parse with host bits cleared; bad ones are 400, IPv6 is 501', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/24')), '10.1.2.0/24');
  assert.deepEqual(parseCidr('0.0.0.0/0'), { network: 0, prefix: 0, last: 0xffffffff });
  assert.equal(parseCidr('10.0.0.7/32').last, parseIPv4('10.0.0.7'));
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0/8', '10.0.0.0/8/1']) assert.throws(() => parseCidr(bad), code('ERR_INVALID_ARGUMENT'), bad);
  assert.throws(() => parseCidr('fd00::/64'), code('ERR_NOT_IMPLEMENTED'));
});

test('overlap', () => {
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.213.5.0/24')));
  assert.ok(overlaps(parseCidr('10.213.5.0/24'), parseCidr('10.213.5.128/25')));
  assert.ok(!overlaps(parseCidr('10.213.5.0/24'), parseCidr('10.213.6.0/24')));
});

test('addressing: gateway defaults to the first address and must be a host address inside the subnet; ip-range inside the subnet', () => {
  assert.deepEqual(validateAddressing('10.213.5.0/24'), { subnet: '10.213.5.0/24', gateway: '10.213.5.1', ipRange: '' });
  assert.deepEqual(validateAddressing('10.213.5.9/24', '10.213.5.254', '10.213.5.128/25'), { subnet: '10.213.5.0/24', gateway: '10.213.5.254', ipRange: '10.213.5.128/25' });
  assert.throws(() => validateAddressing('10.213.5.0/24', '10.213.6.1'), /invalid gateway 10.213.6.1: it is not inside subnet 10.213.5.0\/24/);
  assert.throws(() => validateAddressing('10.213.5.0/24', '10.213.5.255'), /broadcast/);
  assert.throws(() => validateAddressing('10.213.5.0/24', '', '10.213.0.0/16'), /invalid ip-range 10.213.0.0\/16: it is not inside subnet 10.213.5.0\/24/);
  assert.throws(() => validateAddressing('10.213.5.0/31'), code('ERR_INVALID_ARGUMENT'));
});

test('address choice: lowest free, skipping gateway, network and broadcast; range honoured; full is a conflict', () => {
  const a = validateAddressing('10.213.5.0/29');
  assert.equal(pickAddress(a, new Set(), 'n'), '10.213.5.2');
  assert.equal(pickAddress(a, new Set(['10.213.5.2', '10.213.5.3']), 'n'), '10.213.5.4');
  const taken = new Set(['10.213.5.2', '10.213.5.3', '10.213.5.4', '10.213.5.5', '10.213.5.6']);
  assert.throws(() => pickAddress(a, taken, 'n'), (err: unknown) => code('ERR_CONFLICT')(err) && /no available IPv4 addresses on network n/.test(String(err)));
  const r = validateAddressing('10.213.5.0/24', '', '10.213.5.16/28');
  assert.equal(pickAddress(r, new Set(), 'n'), '10.213.5.16');
  const gwInRange = validateAddressing('10.213.5.0/24', '10.213.5.16', '10.213.5.16/28');
  assert.equal(pickAddress(gwInRange, new Set(), 'n'), '10.213.5.17');
});

test('requested --ip: inside range, not the network/broadcast/gateway, not taken', () => {
  const a = validateAddressing('10.213.5.0/24', '', '10.213.5.0/25');
  assert.equal(checkRequestedAddress(a, '10.213.5.9', new Set(), 'n'), '10.213.5.9');
  assert.throws(() => checkRequestedAddress(a, '10.213.5.200', new Set(), 'n'), (e: unknown) => code('ERR_INVALID_ARGUMENT')(e) && /no configured subnet or ip-range contain the IP address 10.213.5.200/.test(String(e)));
  assert.throws(() => checkRequestedAddress(a, '10.213.5.0', new Set(), 'n'), code('ERR_INVALID_ARGUMENT'));
  assert.throws(() => checkRequestedAddress(a, '10.213.5.1', new Set(), 'n'), code('ERR_CONFLICT'));
  assert.throws(() => checkRequestedAddress(a, '10.213.5.9', new Set(['10.213.5.9']), 'n'), /Address already in use: 10.213.5.9 on network n/);
  assert.throws(() => checkRequestedAddress(a, 'nope', new Set(), 'n'), code('ERR_INVALID_ARGUMENT'));
});

test('address pools: parse, carve, skip what clashes', () => {
  assert.deepEqual(parseAddressPool('base=10.213.0.0/16,size=24'), { base: '10.213.0.0/16', size: 24 });
  assert.throws(() => parseAddressPool('base=10.213.0.0/16,size=8'), /size must be between 16 and 30/);
  assert.throws(() => parseAddressPool('10.213.0.0/16'), /expected base=CIDR,size=N/);
  const pools = [parseAddressPool('base=10.213.0.0/16,size=24')];
  assert.equal(pickSubnet(pools, []), '10.213.0.0/24');
  assert.equal(pickSubnet(pools, [parseCidr('10.213.0.0/24'), parseCidr('10.213.1.5/32')]), '10.213.2.0/24');
  // A big clashing route is skipped at once, and the next pool is used when one is full.
  assert.equal(pickSubnet([...pools, parseAddressPool('base=10.214.0.0/16,size=24')], [parseCidr('10.213.0.0/16')]), '10.214.0.0/24');
  assert.equal(pickSubnet(pools, [parseCidr('10.0.0.0/8')]), undefined);
  assert.equal(pickSubnet(DEFAULT_ADDRESS_POOLS, []), '172.18.0.0/16');
});

test('host routes are read from /proc/net/route, default routes ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'brig-ipam-'));
  t.after(() => rmSync(dir, { recursive: true }));
  const file = join(dir, 'route');
  writeFileSync(file, [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'br0\t0000D50A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n'));
  assert.deepEqual(hostRoutes(file).map(formatCidr), ['192.0.2.0/24', '10.213.0.0/16']);
});
