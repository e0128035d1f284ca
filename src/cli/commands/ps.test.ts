import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../client/types.js';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';
import { formatPs } from './ps.js';

const NOW = Date.UTC(2026, 10, 28, 15, 0, 0);
const sec = (ms: number) => Math.floor(ms / 1000);

const web: ContainerSummary = {
  Id: '4f66ad7ad3a1'.padEnd(64, 'e'),
  Names: ['/xweb'],
  Image: 'busybox:local',
  Command: 'busybox httpd -f -p 80',
  Created: sec(NOW - 2 * 60_000 - 5_000),
  Ports: [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 18081, Type: 'tcp' },
    { IP: '::', PrivatePort: 80, PublicPort: 18081, Type: 'tcp' },
  ],
  State: 'running',
  Status: 'Up 2 minutes',
};
const job: ContainerSummary = {
  Id: 'a'.repeat(64),
  Names: ['/quiet_anchor', '/xweb/alias'],
  Image: `sha256:${'9'.repeat(64)}`,
  Command: "sh -c 'while true; do sleep 1; done'",
  Created: sec(NOW - 3 * 3_600_000),
  Ports: [],
  State: 'exited',
  Status: 'Exited (3) 1 second ago',
};

test('ps table: docker columns, short IDs, quoted and truncated COMMAND, CREATED ago, server STATUS, PORTS, NAMES', () => {
  const out = formatPs([web, job], { now: NOW });
  const lines = out.split('\n');
  assert.equal(lines[0], 'CONTAINER ID   IMAGE           COMMAND                  CREATED         STATUS                    PORTS                                       NAMES');
  assert.equal(lines[1], '4f66ad7ad3a1   busybox:local   "busybox httpd -f -p…"   2 minutes ago   Up 2 minutes              0.0.0.0:18081->80/tcp, [::]:18081->80/tcp   xweb');
  assert.equal(lines[2], 'aaaaaaaaaaaa   999999999999    "sh -c \'while true; …"   3 hours ago     Exited (3) 1 second ago                                               quiet_anchor');
  assert.equal(lines.length, 4);
  assert.equal(out.endsWith('\n'), true);
});

test('ps --no-trunc keeps full IDs, commands and link names; -q prints IDs only', () => {
  const out = formatPs([job], { now: NOW, noTrunc: true });
  assert.match(out, new RegExp(`^${'a'.repeat(64)} `, 'm'));
  assert.ok(out.includes(`"sh -c 'while true; do sleep 1; done'"`));
  assert.ok(out.includes(`sha256:${'9'.repeat(64)}`));
  assert.ok(out.includes('quiet_anchor,xweb/alias'));
  assert.equal(formatPs([web, job], { now: NOW, quiet: true }), '4f66ad7ad3a1\naaaaaaaaaaaa\n');
  assert.equal(formatPs([job], { now: NOW, quiet: true, noTrunc: true }), `${'a'.repeat(64)}\n`);
  assert.equal(formatPs([], { now: NOW }), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('brig ps / ps -a query the daemon like docker', async (t) => {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  daemon.on('GET /containers/json', (_req, res) => sendJson(res, 200, [web]));
  const r = await runCli(daemon, ['ps']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^CONTAINER ID/);
  assert.match(r.stdout, /xweb\n$/);
  await runCli(daemon, ['ps', '-a', '-q']);
  assert.deepEqual(daemon.log, ['GET /containers/json', 'GET /containers/json?all=1']);
  const bad = await runCli(daemon, ['ps', 'extra']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, `brig: "brig ps" accepts no arguments.\nSee 'brig ps --help'.\n`);
});
