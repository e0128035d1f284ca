import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRegistryAuth, parseAuthConfig, parseChallenges, parseTokenResponse, TokenCache } from './auth.js';

test('parseChallenges: Bearer with quoted params, Basic, several challenges in one header', () => {
  assert.deepEqual(parseChallenges('Bearer realm="http://127.0.0.1:5003/token",service="test-registry",scope="repository:busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5003/token', service: 'test-registry', scope: 'repository:busybox:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="test-realm"'), [{ scheme: 'basic', params: { realm: 'test-realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a, b", Bearer realm="https://x/t", error=insufficient_scope'), [
    { scheme: 'basic', params: { realm: 'a, b' } },
    { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges('Bearer realm="with \\"quote\\""'), [{ scheme: 'bearer', params: { realm: 'with "quote"' } }]);
  assert.deepEqual(parseChallenges(''), []);
});

test('decodeRegistryAuth: base64url JSON, standard base64, empty and {} are anonymous', () => {
  const json = JSON.stringify({ username: 'u', password: 'p?>', serveraddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(json).toString('base64url')), { username: 'u', password: 'p?>', serverAddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(json).toString('base64')), { username: 'u', password: 'p?>', serverAddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeRegistryAuth(undefined), {});
  assert.deepEqual(decodeRegistryAuth(''), {});
  assert.deepEqual(decodeRegistryAuth('e30='), {});
  assert.deepEqual(decodeRegistryAuth(Buffer.from('{"identitytoken":"t","registrytoken":"r","email":""}').toString('base64url')), { identityToken: 't', registryToken: 'r' });
  assert.throws(() => decodeRegistryAuth('%%%not base64'), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => decodeRegistryAuth(Buffer.from('{"username":1}').toString('base64')), /username must be a string/);
  assert.throws(() => parseAuthConfig([]), { code: 'ERR_INVALID_ARGUMENT' });
});

test('TokenCache keeps tokens until shortly before expiry, keyed by scope set and caller', () => {
  let now = 1_000_000;
  const c = new TokenCache(() => now);
  const k = TokenCache.key('r', 's', ['repository:a:pull', 'repository:b:pull'], 'anonymous');
  assert.equal(k, TokenCache.key('r', 's', ['repository:b:pull', 'repository:a:pull'], 'anonymous'));
  assert.notEqual(k, TokenCache.key('r', 's', ['repository:a:pull'], 'anonymous'));
  assert.notEqual(k, TokenCache.key('r', 's', ['repository:a:pull', 'repository:b:pull'], 'basic:x'));
  c.set(k, 'tok', 300);
  assert.equal(c.get(k), 'tok');
  now += 289_000;
  assert.equal(c.get(k), 'tok');
  now += 2_000;
  assert.equal(c.get(k), undefined);
});

test('parseTokenResponse: token or access_token, expires_in at least 60 s', () => {
  assert.deepEqual(parseTokenResponse({ token: 'a', expires_in: 300 }), { token: 'a', expiresIn: 300 });
  assert.deepEqual(parseTokenResponse({ access_token: 'b' }), { token: 'b', expiresIn: 60 });
  assert.deepEqual(parseTokenResponse({ token: 'c', expires_in: 5 }), { token: 'c', expiresIn: 60 });
  assert.throws(() => parseTokenResponse({}), { code: 'ERR_UNAUTHORIZED' });
});
