import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressError, decodeJsonObjects, jsonMessages } from './json-stream.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

const stream = '{"status":"a","id":"1"}\n{"status":"b {not a brace} \\" \\\\","progressDetail":{"current":1,"total":2}}{"status":"ü€"}\r\n';
const expected = [{ status: 'a', id: '1' }, { status: 'b {not a brace} " \\', progressDetail: { current: 1, total: 2 } }, { status: 'ü€' }];

test('decodes concatenated objects, with or without newlines, braces and escapes inside strings', async () => {
  assert.deepEqual(await collect(decodeJsonObjects(chunks(stream))), expected);
});

test('decodes the same stream fed one byte at a time (multi-byte characters split too)', async () => {
  const bytes = [...Buffer.from(stream)].map((b) => Buffer.from([b]));
  assert.deepEqual(await collect(decodeJsonObjects(chunks(...bytes))), expected);
});

test('rejects text between objects and a stream cut inside an object', async () => {
  await assert.rejects(collect(decodeJsonObjects(chunks('{"a":1} x'))), { code: 'ERR_INVALID_JSON' });
  await assert.rejects(collect(decodeJsonObjects(chunks('{"a":', '1'))), { code: 'ERR_INVALID_JSON' });
  await assert.rejects(collect(decodeJsonObjects(chunks('{"a":tru}'))), { code: 'ERR_INVALID_JSON' });
});

test('jsonMessages stops at errorDetail (and at a bare error string) with a ProgressError', async () => {
  const s = '{"status":"ok"}{"errorDetail":{"code":3,"message":"step failed"},"error":"step failed"}{"status":"never"}';
  const seen: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of jsonMessages(chunks(s))) seen.push(m);
    })(),
    (err: unknown) => err instanceof ProgressError && err.message === 'step failed' && err.detailCode === 3,
  );
  assert.deepEqual(seen, [{ status: 'ok' }]);
  await assert.rejects(collect(jsonMessages(chunks('{"error":"legacy"}'))), { message: 'legacy' });
});
