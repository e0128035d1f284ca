import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';

test('inspect: container first, then image on 404; an array indented by 4; missing names fail', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('GET /containers/web/json', (_q, res) => sendJson(res, 200, { Id: 'c1', Name: '/web', State: { Running: true } }));
  d.on('GET /images/busybox:latest/json', (_q, res) => sendJson(res, 200, { Id: 'sha256:1', RepoTags: ['busybox:latest'] }));
  const r = await runCli(d, ['inspect', 'web', 'busybox:latest', 'nosuch']);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), [
    { Id: 'c1', Name: '/web', State: { Running: true } },
    { Id: 'sha256:1', RepoTags: ['busybox:latest'] },
  ]);
  assert.ok(r.stdout.startsWith('[\n    {\n        "Id": "c1",'));
  assert.equal(r.stderr, 'Error: No such object: nosuch\n');
  assert.deepEqual(d.log, [
    'GET /containers/web/json',
    'GET /containers/busybox:latest/json',
    'GET /images/busybox:latest/json',
    'GET /containers/nosuch/json',
    'GET /images/nosuch/json',
  ]);

  const only = await runCli(d, ['inspect', '--type', 'image', 'web']);
  assert.equal(only.stdout, '[]\n');
  assert.equal(only.stderr, 'Error: No such image: web\n');
});
