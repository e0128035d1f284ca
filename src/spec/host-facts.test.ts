import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcLimits, readHostFacts, readHostRlimits } from './host-facts.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             96365                96551                processes
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
`;

test('parseProcLimits reads NOFILE and NPROC', () => {
  assert.deepEqual(parseProcLimits(LIMITS), { nofile: [1024, 20000], nproc: [96365, 96551] });
  assert.deepEqual(parseProcLimits(LIMITS.replace('96365                96551', 'unlimited            unlimited')).nproc, [
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  ]);
  assert.throws(() => parseProcLimits('Limit Soft Hard\n'), /Max open files/);
});

test('the readers work on this host', async () => {
  const limits = await readHostRlimits();
  assert.ok(limits.nofile[1] >= limits.nofile[0]);
  const facts = await readHostFacts();
  assert.ok(facts.hostBounding.includes('CAP_CHOWN') || facts.hostBounding.length >= 0);
  assert.ok(Array.isArray(facts.thermalThrottlePaths));
});
