import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { isEngineError } from '../../errors.js';
import type { Digest } from '../../model/image.js';
import { sha256 } from '../../util/digest.js';
import { FsContentStore } from './content-store.js';

async function store(t: TestContext): Promise<{ cs: FsContentStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'brig-unit-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const cs = new FsContentStore(root);
  await cs.init();
  return { cs, root };
}

/** What is on disk: blob file names and leftovers in ingest/. */
async function onDisk(root: string): Promise<{ blobs: string[]; ingest: string[] }> {
  return {
    blobs: (await readdir(join(root, 'blobs', 'sha256'))).sort(),
    ingest: await readdir(join(root, 'ingest')),
  };
}

function chunks(...parts: string[]): Readable {
  return Readable.from(parts.map((p) => Buffer.from(p)));
}

test('ingest stores a stream under its digest; info and reader find it', async (t) => {
  const { cs, root } = await store(t);
  const d = sha256('hello world');
  const info = await cs.ingest(chunks('hello', ' ', 'world'));
  assert.deepEqual(info, { digest: d, size: 11 });
  assert.deepEqual(await cs.info(d), { digest: d, size: 11 });
  assert.equal(await text(cs.reader(d)), 'hello world');
  assert.equal(cs.path(d), join(root, 'blobs', 'sha256', d.slice(7)));
  assert.deepEqual(await onDisk(root), { blobs: [d.slice(7)], ingest: [] });
});

test('ingest with the expected digest keeps the blob', async (t) => {
  const { cs } = await store(t);
  const d = sha256('layer');
  assert.deepEqual(await cs.ingest(chunks('lay', 'er'), d), { digest: d, size: 5 });
  assert.equal(await readFile(cs.path(d), 'utf8'), 'layer');
});

test('ingest with a different expected digest rejects and leaves nothing in blobs or ingest', async (t) => {
  const { cs, root } = await store(t);
  const expected = sha256('what the manifest said');
  await assert.rejects(cs.ingest(chunks('what the registry sent'), expected), (err: unknown) => {
    assert.ok(isEngineError(err, 'ERR_INVALID_ARGUMENT'), String(err));
    assert.equal(err.message, `digest mismatch: expected ${expected}, got ${sha256('what the registry sent')}`);
    return true;
  });
  assert.deepEqual(await onDisk(root), { blobs: [], ingest: [] });
  assert.equal(await cs.info(expected), undefined);
  assert.equal(await cs.info(sha256('what the registry sent')), undefined);
});

test('a failing input stream rejects and leaves nothing behind', async (t) => {
  const { cs, root } = await store(t);
  const input = new Readable({
    read() {
      this.push(Buffer.from('partial'));
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(cs.ingest(input), /connection reset/);
  assert.deepEqual(await onDisk(root), { blobs: [], ingest: [] });
});

test('put stores a buffer; storing the same content twice is harmless', async (t) => {
  const { cs, root } = await store(t);
  const data = Buffer.from('{"architecture":"amd64"}');
  const a = await cs.put(data);
  const b = await cs.put(data);
  assert.deepEqual(a, { digest: sha256(data), size: data.length });
  assert.deepEqual(b, a);
  assert.deepEqual((await onDisk(root)).blobs, [a.digest.slice(7)]);
  const empty = await cs.put(Buffer.alloc(0));
  assert.deepEqual(empty, { digest: sha256(''), size: 0 });
});

test('blobs are private files (0600) in private directories (0700)', async (t) => {
  const { cs, root } = await store(t);
  const { digest } = await cs.put(Buffer.from('secret'));
  assert.equal((await stat(cs.path(digest))).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, 'blobs', 'sha256'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(root, 'ingest'))).mode & 0o777, 0o700);
});

test('delete removes a blob and is idempotent; a missing blob has no info and its reader fails', async (t) => {
  const { cs, root } = await store(t);
  const { digest } = await cs.put(Buffer.from('gone soon'));
  await cs.delete(digest);
  await cs.delete(digest);
  assert.equal(await cs.info(digest), undefined);
  assert.deepEqual(await onDisk(root), { blobs: [], ingest: [] });
  await assert.rejects(text(cs.reader(digest)), { code: 'ENOENT' });
  await assert.doesNotReject(cs.delete(sha256('never stored') as Digest));
});

test('init is idempotent and keeps existing blobs', async (t) => {
  const { cs, root } = await store(t);
  const { digest } = await cs.put(Buffer.from('x'));
  await cs.init();
  await new FsContentStore(root).init();
  assert.deepEqual(await cs.info(digest), { digest, size: 1 });
});
