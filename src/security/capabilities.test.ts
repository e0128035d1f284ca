import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ALL_CAPABILITIES,
  BRIG_DEFAULT_CAPS,
  CAPABILITY_BITS,
  DOCKER_DEFAULT_CAPS,
  capabilitiesFromMask,
  capabilityMask,
  normalizeCapability,
  parseBoundingSet,
  readHostBoundingSet,
  resolveCapabilities,
} from './capabilities.js';

/** This machine kind's bounding set: everything up to CAP_CHECKPOINT_RESTORE except CAP_SYS_RESOURCE. */
const HOST_MASK = '000001fffeffffff';
const HOST = capabilitiesFromMask(HOST_MASK);

const resolve = (o: Partial<Parameters<typeof resolveCapabilities>[0]>) =>
  resolveCapabilities({ compat: 'brig', capAdd: [], capDrop: [], privileged: false, hostBounding: HOST, ...o });

test('the table has every capability 0..40 exactly once', () => {
  assert.equal(ALL_CAPABILITIES.length, 41);
  assert.deepEqual(
    ALL_CAPABILITIES.map((c) => CAPABILITY_BITS[c]),
    Array.from({ length: 41 }, (_, i) => i),
  );
  assert.equal(ALL_CAPABILITIES[0], 'CAP_CHOWN');
  assert.equal(ALL_CAPABILITIES[40], 'CAP_CHECKPOINT_RESTORE');
});

test('default sets and their /proc masks', () => {
  assert.equal(DOCKER_DEFAULT_CAPS.length, 14);
  assert.equal(capabilityMask(DOCKER_DEFAULT_CAPS), '00000000a80425fb'); // what runc shows for Docker's set
  assert.deepEqual(
    DOCKER_DEFAULT_CAPS.filter((c) => !BRIG_DEFAULT_CAPS.includes(c)),
    ['CAP_MKNOD', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE'],
  );
  assert.equal(BRIG_DEFAULT_CAPS.length, 11);
  assert.equal(capabilityMask(BRIG_DEFAULT_CAPS), '00000000800405fb');
  assert.equal(capabilityMask([]), '0000000000000000');
  assert.equal(capabilityMask(ALL_CAPABILITIES), '000001ffffffffff');
});

test('masks round-trip and parse from /proc status text', () => {
  assert.deepEqual(capabilitiesFromMask(capabilityMask(BRIG_DEFAULT_CAPS)), [...BRIG_DEFAULT_CAPS].sort((a, b) => CAPABILITY_BITS[a]! - CAPABILITY_BITS[b]!));
  assert.equal(HOST.length, 40);
  assert.ok(!HOST.includes('CAP_SYS_RESOURCE'));
  const status = `Name:\tnode\nCapInh:\t0000000000000000\nCapBnd:\t${HOST_MASK}\nCapAmb:\t0000000000000000\n`;
  assert.deepEqual(parseBoundingSet(status), HOST);
  assert.throws(() => parseBoundingSet('Name:\tx\n'), { code: 'ERR_INTERNAL' });
});

test('readHostBoundingSet reads the status file it is given', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'brig-caps-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'status'), `CapPrm:\t0\nCapBnd:\t00000000a80425fb\n`);
  assert.deepEqual(new Set(await readHostBoundingSet(join(dir, 'status'))), new Set(DOCKER_DEFAULT_CAPS));
  // And the real one parses (whatever this host grants).
  assert.ok((await readHostBoundingSet()).length > 0);
});

test('normalizeCapability accepts Docker spellings and rejects unknown names', () => {
  assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('NET_ADMIN'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('CAP_NET_ADMIN'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('cap_net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.equal(normalizeCapability('ALL'), 'ALL');
  assert.throws(() => normalizeCapability('NET_ADMINN'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
    assert.match(err.message, /CAP_NET_ADMINN/);
    return true;
  });
  assert.throws(() => normalizeCapability('CAP_ALL'), { code: 'ERR_INVALID_ARGUMENT' });
});

test('defaults follow the compat mode, in Docker order', () => {
  assert.deepEqual(resolve({}), [...BRIG_DEFAULT_CAPS]);
  assert.deepEqual(resolve({ compat: 'docker' }), [...DOCKER_DEFAULT_CAPS]);
});

test('cap-add appends, cap-drop removes', () => {
  assert.deepEqual(resolve({ capAdd: ['net_admin'] }), [...BRIG_DEFAULT_CAPS, 'CAP_NET_ADMIN']);
  assert.deepEqual(resolve({ capDrop: ['chown', 'CAP_KILL'] }), BRIG_DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'));
  // Adding a default again does not duplicate it.
  assert.deepEqual(resolve({ capAdd: ['CHOWN'] }), [...BRIG_DEFAULT_CAPS]);
});

test('ALL: add ALL then drops apply; drop ALL keeps only the adds', () => {
  const all = resolve({ capAdd: ['ALL'], capDrop: ['NET_ADMIN', 'sys_admin'] });
  assert.deepEqual(all, HOST.filter((c) => c !== 'CAP_NET_ADMIN' && c !== 'CAP_SYS_ADMIN'));
  assert.ok(!all.includes('CAP_SYS_RESOURCE'), 'ALL means all the host can grant');
  assert.deepEqual(resolve({ capDrop: ['ALL'] }), []);
  assert.deepEqual(resolve({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE', 'chown'] }), ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN']);
  // add ALL wins over drop ALL (Docker checks add first).
  assert.deepEqual(resolve({ capAdd: ['ALL'], capDrop: ['ALL'] }), HOST);
});

test('a capability both added and dropped stays (dockerd and the docker CLI agree)', () => {
  assert.ok(resolve({ capAdd: ['NET_ADMIN'], capDrop: ['NET_ADMIN'] }).includes('CAP_NET_ADMIN'));
  assert.ok(resolve({ capAdd: ['CHOWN'], capDrop: ['CHOWN'] }).includes('CAP_CHOWN'));
});

test('privileged gets the host bounding set, never a fixed list', () => {
  assert.deepEqual(resolve({ privileged: true }), HOST);
  assert.deepEqual(resolve({ privileged: true, capDrop: ['ALL'] }), HOST);
  assert.deepEqual(resolve({ privileged: true, hostBounding: [...DOCKER_DEFAULT_CAPS] }).length, 14);
});

test('a cap the host cannot grant: error when asked for, skipped when a default', () => {
  assert.throws(() => resolve({ capAdd: ['SYS_RESOURCE'] }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
    assert.match(err.message, /CAP_SYS_RESOURCE/);
    return true;
  });
  assert.deepEqual(resolve({ hostBounding: BRIG_DEFAULT_CAPS.filter((c) => c !== 'CAP_KILL') }), BRIG_DEFAULT_CAPS.filter((c) => c !== 'CAP_KILL'));
  assert.throws(() => resolve({ capDrop: ['bogus'] }), { code: 'ERR_INVALID_ARGUMENT' });
});
