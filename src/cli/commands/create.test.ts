import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, CaptureStream, runCli, sendJson } from '../test-support.js';
import { buildCreateBody, parseContainerArgs } from './container-flags.js';

const ID = 'facade'.padEnd(64, '0');

async function daemon(t: import('node:test').TestContext, reply: (res: import('node:http').ServerResponse) => void) {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('POST /containers/create', (_req, res) => reply(res));
  return d;
}

test('create: one POST /containers/create with run\'s body for the same flags, prints the ID', async (t) => {
  const d = await daemon(t, (res) => sendJson(res, 201, { Id: ID, Warnings: [] }));
  const args = ['--name', 'c1', '-e', 'A=1', '--restart', 'always', '-m', '64m', '--health-cmd', 'true', '-h', 'box', 'busybox', 'echo', 'hi'];
  const r = await runCli(d, ['create', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${ID}\n`);
  assert.equal(r.stderr, '');
  assert.deepEqual(d.log, ['POST /containers/create?name=c1']);
  const sent = JSON.parse(d.seen[0]!.body.toString());
  assert.deepEqual(sent, JSON.parse(JSON.stringify(buildCreateBody(parseContainerArgs('create', args)))));
  // like docker create: stdout and stderr attached in the stored config
  assert.deepEqual([sent.AttachStdin, sent.AttachStdout, sent.AttachStderr], [false, true, true]);
  assert.deepEqual(sent.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
});

test('create: warnings go to stderr; the console size is sent when stdout is a terminal', async (t) => {
  const d = await daemon(t, (res) => sendJson(res, 201, { Id: ID, Warnings: ['careful'] }));
  const r = await runCli(d, ['create', '-it', 'busybox'], { stdout: new CaptureStream({ rows: 24, columns: 80 }) });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, 'WARNING: careful\n');
  const sent = JSON.parse(d.seen[0]!.body.toString());
  assert.deepEqual(sent.HostConfig.ConsoleSize, [24, 80]);
  assert.deepEqual([sent.AttachStdin, sent.OpenStdin, sent.StdinOnce, sent.Tty], [true, true, true, true]);
});

test('create: daemon errors exit 1, flag errors 125 (no request); `container create` is the same command', async (t) => {
  const d = await daemon(t, (res) => sendJson(res, 400, { message: 'invalid restart policy \'sometimes\'' }));
  const bad = await runCli(d, ['create', '--restart', 'sometimes', 'busybox']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "Error response from daemon: invalid restart policy 'sometimes'\n");
  for (const argv of [['create', '-d', 'busybox'], ['create', '--cpus', 'x', 'busybox'], ['create']]) {
    const r = await runCli(d, argv);
    assert.equal(r.code, 125, argv.join(' '));
    assert.match(r.stderr, /See 'brig create --help'\.\n$/);
  }
  assert.equal(d.seen.length, 1);
  const ok = await daemon(t, (res) => sendJson(res, 201, { Id: ID, Warnings: null }));
  const c = await runCli(ok, ['container', 'create', 'busybox']);
  assert.equal(c.code, 0);
  assert.equal(c.stdout, `${ID}\n`);
  const help = await runCli(null, ['create', '--help']);
  assert.match(help.stdout, /Usage: {2}brig create \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]/);
  assert.match(help.stdout, /--health-interval duration/);
  assert.doesNotMatch(help.stdout, /--detach/);
});
