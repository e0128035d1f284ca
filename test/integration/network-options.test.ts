/**
 * Daemon network options against a real daemon and the real docker CLI: `--compat docker` publishes
 * on 0.0.0.0 (brig's own default is 127.0.0.1), and `--icc=false` stops container-to-container
 * traffic on the default bridge while a user network keeps it. Only the daemons' own `bt*` bridges,
 * pools and ports 28000–28999 are used; traffic goes to loopback, the host's own address and the
 * test's containers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';
import { curl, hostAddress, sh } from './net-helpers.js';

const PORT = 28900 + (process.pid % 90);
const HTTPD = ['sh', '-c', 'mkdir -p /www && echo hello-from-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www'];

async function ok(d: TestDaemon, args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function ipOf(d: TestDaemon, name: string): Promise<string> {
  return (await ok(d, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
}

/** Whether container `from` gets the page of httpd at ip:80 (busybox nc, 2 s). */
async function reaches(d: TestDaemon, from: string, ip: string): Promise<boolean> {
  const r = await d.docker(['exec', from, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 80`]);
  return /hello-from-/.test(r.stdout);
}

async function iptablesRaw(): Promise<string> {
  return (await sh('iptables', ['-t', 'raw', '-S', 'PREROUTING'])).stdout;
}

async function linkExists(name: string): Promise<boolean> {
  return (await sh('ip', ['link', 'show', name])).code === 0;
}

describe('daemon network options', () => {
  test('--compat docker: -p without an address publishes on 0.0.0.0, reachable on the host\'s own address', async () => {
    const d = await startDaemon({ compat: 'docker', extraArgs: ['--insecure-registry', 'registry.test:5000', '--insecure-registry', '10.213.0.0/16'] });
    try {
      // docker info reports the daemon's settings as they are
      const full = await d.docker(['info']);
      const info = full.stdout;
      assert.match(info, /Insecure Registries:\n {2}registry\.test:5000\n {2}10\.213\.0\.0\/16\n {2}127\.0\.0\.0\/8\n/);
      assert.match(info, new RegExp(`Default Address Pools:\\n {3}Base: ${d.addressPool.replace(/\./g, '\\.')}, Size: 24\\n`));
      assert.match(full.stderr, /WARNING: --compat docker: containers get Docker's 14 default capabilities/);
      await ok(d, ['run', '-d', '--name', 'web', '-p', `${PORT}:80`, 'busybox', ...HTTPD]);
      const ports = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web'])) as Record<string, { HostIp: string; HostPort: string }[]>;
      assert.deepEqual(ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(PORT) }]);
      assert.match((await curl(`http://${await hostAddress()}:${PORT}/`)).body, /hello-from-/);
      assert.match((await curl(`http://127.0.0.1:${PORT}/`)).body, /hello-from-/);
      await ok(d, ['rm', '-f', 'web']);
    } finally {
      await d.stop();
    }
  });

  test('brig\'s default: -p without an address publishes on 127.0.0.1 only', async () => {
    const d = await startDaemon();
    try {
      await ok(d, ['run', '-d', '--name', 'web', '-p', `${PORT}:80`, 'busybox', ...HTTPD]);
      assert.equal((await ok(d, ['port', 'web'])).trim(), `80/tcp -> 127.0.0.1:${PORT}`);
      assert.match((await curl(`http://127.0.0.1:${PORT}/`)).body, /hello-from-/);
      assert.doesNotMatch((await curl(`http://${await hostAddress()}:${PORT}/`, 2)).body, /hello-from-/);
      // the bridge of a published port has route_localnet on; brig's guard sits in front of it
      assert.match(await iptablesRaw(), new RegExp(`-i ${d.bridgeName} -m comment --comment "brig localnet guard" -j DROP`));
      await ok(d, ['rm', '-f', 'web']);
      assert.ok(await linkExists(d.bridgeName), 'the default bridge stays while the daemon runs');
    } finally {
      await d.stop();
    }
    // a stopped daemon with no containers leaves neither its bridge (nor the keeper's and pool's veths) nor its guard
    assert.equal(await linkExists(d.bridgeName), false);
    assert.doesNotMatch(await iptablesRaw(), new RegExp(`-i ${d.bridgeName} `));
  });

  test('--icc=false: no traffic between containers on the default bridge; a user network still connects them', async () => {
    const d = await startDaemon({ extraArgs: ['--icc=false'] });
    try {
      await ok(d, ['run', '-d', '--name', 'ca', 'busybox', ...HTTPD]);
      await ok(d, ['run', '-d', '--name', 'cb', 'busybox', 'sleep', '300']);
      assert.equal(await reaches(d, 'cb', await ipOf(d, 'ca')), false, 'cb must not reach ca on the default bridge');
      await ok(d, ['network', 'create', '--subnet', d.subnet(1), 'n1']);
      await ok(d, ['network', 'connect', 'n1', 'ca']);
      await ok(d, ['network', 'connect', 'n1', 'cb']);
      const aOnN1 = (await ok(d, ['inspect', '-f', '{{(index .NetworkSettings.Networks "n1").IPAddress}}', 'ca'])).trim();
      assert.equal(await reaches(d, 'cb', aOnN1), true, 'b reaches a on the user network');
      await ok(d, ['rm', '-f', 'ca', 'cb']);
      await ok(d, ['network', 'rm', 'n1']);
    } finally {
      await d.stop();
    }
  });
});
