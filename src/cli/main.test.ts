import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, parseGlobalFlags } from './main.js';
import { FakeDaemon, runCli, sendJson } from './test-support.js';

test('global flags: -H/--host forms, --version, and the first non-flag is the command', () => {
  assert.deepEqual(parseGlobalFlags(['-H', 'unix:///a.sock', 'ps', '-a']), { host: 'unix:///a.sock', version: false, help: false, rest: ['ps', '-a'] });
  assert.equal(parseGlobalFlags(['--host=unix:///b.sock', 'ps']).host, 'unix:///b.sock');
  assert.equal(parseGlobalFlags(['-Hunix:///c.sock', 'ps']).host, 'unix:///c.sock');
  assert.equal(parseGlobalFlags(['--version']).version, true);
  assert.throws(() => parseGlobalFlags(['--bogus', 'ps']), { message: 'unknown flag: --bogus' });
  assert.throws(() => parseGlobalFlags(['-H']), /flag needs an argument/);
});

test('brig --version, brig, brig --help, brig help CMD, CMD --help', async () => {
  const v = await runCli(null, ['--version']);
  assert.match(v.stdout, /^brig version \S+\n$/);
  const bare = await runCli(null, []);
  assert.equal(bare.code, 0);
  for (const c of COMMANDS) assert.ok(bare.stdout.includes(`  ${c.name} `), c.name);
  const h = await runCli(null, ['help', 'ps']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: {2}brig ps \[OPTIONS\]\n\nList containers\n\nOptions:\n {2}-a, --all/);
  for (const c of COMMANDS) {
    const r = await runCli(null, [c.name, '--help']);
    assert.equal(r.code, 0, c.name);
    assert.match(r.stdout, new RegExp(`Usage: {2}brig ${c.name}`), c.name);
  }
});

test('usage errors exit 2 (run: 125); unknown commands too', async () => {
  const u = await runCli(null, ['frobnicate']);
  assert.equal(u.code, 2);
  assert.equal(u.stderr, "brig: 'frobnicate' is not a brig command.\nSee 'brig --help'\n");
  const f = await runCli(null, ['ps', '--bogus']);
  assert.equal(f.code, 2);
  assert.equal(f.stderr, "brig: unknown flag: --bogus\nSee 'brig ps --help'.\n");
  assert.equal((await runCli(null, ['--bogus'])).code, 2);
  assert.equal((await runCli(null, ['help', 'nope'])).code, 2);
});

test('the socket comes from -H, else BRIG_HOST, else DOCKER_HOST; tcp:// is refused', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('GET /containers/json', (_q, res) => sendJson(res, 200, []));
  assert.equal((await runCli(null, ['ps'], { env: { DOCKER_HOST: `unix://${d.socketPath}` } })).code, 0);
  assert.equal((await runCli(null, ['ps'], { env: { BRIG_HOST: `unix://${d.socketPath}`, DOCKER_HOST: 'unix:///nope' } })).code, 0);
  assert.equal(d.seen.length, 2);
  const tcp = await runCli(null, ['-H', 'tcp://127.0.0.1:2375', 'ps']);
  assert.equal(tcp.code, 1);
  assert.match(tcp.stderr, /brig connects only to unix:/);
  const gone = await runCli(null, ['ps'], { env: { BRIG_HOST: 'unix:///nonexistent/brig.sock' } });
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'Cannot connect to the brig daemon at unix:///nonexistent/brig.sock. Is the brig daemon running?\n');
});
