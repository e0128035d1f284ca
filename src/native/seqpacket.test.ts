/**
 * SeqpacketConnection against a real peer: a SeqpacketListener of the same addon, in the same
 * process (both ends on one event loop). Message boundaries, back-pressure both ways, half-close,
 * EOF, close inside a callback, errors, ref/unref.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isSystemError, sockets } from './index.js';
import { SeqpacketConnection, SeqpacketListener } from './seqpacket.js';

const MiB = 1024 * 1024;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'brig-seqpacket-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A connected pair: `client` made by connect(), `server` accepted by a listener. */
async function pair(t: TestContext): Promise<{ client: SeqpacketConnection; server: SeqpacketConnection; path: string }> {
  const path = join(tempDir(t), 's.sock');
  const listener = SeqpacketListener.listen(path);
  const accepted = once(listener, 'connection') as Promise<[SeqpacketConnection]>;
  const client = await SeqpacketConnection.connect(path);
  const [server] = await accepted;
  listener.close();
  t.after(() => {
    client.close();
    server.close();
  });
  return { client, server, path };
}

/** Message `seq` of `size` bytes: its sequence number up front, then a byte pattern. */
function message(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  if (size >= 4) b.writeUInt32BE(seq, 0);
  return b;
}

function collect(conn: SeqpacketConnection): Buffer[] {
  const got: Buffer[] = [];
  conn.on('message', (m) => got.push(m));
  return got;
}

function sizes(n: number, seed: number): number[] {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out = [1, 2, 4, 65536, 65535, 8193];
  while (out.length < n) out.push(rnd() < 0.9 ? 1 + Math.floor(rnd() * 2048) : 1 + Math.floor(rnd() * 65536));
  return out;
}

/** Writes every message, waiting for 'drain' whenever write() says so; returns how often it waited. */
async function writeAll(conn: SeqpacketConnection, lengths: number[]): Promise<number> {
  let drains = 0;
  for (let i = 0; i < lengths.length; i++) {
    if (!conn.write(message(i, lengths[i]!))) {
      assert.ok(conn.writableLength > SeqpacketConnection.highWaterMark);
      drains++;
      await once(conn, 'drain');
      assert.equal(conn.writableLength, 0);
    }
  }
  return drains;
}

async function receiveAll(conn: SeqpacketConnection, lengths: number[]): Promise<void> {
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    conn.on('error', reject);
    conn.on('message', (m) => {
      try {
        assert.equal(m.length, lengths[next], `message ${next}: kept whole, not merged or split`);
        assert.ok(m.equals(message(next, lengths[next]!)), `message ${next}: content and order`);
      } catch (err) {
        reject(err as Error);
        return;
      }
      if (++next === lengths.length) resolve();
    });
  });
}

test('10,000 messages of random sizes (1 B … 64 KiB) keep their boundaries and order, both ways', async (t) => {
  const { client, server } = await pair(t);
  const lengths = sizes(10_000, 42);
  const [down, up] = await Promise.all([
    Promise.all([receiveAll(client, lengths), writeAll(server, lengths)]),
    Promise.all([receiveAll(server, lengths), writeAll(client, lengths)]),
  ]);
  const total = lengths.reduce((a, b) => a + b, 0);
  t.diagnostic(`${(total / MiB).toFixed(1)} MiB each way; writers waited for 'drain' ${down[1]}× and ${up[1]}×`);
  assert.ok(down[1] > 0 && up[1] > 0, 'back-pressure was exercised');
});

