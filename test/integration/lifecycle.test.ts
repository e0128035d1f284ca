/**
 * The walking skeleton through the real docker CLI: run (attached, detached, --rm, exit codes),
 * ps, logs, inspect, stop (SIGTERM then SIGKILL), rm, images, image inspect, version, info, and a
 * daemon restart that leaves containers running.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from './harness.js';

describe('docker CLI against brig', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  test('docker run --rm prints the output and removes the container', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0);
    const ps = await d.docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '');
  });

  test('the exit code of the container is the exit code of docker run', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
  });

  test('stdout and stderr stay separate', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('piped stdin reaches the container and its EOF ends it (-i)', async () => {
    const r = await d.docker(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done; exit 2'], { input: 'line1\nline2\n' });
    assert.equal(r.stdout, 'line1\nline2\ndone\n');
    assert.equal(r.code, 2);
  });

  test('-e, -w, -u and --entrypoint reach the process', async () => {
    const r = await d.docker(['run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', '--entrypoint', 'sh', 'busybox',
      '-c', 'echo $FOO; pwd; id -u; id -g']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bar\n/tmp\n65534\n65534\n');
  });

  test('a detached container is listed, logs, inspects, stops with SIGTERM and is removed', async () => {
    const run = await d.docker(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c',
      'trap "echo got TERM; exit 42" TERM; echo started; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await d.docker(['ps']);
    const row = ps.stdout.split('\n').find((l) => l.includes('web'));
    assert.ok(row, ps.stdout);
    assert.match(row, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c trap.*"\\s+.*ago\\s+Up .*\\s+web$`));

    for (let i = 0; i < 50 && !(await d.docker(['logs', 'web'])).stdout.includes('started'); i++) await sleep(100);
    assert.equal((await d.docker(['logs', 'web'])).stdout, 'started\n');

    const insp = JSON.parse((await d.docker(['inspect', 'web'])).stdout) as [{ Id: string; Name: string; State: { Running: boolean; Status: string; Pid: number }; Config: { Image: string } }];
    assert.equal(insp[0].Id, id);
    assert.equal(insp[0].Name, '/web');
    assert.equal(insp[0].State.Status, 'running');
    assert.equal(insp[0].State.Running, true);
    assert.ok(insp[0].State.Pid > 0);
    assert.equal(insp[0].Config.Image, 'busybox');

    const stop = await d.docker(['stop', 'web']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), 'web');
    const state = JSON.parse((await d.docker(['inspect', '-f', '{{json .State}}', 'web'])).stdout) as { Status: string; ExitCode: number };
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 42);
    assert.equal((await d.docker(['logs', 'web'])).stdout, 'started\ngot TERM\n');

    const psa = await d.docker(['ps', '-a', '--filter', 'name=web']);
    assert.match(psa.stdout, /Exited \(42\) .* ago\s+web/);
    const again = await d.docker(['stop', 'web']);
    assert.equal(again.code, 0, 'stopping a stopped container is not an error');

    assert.equal((await d.docker(['rm', 'web'])).code, 0);
    const gone = await d.docker(['inspect', 'web']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: web/);
  });

  test('docker stop sends SIGKILL after the timeout when SIGTERM is ignored', async () => {
    const run = await d.docker(['run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '1000']);
    assert.equal(run.code, 0, run.stderr);
    const t0 = Date.now();
    const stop = await d.docker(['stop', '-t', '1', 'stubborn']);
    const elapsed = Date.now() - t0;
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(elapsed >= 1000, `stop returned after ${elapsed} ms, before the 1 s timeout`);
    assert.ok(elapsed < 8000, `stop took ${elapsed} ms`);
    const code = (await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn'])).stdout.trim();
    assert.equal(code, '137');
    assert.equal((await d.docker(['rm', 'stubborn'])).code, 0);
  });

  test('rm refuses a running container without -f and removes it with -f', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '1000'])).code, 0);
    const rm = await d.docker(['rm', 'busy']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    const rmf = await d.docker(['rm', '-f', 'busy']);
    assert.equal(rmf.code, 0, rmf.stderr);
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '');
  });

  test('docker images, image inspect, version and info', async () => {
    const images = await d.docker(['images']);
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s+.*ago\s+[0-9.]+MB\n$/);

    const ii = JSON.parse((await d.docker(['image', 'inspect', 'busybox'])).stdout) as [{ Id: string; RepoTags: string[]; Os: string; Config: { Cmd: string[] }; RootFS: { Type: string; Layers: string[] } }];
    assert.match(ii[0].Id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(ii[0].RepoTags, ['busybox:latest']);
    assert.equal(ii[0].Os, 'linux');
    assert.deepEqual(ii[0].Config.Cmd, ['sh']);
    assert.equal(ii[0].RootFS.Type, 'layers');
    assert.equal(ii[0].RootFS.Layers.length, 1);

    const v = await d.docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '0.1.0 1.41 linux');

    const info = await d.docker(['info', '--format', '{{json .}}']);
    assert.equal(info.code, 0, info.stderr);
    const i = JSON.parse(info.stdout) as {
      Images: number; Driver: string; DockerRootDir: string; SecurityOptions: string[]; Warnings: string[]; OSType: string; CgroupDriver: string;
      Plugins: { Network: string[] };
    };
    assert.equal(i.Images, 1);
    assert.equal(i.Driver, 'overlay');
    assert.equal(i.DockerRootDir, d.dataRoot);
    assert.equal(i.OSType, 'linux');
    assert.ok(i.SecurityOptions.some((s) => s.startsWith('name=seccomp')));
    assert.deepEqual(i.Plugins.Network, ['bridge', 'host', 'null']);
    const sysctl = async (p: string) => (await readFile(p, 'utf8').catch(() => '0')).trim() === '1';
    const raw = (await d.http('GET', '/info')).json() as { IPv4Forwarding: boolean; BridgeNfIptables: boolean };
    assert.equal(raw.IPv4Forwarding, await sysctl('/proc/sys/net/ipv4/ip_forward'));
    assert.equal(raw.BridgeNfIptables, await sysctl('/proc/sys/net/bridge/bridge-nf-call-iptables'));
  });

  test('a command that does not exist fails with exit 127 and leaves a clean created container', async () => {
    const r = await d.docker(['run', '--name', 'nocmd', 'busybox', 'nonexistentcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found in \$PATH/);
    const insp = JSON.parse((await d.docker(['inspect', 'nocmd'])).stdout) as [{ State: { Status: string; ExitCode: number; Error: string; Pid: number } }];
    assert.equal(insp[0].State.Status, 'created');
    assert.equal(insp[0].State.ExitCode, 127);
    assert.equal(insp[0].State.Pid, 0);
    assert.match(insp[0].State.Error, /executable file not found/);
    assert.equal((await d.docker(['rm', 'nocmd'])).code, 0);

    const rm = await d.docker(['run', '--rm', 'busybox', 'nonexistentcmd']);
    assert.equal(rm.code, 127, '--rm still reports the start failure');
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '', '--rm removed the container after a failed start');
  });

  test('containers keep running across a daemon restart and are adopted again', async () => {
    const run = await d.docker(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo before; sleep 1000']);
    assert.equal(run.code, 0, run.stderr);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'survivor'])).stdout.trim();
    await d.stopProcess('SIGKILL');
    assert.ok(processAlive(Number(pid)), 'the container survived the daemon');
    await d.startProcess();
    const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^survivor Up /m);
    assert.equal((await d.docker(['logs', 'survivor'])).stdout, 'before\n');
    const stop = await d.docker(['stop', '-t', '1', 'survivor']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'survivor'])).stdout.trim(), 'exited 137');
    assert.equal((await d.docker(['rm', 'survivor'])).code, 0);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
