import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import type { Digest, ImageConfig } from '../model/image.js';
import { sha256 } from '../util/digest.js';
import { emptyRunConfig, parseImageConfig, serializeImageConfig } from './config-format.js';

const L1 = `sha256:${'1'.repeat(64)}` as Digest;
const L2 = `sha256:${'2'.repeat(64)}` as Digest;

function full(): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: '2026-11-28T14:45:41.123456789Z',
    author: 'Jane <jane@example.com>',
    config: {
      user: 'app',
      env: ['PATH=/usr/bin:/bin', 'A=1'],
      entrypoint: ['/entry'],
      cmd: ['serve', '--port', '80'],
      workingDir: '/srv',
      labels: { 'org.opencontainers.image.title': 'demo', b: '' },
      stopSignal: 'SIGQUIT',
      exposedPorts: ['80/tcp', '53/udp'],
      volumes: ['/data'],
    },
    rootfs: { type: 'layers', diffIds: [L1, L2] },
    history: [
      { created: '2026-11-28T14:45:40Z', createdBy: '/bin/sh -c #(nop) ADD file:abc in /', comment: '', emptyLayer: false },
      { created: '2026-11-28T14:45:41Z', createdBy: '', comment: 'set cmd', emptyLayer: true },
    ],
  };
}

function minimal(): ImageConfig {
  return {
    architecture: 'arm64', os: 'linux', created: '2026-01-01T00:00:00Z', author: '', config: emptyRunConfig(),
    rootfs: { type: 'layers', diffIds: [L1] }, history: [],
  };
}

function assertBad(json: unknown, match: RegExp): void {
  const bytes = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
  assert.throws(
    () => parseImageConfig(bytes),
    (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && match.test(err.message),
    String(bytes),
  );
}

test('serialise → parse gives back the same config', () => {
  for (const c of [full(), minimal()]) {
    assert.deepEqual(parseImageConfig(serializeImageConfig(c)), c);
  }
});

test('the serialised bytes, and so the image ID, are stable across round trips', () => {
  const bytes = serializeImageConfig(full());
  assert.deepEqual(serializeImageConfig(full()), bytes);
  assert.equal(sha256(serializeImageConfig(parseImageConfig(bytes))), sha256(bytes));
});

test('wire format: OCI/Docker field names, fixed key order, empty run-config fields left out', () => {
  assert.equal(
    serializeImageConfig(minimal()).toString(),
    '{"architecture":"arm64","config":{},"created":"2026-01-01T00:00:00Z","history":[],"os":"linux",' +
      `"rootfs":{"type":"layers","diff_ids":["${L1}"]}}`,
  );
  const doc = JSON.parse(serializeImageConfig(full()).toString());
  assert.deepEqual(Object.keys(doc), ['architecture', 'author', 'config', 'created', 'history', 'os', 'rootfs']);
  assert.deepEqual(doc.config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(doc.config.Volumes, { '/data': {} });
  assert.deepEqual(doc.history[1], { created: '2026-11-28T14:45:41Z', comment: 'set cmd', empty_layer: true });
});

test('parse: a registry config with nulls and unknown fields', () => {
  const c = parseImageConfig(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-11-28T00:00:00Z', docker_version: '20.10.24',
    config: { Env: null, Cmd: null, Entrypoint: null, Labels: null, ExposedPorts: null, Volumes: null, OnBuild: null, Image: 'sha256:x' },
    container_config: { Cmd: ['ignored'] },
    rootfs: { type: 'layers', diff_ids: [L1] },
    history: null,
  })));
  assert.deepEqual(c.config, emptyRunConfig());
  assert.deepEqual(c.history, []);
  assert.equal(c.author, '');
});

test('parse: missing optional top-level fields get defaults', () => {
  const c = parseImageConfig(Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } })));
  assert.equal(c.architecture, 'amd64');
  assert.equal(c.os, 'linux');
  assert.equal(c.created, '1970-01-01T00:00:00Z');
  assert.deepEqual(c.config, emptyRunConfig());
});

test('parse: strict errors name the field', () => {
  assertBad('{not json', /not valid JSON/);
  assertBad([], /image config has the wrong type/);
  assertBad({}, /rootfs has the wrong type/);
  assertBad({ rootfs: { diff_ids: 'x' } }, /rootfs\.diff_ids/);
  assertBad({ rootfs: { diff_ids: ['sha256:short'] } }, /invalid diff ID: sha256:short/);
  assertBad({ rootfs: { diff_ids: [`sha256:${'A'.repeat(64)}`] } }, /invalid diff ID/);
  const ok = { rootfs: { type: 'layers', diff_ids: [L1] } };
  assertBad({ ...ok, architecture: 1 }, /architecture/);
  assertBad({ ...ok, config: [] }, /config has the wrong type/);
  assertBad({ ...ok, config: { Cmd: 'echo hi' } }, /config\.Cmd/);
  assertBad({ ...ok, config: { Entrypoint: [1] } }, /config\.Entrypoint/);
  assertBad({ ...ok, config: { Env: ['A=1', null] } }, /config\.Env/);
  assertBad({ ...ok, config: { Labels: { a: 1 } } }, /config\.Labels/);
  assertBad({ ...ok, config: { ExposedPorts: ['80/tcp'] } }, /config\.ExposedPorts/);
  assertBad({ ...ok, config: { User: 0 } }, /config\.User/);
  assertBad({ ...ok, history: {} }, /history/);
  assertBad({ ...ok, history: [{ created_by: 5 }] }, /history\.created_by/);
});
