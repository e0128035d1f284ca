import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAM_STDOUT, encodeFrame } from '../../client/stdcopy.js';
import { CaptureStream, FakeDaemon, FakeStdin, UPGRADED_101, runCli, sendJson } from '../test-support.js';

const ID = 'c'.repeat(64);

interface Scenario {
  daemon: FakeDaemon;
  socket?: Duplex;
  fromClient: Buffer[];
  /** Ends the container: closes the attach stream, answers the wait. */
  exit(code: number): void;
}

async function scenario(
  t: TestContext,
  c: { tty: boolean; openStdin?: boolean; running?: boolean; paused?: boolean; output?: Buffer[]; autoRemove?: boolean },
): Promise<Scenario> {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  let waitRes: ServerResponse | undefined;
  let pendingCode: number | undefined;
  const s: Scenario = {
    daemon,
    fromClient: [],
    exit(code) {
      s.socket?.end();
      if (waitRes) waitRes.end(`${JSON.stringify({ Error: null, StatusCode: code })}\n`);
      else pendingCode = code;
    },
  };
  const running = c.running ?? true;
  daemon.on('GET /containers/', (_req, res) =>
    sendJson(res, 200, {
      Id: ID,
      Name: '/web',
      State: { Status: running ? 'running' : 'exited', Running: running, Paused: c.paused === true, Restarting: false, ExitCode: 0 },
      Config: { Tty: c.tty, OpenStdin: c.openStdin ?? true },
      HostConfig: { AutoRemove: c.autoRemove === true },
    }),
  );
  daemon.on('POST /containers/', (req, res) => {
    if (req.url!.includes('/wait')) {
      waitRes = res;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      if (!running && !req.url!.includes('condition=')) s.exit(0);
      if (pendingCode !== undefined) s.exit(pendingCode);
      return;
    }
    res.writeHead(req.url!.includes('/resize') ? 200 : 204);
    res.end();
  });
  daemon.onUpgrade('POST /containers/', (_req, socket) => {
    s.socket = socket;
    socket.write(UPGRADED_101);
    for (const o of c.output ?? []) socket.write(o);
    socket.on('data', (d: Buffer) => s.fromClient.push(d));
  });
  return s;
}

test('attach (no TTY): wait registered first, inspect, hijack with docker\'s query, inspect again; exit code from the wait', async (t) => {
  const s = await scenario(t, { tty: false, output: [encodeFrame(STREAM_STDOUT, 'hello\n')] });
  const stdin = new FakeStdin(false);
  const run = runCli(s.daemon, ['attach', '--detach-keys', 'ctrl-x,x', 'web'], { stdin });
  await sleep(100);
  stdin.end('input\n');
  await sleep(50);
  s.exit(7);
  const r = await run;
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(Buffer.concat(s.fromClient).toString(), 'input\n');
  assert.deepEqual(s.daemon.log, [
    'POST /containers/web/wait',
    'GET /containers/web/json',
    'POST /containers/web/attach?detachKeys=ctrl-x%2Cx&stderr=1&stdin=1&stdout=1&stream=1',
    'GET /containers/web/json',
  ]);
});

test('attach with a TTY: raw mode, resize h+1/w+1 then the real size, ctrl-p ctrl-q detaches like docker 28', async (t) => {
  const s = await scenario(t, { tty: true, output: [Buffer.from('/ # ')] });
  const stdin = new FakeStdin(true);
  const stdout = new CaptureStream({ rows: 30, columns: 100 });
  const signals = new EventEmitter();
  const run = runCli(s.daemon, ['attach', 'web'], { stdin, stdout, signals });
  await sleep(100);
  stdin.write('ls\r');
  await sleep(20);
  stdin.write(Buffer.from([0x10, 0x11]));
  const r = await run;
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'read escape sequence\n');
  assert.equal(r.stdout, '/ # ');
  assert.deepEqual(stdin.rawModes, [true, false]);
  assert.equal(Buffer.concat(s.fromClient).toString(), 'ls\r', 'the detach keys are not sent');
  const log = s.daemon.log;
  assert.ok(log.includes(`POST /containers/${ID}/resize?h=31&w=101`));
  assert.ok(log.indexOf(`POST /containers/${ID}/resize?h=30&w=100`) > log.indexOf(`POST /containers/${ID}/resize?h=31&w=101`));
  assert.ok(!log.some((l) => l.includes('/kill')), 'detaching leaves the container running');
  assert.equal(signals.listenerCount('SIGINT'), 0, 'no signal proxy with a TTY');
});

