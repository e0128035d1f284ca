import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeDaemon, runCli, sendJson, UPGRADED_101 } from '../test-support.js';
import { buildExecCreateBody, parseExecArgs } from './exec.js';

test('parseExecArgs: flags end at CONTAINER; the rest is the command, flags included', () => {
  const f = parseExecArgs(['-it', '-u', 'nobody', '-w', '/tmp', '-e', 'A=1', '-e', 'HOME', '--privileged', 'box', 'sh', '-c', 'ls -l'], { HOME: '/root' });
  assert.deepEqual(f, {
    container: 'box', cmd: ['sh', '-c', 'ls -l'], detach: false, detachKeys: '', env: ['A=1', 'HOME=/root'], interactive: true,
    privileged: true, tty: true, user: 'nobody', workdir: '/tmp',
  });
  assert.throws(() => parseExecArgs(['box']), /requires at least 2 arguments/);
  assert.throws(() => parseExecArgs([]), /requires at least 2 arguments/);
});

test("buildExecCreateBody is the docker CLI's body", () => {
  assert.deepEqual(buildExecCreateBody(parseExecArgs(['box', 'ls', '/'])), {
    User: '', Privileged: false, Tty: false, AttachStdin: false, AttachStderr: true, AttachStdout: true, Detach: false,
    DetachKeys: '', Env: null, WorkingDir: '', Cmd: ['ls', '/'],
  });
  const d = buildExecCreateBody(parseExecArgs(['-d', '-i', 'box', 'sleep', '1']));
  assert.equal(d.AttachStdin || d.AttachStdout || d.AttachStderr, false);
  assert.equal(d.Detach, true);
});

test('brig exec: create, hijacked start with the JSON body, demuxed output, exit code from inspect', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('POST /containers/box/exec', (_q, res) => sendJson(res, 201, { Id: 'e1' }));
  let startHeaders: Record<string, unknown> = {};
  d.onUpgrade('POST /exec/e1/start', (req, socket) => {
    // Node hands the body of an Upgrade request over in `head`, which the fake does not keep: check its headers
    startHeaders = { type: req.headers['content-type'], length: req.headers['content-length'], upgrade: req.headers['upgrade'] };
    socket.write(UPGRADED_101);
    const frame = (n: number, s: string) => Buffer.concat([Buffer.from([n, 0, 0, 0, 0, 0, 0, s.length]), Buffer.from(s)]);
    socket.end(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
  });
  d.on('GET /exec/e1/json', (_q, res) => sendJson(res, 200, { ID: 'e1', Running: false, ExitCode: 7 }));
  const r = await runCli(d, ['exec', 'box', 'sh', '-c', 'x']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 7);
  assert.deepEqual(d.log, ['POST /containers/box/exec', 'POST /exec/e1/start', 'GET /exec/e1/json']);
  assert.deepEqual(JSON.parse(d.seen[0]!.body.toString()).Cmd, ['sh', '-c', 'x']);
  assert.deepEqual(startHeaders, { type: 'application/json', length: String('{"Detach":false,"Tty":false}'.length), upgrade: 'tcp' });
});

test('brig exec -d: a plain start with Detach, no output, exit 0; a daemon error exits 1', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('POST /containers/box/exec', (_q, res) => sendJson(res, 201, { Id: 'e2' }));
  d.on('POST /exec/e2/start', (_q, res) => {
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  });
  d.on('POST /containers/stopped/exec', (_q, res) => sendJson(res, 409, { message: 'Container abc is not running' }));
  const r = await runCli(d, ['exec', '-d', 'box', 'sleep', '9']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.deepEqual(JSON.parse(d.seen[1]!.body.toString()), { Detach: true, Tty: false });
  const e = await runCli(d, ['exec', 'stopped', 'true']);
  assert.equal(e.code, 1);
  assert.equal(e.stderr, 'Error response from daemon: Container abc is not running\n');
});
