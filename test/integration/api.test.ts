/**
 * The Engine API on the wire (raw HTTP on the socket): ping headers, version prefixes, error
 * statuses and bodies for bad input, wait acknowledging registration at once, attach upgrading to
 * 101 with multiplexed frames, and 501 for endpoints brig does not serve yet.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

describe('Engine API', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  test('/_ping answers GET and HEAD with the negotiation headers', async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await d.http(method, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.41');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.body, method === 'GET' ? 'OK' : '');
    }
  });

  test('versioned and unversioned paths; too new and too old versions are 400', async () => {
    assert.equal((await d.http('GET', '/v1.41/version')).status, 200);
    assert.equal((await d.http('GET', '/version')).status, 200);
    const v = (await d.http('GET', '/v1.41/version')).json() as { ApiVersion: string; MinAPIVersion: string };
    assert.equal(v.ApiVersion, '1.41');
    const tooNew = await d.http('GET', '/v1.99/version');
    assert.equal(tooNew.status, 400);
    assert.deepEqual(tooNew.json(), { message: 'client version 1.99 is too new. Maximum supported API version is 1.41' });
    assert.equal((await d.http('GET', '/v1.11/version')).status, 400);
  });

  test('errors are JSON without a charset', async () => {
    const r = await d.http('GET', '/containers/nosuch/json');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(r.json(), { message: 'No such container: nosuch' });
    const page = await d.http('GET', '/v1.41/nothing/here');
    assert.equal(page.status, 404);
    assert.deepEqual(page.json(), { message: 'page not found' });
  });

  test('creating from an unknown image is 404 No such image', async () => {
    const r = await d.http('POST', '/containers/create', { Image: 'nosuchimage:1' });
    assert.equal(r.status, 404);
    assert.deepEqual(r.json(), { message: 'No such image: nosuchimage:1' });
  });

  test('malformed JSON and wrong field types are 400 naming the problem', async () => {
    const bad = await d.http('POST', '/containers/create', '{"Image": "busybox",', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match((bad.json() as { message: string }).message, /invalid JSON/);
    const typed = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 'lots' } });
    assert.equal(typed.status, 400);
    assert.match((typed.json() as { message: string }).message, /HostConfig\.Memory/);
    const env = await d.http('POST', '/containers/create', { Image: 'busybox', Env: [1] });
    assert.equal(env.status, 400);
    assert.match((env.json() as { message: string }).message, /Env\[0\]/);
    const noImage = await d.http('POST', '/containers/create', { Cmd: ['true'] });
    assert.equal(noImage.status, 400);
  });

  test('a name in use is 409, a bad name is 400', async () => {
    const a = await d.http('POST', '/containers/create?name=twin', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(a.status, 201);
    const id = (a.json() as { Id: string }).Id;
    const b = await d.http('POST', '/containers/create?name=twin', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(b.status, 409);
    assert.match((b.json() as { message: string }).message, new RegExp(`The container name "/twin" is already in use by container "${id}"`));
    const bad = await d.http('POST', '/containers/create?name=a', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(bad.status, 400);
    assert.equal((await d.http('DELETE', `/containers/${id}`)).status, 204);
  });

  test('features brig does not have yet are refused clearly, never ignored', async () => {
    const r = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Binds: ['/:/host'] } });
    assert.equal(r.status, 501);
    assert.match((r.json() as { message: string }).message, /HostConfig\.Binds/);
    const e = await d.http('GET', '/swarm');
    assert.equal(e.status, 501);
    assert.match((e.json() as { message: string }).message, /GET \/swarm is not implemented/);
  });

  test('short ID prefixes resolve; unknown containers are 404 on every verb', async () => {
    const c = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] });
    const id = (c.json() as { Id: string }).Id;
    assert.equal((await d.http('GET', `/containers/${id.slice(0, 12)}/json`)).status, 200);
    for (const [m, p] of [['POST', 'start'], ['POST', 'stop'], ['POST', 'kill'], ['POST', 'wait'], ['GET', 'logs?stdout=1']] as const) {
      const r = await d.http(m, `/containers/nosuch/${p}`);
      assert.equal(r.status, 404, `${m} ${p}`);
    }
    assert.equal((await d.http('DELETE', '/containers/nosuch')).status, 404);
    assert.equal((await d.http('DELETE', `/containers/${id}`)).status, 204);
  });

  test('wait sends its headers at once, then the exit code; attach upgrades to 101 with frames', async () => {
    const c = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
    const id = (c.json() as { Id: string }).Id;

    const attach = rawRequest(d.socket, `POST /v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
    const head = await attach.until((b) => b.includes('\r\n\r\n'));
    assert.match(head.toString(), /^HTTP\/1\.1 101 UPGRADED\r\n/);
    attach.socket.end(); // the client half-closes at once, like the docker CLI

    const wait = rawRequest(d.socket, `POST /v1.41/containers/${id}/wait?condition=next-exit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
    const waitHead = await wait.until((b) => b.includes('\r\n\r\n'));
    assert.match(waitHead.toString(), /^HTTP\/1\.1 200 OK\r\n/, 'headers arrive before the container even started');

    assert.equal((await d.http('POST', `/containers/${id}/start`)).status, 204);
    const out = await attach.ended();
    const body = out.subarray(out.indexOf('\r\n\r\n') + 4);
    assert.deepEqual(demux(body), [[1, 'out\n'], [2, 'err\n']]);
    const waitAll = (await wait.until((b) => b.includes('StatusCode'))).toString();
    assert.match(waitAll, /\{"Error":null,"StatusCode":5\}/);
    wait.socket.destroy();
    assert.equal((await d.http('POST', `/containers/${id}/start`)).status, 204);
    await d.http('POST', `/containers/${id}/wait`);
    assert.equal((await d.http('POST', `/containers/${id}/stop`)).status, 304, 'stopping a stopped container is 304');
    assert.equal((await d.http('DELETE', `/containers/${id}`)).status, 204);
  });

  test('logs are multiplexed with stdout and stderr apart, tail and timestamps work', async () => {
    const c = await d.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c'] });
    const id = (c.json() as { Id: string }).Id;
    await d.http('POST', `/containers/${id}/start`);
    await d.http('POST', `/containers/${id}/wait`);
    const all = await d.http('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    assert.equal(all.status, 200);
    assert.deepEqual(demux(Buffer.from(all.body, 'latin1')), [[1, 'a\n'], [2, 'b\n'], [1, 'c\n']]);
    const tail = await d.http('GET', `/containers/${id}/logs?stdout=1&tail=1`);
    assert.deepEqual(demux(Buffer.from(tail.body, 'latin1')), [[1, 'c\n']]);
    const ts = await d.http('GET', `/containers/${id}/logs?stderr=1&timestamps=1`);
    assert.match(demux(Buffer.from(ts.body, 'latin1'))[0]![1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z b\n$/);
    const none = await d.http('GET', `/containers/${id}/logs`);
    assert.equal(none.status, 400);
    await d.http('DELETE', `/containers/${id}`);
  });
});

function demux(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push([buf[i]!, buf.subarray(i + 8, i + 8 + len).toString()]);
    i += 8 + len;
  }
  return out;
}

function rawRequest(socketPath: string, head: string) {
  const socket = connect({ path: socketPath, allowHalfOpen: true });
  let data = Buffer.alloc(0);
  const listeners = new Set<() => void>();
  let closed = false;
  socket.on('data', (d: Buffer) => {
    data = Buffer.concat([data, d]);
    for (const l of listeners) l();
  });
  socket.on('end', () => {
    closed = true;
    for (const l of listeners) l();
  });
  socket.write(head);
  return {
    socket,
    until(pred: (b: Buffer) => boolean): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(data)) {
            listeners.delete(check);
            resolve(data);
          } else if (closed) reject(new Error(`connection closed; got: ${data.toString()}`));
        };
        listeners.add(check);
        check();
      });
    },
    ended(): Promise<Buffer> {
      return new Promise((resolve) => {
        if (closed) resolve(data);
        else socket.once('end', () => resolve(data));
      });
    },
  };
}
