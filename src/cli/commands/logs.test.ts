import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STREAM_STDERR, STREAM_STDOUT, encodeFrame } from '../../client/stdcopy.js';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';

const ID = 'b'.repeat(64);

async function daemonWith(t: import('node:test').TestContext, tty: boolean) {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  daemon.on('GET /containers/web/json', (_req, res) => sendJson(res, 200, { Id: ID, Name: '/web', Config: { Tty: tty } }));
  daemon.on(`GET /containers/${ID}/logs`, (_req, res) => {
    res.writeHead(200);
    if (tty) res.end('tty-out\r\ntty-err\r\n');
    else {
      res.write(encodeFrame(STREAM_STDERR, 'err1\n'));
      res.write(encodeFrame(STREAM_STDOUT, 'out1\n').subarray(0, 5));
      setTimeout(() => res.end(Buffer.concat([encodeFrame(STREAM_STDOUT, 'out1\n').subarray(5), encodeFrame(STREAM_STDOUT, 'out2\n')])), 5);
    }
  });
  return daemon;
}

test('logs: inspects first, then streams with docker\'s query; frames are demuxed to stdout/stderr', async (t) => {
  const daemon = await daemonWith(t, false);
  const r = await runCli(daemon, ['logs', '-f', '-t', '--tail', '10', 'web']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'out1\nout2\n');
  assert.equal(r.stderr, 'err1\n');
  assert.deepEqual(daemon.log, ['GET /containers/web/json', `GET /containers/${ID}/logs?follow=1&stderr=1&stdout=1&tail=10&timestamps=1`]);
  await runCli(daemon, ['logs', 'web']);
  assert.equal(daemon.log[3], `GET /containers/${ID}/logs?stderr=1&stdout=1&tail=all`);
});

test('logs: a TTY container\'s log is copied raw', async (t) => {
  const daemon = await daemonWith(t, true);
  const r = await runCli(daemon, ['logs', 'web']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'tty-out\r\ntty-err\r\n');
});

test('logs: a missing container is the daemon\'s 404; wrong arguments are usage errors', async (t) => {
  const daemon = await daemonWith(t, false);
  const r = await runCli(daemon, ['logs', 'nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: page not found\n');
  assert.equal((await runCli(daemon, ['logs'])).code, 2);
  assert.equal((await runCli(daemon, ['logs', '--tail', 'x', 'web'])).code, 2);
});
