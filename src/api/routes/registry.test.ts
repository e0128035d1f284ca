import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pullReference } from './registry.js';

test('pullReference: the tag parameter wins and may be a digest; no tag at all is all tags (501)', () => {
  assert.deepEqual(pullReference('busybox', 'latest'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest', digest: null });
  assert.deepEqual(pullReference('127.0.0.1:5000/a/b:old', '1'), { domain: '127.0.0.1:5000', path: 'a/b', tag: '1', digest: null });
  const d = `sha256:${'1'.repeat(64)}`;
  assert.deepEqual(pullReference('busybox', d), { domain: 'docker.io', path: 'library/busybox', tag: null, digest: d });
  assert.deepEqual(pullReference(`busybox@${d}`, ''), { domain: 'docker.io', path: 'library/busybox', tag: null, digest: d });
  assert.throws(() => pullReference('busybox', ''), { code: 'ERR_NOT_IMPLEMENTED' });
  assert.throws(() => pullReference('busybox', 'bad tag!'), { code: 'ERR_INVALID_REFERENCE' });
});
