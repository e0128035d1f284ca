import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import { Router, compareVersions, splitVersion } from './router.js';
import type { Handler } from './router.js';

const CURRENT = '1.41';
const MINIMUM = '1.24';

function apiVersionError(path: string): string {
  try {
    splitVersion(path, CURRENT, MINIMUM);
  } catch (err) {
    assert.ok(isEngineError(err, 'ERR_API_VERSION'), String(err));
    assert.equal(err.category, 'invalid-argument'); // → 400
    return err.message;
  }
  assert.fail(`no error for ${path}`);
}

test('splitVersion: a /vX.Y prefix is split off and parsed', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json', CURRENT, MINIMUM), { version: 1.41, rest: '/containers/json' });
  assert.deepEqual(splitVersion('/v1.24/_ping', CURRENT, MINIMUM), { version: 1.24, rest: '/_ping' });
  assert.deepEqual(splitVersion('/v1.30/images/a/b/json', CURRENT, MINIMUM), { version: 1.3, rest: '/images/a/b/json' });
  assert.deepEqual(splitVersion('/v1.41', CURRENT, MINIMUM), { version: 1.41, rest: '/' });
});

test('splitVersion: unversioned paths are the current version', () => {
  assert.deepEqual(splitVersion('/containers/json', CURRENT, MINIMUM), { version: 1.41, rest: '/containers/json' });
  assert.deepEqual(splitVersion('/version', CURRENT, MINIMUM), { version: 1.41, rest: '/version' });
  assert.deepEqual(splitVersion('/_ping', CURRENT, MINIMUM), { version: 1.41, rest: '/_ping' });
});

test('splitVersion: too new, with dockerd\'s message', () => {
  assert.equal(apiVersionError('/v1.99/containers/json'), 'client version 1.99 is too new. Maximum supported API version is 1.41');
  assert.equal(apiVersionError('/v1.50/_ping'), 'client version 1.50 is too new. Maximum supported API version is 1.41');
  assert.equal(apiVersionError('/v2/info'), 'client version 2 is too new. Maximum supported API version is 1.41');
});

test('splitVersion: too old, with dockerd\'s message', () => {
  assert.equal(
    apiVersionError('/v1.11/containers/json'),
    'client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  );
  // 1.5 is older than 1.24: components compare as numbers, not as decimals.
  assert.match(apiVersionError('/v1.5/info'), /^client version 1\.5 is too old/);
});

test('compareVersions: numeric per component, missing components are 0', () => {
  assert.ok(compareVersions('1.41', '1.9') > 0);
  assert.ok(compareVersions('1.9', '1.41') < 0);
  assert.equal(compareVersions('1.41', '1.41'), 0);
  assert.equal(compareVersions('1.41', '1.41.0'), 0);
  assert.ok(compareVersions('2', '1.99') > 0);
  assert.ok(compareVersions('1.41.1', '1.41') > 0);
});

function router(): { r: Router; h: Record<string, Handler> } {
  const h: Record<string, Handler> = {};
  const mk = (name: string): Handler => (h[name] = async () => {});
  const r = new Router()
    .add('GET', '/_ping', mk('ping-get'))
    .add('HEAD', '/_ping', mk('ping-head'))
    .add('GET', '/containers/json', mk('ps'))
    .add('GET', '/containers/{id}/json', mk('inspect'))
    .add('DELETE', '/containers/{id}', mk('rm'))
    .add('POST', '/containers/{id}/start', mk('start'))
    .add('GET', '/images/json', mk('images'))
    .add('GET', '/images/{name*}/json', mk('image-inspect'))
    .add('DELETE', '/images/{name*}', mk('rmi'))
    .add('POST', '/images/{name*}/tag', mk('tag'));
  return { r, h };
}

test('match: literal paths and {param} segments', () => {
  const { r, h } = router();
  assert.equal(r.match('GET', '/containers/json')?.handler, h['ps']);
  const m = r.match('GET', '/containers/abc123/json');
  assert.equal(m?.handler, h['inspect']);
  assert.deepEqual(m?.params, { id: 'abc123' });
  assert.deepEqual(r.match('POST', '/containers/web/start')?.params, { id: 'web' });
  assert.deepEqual(r.match('DELETE', '/containers/web')?.params, { id: 'web' });
});

test('match: {name*} takes several segments (image names with registries and slashes)', () => {
  const { r, h } = router();
  const m = r.match('GET', '/images/127.0.0.1:5000/a/b/json');
  assert.equal(m?.handler, h['image-inspect']);
  assert.deepEqual(m?.params, { name: '127.0.0.1:5000/a/b' });
  assert.deepEqual(r.match('GET', '/images/busybox:latest/json')?.params, { name: 'busybox:latest' });
  assert.deepEqual(r.match('POST', '/images/docker.io/library/busybox/tag')?.params, { name: 'docker.io/library/busybox' });
  assert.deepEqual(r.match('DELETE', '/images/localhost:5000/x/y:v1')?.params, { name: 'localhost:5000/x/y:v1' });
  // `json` alone is the list, not an image called "" or "json".
  assert.equal(r.match('GET', '/images/json')?.handler, h['images']);
});

test('match: percent-escapes are decoded inside a segment', () => {
  const { r } = router();
  assert.deepEqual(r.match('GET', '/images/docker.io%2Flibrary%2Fbusybox%3Alatest/json')?.params, { name: 'docker.io/library/busybox:latest' });
  assert.deepEqual(r.match('GET', '/containers/a%20b/json')?.params, { id: 'a b' });
  assert.throws(() => r.match('GET', '/containers/%E0%A4%A/json'), (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT'));
});

test('match: wrong method on a known path is null, an unknown path is undefined', () => {
  const { r } = router();
  assert.equal(r.match('POST', '/containers/json'), null);
  assert.equal(r.match('PUT', '/containers/x/json'), null);
  assert.equal(r.match('GET', '/containers/x/start'), null);
  assert.equal(r.match('GET', '/nope'), undefined);
  assert.equal(r.match('GET', '/containers/x/y/json'), undefined);
  assert.equal(r.match('GET', '/containers'), undefined);
});

test('match: HEAD falls back to GET unless the path has its own HEAD route', () => {
  const { r, h } = router();
  assert.equal(r.match('HEAD', '/_ping')?.handler, h['ping-head']);
  assert.equal(r.match('GET', '/_ping')?.handler, h['ping-get']);
  assert.equal(r.match('HEAD', '/containers/x/json')?.handler, h['inspect']);
  assert.equal(r.match('HEAD', '/containers/x/start'), null);
});

test('match: empty segments (double or trailing slashes) are ignored', () => {
  const { r, h } = router();
  assert.equal(r.match('GET', '/containers/json/')?.handler, h['ps']);
  assert.equal(r.match('GET', '//containers//x/json')?.handler, h['inspect']);
});
