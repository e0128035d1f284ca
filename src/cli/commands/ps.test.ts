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

test('ps --format: custom templates, table with docker headers, json like docker (sorted keys, HTML escaped)', () => {
  process.env.TZ = 'UTC';
  const labelled: ContainerSummary = { ...web, Labels: { b: '2', 'com.example.z': 'zz' }, NetworkSettings: { Networks: { none: {} } } };
  assert.equal(formatPs([labelled], { now: NOW, format: '{{.Names}} {{.Status}} {{.State}}' }), 'xweb Up 2 minutes running\n');
  assert.equal(
    formatPs([labelled, job], { now: NOW, format: 'table {{.Names}}\\t{{.Label "com.example.z"}}\\t{{.Labels}}\\t{{.Networks}}' }),
    'NAMES          z         LABELS                 NETWORKS\n' +
      'xweb           zz        b=2,com.example.z=zz   none\n' +
      `quiet_anchor${' '.repeat(3 + 10 + 23)}\n`,
  );
  const json = formatPs([labelled], { now: NOW, format: 'json' });
  assert.equal(
    json,
    '{"Command":"\\"busybox httpd -f -p…\\"","CreatedAt":"2026-11-28 14:57:55 +0000 UTC","ID":"4f66ad7ad3a1","Image":"busybox:local",' +
      '"Labels":"b=2,com.example.z=zz","LocalVolumes":"0","Mounts":"","Names":"xweb","Networks":"none","Platform":null,' +
      '"Ports":"0.0.0.0:18081-\\u003e80/tcp, [::]:18081-\\u003e80/tcp","RunningFor":"2 minutes ago","Size":"0B","State":"running","Status":"Up 2 minutes"}\n',
  );
  assert.equal(formatPs([], { now: NOW, format: 'table {{.ID}}' }), 'CONTAINER ID\n');
  assert.equal(formatPs([labelled], { now: NOW, format: 'table' }), formatPs([labelled], { now: NOW }));
  assert.equal(formatPs([labelled], { now: NOW, format: '{{.Names}}', quiet: true }), '4f66ad7ad3a1\n');
});

test('ps -s: SIZE column `2B (virtual 4.26MB)`', () => {
  const sized: ContainerSummary = { ...web, SizeRw: 2, SizeRootFs: 4_261_234 };
  const out = formatPs([sized, { ...job, SizeRw: 0, SizeRootFs: 0 }], { now: NOW, size: true });
  assert.match(out.split('\n')[0]!, /NAMES +SIZE$/);
  assert.match(out.split('\n')[1]!, / xweb +2B \(virtual 4\.26MB\)$/);
  assert.match(out.split('\n')[2]!, / quiet_anchor +0B$/);
});

test('ps --filter/-n/-l/-s/--format: the query docker sends, format errors before any request', async (t) => {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  daemon.on('GET /containers/json', (_req, res) => sendJson(res, 200, [{ ...web, SizeRw: 2, SizeRootFs: 4_261_234 }]));
  const f = await runCli(daemon, ['ps', '-f', 'status=exited', '--filter', 'name=x', '-f', 'status=created', '-n', '3', '-s']);
  assert.equal(f.code, 0, f.stderr);
  await runCli(daemon, ['ps', '-l']);
  const sized = await runCli(daemon, ['ps', '--format', '{{.Names}} {{.Size}}']);
  assert.equal(sized.stdout, 'xweb 2B (virtual 4.26MB)\n');
  const quiet = await runCli(daemon, ['ps', '-q', '--format', '{{.Names}}']);
  assert.equal(quiet.stdout, '4f66ad7ad3a1\n');
  assert.equal(quiet.stderr, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  const filters = encodeURIComponent('{"name":{"x":true},"status":{"created":true,"exited":true}}');
  assert.deepEqual(daemon.log, [
    `GET /containers/json?filters=${filters}&limit=3&size=1`,
    'GET /containers/json?limit=1',
    'GET /containers/json?size=1',
    'GET /containers/json',
  ]);
  const unknown = await runCli(daemon, ['ps', '--format', '{{.Foo}}']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'brig: failed to execute template: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext\n');
  const func = await runCli(daemon, ['ps', '--format', '{{foo .}}']);
  assert.equal(func.stderr, 'brig: failed to parse template: template: :1: function "foo" not defined\n');
  assert.equal((await runCli(daemon, ['ps', '-n', 'x'])).code, 2);
  assert.equal((await runCli(daemon, ['ps', '-f', 'novalue'])).code, 2);
  assert.equal(daemon.log.length, 4, 'bad formats and flags send nothing');
});
