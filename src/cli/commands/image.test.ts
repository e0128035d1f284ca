import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';
import { withDefaultTag } from './image.js';

test('withDefaultTag adds :latest unless a tag or digest is there', () => {
  assert.equal(withDefaultTag('busybox'), 'busybox:latest');
  assert.equal(withDefaultTag('busybox:1.36'), 'busybox:1.36');
  assert.equal(withDefaultTag('127.0.0.1:5055/x/bb'), '127.0.0.1:5055/x/bb:latest');
  assert.equal(withDefaultTag('x/bb@sha256:abc'), 'x/bb@sha256:abc');
});

test('image builtin: streams the reproducible rootfs to POST /images/create?fromSrc=- and prints the ID', async (t) => {
  if (!existsSync('/bin/busybox')) assert.fail('/bin/busybox is missing: install busybox-static');
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  const bodies: Buffer[] = [];
  d.on('POST /images/create', (_req, res, body) => {
    bodies.push(body);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // the ID a daemon would compute from the layer: here just the tar's digest
    res.end(`{"status":"sha256:${createHash('sha256').update(body).digest('hex')}"}\n`);
  });
  const a = await runCli(d, ['image', 'builtin']);
  const b = await runCli(d, ['image', 'builtin', '--busybox', '/bin/busybox', 'mybox']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(a.stdout, b.stdout, 'same busybox, same bytes, same ID');
  assert.deepEqual(d.log, [
    'POST /images/create?changes=CMD+%5B%22sh%22%5D&fromSrc=-&repo=busybox%3Alatest',
    'POST /images/create?changes=CMD+%5B%22sh%22%5D&fromSrc=-&repo=mybox%3Alatest',
  ]);
  assert.equal(d.seen[0]!.headers['transfer-encoding'], 'chunked');
  assert.ok(bodies[0]!.length > 1_000_000);
});

test('image builtin: a missing busybox fails before anything is imported; daemon errors surface', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('POST /images/create', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"errorDetail":{"message":"invalid tar header"},"error":"invalid tar header"}\n');
  });
  const missing = await runCli(d, ['image', 'builtin', '--busybox', '/nonexistent/busybox']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /busybox not found at \/nonexistent\/busybox\n.*busybox-static/);
  if (existsSync('/bin/busybox')) {
    const r = await runCli(d, ['image', 'builtin']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'invalid tar header\n');
  }
  assert.equal((await runCli(d, ['image', 'nope'])).code, 2);
  const help = await runCli(d, ['image', 'builtin', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /brig image builtin \[--busybox PATH\] \[NAME\[:TAG\]\]/);
});
