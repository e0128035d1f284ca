import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageSummary } from '../../client/types.js';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';
import { formatImages, splitRepoTag } from './images.js';

const NOW = Date.UTC(2026, 10, 28, 15, 0, 0);

const busybox: ImageSummary = {
  Id: `sha256:${'46f3b010ed09'.padEnd(64, '1')}`,
  RepoTags: ['busybox:latest', '127.0.0.1:5055/apiresearch/busybox:v1'],
  Created: Math.floor((NOW - 3 * 24 * 3_600_000) / 1000),
  Size: 4_261_234,
};
const dangling: ImageSummary = {
  Id: `sha256:${'0'.repeat(64)}`,
  RepoTags: ['<none>:<none>'],
  Created: Math.floor((NOW - 30_000) / 1000),
  Size: 999,
};

test('splitRepoTag: the tag is after the last colon that follows the last slash', () => {
  assert.deepEqual(splitRepoTag('busybox:latest'), ['busybox', 'latest']);
  assert.deepEqual(splitRepoTag('127.0.0.1:5055/apiresearch/busybox:v1'), ['127.0.0.1:5055/apiresearch/busybox', 'v1']);
  assert.deepEqual(splitRepoTag('127.0.0.1:5055/busybox'), ['127.0.0.1:5055/busybox', '<none>']);
});

test('images table: one row per tag, short IDs, CREATED ago, human sizes', () => {
  const out = formatImages([busybox, dangling], { now: NOW });
  assert.equal(
    out,
    'REPOSITORY                           TAG       IMAGE ID       CREATED          SIZE\n' +
      'busybox                              latest    46f3b010ed09   3 days ago       4.26MB\n' +
      '127.0.0.1:5055/apiresearch/busybox   v1        46f3b010ed09   3 days ago       4.26MB\n' +
      '<none>                               <none>    000000000000   30 seconds ago   999B\n',
  );
  assert.equal(formatImages([{ ...dangling, RepoTags: null }], { now: NOW }).split('\n')[1]!.slice(0, 6), '<none>');
});

test('images -q prints each image once; --no-trunc keeps sha256 IDs', () => {
  assert.equal(formatImages([busybox, dangling], { now: NOW, quiet: true }), '46f3b010ed09\n000000000000\n');
  assert.match(formatImages([busybox], { now: NOW, noTrunc: true }), /sha256:46f3b010ed09/);
});

test('brig images asks GET /images/json', async (t) => {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  daemon.on('GET /images/json', (_req, res) => sendJson(res, 200, [busybox]));
  const r = await runCli(daemon, ['images']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n/);
  assert.deepEqual(daemon.log, ['GET /images/json']);
});
