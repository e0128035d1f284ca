/** SO_PEERCRED through Node's own servers: the fd of an accepted socket is `socket._handle.fd`. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isEngineError } from '../errors.js';
import { isSystemError, peerCred, peerCredOf, socketFd } from './index.js';
import { SeqpacketConnection, SeqpacketListener } from './seqpacket.js';

function socketPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'brig-peercred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'api.sock');
}

const me = () => ({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });

test('net.Server: peerCredOf(accepted socket) is the connecting process', async (t) => {
  const path = socketPath(t);
  const server = createServer();
  t.after(() => server.close());
  server.listen(path);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(path);
  t.after(() => client.destroy());
  const [socket] = await accepted;
  assert.ok(socketFd(socket) > 2);
  assert.deepEqual(peerCredOf(socket), me());
  // The client side sees the server: the same process here.
  await once(client, 'connect');
  assert.deepEqual(peerCredOf(client), me());
  socket.destroy();
  assert.throws(() => socketFd(socket), (e) => isEngineError(e, 'ERR_INVALID_ARGUMENT'));
});

test('http.Server: the caller of a request, from req.socket, is another process', async (t) => {
  const path = socketPath(t);
  let seen: unknown;
  const server = createHttpServer((req, res) => {
    seen = peerCredOf(req.socket);
    res.end('ok');
  });
  t.after(() => server.close());
  server.listen(path);
  await once(server, 'listening');
  // A child process calls the API socket: its pid, not ours, must be reported.
  const script = `require('http').get({ socketPath: ${JSON.stringify(path)}, path: '/' }, (r) => { r.resume(); r.on('end', () => console.log(process.pid)); })`;
  const childPid = await new Promise<number>((resolve, reject) =>
    execFile(process.execPath, ['-e', script], (err, stdout) => (err ? reject(err) : resolve(Number(stdout.trim())))),
  );
  assert.deepEqual(seen, { ...me(), pid: childPid });
  assert.notEqual(childPid, process.pid);
  // And in-process, through http.request.
  await new Promise<void>((resolve, reject) => {
    request({ socketPath: path, path: '/' }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  assert.deepEqual(seen, me());
});

test('peerCred on a SEQPACKET connection; errors for a non-socket fd and a bad fd', async (t) => {
  const path = socketPath(t);
  const listener = SeqpacketListener.listen(path);
  t.after(() => listener.close());
  const accepted = once(listener, 'connection') as Promise<[SeqpacketConnection]>;
  const client = await SeqpacketConnection.connect(path);
  const [server] = await accepted;
  t.after(() => {
    client.close();
    server.close();
  });
  assert.deepEqual(peerCred(server.fd), me());
  assert.throws(() => peerCred(1_000_000), (e) => isSystemError(e, 'EBADF') && e.syscall === 'getsockopt');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync('/dev/null', 'r');
  try {
    assert.throws(() => peerCred(fd), (e) => isSystemError(e, 'ENOTSOCK'));
  } finally {
    closeSync(fd);
  }
});