test('half-close: shutdownWrite() flushes the queue first, the peer reads EOF, the other way still works', async (t) => {
  const { client, server } = await pair(t);
  const got = collect(server);
  const serverEnd = once(server, 'end');
  const lengths = Array.from({ length: 100 }, () => 60_000); // ~6 MiB: most of it queued
  for (let i = 0; i < lengths.length; i++) client.write(message(i, lengths[i]!));
  assert.ok(client.writableLength > 0, 'data is queued when shutdownWrite() is called');
  client.shutdownWrite();
  client.shutdownWrite(); // idempotent
  assert.throws(() => client.write(Buffer.from('late')), { code: 'ERR_STREAM_WRITE_AFTER_END' });
  await serverEnd;
  assert.equal(got.length, 100);
  got.forEach((m, i) => assert.ok(m.equals(message(i, lengths[i]!))));

  const back = collect(client);
  const clientEnd = once(client, 'end');
  server.write(Buffer.from('reply after EOF'));
  server.shutdownWrite();
  await clientEnd;
  assert.deepEqual(back.map(String), ['reply after EOF']);
});

test('EOF: the peer closing is one "end", no error; pending messages come first', async (t) => {
  const { client, server } = await pair(t);
  const events: string[] = [];
  client.on('message', (m) => events.push(`message:${m}`));
  client.on('error', (e) => events.push(`error:${e.message}`));
  const ended = once(client, 'end');
  server.write(Buffer.from('one'));
  server.write(Buffer.from('two'));
  server.close();
  await ended;
  assert.deepEqual(events, ['message:one', 'message:two']);
});

test('the peer closes without reading what we sent: its messages still arrive, then "end"', async (t) => {
  const { client, server } = await pair(t);
  server.pause();
  client.write(Buffer.from('never read by the server'));
  await new Promise((r) => setTimeout(r, 20));
  const got = collect(client);
  const errors: Error[] = [];
  client.on('error', (e) => errors.push(e));
  const ended = once(client, 'end');
  for (const s of ['a', 'b', 'c']) server.write(Buffer.from(s));
  server.close(); // unread data in its queue: the kernel reports ECONNRESET to us first
  await ended;
  assert.deepEqual(got.map(String), ['a', 'b', 'c']);
  assert.deepEqual(errors, []);
  assert.equal(client.write(Buffer.from('dropped: the peer is gone')), true);
});

test('back-pressure: pause() stops reading, the writer queues and gets false; resume() delivers all in order', async (t) => {
  const { client, server } = await pair(t);
  const got = collect(client);
  client.pause();
  let sent = 0;
  while (server.write(message(sent, 32 * 1024))) sent++;
  sent++;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(got.length, 0, 'nothing is read while paused');
  assert.ok(server.writableLength > SeqpacketConnection.highWaterMark);
  const drained = once(server, 'drain');
  client.resume();
  await drained;
  await new Promise((r) => setImmediate(r));
  while (got.length < sent) await once(client, 'message');
  assert.equal(got.length, sent);
  got.forEach((m, i) => assert.ok(m.equals(message(i, 32 * 1024)), `message ${i}`));
  t.diagnostic(`${sent} messages (${((sent * 32) / 1024).toFixed(1)} MiB) held back while paused`);
});

test('close() inside a "message" handler: no further events but one "close"; idempotent; write throws', async (t) => {
  const { client, server } = await pair(t);
  const events: string[] = [];
  client.on('message', (m) => {
    events.push(String(m));
    if (events.length === 5) {
      client.close();
      client.close();
    }
  });
  client.on('end', () => events.push('end'));
  client.on('error', (e) => events.push(`error:${e.message}`));
  const closed = once(client, 'close');
  const serverEnd = once(server, 'end'); // the server sees our side go away
  for (let i = 0; i < 100; i++) server.write(Buffer.from(`m${i}`));
  await closed;
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, ['m0', 'm1', 'm2', 'm3', 'm4']);
  assert.ok(client.closed);
  assert.throws(() => client.write(Buffer.from('x')), { code: 'ERR_STREAM_DESTROYED' });
  client.pause();
  client.resume();
  client.shutdownWrite();
  await serverEnd;
});