test('attach --detach-keys, --no-stdin and --sig-proxy=false', async (t) => {
  const s = await scenario(t, { tty: true });
  const stdin = new FakeStdin(true);
  const run = runCli(s.daemon, ['attach', '--detach-keys=ctrl-x', 'web'], { stdin, stdout: new CaptureStream({ rows: 5, columns: 5 }) });
  await sleep(100);
  stdin.write(Buffer.from([0x10, 0x11]));
  await sleep(30);
  stdin.write(Buffer.from([0x18]));
  const r = await run;
  assert.equal(r.code, 1);
  assert.equal(Buffer.concat(s.fromClient).toString('hex'), '1011', 'the default keys are plain input when others are set');

  const n = await scenario(t, { tty: false });
  const signals = new EventEmitter();
  const noStdin = runCli(n.daemon, ['attach', '--no-stdin', '--sig-proxy=false', 'web'], { signals });
  await sleep(100);
  assert.equal(signals.listenerCount('SIGINT'), 0);
  n.exit(0);
  assert.equal((await noStdin).code, 0);
  assert.ok(n.daemon.log.includes('POST /containers/web/attach?stderr=1&stdout=1&stream=1'));

  const p = await scenario(t, { tty: false });
  const proxied = runCli(p.daemon, ['attach', 'web'], { signals });
  await sleep(100);
  assert.equal(signals.listenerCount('SIGINT'), 1, 'signals are proxied without a TTY');
  signals.emit('SIGTERM');
  await sleep(50);
  p.exit(143);
  assert.equal((await proxied).code, 143);
  assert.ok(p.daemon.log.includes(`POST /containers/${ID}/kill?signal=TERM`));
});

test('attach refuses stopped and paused containers, and a TTY container without a terminal', async (t) => {
  const stopped = await scenario(t, { tty: false, running: false });
  assert.deepEqual(await runCli(stopped.daemon, ['attach', 'web']), { code: 1, stdout: '', stderr: 'You cannot attach to a stopped container, start it first\n' });
  const paused = await scenario(t, { tty: false, paused: true });
  assert.equal((await runCli(paused.daemon, ['attach', 'web'])).stderr, 'You cannot attach to a paused container, unpause it first\n');
  const tty = await scenario(t, { tty: true });
  assert.equal((await runCli(tty.daemon, ['attach', 'web'], { stdin: new FakeStdin(false) })).stderr, 'the input device is not a TTY\n');
  for (const s of [stopped, paused, tty]) assert.ok(!s.daemon.log.some((l) => l.includes('/attach')));
  assert.equal((await runCli(tty.daemon, ['attach'])).code, 2);
});

test('start -a: inspect → attach → wait?condition=next-exit → start, exit code from the wait', async (t) => {
  const s = await scenario(t, { tty: false, running: false, openStdin: false, output: [encodeFrame(STREAM_STDOUT, 'out\n')] });
  const run = runCli(s.daemon, ['start', '-a', 'web']);
  await sleep(150);
  s.exit(4);
  const r = await run;
  assert.equal(r.code, 4);
  assert.equal(r.stdout, 'out\n');
  assert.deepEqual(s.daemon.log, [
    'GET /containers/web/json',
    `POST /containers/${ID}/attach?stderr=1&stdout=1&stream=1`,
    `POST /containers/${ID}/wait?condition=next-exit`,
    `POST /containers/${ID}/start`,
  ]);
});

test('start -ai on a TTY container: stdin attached, detach exits 0 silently; --rm containers wait for removal', async (t) => {
  const s = await scenario(t, { tty: true, running: false });
  const stdin = new FakeStdin(true);
  const run = runCli(s.daemon, ['start', '-ai', 'web'], { stdin, stdout: new CaptureStream({ rows: 10, columns: 10 }) });
  await sleep(150);
  stdin.write(Buffer.from([0x10, 0x11]));
  const r = await run;
  assert.deepEqual([r.code, r.stderr], [0, '']);
  assert.ok(s.daemon.log.includes(`POST /containers/${ID}/attach?stderr=1&stdin=1&stdout=1&stream=1`));

  const rm = await scenario(t, { tty: false, running: false, autoRemove: true });
  const started = runCli(rm.daemon, ['start', '-a', 'web']);
  await sleep(150);
  rm.exit(0);
  assert.equal((await started).code, 0);
  assert.ok(rm.daemon.log.includes(`POST /containers/${ID}/wait?condition=removed`));
});
