import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isInsecure, isListed, isLoopback, loadTlsMaterial, normalizeRegistryAddress, registryHost, resolveEndpoint } from './endpoint.js';

test('Docker Hub is reached at registry-1.docker.io; addresses are normalised', () => {
  assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(normalizeRegistryAddress('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeRegistryAddress(''), 'docker.io');
  assert.equal(normalizeRegistryAddress('http://127.0.0.1:5000/'), '127.0.0.1:5000');
  assert.equal(normalizeRegistryAddress('registry.example.com'), 'registry.example.com');
  assert.throws(() => normalizeRegistryAddress('bad host!'), /invalid registry address/);
});

test('plain HTTP only for loopback and listed hosts; TLS verification skipped only for listed ones', async () => {
  assert.ok(isLoopback('127.0.0.1:5000') && isLoopback('127.9.9.9') && isLoopback('[::1]:5000') && isLoopback('localhost:1'));
  assert.ok(!isLoopback('128.0.0.1:5000') && !isLoopback('registry.example.com'));
  assert.ok(isInsecure('127.0.0.1:5000', []));
  assert.ok(!isInsecure('10.1.2.3:5000', []));
  assert.ok(isListed('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(isListed('reg.local:5000', ['reg.local:5000']) && isListed('reg.local:5000', ['reg.local']));
  assert.ok(!isListed('reg.local:5001', ['reg.local:5000']));
  const dir = await mkdtemp(join(tmpdir(), 'brig-ep-'));
  try {
    const lo = await resolveEndpoint('127.0.0.1:5000', { certsDir: dir, insecureRegistries: [] });
    assert.deepEqual([lo.allowHttp, lo.verifyTls], [true, true]);
    const hub = await resolveEndpoint('docker.io', { certsDir: dir, insecureRegistries: [] });
    assert.deepEqual([hub.host, hub.allowHttp, hub.verifyTls], ['registry-1.docker.io', false, true]);
    const listed = await resolveEndpoint('reg.local:5000', { certsDir: dir, insecureRegistries: ['reg.local:5000'] });
    assert.deepEqual([listed.allowHttp, listed.verifyTls], [true, false]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadTlsMaterial reads *.crt as CAs and a client.cert/client.key pair; a lone half is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'brig-certs-'));
  try {
    assert.deepEqual(await loadTlsMaterial(dir, 'none:1'), { ca: [] });
    await mkdir(join(dir, 'h:1'));
    await writeFile(join(dir, 'h:1', 'ca.crt'), 'CA');
    await writeFile(join(dir, 'h:1', 'client.cert'), 'CERT');
    await writeFile(join(dir, 'h:1', 'client.key'), 'KEY');
    assert.deepEqual(await loadTlsMaterial(dir, 'h:1'), { ca: ['CA'], cert: 'CERT', key: 'KEY' });
    await rm(join(dir, 'h:1', 'client.key'));
    await assert.rejects(loadTlsMaterial(dir, 'h:1'), /missing key client.key/);
    await assert.rejects(loadTlsMaterial(dir, '../x'), /invalid registry host/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
