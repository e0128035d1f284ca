/**
 * Runs after all integration tests (scripts/test.mjs passes the snapshot taken before them) and
 * fails if any mount, network namespace, cgroup, process or temp dir of the tests is left, or any
 * interface, iptables rule or chain, nft table or socket on a test port (28000–28999) appeared.
 * Nothing else may change the host's network during `npm test` (no bench, no other engine).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { diffSnapshots, formatLeaks, snapshotHost, type HostSnapshot } from '../leaks.js';

test('the integration tests leave nothing behind on the host', async () => {
  const path = process.env['BRIG_LEAK_SNAPSHOT'];
  assert.ok(path, 'BRIG_LEAK_SNAPSHOT is not set: run the suite with `npm test` (scripts/test.mjs takes the snapshot)');
  const before = JSON.parse(await readFile(path, 'utf8')) as HostSnapshot;
  const after = await snapshotHost();
  const leaks = diffSnapshots(before, after);
  assert.deepEqual(leaks, {}, `left on the host after the integration tests:\n${formatLeaks(leaks)}`);
});
