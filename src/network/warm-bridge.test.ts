import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkRecord } from '../model/network.js';
import { keeperAddress } from './warm-bridge.js';

const rec = (extra: Partial<NetworkRecord>): NetworkRecord => ({
  id: 'a'.repeat(64), name: 'bridge', driver: 'bridge', bridge: 'brig0', subnet: '172.18.0.0/16', gateway: '172.18.0.1', ipRange: '',
  internal: false, dnsEnabled: false, labels: {}, options: {}, created: '', builtin: true, ...extra,
});

test('the keeper sits on the default subnet\'s highest usable address; none for user networks, ip-ranges and small subnets', () => {
  assert.equal(keeperAddress(rec({})), '172.18.255.254');
  assert.equal(keeperAddress(rec({ subnet: '10.213.7.0/24', gateway: '10.213.7.1' })), '10.213.7.254');
  assert.equal(keeperAddress(rec({ subnet: '10.213.7.0/24', gateway: '10.213.7.254' })), undefined, 'never the gateway');
  assert.equal(keeperAddress(rec({ subnet: '10.213.7.0/25', gateway: '10.213.7.1' })), undefined);
  assert.equal(keeperAddress(rec({ builtin: false })), undefined);
  assert.equal(keeperAddress(rec({ ipRange: '172.18.5.0/24' })), undefined);
});
