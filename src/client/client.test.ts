import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable, Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineClient, encodeQuery } from './client.js';
import { ApiError } from './api-error.js';
import { ProgressError } from './json-stream.js';
import { STREAM_STDOUT, demuxStream, encodeFrame } from './stdcopy.js';
import { socketPathFromHost, resolveSocketPath, DEFAULT_SOCKET_PATH } from './host.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A fake daemon on a temp unix socket; handlers see the fully read request body. */
async function fakeDaemon(t: TestContext, handler: Handler, upgrade?: UpgradeHandler) {
  const dir = await mkdtemp(join(tmpdir(), 'brig-client-test-'));
  const socketPath = join(dir, 'brig.sock');
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  if (upgrade !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.alloc(0) });
      upgrade(req, socket, head);
    });
  }
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const client = new EngineClient({ socketPath });
  t.after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return { client, seen, socketPath, server };
}

function json(res: ServerResponse, status: number, value: unknown, contentType = 'application/json'): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Settles-or-not probe: true when `p` settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

test('encodeQuery sorts keys, sends true as 1, drops false/undefined, repeats arrays, JSON-encodes objects', () => {
  assert.equal(encodeQuery({ stream: true, stdout: true, stderr: true, stdin: false, logs: undefined }), '?stderr=1&stdout=1&stream=1');
  assert.equal(encodeQuery({ changes: ['CMD ["sh"]', 'ENV A=1'] }), '?changes=CMD+%5B%22sh%22%5D&changes=ENV+A%3D1');
  assert.equal(encodeQuery({ filters: { status: { exited: true } } }), `?filters=${encodeURIComponent('{"status":{"exited":true}}')}`);
  assert.equal(encodeQuery({ t: 0 }), '?t=0');
  assert.equal(encodeQuery({}), '');
});

test('host resolution: flag, then BRIG_HOST, then DOCKER_HOST, then the default; only unix sockets', () => {
  assert.equal(resolveSocketPath(undefined, {}), DEFAULT_SOCKET_PATH);
  assert.equal(resolveSocketPath(undefined, { DOCKER_HOST: 'unix:///d.sock' }), '/d.sock');
  assert.equal(resolveSocketPath(undefined, { DOCKER_HOST: 'unix:///d.sock', BRIG_HOST: 'unix:///b.sock' }), '/b.sock');
  assert.equal(resolveSocketPath('unix:///f.sock', { BRIG_HOST: 'unix:///b.sock' }), '/f.sock');
  assert.equal(socketPathFromHost('/abs/path.sock'), '/abs/path.sock');
  assert.throws(() => socketPathFromHost('tcp://127.0.0.1:2375'), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => socketPathFromHost('unix://relative.sock'), { code: 'ERR_INVALID_ARGUMENT' });
});

test('ping reads the negotiation headers from the unversioned /_ping', async (t) => {
  const { client, seen } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200, { 'Api-Version': '1.41', Ostype: 'linux', 'Docker-Experimental': 'false', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('OK');
  });
  const p = await client.ping();
  assert.deepEqual(p, { apiVersion: '1.41', osType: 'linux', experimental: false, builderVersion: undefined, swarm: undefined });
  assert.equal(seen[0]!.url, '/_ping');
  assert.match(String(seen[0]!.headers['user-agent']), /^Brig-Client\//);
});

