import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressBar, shortId, translatePullError } from './pull.js';
import { parseReference } from './reference.js';
import { RegistryError } from './registry/errors.js';
import type { Digest } from '../model/image.js';

test('registry errors become Docker\'s pull messages (not found, so docker run reports it)', () => {
  const ref = parseReference('127.0.0.1:5000/test/busybox:nope');
  const manifest = translatePullError(new RegistryError('ERR_NOT_FOUND', 'manifest unknown: manifest unknown', 404, [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }]), ref) as Error & { code: string };
  assert.equal(manifest.message, 'manifest for 127.0.0.1:5000/test/busybox:nope not found: manifest unknown: manifest unknown');
  assert.equal(manifest.code, 'ERR_NOT_FOUND');
  const name = translatePullError(new RegistryError('ERR_NOT_FOUND', 'name unknown: repository name not known to registry', 404, [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }]), ref) as Error;
  assert.equal(name.message, 'repository 127.0.0.1:5000/test/busybox not found: name unknown: repository name not known to registry');
  const denied = translatePullError(new RegistryError('ERR_UNAUTHORIZED', 'unauthorized: authentication required', 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }]), parseReference('busybox:1')) as Error & { code: string };
  assert.equal(denied.message, "pull access denied for busybox, repository does not exist or may require 'docker login': unauthorized: authentication required");
  assert.equal(denied.code, 'ERR_NOT_FOUND');
  const other = new Error('x');
  assert.equal(translatePullError(other, ref), other);
});

test('progress: 12-hex layer IDs and a Docker-style bar', () => {
  assert.equal(shortId(`sha256:${'ab'.repeat(32)}` as Digest), 'abababababab');
  assert.match(progressBar(500, 1000), /^\[=+>\s+\] 500B\/1\.000kB$/);
  assert.match(progressBar(0, 0), /^\[\s{50}\] 0B\/0B$/);
});
