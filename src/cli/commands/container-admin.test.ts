import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { parseDetachKeys } from '../attach.js';
import { FakeDaemon, FakeStdin, runCli, sendJson } from '../test-support.js';
import { takeBoolFlag } from './attach.js';
import { naturalLess, portLines } from './port.js';
import { buildUpdateBody, parseCpus, parseRestartPolicy, ramInBytes } from './update.js';

const ok = (status: number) => (_req: unknown, res: ServerResponse) => {
  res.writeHead(status);
  res.end();
};
const missing = (_req: unknown, res: ServerResponse) => sendJson(res, 404, { message: 'No such container: nosuch' });

async function daemon(t: TestContext): Promise<FakeDaemon> {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  return d;
}

test('restart, pause, unpause: docker\'s requests, names on stdout, errors at the end on stderr', async (t) => {
  const d = await daemon(t);
  for (const verb of ['restart', 'pause', 'unpause']) {
    d.on(`POST /containers/web/${verb}`, ok(204));
    d.on(`POST /containers/nosuch/${verb}`, missing);
  }
  const r = await runCli(d, ['restart', '-t', '0', '-s', 'SIGINT', 'nosuch', 'web']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'web\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal((await runCli(d, ['restart', 'web'])).code, 0);
  const dep = await runCli(d, ['restart', '--time', '3', 'web']);
  assert.equal(dep.stderr, 'Flag --time has been deprecated, use --timeout instead\n');
  assert.equal((await runCli(d, ['restart', '--time', '3', '-t', '1', 'web'])).code, 2);
  assert.equal((await runCli(d, ['pause', 'web'])).stdout, 'web\n');
  assert.equal((await runCli(d, ['unpause', 'web', 'web'])).stdout, 'web\nweb\n');
  assert.deepEqual(d.log, [
    'POST /containers/nosuch/restart?signal=SIGINT&t=0',
    'POST /containers/web/restart?signal=SIGINT&t=0',
    'POST /containers/web/restart',
    'POST /containers/web/restart?t=3',
    'POST /containers/web/pause',
    'POST /containers/web/unpause',
    'POST /containers/web/unpause',
  ]);
  for (const verb of ['restart', 'pause', 'unpause', 'wait', 'update']) {
    const u = await runCli(d, [verb]);
    assert.equal(u.code, 2, verb);
    assert.equal(u.stderr, `brig: "brig ${verb}" requires at least 1 argument.\nSee 'brig ${verb} --help'.\n`);
  }
});

test('stop -s/--signal and -t/--timeout reach the query', async (t) => {
  const d = await daemon(t);
  d.on('POST /containers/web/stop', ok(204));
  assert.equal((await runCli(d, ['stop', '-s', 'SIGUSR1', '-t', '2', 'web'])).code, 0);
  assert.equal((await runCli(d, ['stop', '--signal=HUP', '--timeout=0', 'web'])).code, 0);
  assert.deepEqual(d.log, ['POST /containers/web/stop?signal=SIGUSR1&t=2', 'POST /containers/web/stop?signal=HUP&t=0']);
});

test('rename: ?name=, docker\'s two error lines, empty names refused', async (t) => {
  const d = await daemon(t);
  d.on('POST /containers/web/rename', ok(204));
  d.on('POST /containers/nosuch/rename', missing);
  assert.deepEqual(await runCli(d, ['rename', 'web', ' new ']), { code: 0, stdout: '', stderr: '' });
  const bad = await runCli(d, ['rename', 'nosuch', 'x2']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n');
  assert.equal((await runCli(d, ['rename', 'web', ' '])).stderr, 'Error: Neither old nor new names may be empty\n');
  assert.equal((await runCli(d, ['rename', 'web'])).code, 2);
  assert.deepEqual(d.log, ['POST /containers/web/rename?name=new', 'POST /containers/nosuch/rename?name=x2']);
});

test('wait: exit codes in order, errors at the end, exit 1 if any failed', async (t) => {
  const d = await daemon(t);
  const codes: Record<string, number> = { a: 3, b: 0 };
  d.on('POST /containers/', (req, res) => {
    const name = /\/containers\/([^/]+)\/wait/.exec(req.url!)?.[1] ?? '';
    if (!(name in codes)) return missing(req, res);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify({ Error: null, StatusCode: codes[name] })}\n`);
  });
  const r = await runCli(d, ['wait', 'a', 'nosuch', 'b']);
  assert.equal(r.stdout, '3\n0\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal(r.code, 1);
  assert.deepEqual(d.log, ['POST /containers/a/wait', 'POST /containers/nosuch/wait', 'POST /containers/b/wait']);
});

test('update: flags parsed as docker parses them, the full UpdateConfig body, names then warnings', async (t) => {
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('2 GiB'), 2 * 1024 ** 3);
  assert.equal(ramInBytes('1024'), 1024);
  assert.throws(() => ramInBytes('12x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('m'), { message: "invalid size: 'm'" });
  assert.equal(parseCpus('0.5'), 500_000_000);
  assert.equal(parseCpus('3/2'), 1_500_000_000);
  assert.equal(parseCpus('2e-1'), 200_000_000);
  assert.throws(() => parseCpus('abc'), { message: 'failed to parse abc as a rational number' });
  assert.throws(() => parseCpus('0.0000000001'), { message: 'value is too precise' });
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => parseRestartPolicy(':3'), /no policy provided before colon/);
  assert.throws(() => parseRestartPolicy('always:x'), /maximum retry count must be an integer/);

  const body = buildUpdateBody({ memory: '64m', 'memory-swap': '-1', cpus: '1.5', 'cpu-shares': '512', 'pids-limit': '100', restart: 'always' });
  assert.equal(body.Memory, 67108864);
  assert.equal(body.MemorySwap, -1);
  assert.equal(body.NanoCpus, 1_500_000_000);
  assert.equal(body.CpuShares, 512);
  assert.equal(body.PidsLimit, 100);
  assert.deepEqual(body.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.equal(buildUpdateBody({ memory: '64m' }).PidsLimit, null, 'an unset pids limit is null (unchanged)');

  const d = await daemon(t);
  d.on('POST /containers/web/update', (_req, res) => sendJson(res, 200, { Warnings: ['careful'] }));
  d.on('POST /containers/nosuch/update', missing);
  const r = await runCli(d, ['update', '-m', '64m', '--cpus', '0.5', 'web', 'nosuch']);
  assert.equal(r.stdout, 'web\ncareful\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal(r.code, 1);
  const sent = JSON.parse(d.seen[0]!.body.toString());
  assert.equal(Object.keys(sent)[0], 'CpuShares');
  assert.equal(sent.Memory, 67108864);
  assert.equal(sent.NanoCpus, 500_000_000);
  const none = await runCli(d, ['update', 'web']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /you must provide one or more flags when using this command/);
  const badCpus = await runCli(d, ['update', '--cpus', 'abc', 'web']);
  assert.match(badCpus.stderr, /invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number/);
  assert.equal((await runCli(d, ['update', '--blkio-weight', '10', 'web'])).stderr.split('\n')[0], 'brig: unknown flag: --blkio-weight');
  assert.equal(d.seen.length, 2);
});

test('port: inspect NetworkSettings.Ports, natural sort, docker\'s errors', async (t) => {
  const ports = {
    NetworkSettings: {
      Ports: {
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }],
        '9/udp': [{ HostIp: '0.0.0.0', HostPort: '53' }],
        '443/tcp': null,
      },
    },
  };
  assert.deepEqual(portLines(ports, 'web'), ['9/udp -> 0.0.0.0:53', '80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080']);
  assert.deepEqual(portLines(ports, 'web', '80'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(portLines(ports, 'web', '9/udp'), ['0.0.0.0:53']);
  assert.throws(() => portLines(ports, 'web', '443'), { message: "Error: No public port '443' published for web" });
  assert.throws(() => portLines(ports, 'web', 'abc'), { message: 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax' });
  assert.ok(naturalLess('a2', 'a10') && !naturalLess('a10', 'a2') && naturalLess('a', 'a0'));

  const d = await daemon(t);
  d.on('GET /containers/web/json', (_req, res) => sendJson(res, 200, { Id: 'x', Name: '/web', ...ports }));
  d.on('GET /containers/nosuch/json', missing);
  assert.deepEqual(await runCli(d, ['port', 'web', '80/tcp']), { code: 0, stdout: '0.0.0.0:8080\n[::]:8080\n', stderr: '' });
  assert.deepEqual(await runCli(d, ['port', 'web', '443/tcp']), { code: 1, stdout: '', stderr: "Error: No public port '443/tcp' published for web\n" });
  assert.equal((await runCli(d, ['port', 'nosuch'])).stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal((await runCli(d, ['port', 'a', 'b', 'c'])).code, 2);
});

test('container prune: prompt unless -f, y/N answer, filters, docker\'s report', async (t) => {
  const d = await daemon(t);
  d.on('POST /containers/prune', (_req, res) => sendJson(res, 200, { ContainersDeleted: ['aaa', 'bbb'], SpaceReclaimed: 0 }));
  const no = new FakeStdin();
  no.end('n\n');
  const declined = await runCli(d, ['container', 'prune'], { stdin: no });
  assert.deepEqual(declined, {
    code: 0,
    stdout: 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ',
    stderr: '',
  });
  const eof = new FakeStdin();
  eof.end();
  assert.equal((await runCli(d, ['container', 'prune'], { stdin: eof })).code, 0);
  assert.equal(d.log.length, 0, 'declining sends nothing');
  const yes = new FakeStdin();
  yes.end('Y\n');
  const accepted = await runCli(d, ['container', 'prune', '--filter', 'label=a=b', '--filter', 'until=10m'], { stdin: yes });
  assert.equal(
    accepted.stdout,
    'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ' +
      'Deleted Containers:\naaa\nbbb\n\nTotal reclaimed space: 0B\n',
  );
  assert.equal(d.log[0], `POST /containers/prune?filters=${encodeURIComponent('{"label":{"a=b":true},"until":{"10m":true}}')}`);
  const d2 = await daemon(t);
  d2.on('POST /containers/prune', (_req, res) => sendJson(res, 200, { ContainersDeleted: null, SpaceReclaimed: 0 }));
  assert.equal((await runCli(d2, ['container', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  assert.equal((await runCli(d2, ['container', 'prune', 'x'])).code, 2);
});

test('container COMMAND passes docker\'s spellings on to the top-level commands', async (t) => {
  const d = await daemon(t);
  d.on('GET /containers/json', (_req, res) => sendJson(res, 200, []));
  assert.equal((await runCli(d, ['container', 'ls', '-q'])).code, 0);
  assert.equal((await runCli(d, ['container', 'list', '-a', '-q'])).code, 0);
  assert.deepEqual(d.log, ['GET /containers/json', 'GET /containers/json?all=1']);
  const bad = await runCli(d, ['container', 'frob']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frob" for "brig container"/);
  const help = await runCli(d, ['container', '--help']);
  assert.match(help.stdout, /prune +Remove all stopped containers/);
  assert.match(help.stdout, /ls +List containers/);
});

test('logs --since/--until in docker\'s query form; --details refused', async (t) => {
  const d = await daemon(t);
  d.on('GET /containers/web/json', (_req, res) => sendJson(res, 200, { Id: 'full', Name: '/web', Config: { Tty: true } }));
  d.on('GET /containers/full/logs', (_req, res) => {
    res.writeHead(200);
    res.end('x\n');
  });
  const r = await runCli(d, ['logs', '--since', '2013-01-02T13:23:37Z', '--until', '1700000000', 'web']);
  assert.equal(r.stdout, 'x\n');
  assert.equal(d.log[1], 'GET /containers/full/logs?since=1357133017.000000000&stderr=1&stdout=1&tail=all&until=1700000000');
  const bad = await runCli(d, ['logs', '--since', 'bogus', 'web']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'brig: invalid value for "since": failed to parse value as time or duration: "bogus"\n');
  const details = await runCli(d, ['logs', '--details', 'web']);
  assert.equal(details.code, 2);
  assert.match(details.stderr, /--details is not supported/);
  assert.equal(d.log.length, 2);
});

test('start without -a: failures listed at the end like docker', async (t) => {
  const d = await daemon(t);
  d.on('POST /containers/web/start', ok(204));
  d.on('POST /containers/nosuch/start', missing);
  const r = await runCli(d, ['start', 'nosuch', 'web']);
  assert.equal(r.stdout, 'web\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n');
  assert.equal(r.code, 1);
  assert.equal((await runCli(d, ['start', '-a', 'a', 'b'])).stderr, "brig: you cannot start and attach multiple containers at once\nSee 'brig start --help'.\n");
});

test('flag helpers: --sig-proxy=false, detach keys', () => {
  assert.deepEqual(takeBoolFlag(['--sig-proxy=false', 'web'], 'sig-proxy'), { args: ['web'], value: false });
  assert.deepEqual(takeBoolFlag(['--sig-proxy', 'web'], 'sig-proxy'), { args: ['--sig-proxy', 'web'], value: undefined });
  assert.deepEqual(takeBoolFlag(['--', '--sig-proxy=0'], 'sig-proxy'), { args: ['--', '--sig-proxy=0'], value: undefined });
  assert.throws(() => takeBoolFlag(['--sig-proxy=maybe'], 'sig-proxy'), /strconv.ParseBool: parsing "maybe": invalid syntax/);
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-x,a,ctrl-@,ctrl-_'), [24, 97, 0, 31]);
  assert.throws(() => parseDetachKeys('ctrl-P'), { message: "Unknown character: 'ctrl-P'" });
  assert.throws(() => parseDetachKeys('ab'), { message: "Unknown character: 'ab'" });
});