test('requests use /v1.41 paths, Content-Length: 0 for bodyless POSTs and JSON bodies with a length', async (t) => {
  const { client, seen } = await fakeDaemon(t, (req, res) => {
    if (req.url!.includes('/containers/create')) json(res, 201, { Id: 'a'.repeat(64), Warnings: [] });
    else if (req.url!.includes('/stop')) {
      res.writeHead(304);
      res.end();
    } else {
      res.writeHead(204);
      res.end();
    }
  });
  const created = await client.createContainer({ Image: 'busybox', Cmd: ['echo', 'hi'] }, 'web1');
  assert.equal(created.Id, 'a'.repeat(64));
  assert.equal(await client.startContainer('web1'), true);
  assert.equal(await client.stopContainer('web1', 3), false, '304 means already stopped, not an error');
  await client.removeContainer('web1', { force: true });
  await client.killContainer('web1', 'HUP');

  assert.equal(seen[0]!.url, '/v1.41/containers/create?name=web1');
  assert.equal(seen[0]!.headers['content-type'], 'application/json');
  assert.equal(seen[0]!.headers['content-length'], String(seen[0]!.body.length));
  assert.deepEqual(JSON.parse(seen[0]!.body.toString()), { Image: 'busybox', Cmd: ['echo', 'hi'] });
  assert.equal(seen[1]!.url, '/v1.41/containers/web1/start');
  assert.equal(seen[1]!.headers['content-length'], '0');
  assert.equal(seen[1]!.headers['content-type'], undefined);
  assert.equal(seen[2]!.url, '/v1.41/containers/web1/stop?t=3');
  assert.equal(seen[3]!.method, 'DELETE');
  assert.equal(seen[3]!.url, '/v1.41/containers/web1?force=1');
  assert.equal(seen[4]!.url, '/v1.41/containers/web1/kill?signal=HUP');
});

test('path parameters keep / and : (image references) and escape the rest', async (t) => {
  const { client, seen } = await fakeDaemon(t, (_req, res) => json(res, 200, { Id: 'sha256:x' }));
  await client.inspectImage('127.0.0.1:5055/apiresearch/busybox:v1');
  await client.inspectContainer('we ird?#');
  assert.equal(seen[0]!.url, '/v1.41/images/127.0.0.1:5055/apiresearch/busybox:v1/json');
  assert.equal(seen[1]!.url, '/v1.41/containers/we%20ird%3F%23/json');
});

test('error bodies: {"message"} for JSON (also with a charset), verbatim text, and Docker\'s texts for empty or message-less bodies', async (t) => {
  const { client } = await fakeDaemon(t, (req, res) => {
    const name = req.url!.split('/')[3];
    switch (name) {
      case 'plainjson':
        return json(res, 404, { message: 'No such container: plainjson' });
      case 'charset':
        return json(res, 404, { message: 'No such container: charset' }, 'application/json; charset=utf-8');
      case 'text':
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        return res.end('plain failure text\n');
      case 'empty':
        res.writeHead(500);
        return res.end();
      case 'nomessage':
        return json(res, 409, { error: 'x' });
      case 'badjson':
        res.writeHead(400, { 'Content-Type': 'application/json' });
        return res.end('{nope');
      default:
        return json(res, 200, {});
    }
  });
  const cases: [string, number, string, string][] = [
    ['plainjson', 404, 'ERR_NOT_FOUND', 'No such container: plainjson'],
    ['charset', 404, 'ERR_NOT_FOUND', 'No such container: charset'],
    ['text', 500, 'ERR_INTERNAL', 'plain failure text'],
    [
      'empty',
      500,
      'ERR_INTERNAL',
      'request returned 500 Internal Server Error for API route and version /v1.41/containers/empty/json, check if the server supports the requested API version',
    ],
    ['nomessage', 409, 'ERR_CONFLICT', 'API returned a 409 (Conflict) but provided no error-message'],
    ['badjson', 400, 'ERR_INVALID_ARGUMENT', 'Error reading JSON: {nope'],
  ];
  for (const [name, status, code, message] of cases) {
    await assert.rejects(client.inspectContainer(name), (err: unknown) => {
      assert.ok(err instanceof ApiError, name);
      assert.equal(err.status, status, name);
      assert.equal(err.code, code, name);
      assert.equal(err.message, message, name);
      return true;
    });
  }
});

