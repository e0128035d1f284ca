/**
 * Health checks through the real docker CLI: `--health-*` flags, an image HEALTHCHECK (from
 * `docker import --change`), State.Health in inspect, the ps status, health_status events, timeouts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('health checks', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  const health = async (name: string) =>
    JSON.parse((await d.docker(['inspect', '-f', '{{json .State.Health}}', name])).stdout) as
      { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] } | null;
  const until = async (what: string, check: () => Promise<boolean>, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  test('a passing check makes the container healthy, a failing one unhealthy after the retries', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await d.docker(['run', '-d', '--name', 'hc', '--health-cmd', 'test -e /tmp/ok && echo fine',
      '--health-interval', '200ms', '--health-retries', '2', '--health-timeout', '2s', 'busybox', 'sh', '-c', 'touch /tmp/ok; sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await health('hc'))?.Status, 'starting');
    await until('healthy', async () => (await health('hc'))?.Status === 'healthy');
    const h = (await health('hc'))!;
    assert.equal(h.Log.at(-1)!.ExitCode, 0);
    assert.equal(h.Log.at(-1)!.Output, 'fine\n');
    assert.match((await d.docker(['ps', '--format', '{{.Status}}', '--filter', 'name=hc'])).stdout, /^Up .* \(healthy\)$/m);
    assert.equal((await d.docker(['ps', '-q', '--filter', 'health=healthy'])).stdout.trim().length, 12);

    assert.equal((await d.docker(['exec', 'hc', 'rm', '/tmp/ok'])).code, 0);
    await until('unhealthy', async () => (await health('hc'))?.Status === 'unhealthy');
    assert.ok((await health('hc'))!.FailingStreak >= 2);
    assert.ok((await health('hc'))!.Log.length <= 5);
    const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=health_status', '--format', '{{.Action}}']);
    assert.match(ev.stdout, /health_status: healthy\n(.*\n)*health_status: unhealthy/);
    assert.equal((await d.docker(['rm', '-f', 'hc'])).code, 0);
  });

  test('a check that runs too long fails with a timeout message', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '200ms',
      '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '1000'])).code, 0);
    await until('unhealthy', async () => (await health('slow'))?.Status === 'unhealthy');
    assert.match((await health('slow'))!.Log.at(-1)!.Output, /Health check exceeded timeout/);
    assert.equal((await d.docker(['rm', '-f', 'slow'])).code, 0);
  });

  test('an image HEALTHCHECK is used, and --no-healthcheck disables it', async () => {
    const tar = await d.docker(['export', '-o', `${d.root}/bb.tar`, await makeContainer(d)]);
    assert.equal(tar.code, 0, tar.stderr);
    const imp = await d.docker(['import', '--change', 'HEALTHCHECK --interval=200ms --retries=1 CMD ["true"]', '--change', 'CMD ["sleep","1000"]', `${d.root}/bb.tar`, 'hc-image:1']);
    assert.equal(imp.code, 0, imp.stderr);
    const cfg = JSON.parse((await d.docker(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'hc-image:1'])).stdout) as { Test: string[]; Interval: number };
    assert.deepEqual(cfg.Test, ['CMD', 'true']);
    assert.equal(cfg.Interval, 200_000_000);
    assert.equal((await d.docker(['run', '-d', '--name', 'fromimage', 'hc-image:1'])).code, 0);
    await until('healthy', async () => (await health('fromimage'))?.Status === 'healthy');
    assert.equal((await d.docker(['run', '-d', '--name', 'nohc', '--no-healthcheck', 'hc-image:1'])).code, 0);
    await sleep(500);
    assert.equal(await health('nohc'), null);
    assert.equal((await d.docker(['rm', '-f', 'fromimage', 'nohc'])).code, 0);
  });
});

/** A stopped busybox container to export a root filesystem from. */
async function makeContainer(d: TestDaemon): Promise<string> {
  const r = await d.docker(['create', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}
