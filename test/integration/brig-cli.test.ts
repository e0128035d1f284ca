/**
 * brig's own CLI against a real daemon (through the socket, never in-process): run with its flags,
 * ps, logs, stop, rm, images, version, info, and `brig daemon` refusing bad options.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BRIG, runProcess, startDaemon, type TestDaemon } from './harness.js';

describe('brig CLI', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  test('brig run --rm prints the output and returns the exit code', async () => {
    const r = await d.brig(['run', '--rm', 'busybox', 'echo', 'hello from brig']);
    assert.equal(r.stdout, 'hello from brig\n');
    assert.equal(r.code, 0, r.stderr);
    const e = await d.brig(['run', '--rm', 'busybox', 'sh', '-c', 'echo oops >&2; exit 7']);
    assert.equal(e.stderr, 'oops\n');
    assert.equal(e.code, 7);
  });

  test('brig run with -e, -w, -u, --entrypoint and --name', async () => {
    const r = await d.brig(['run', '--rm', '--name', 'flags', '-e', 'A=1', '--env', 'B=two', '-w', '/tmp', '-u', 'nobody',
      '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $B; pwd; id -un; hostname']);
    assert.equal(r.code, 0, r.stderr);
    const [vars, cwd, user, host] = r.stdout.trim().split('\n');
    assert.equal(vars, '1 two');
    assert.equal(cwd, '/tmp');
    assert.equal(user, 'nobody');
    assert.match(host!, /^[0-9a-f]{12}$/);
  });

  test('brig run -d, ps, logs, stop, rm -f', async () => {
    const run = await d.brig(['run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo ready; exec sleep 1000']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await d.brig(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+".*"\\s+.* ago\\s+Up .*\\s+bg$`, 'm'));

    let logs = '';
    for (let i = 0; i < 50 && logs === ''; i++) {
      logs = (await d.brig(['logs', 'bg'])).stdout;
      if (logs === '') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(logs, 'ready\n');

    const stop = await d.brig(['stop', '-t', '1', 'bg']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), 'bg');
    assert.equal((await d.brig(['ps', '-q'])).stdout.trim(), '');
    assert.match((await d.brig(['ps', '-a'])).stdout, /Exited \(137\) .* ago\s+bg$/m);
    assert.equal((await d.brig(['rm', 'bg'])).code, 0);

    await d.brig(['run', '-d', '--name', 'bg2', 'busybox', 'sleep', '1000']);
    const rm = await d.brig(['rm', 'bg2']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /You cannot remove a running container/);
    assert.equal((await d.brig(['rm', '-f', 'bg2'])).code, 0);
    assert.equal((await d.brig(['ps', '-aq'])).stdout.trim(), '');
  });

  test('brig images, version and info', async () => {
    const images = await d.brig(['images']);
    assert.match(images.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s+.*ago\s+[0-9.]+MB$/m);
    const v = await d.brig(['version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Server:/);
    assert.match(v.stdout, /API version:\s+1\.41/);
    const info = await d.brig(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Images: 1/);
  });

  test('errors: unknown image, unknown container, bad flags', async () => {
    const img = await d.brig(['run', '--rm', '--pull', 'never', 'nosuchimage']);
    assert.equal(img.code, 125);
    assert.match(img.stderr, /No such image: nosuchimage/);
    const ctr = await d.brig(['stop', 'nosuch']);
    assert.notEqual(ctr.code, 0);
    assert.match(ctr.stderr, /No such container: nosuch/);
    const flag = await d.brig(['run', '--no-such-flag', 'busybox']);
    assert.equal(flag.code, 125);
  });

  test('brig daemon refuses TCP without mutual TLS and unknown options', async () => {
    const tcp = await runProcess(process.execPath, [BRIG, 'daemon', '--host', 'tcp://0.0.0.0:2375'], process.env, { timeoutMs: 10_000 });
    assert.equal(tcp.code, 2);
    assert.match(tcp.stderr, /mutual TLS/);
    const bad = await runProcess(process.execPath, [BRIG, 'daemon', '--bogus'], process.env, { timeoutMs: 10_000 });
    assert.equal(bad.code, 2);
  });
});
