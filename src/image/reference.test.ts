import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import {
  familiarName, fullName, parseReference, parseReferenceWithDefaultTag, repositoryName,
} from './reference.js';

const D = `sha256:${'ab'.repeat(32)}`;

/** The stored form Docker's normaliser gives: `docker.io/library/busybox:latest`. */
const norm = (raw: string) => fullName(parseReferenceWithDefaultTag(raw));

function assertInvalid(raw: string, message?: string): void {
  assert.throws(
    () => parseReference(raw),
    (err: unknown) => isEngineError(err, 'ERR_INVALID_REFERENCE') && (message === undefined || err.message === message),
    JSON.stringify(raw),
  );
}

test('Docker Hub names get docker.io/library/ and latest', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: null, digest: null });
  assert.equal(norm('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(norm('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(norm('me/app:v1'), 'docker.io/me/app:v1');
});

test('every spelling of a Hub image normalises to the same name', () => {
  for (const raw of ['busybox', 'library/busybox', 'docker.io/busybox', 'docker.io/library/busybox',
    'index.docker.io/library/busybox', 'index.docker.io/busybox', 'busybox:latest']) {
    assert.equal(norm(raw), 'docker.io/library/busybox:latest', raw);
  }
});

test('registries with ports, localhost and IPs are domains; no library/ is added', () => {
  assert.deepEqual(parseReference('localhost:5000/a/b:v1'), { domain: 'localhost:5000', path: 'a/b', tag: 'v1', digest: null });
  assert.deepEqual(parseReference('127.0.0.1:5000/x'), { domain: '127.0.0.1:5000', path: 'x', tag: null, digest: null });
  assert.equal(norm('127.0.0.1:5000/x'), '127.0.0.1:5000/x:latest');
  assert.equal(norm('localhost/foo'), 'localhost/foo:latest');
  assert.equal(norm('registry.example.com/team/app/api:2.0'), 'registry.example.com/team/app/api:2.0');
  assert.equal(norm('[::1]:5000/foo:bar'), '[::1]:5000/foo:bar');
  assert.equal(repositoryName(parseReference('localhost:5000/a/b:v1')), 'localhost:5000/a/b');
});

test('a first component with uppercase is a domain (Docker rule), a port-only name is a tag', () => {
  assert.equal(parseReference('Registry/app').domain, 'Registry');
  assert.deepEqual(parseReference('localhost:5000'), { domain: 'docker.io', path: 'library/localhost', tag: '5000', digest: null });
});

test('digests: kept with or without a tag; the stored form uses the digest', () => {
  assert.deepEqual(parseReference(`busybox@${D}`), { domain: 'docker.io', path: 'library/busybox', tag: null, digest: D });
  assert.equal(parseReferenceWithDefaultTag(`busybox@${D}`).tag, null);
  assert.equal(norm(`busybox@${D}`), `docker.io/library/busybox@${D}`);
  const both = parseReference(`127.0.0.1:5000/x:v1@${D}`);
  assert.equal(both.tag, 'v1');
  assert.equal(both.digest, D);
  assert.equal(fullName(both), `127.0.0.1:5000/x@${D}`);
});

test('tags: uppercase, dots, dashes and 128 characters are fine', () => {
  assert.equal(parseReference('busybox:V1.2-rc_3').tag, 'V1.2-rc_3');
  assert.equal(parseReference(`busybox:${'t'.repeat(128)}`).tag, 't'.repeat(128));
  assertInvalid(`busybox:${'t'.repeat(129)}`);
});

test('uppercase repository names are rejected with Docker\'s message', () => {
  assertInvalid('Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase');
  assertInvalid('me/App:v1', 'invalid reference format: repository name (me/App) must be lowercase');
  assertInvalid('localhost:5000/Foo', 'invalid reference format: repository name (Foo) must be lowercase');
});

test('a 64-hex name is refused (it would shadow an image ID); shorter hex is a name', () => {
  const hex = 'a'.repeat(64);
  assertInvalid(hex, `invalid repository name (${hex}), cannot specify 64-byte hexadecimal strings`);
  assert.equal(norm('a'.repeat(63)), `docker.io/library/${'a'.repeat(63)}:latest`);
});

test('bad references', () => {
  for (const raw of [
    '', ':tag', 'busybox:', 'busybox:-x', 'busybox:.x', 'busybox:a b', 'busybox@sha256:abc', `busybox@md5:${'a'.repeat(32)}`,
    'busybox@', 'a//b', '/busybox', 'busybox/', '-a', 'a-', 'a..b', 'a___b', 'a b', 'exa_mple.com/x', 'localhost:5000/',
    'http://example.com/x', 'busy$box', `${'a/'.repeat(230)}a`,
  ]) {
    assertInvalid(raw);
  }
});

test('separators Docker allows inside components', () => {
  for (const raw of ['a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a0/b1.c2']) assert.doesNotThrow(() => parseReference(raw), raw);
});

test('familiarName: the display form', () => {
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('docker.io/library/busybox'), 'busybox');
  assert.equal(familiarName('docker.io/me/app:v1'), 'me/app:v1');
  assert.equal(familiarName('127.0.0.1:5000/x:y'), '127.0.0.1:5000/x:y');
  assert.equal(familiarName('localhost:5000/library/x:1'), 'localhost:5000/library/x:1');
  assert.equal(familiarName(`docker.io/library/busybox@${D}`), `busybox@${D}`);
  assert.equal(familiarName(norm('busybox')), 'busybox:latest');
});