test('close() inside "end" and "drain" handlers is safe too', async (t) => {
  const { client, server } = await pair(t);
  client.on('end', () => client.close());
  const closed = once(client, 'close');
  server.shutdownWrite();
  await closed;

  const p = await pair(t);
  p.client.pause();
  while (p.server.write(Buffer.alloc(60_000, 1)));
  p.server.on('drain', () => p.server.close());
  const serverClosed = once(p.server, 'close');
  p.client.resume();
  await serverClosed;
});

test('errors: missing path, not a socket, a stream socket, too long a path, oversized message', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(SeqpacketConnection.connect(join(dir, 'missing')), (e) => isSystemError(e, 'ENOENT') && e.syscall === 'connect');
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(SeqpacketConnection.connect(join(dir, 'file')), (e) => isSystemError(e, 'ECONNREFUSED'));
  const stream = createServer().listen(join(dir, 'stream.sock'));
  await once(stream, 'listening');
  t.after(() => stream.close());
  await assert.rejects(SeqpacketConnection.connect(join(dir, 'stream.sock')), (e) => isSystemError(e, 'EPROTOTYPE'));
  await assert.rejects(SeqpacketConnection.connect('/' + 'x'.repeat(108)), (e) => isSystemError(e, 'ENAMETOOLONG'));
  assert.throws(() => SeqpacketListener.listen(join(dir, 'file')), (e) => isSystemError(e, 'EADDRINUSE'));

  const { client, server } = await pair(t);
  assert.equal(client.write(Buffer.alloc(0)), true, 'empty writes are ignored (they would read as EOF)');
  server.write(Buffer.from('before'));
  server.write(Buffer.alloc(100 * 1024, 7));
  const got = collect(client);
  const [err] = (await once(client, 'error')) as [Error];
  assert.ok(isSystemError(err, 'EMSGSIZE'), String(err));
  assert.deepEqual(got.map(String), ['before'], 'a message over 64 KiB is an error, never split');
  assert.ok(client.closed);
});

test('unref(): an idle connection does not keep the process alive; ref() does', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const listener = SeqpacketListener.listen(path);
  const peers: SeqpacketConnection[] = [];
  listener.on('connection', (c) => peers.push(c));
  t.after(() => {
    listener.close();
    for (const c of peers) c.close();
  });
  const index = new URL('./seqpacket.js', import.meta.url).href;
  const run = (mode: 'unref' | 'ref') => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { SeqpacketConnection } from ${JSON.stringify(index)};
        const c = await SeqpacketConnection.connect(${JSON.stringify(path)}); c.${mode}();`],
      { stdio: 'ignore' },
    );
    const exited = once(child, 'exit').then(() => true);
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 1500));
    return Promise.race([exited, timeout]).finally(() => child.kill('SIGKILL'));
  };
  assert.equal(await run('unref'), true, 'exits although connected');
  assert.equal(await run('ref'), false, 'stays alive while reading');
});

test('Poller: needs new, a pollable fd and a callback; close() is idempotent and start() after it a no-op', async (t) => {
  const { Poller } = sockets;
  assert.throws(() => (Poller as unknown as (fd: number, cb: () => void) => void)(0, () => {}), { code: 'ERR_CONSTRUCT_CALL_REQUIRED' });
  assert.throws(() => new Poller(0, 'cb' as unknown as () => void), { code: 'ERR_INVALID_ARG_TYPE' });
  const file = join(tempDir(t), 'regular');
  writeFileSync(file, '');
  const fd = openSync(file, 'r');
  try {
    assert.throws(() => new Poller(fd, () => {}), (e) => isSystemError(e, 'EPERM') && e.syscall === 'uv_poll_init');
  } finally {
    closeSync(fd);
  }
  const listenFd = sockets.seqpacketListen(join(tempDir(t), 'p.sock'), 1);
  let calls = 0;
  const p = new Poller(listenFd, () => calls++);
  p.close();
  p.close();
  p.start(1); // no-op: a connect now would otherwise be reported
  p.ref();
  p.unref();
  closeSync(listenFd);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 0);
});