test('a missing socket gives "Cannot connect to the brig daemon" (ERR_UNAVAILABLE)', async () => {
  const client = new EngineClient({ socketPath: '/nonexistent/brig-test.sock' });
  await assert.rejects(client.version(), {
    code: 'ERR_UNAVAILABLE',
    message: 'Cannot connect to the brig daemon at unix:///nonexistent/brig-test.sock. Is the brig daemon running?',
  });
  await assert.rejects(client.hijack('/containers/x/attach'), { code: 'ERR_UNAVAILABLE' });
  client.close();
});

test('waitContainer resolves once the headers arrive, before the body; result carries the status', async (t) => {
  let finish: ((code: number) => void) | undefined;
  const { client, seen } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    finish = (code) => res.end(`${JSON.stringify({ Error: null, StatusCode: code })}\n`);
  });
  const wait = await client.waitContainer('c1', 'next-exit');
  assert.equal(seen[0]!.url, '/v1.41/containers/c1/wait?condition=next-exit');
  assert.ok(finish, 'the server handler ran');
  assert.equal(await settlesWithin(wait.result, 30), false, 'the body is not there yet');
  finish(3);
  assert.deepEqual(await wait.result, { StatusCode: 3, Error: null });
});

test('waitContainer does not resolve while the daemon holds back the headers (so start cannot be sent early)', async (t) => {
  let release: (() => void) | undefined;
  const { client } = await fakeDaemon(t, (_req, res) => {
    release = () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"Error":{"Message":"boom"},"StatusCode":-1}');
    };
  });
  const p = client.waitContainer('c1', 'removed');
  assert.equal(await settlesWithin(p, 50), false);
  release!();
  const wait = await p;
  assert.deepEqual(await wait.result, { StatusCode: -1, Error: { Message: 'boom' } });
});

test('waitContainer.cancel drops the connection and rejects result without an unhandled rejection', async (t) => {
  let serverSawClose = false;
  const { client } = await fakeDaemon(t, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.on('close', () => (serverSawClose = true));
    void req;
  });
  const wait = await client.waitContainer('c1');
  wait.cancel();
  await assert.rejects(wait.result, { name: 'AbortError' });
  await sleep(20);
  assert.equal(serverSawClose, true);
  // a second waiter that is cancelled and never awaited must not crash the process
  (await client.waitContainer('c2')).cancel();
  await sleep(20);
});

const UPGRADED =
  'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

test('hijack: 101 UPGRADED, output sent with the 101 is kept, stdin half-close still lets the output arrive', async (t) => {
  let serverGotEnd = false;
  const { client, seen } = await fakeDaemon(
    t,
    (_req, res) => json(res, 500, { message: 'not an upgrade' }),
    (_req, socket) => {
      // bytes in the same packet as the 101 arrive in the client's `head`
      socket.write(Buffer.concat([Buffer.from(UPGRADED), encodeFrame(STREAM_STDOUT, 'hello\n')]));
      const input: Buffer[] = [];
      socket.on('data', (c: Buffer) => input.push(c));
      socket.on('end', () => {
        serverGotEnd = true;
        // after the client's FIN the server keeps writing, then half-closes
        socket.write(encodeFrame(STREAM_STDOUT, `got:${Buffer.concat(input).toString()}\n`));
        setTimeout(() => socket.end(), 10);
      });
    },
  );
  const socket = await client.attachContainer('c1', { stream: true, stdin: true, stdout: true, stderr: true });
  const attach = seen.find((s) => s.url.includes('/attach'))!;
  assert.equal(attach.url, '/v1.41/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1');
  assert.equal(attach.headers['connection'], 'Upgrade');
  assert.equal(attach.headers['upgrade'], 'tcp');
  assert.equal(attach.headers['content-type'], 'text/plain');

  const stdout = new Collector();
  const done = demuxStream(socket, stdout, new Collector());
  socket.write('line1\nline2\n');
  socket.end(); // stdin EOF
  await done;
  assert.equal(serverGotEnd, true);
  assert.equal(stdout.text, 'hello\ngot:line1\nline2\n\n');
  socket.destroy();
});

