import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, runCli, sendJson } from '../test-support.js';
import { formatInfo } from './info.js';
import { formatServerVersion } from './version.js';

test('version prints the client, then the server from /version', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('GET /version', (_q, res) =>
    sendJson(res, 200, {
      Platform: { Name: 'brig' },
      Version: '0.1.0',
      ApiVersion: '1.41',
      MinAPIVersion: '1.24',
      Os: 'linux',
      Arch: 'amd64',
      Components: [
        { Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.41', MinAPIVersion: '1.24', BuildTime: '2026-05-07T21:09:36.000000000+00:00', Os: 'linux', Arch: 'amd64', Experimental: 'false' } },
        { Name: 'runc', Version: '1.1.5', Details: { GitCommit: 'abc' } },
      ],
    }),
  );
  const r = await runCli(d, ['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Client:\n Version: {11}\S+\n API version: {7}1\.41\n/);
  assert.match(r.stdout, /\n\nServer: brig\n Engine:\n  Version: {10}0\.1\.0\n  API version: {6}1\.41 \(minimum version 1\.24\)\n/);
  assert.match(r.stdout, /\n  Built: {12}Thu May  7 21:09:36 2026\n  OS\/Arch: {10}linux\/amd64\n/);
  assert.match(r.stdout, / runc:\n  Version: {10}1\.1\.5\n  GitCommit: {8}abc\n/);
});

test('version without a daemon still prints the client part, then fails', async () => {
  const r = await runCli(null, ['version'], { env: { BRIG_HOST: 'unix:///nonexistent/x.sock' } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Client:/);
  assert.match(r.stderr, /Cannot connect to the brig daemon/);
  // a daemon without Components: the top-level fields make the Engine block
  const old = formatServerVersion({ Version: '1.0', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'arm64' });
  assert.match(old, /^Server:\n Engine:\n  Version: {10}1\.0\n  API version: {6}1\.41 \(minimum version 1\.12\)\n/);
  assert.match(old, /\n  OS\/Arch: {10}linux\/arm64\n/);
});

test('info prints docker info\'s layout from /info, including an empty {}', async (t) => {
  const text = formatInfo({
    Containers: 3,
    ContainersRunning: 1,
    ContainersPaused: 0,
    ContainersStopped: 2,
    Images: 4,
    Driver: 'overlay',
    DriverStatus: [['Backing Filesystem', 'extfs']],
    SecurityOptions: ['name=seccomp,profile=builtin', 'name=no-new-privileges'],
    MemTotal: 8_193_998_848,
    NCPU: 4,
    Runtimes: { runc: {}, crun: {} },
    RegistryConfig: { InsecureRegistryCIDRs: ['10.0.0.0/8', '127.0.0.0/8'], IndexConfigs: { 'docker.io': { Name: 'docker.io', Secure: true }, 'reg.test:5000': { Name: 'reg.test:5000', Secure: false } } },
    DefaultAddressPools: [{ Base: '172.18.0.0/15', Size: 16 }],
  });
  assert.match(text, /\n Insecure Registries:\n  reg\.test:5000\n  10\.0\.0\.0\/8\n  127\.0\.0\.0\/8\n Live Restore Enabled: false\n Default Address Pools:\n   Base: 172\.18\.0\.0\/15, Size: 16\n/);
  assert.match(text, /\n Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n Images: 4\n/);
  assert.match(text, /\n Storage Driver: overlay\n  Backing Filesystem: extfs\n/);
  assert.match(text, /\n Security Options:\n  seccomp\n   Profile: builtin\n  no-new-privileges\n/);
  assert.match(text, /\n Total Memory: 7\.631GiB\n/);
  assert.match(text, /\n Runtimes: crun runc\n/);
  assert.match(formatInfo({}), /\n Containers: 0\n/);

  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('GET /info', (_q, res) => sendJson(res, 200, { Warnings: ['WARNING: no swap limit support'] }));
  const r = await runCli(d, ['info']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, 'WARNING: no swap limit support\n');
});
