import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';

async function daemon(t: import('node:test').TestContext) {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  const ok = (status: number) => (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(status);
    res.end();
  };
  d.on('POST /containers/running/stop', ok(204));
  d.on('POST /containers/stopped/stop', ok(304));
  d.on('POST /containers/running/start', ok(304));
  d.on('POST /containers/stopped/start', ok(204));
  d.on('POST /containers/running/kill', ok(204));
  d.on('POST /containers/stopped/kill', (_q, res) =>
    sendJson(res, 409, { message: 'Cannot kill container: stopped: Container abc is not running' }),
  );
  d.on('DELETE /containers/running', (req, res) => {
    if (req.url!.includes('force=1')) ok(204)(req, res);
    else sendJson(res, 409, { message: 'You cannot remove a running container abc. Stop the container before attempting removal or force remove' });
  });
  d.on('POST /containers/missing', (_q, res) => sendJson(res, 404, { message: 'No such container: missing' }));
  d.on('DELETE /containers/missing', (_q, res) => sendJson(res, 404, { message: 'No such container: missing' }));
  return d;
}

test('stop: 204 and 304 both succeed and print the name; -t goes to ?t=', async (t) => {
  const d = await daemon(t);
  const r = await runCli(d, ['stop', '-t', '1', 'running', 'stopped']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'running\nstopped\n');
  assert.deepEqual(d.log, ['POST /containers/running/stop?t=1', 'POST /containers/stopped/stop?t=1']);
});

test('a failed target prints the daemon error, the others still run, exit 1', async (t) => {
  const d = await daemon(t);
  const r = await runCli(d, ['stop', 'missing', 'running']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'running\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: missing\n');
});

test('start, kill -s, rm -f send docker\'s requests', async (t) => {
  const d = await daemon(t);
  assert.equal((await runCli(d, ['start', 'stopped', 'running'])).stdout, 'stopped\nrunning\n');
  assert.equal((await runCli(d, ['kill', '-s', 'HUP', 'running'])).code, 0);
  const killed = await runCli(d, ['kill', 'stopped']);
  assert.equal(killed.code, 1);
  assert.equal(killed.stderr, 'Error response from daemon: Cannot kill container: stopped: Container abc is not running\n');
  const rm = await runCli(d, ['rm', 'running']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /You cannot remove a running container/);
  assert.equal((await runCli(d, ['rm', '-f', '-v', 'running'])).code, 0);
  assert.deepEqual(d.log, [
    'POST /containers/stopped/start',
    'POST /containers/running/start',
    'POST /containers/running/kill?signal=HUP',
    'POST /containers/stopped/kill',
    'DELETE /containers/running',
    'DELETE /containers/running?force=1&v=1',
  ]);
  for (const verb of ['stop', 'start', 'kill', 'rm']) {
    const r = await runCli(d, [verb]);
    assert.equal(r.code, 2, verb);
    assert.equal(r.stderr, `brig: "brig ${verb}" requires at least 1 argument.\nSee 'brig ${verb} --help'.\n`);
  }
});