test('hijack: an error status gives ApiError, a 200 answer gives "unable to upgrade to tcp, received 200"', async (t) => {
  const { client } = await fakeDaemon(
    t,
    (_req, res) => json(res, 500, {}),
    (req, socket) => {
      if (req.url!.includes('/missing/')) {
        const body = '{"message":"No such container: missing"}';
        socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      } else {
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nContent-Length: 0\r\n\r\n');
      }
    },
  );
  await assert.rejects(client.attachContainer('missing', { stream: true }), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(err.message, 'No such container: missing');
    return true;
  });
  await assert.rejects(client.attachContainer('old', { stream: true }), { message: 'unable to upgrade to tcp, received 200' });
});

test('containerLogs sends Docker\'s query and returns the raw stream', async (t) => {
  const { client, seen } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200);
    res.write(encodeFrame(STREAM_STDOUT, 'a\n'));
    res.end(encodeFrame(STREAM_STDOUT, 'b\n'));
  });
  const stream = await client.containerLogs('c1', { follow: true, stdout: true, stderr: true, timestamps: true });
  const out = new Collector();
  await demuxStream(stream, out, new Collector());
  assert.equal(out.text, 'a\nb\n');
  assert.equal(seen[0]!.url, '/v1.41/containers/c1/logs?follow=1&stderr=1&stdout=1&tail=all&timestamps=1');
  await client.containerLogs('c1', { tail: 5 }).then((s) => s.resume());
  assert.equal(seen[1]!.url, '/v1.41/containers/c1/logs?tail=5');
});

test('importImage streams the tar chunked and returns the image ID from the progress stream', async (t) => {
  const id = `sha256:${'b'.repeat(64)}`;
  const { client, seen } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // objects split across writes, and two objects in one write
    res.write('{"status":"Importing","progressDetail":{"current":1},"id":"x"}\n{"sta');
    setTimeout(() => res.end(`tus":"${id}"}\r\n`), 5);
  });
  const tar = Readable.from([Buffer.alloc(512, 1), Buffer.alloc(512, 2)]);
  const got = await client.importImage(tar, { repo: 'busybox:latest', changes: ['CMD ["sh"]'], message: 'built in' });
  assert.equal(got, id);
  const req = seen[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(
    req.url,
    '/v1.41/images/create?changes=CMD+%5B%22sh%22%5D&fromSrc=-&message=built+in&repo=busybox%3Alatest',
  );
  assert.equal(req.headers['transfer-encoding'], 'chunked');
  assert.equal(req.headers['content-type'], 'text/plain');
  assert.equal(req.body.length, 1024);
});

test('importImage raises the in-stream error message', async (t) => {
  const { client } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"Importing"}\n{"errorDetail":{"message":"archive/tar: invalid tar header"},"error":"archive/tar: invalid tar header"}\n');
  });
  await assert.rejects(client.importImage(Readable.from([Buffer.from('junk')])), (err: unknown) => {
    assert.ok(err instanceof ProgressError);
    assert.equal(err.message, 'archive/tar: invalid tar header');
    return true;
  });
});

test('importImage fails with the tar stream\'s own error when the source breaks', async (t) => {
  const { client } = await fakeDaemon(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`{"status":"sha256:${'c'.repeat(64)}"}`);
  });
  const broken = new Readable({
    read() {
      this.destroy(new Error('busybox vanished'));
    },
  });
  await assert.rejects(client.importImage(broken), /busybox vanished/);
});

test('version and info parse JSON; listContainers tolerates null', async (t) => {
  const { client, seen } = await fakeDaemon(t, (req, res) => {
    if (req.url!.endsWith('/version')) json(res, 200, { Version: '0.1.0', ApiVersion: '1.41' });
    else if (req.url!.endsWith('/info')) json(res, 200, { Containers: 2 });
    else json(res, 200, null);
  });
  assert.equal((await client.version()).ApiVersion, '1.41');
  assert.equal((await client.info()).Containers, 2);
  assert.deepEqual(await client.listContainers({ all: true }), []);
  assert.equal(seen[2]!.url, '/v1.41/containers/json?all=1');
});
