/**
 * `brig run`/`brig create` flags end to end: containers started through `bin/brig` against a real
 * daemon, checked with the real `docker inspect` and from inside the container; and the create
 * body brig sends compared with the one the docker CLI sends for the same flags (both CLIs talking
 * to a fake daemon that records it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeDaemon, sendJson } from '../../src/cli/test-support.js';
import { BRIG, dockerBinary, runProcess, startDaemon, type TestDaemon } from './harness.js';

const MiB = 1024 * 1024;
const S = 1_000_000_000;

interface Inspect {
  Id: string;
  RestartCount: number;
  State: { Status: string; ExitCode: number; Health?: { Status: string } };
  Config: {
    Hostname: string;
    Domainname: string;
    Env: string[] | null;
    Labels: Record<string, string> | null;
    Healthcheck?: Record<string, unknown>;
    AttachStdout: boolean;
    AttachStderr: boolean;
  };
  HostConfig: {
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    Init: boolean | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    CpuShares: number;
    CpuQuota: number;
    CpuPeriod: number;
    ReadonlyRootfs: boolean;
    AutoRemove: boolean;
  };
}

describe('brig run/create flags against a real daemon', () => {
  let d: TestDaemon;
  let dir: string;
  before(async () => {
    d = await startDaemon();
    dir = await mkdtemp(join(tmpdir(), 'brig-run-flags-'));
  });
  after(async () => {
    await d?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function inspect(name: string): Promise<Inspect> {
    const r = await d.docker(['inspect', name]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Inspect[])[0]!;
  }

  async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (ok(v)) return v;
      if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('run -d with restart, init, healthcheck, log, memory, cpus, hostname and read-only flags: docker inspect shows them', async () => {
    const r = await d.brig([
      'run', '-d', '--name', 'many', '--restart', 'on-failure:3', '--init',
      '--health-cmd', 'true', '--health-interval', '1m30s', '--health-timeout', '500ms', '--health-start-period', '2s',
      '--health-start-interval', '100ms', '--health-retries', '3',
      '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3',
      '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '-h', 'box', '--domainname', 'example.org', '--read-only',
      'busybox', 'sleep', '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const c = await inspect('many');
    assert.equal(c.Id, id);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(c.HostConfig.Init, true);
    assert.deepEqual(c.Config.Healthcheck, {
      Test: ['CMD-SHELL', 'true'], Interval: 90 * S, Timeout: 500_000_000, StartPeriod: 2 * S, StartInterval: 100_000_000, Retries: 3,
    });
    // brig's daemon has one file log driver (k8s-file, which stands in for json-file) and reports sizes in bytes
    assert.ok(['json-file', 'k8s-file'].includes(c.HostConfig.LogConfig.Type), c.HostConfig.LogConfig.Type);
    assert.equal(c.HostConfig.LogConfig.Config['max-file'], '3');
    assert.equal(c.HostConfig.LogConfig.Config['max-size'], '10m');
    assert.equal(c.HostConfig.Memory, 64 * MiB);
    assert.equal(c.HostConfig.MemorySwap, 128 * MiB);
    assert.equal(c.HostConfig.NanoCpus, 500_000_000);
    assert.equal(c.HostConfig.ReadonlyRootfs, true);
    assert.equal(c.Config.Hostname, 'box');
    assert.equal(c.Config.Domainname, 'example.org');
    assert.equal((await d.brig(['rm', '-f', 'many'])).code, 0);
  });

  test('-c, --cpu-quota, --cpu-period, --memory-swap -1, --no-healthcheck, --init=false reach the container config', async () => {
    const r = await d.brig([
      'create', '--name', 'cpu', '-c', '512', '--cpu-quota', '50000', '--cpu-period=100000', '-m', '32m', '--memory-swap', '-1',
      '--no-healthcheck', '--init=false', 'busybox', 'true',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const c = await inspect('cpu');
    assert.deepEqual([c.HostConfig.CpuShares, c.HostConfig.CpuQuota, c.HostConfig.CpuPeriod, c.HostConfig.NanoCpus], [512, 50_000, 100_000, 0]);
    assert.deepEqual([c.HostConfig.Memory, c.HostConfig.MemorySwap], [32 * MiB, -1]);
    assert.deepEqual(c.Config.Healthcheck, { Test: ['NONE'] });
    assert.ok(c.HostConfig.Init === false || c.HostConfig.Init === null, String(c.HostConfig.Init));
    assert.equal((await d.brig(['rm', 'cpu'])).code, 0);
  });

  test('inside the container: --read-only, -h, -m 64m (cgroup limit), --init (the command is not PID 1)', async () => {
    const ro = await d.brig(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    const rw = await d.brig(['run', '--rm', 'busybox', 'touch', '/x']);
    assert.equal(rw.code, 0, rw.stderr);

    const h = await d.brig(['run', '--rm', '-h', 'myhost', '--domainname', 'example.org', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname']);
    assert.equal(h.code, 0, h.stderr);
    assert.equal(h.stdout, 'myhost\nmyhost\n');

    const m = await d.brig(['run', '--rm', '-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(m.stdout.trim(), '67108864');

    const noInit = await d.brig(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$']);
    assert.equal(noInit.stdout.trim(), '1');
    const init = await d.brig(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(init.code, 0, init.stderr);
    const [pid, pid1] = init.stdout.trim().split('\n');
    assert.notEqual(pid, '1', 'with --init the command is not PID 1');
    assert.doesNotMatch(pid1!, /^sh /, `PID 1 is the init: ${pid1}`);
  });

  test('--restart on-failure:3 restarts a failing container three times; the health check runs', async () => {
    const r = await d.brig(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 0, r.stderr);
    const c = await until('restarts', () => inspect('flaky'), (x) => x.RestartCount === 3 && x.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 3);
    assert.equal((await d.brig(['rm', 'flaky'])).code, 0);

    const h = await d.brig(['run', '-d', '--name', 'healthy', '--health-cmd', 'test -e /ok', '--health-interval', '200ms',
      '--health-retries', '2', 'busybox', 'sh', '-c', 'sleep 1; touch /ok; exec sleep 1000']);
    assert.equal(h.code, 0, h.stderr);
    await until('healthy', async () => (await inspect('healthy')).State.Health?.Status, (s) => s === 'healthy');
    assert.equal((await d.brig(['rm', '-f', 'healthy'])).code, 0);
  });

  test('--env-file and --label-file: comments and blanks skipped, bare keys from the client environment, flags override', async () => {
    const envFile = join(dir, 'app.env');
    const labelFile = join(dir, 'labels');
    await writeFile(envFile, '# settings\n\nA=from-file\n  B=two words\nFROM_CLIENT\nNOT_IN_CLIENT\nC="quoted"\n');
    await writeFile(labelFile, '# labels\ncom.example.team=infra\ncom.example.tier=db\nbare\n');
    const r = await runProcess(process.execPath, [
      BRIG, 'run', '--rm', '--env-file', envFile, '-e', 'A=cli', '--label-file', labelFile, '-l', 'com.example.tier=web',
      '--name', 'envs', 'busybox', 'sh', '-c', 'echo "A=$A"; echo "B=$B"; echo "FC=$FROM_CLIENT"; echo "C=$C"; echo "N=${NOT_IN_CLIENT-unset}"',
    ], { ...d.env(), FROM_CLIENT: 'client value' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'A=cli\nB=two words\nFC=client value\nC="quoted"\nN=unset\n');

    const c = await d.brig(['create', '--label-file', labelFile, '-l', 'com.example.tier=web', '--name', 'labelled', 'busybox']);
    assert.equal(c.code, 0, c.stderr);
    const labels = (await inspect('labelled')).Config.Labels;
    assert.deepEqual(labels, { 'com.example.team': 'infra', 'com.example.tier': 'web' });
    assert.equal((await d.brig(['rm', 'labelled'])).code, 0);
  });

  test('create prints the ID; start -a runs it; -a stdout attaches stdout only', async () => {
    const c = await d.brig(['create', '--name', 'later', '-h', 'later-host', 'busybox', 'hostname']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    const i = await inspect('later');
    assert.equal(i.State.Status, 'created');
    assert.deepEqual([i.Config.AttachStdout, i.Config.AttachStderr], [true, true]);
    const s = await d.brig(['start', '-a', 'later']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'later-host\n');
    assert.equal((await d.brig(['rm', 'later'])).code, 0);

    const a = await d.brig(['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
    assert.equal(a.code, 4);
    assert.equal(a.stdout, 'out\n');
    assert.equal(a.stderr, '');
    const e = await d.brig(['run', '--rm', '-a', 'stderr', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(e.code, 0);
    assert.equal(e.stdout, '');
    assert.equal(e.stderr, 'err\n');
  });

  test('unsupported and unknown docker flags are usage errors (exit 125), nothing is created', async () => {
    for (const [args, message] of [
      [['run', '-v', '/a:/b', 'busybox'], "brig: unknown shorthand flag: 'v' in -v\nSee 'brig run --help'.\n"],
      [['run', '--volume=/a:/b', 'busybox'], "brig: unknown flag: --volume\nSee 'brig run --help'.\n"],
      [['create', '--mount', 'type=tmpfs,dst=/x', 'busybox'], "brig: unknown flag: --mount\nSee 'brig create --help'.\n"],
      [['create', '-d', 'busybox'], "brig: unknown shorthand flag: 'd' in -d\nSee 'brig create --help'.\n"],
      [['run', '--health-interval', '1d', 'busybox'],
        'brig: invalid argument "1d" for "--health-interval" flag: time: unknown unit "d" in duration "1d"\nSee \'brig run --help\'.\n'],
      [['run', '-m', '64x', 'busybox'], 'brig: invalid argument "64x" for "-m, --memory" flag: invalid suffix: \'x\'\nSee \'brig run --help\'.\n'],
      [['run', '--restart', 'on-failure:x', 'busybox'],
        "brig: invalid restart policy format: maximum retry count must be an integer\nSee 'brig run --help'.\n"],
    ] as const) {
      const r = await d.brig([...args]);
      assert.equal(r.code, 125, args.join(' '));
      assert.equal(r.stderr, message);
    }
    const ps = await d.brig(['ps', '-aq']);
    assert.equal(ps.stdout, '');
  });

  test('the daemon refuses what it does not support, through run and create alike', async () => {
    const r = await d.brig(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /log driver "syslog".*not supported/);
    const c = await d.brig(['create', '--restart', 'sometimes', 'busybox']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^Error response from daemon: invalid restart policy 'sometimes'/);
  });
});

// ---------- the create body: brig vs docker ----------

/** A fake daemon that answers what `create` and `run -d` need and records the create bodies. */
async function recordingDaemon(): Promise<{ daemon: FakeDaemon; bodies: unknown[] }> {
  const daemon = await new FakeDaemon().start();
  const bodies: unknown[] = [];
  const ID = 'b0d1e5'.padEnd(64, '0');
  const ping = (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'Api-Version': '1.41', Ostype: 'linux', 'Content-Type': 'text/plain', 'Content-Length': 2 });
    res.end('OK');
  };
  daemon.on('HEAD /_ping', ping).on('GET /_ping', ping);
  daemon.on('POST /containers/create', (_req, res, body) => {
    bodies.push(JSON.parse(body.toString()));
    sendJson(res, 201, { Id: ID, Warnings: [] });
  });
  daemon.on(`POST /containers/${ID}/wait`, (_req, res) => sendJson(res, 200, { Error: null, StatusCode: 0 }));
  daemon.on(`POST /containers/${ID}/start`, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  return { daemon, bodies };
}

function isZero(v: unknown): boolean {
  if (v === null || v === 0 || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isZero);
  return false;
}

/**
 * Differences between two create bodies. A field both send must be equal; a field only one of them
 * sends must be a zero value (docker sends every field of its structs, brig the ones it uses).
 * `Env` is compared as a multiset: docker passes the `-e` list through a Go map (random order).
 */
function bodyDiff(docker: unknown, brig: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (path === 'Env' && Array.isArray(docker) && Array.isArray(brig)) {
    return bodyDiff([...(docker as string[])].sort(), [...(brig as string[])].sort(), 'Env (sorted)');
  }
  if (isObj(docker) && isObj(brig)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(docker), ...Object.keys(brig)])) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in brig)) {
        if (!isZero(docker[k])) out.push(`${p}: docker sends ${JSON.stringify(docker[k])}, brig nothing`);
      } else if (!(k in docker)) {
        if (!isZero(brig[k])) out.push(`${p}: brig sends ${JSON.stringify(brig[k])}, docker nothing`);
      } else {
        out.push(...bodyDiff(docker[k], brig[k], p));
      }
    }
    return out;
  }
  return JSON.stringify(docker) === JSON.stringify(brig) ? [] : [`${path}: docker ${JSON.stringify(docker)} ≠ brig ${JSON.stringify(brig)}`];
}

describe('the create body brig sends equals docker\'s for the same flags', () => {
  let fake: { daemon: FakeDaemon; bodies: unknown[] };
  let dir: string;
  before(async () => {
    fake = await recordingDaemon();
    dir = await mkdtemp(join(tmpdir(), 'brig-body-'));
    await writeFile(join(dir, 'env'), '# comment\n\nFILE_A=1\n  FILE_B=spaced value \nFROM_CLIENT\nNOT_SET_ANYWHERE\n');
    await writeFile(join(dir, 'labels'), 'com.example.a=1\nbare\ncom.example.b=x=y\n');
  });
  after(async () => {
    await fake?.daemon.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function bodies(args: string[]): Promise<{ docker: unknown; brig: unknown }> {
    const env = {
      ...process.env,
      DOCKER_HOST: `unix://${fake.daemon.socketPath}`,
      BRIG_HOST: `unix://${fake.daemon.socketPath}`,
      DOCKER_CONFIG: dir,
      DOCKER_CLI_HINTS: 'false',
      FROM_CLIENT: 'client value',
    };
    const before = fake.bodies.length;
    const dk = await runProcess(dockerBinary(), args, env);
    assert.equal(dk.code, 0, `docker ${args.join(' ')}: ${dk.stderr}`);
    const bg = await runProcess(process.execPath, [BRIG, ...args], env);
    assert.equal(bg.code, 0, `brig ${args.join(' ')}: ${bg.stderr}`);
    assert.equal(bg.stdout, dk.stdout, 'both print the same (the ID)');
    assert.equal(fake.bodies.length, before + 2);
    return { docker: fake.bodies[before], brig: fake.bodies[before + 1] };
  }

  const cases: [string, string[]][] = [
    ['no flags', ['create', 'busybox']],
    ['restart on-failure:3, init, read-only, hostname, domainname', [
      'create', '--restart', 'on-failure:3', '--init', '--read-only', '-h', 'box', '--domainname', 'example.org', 'busybox', 'sh',
    ]],
    ['restart always/unless-stopped, --init=false', ['create', '--restart=unless-stopped', '--init=false', 'busybox']],
    // --health-start-interval is left out: docker refuses it below API 1.44, and brig's daemon speaks 1.41
    ['healthcheck', [
      'create', '--health-cmd', 'wget -q -O- localhost || exit 1', '--health-interval', '1m30s', '--health-timeout', '500ms',
      '--health-start-period', '2s', '--health-retries', '3', 'busybox',
    ]],
    ['healthcheck without a command', ['create', '--health-interval', '10s', 'busybox']],
    ['no-healthcheck', ['create', '--no-healthcheck', 'busybox']],
    ['log driver and options', ['create', '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox']],
    ['memory and cpus', ['create', '-m', '64m', '--memory-swap', '1g', '--cpus', '0.5', '-c', '512', 'busybox']],
    ['cpu quota and period, unlimited swap, pids', [
      'create', '--cpu-quota', '50000', '--cpu-period', '100000', '-m', '1.5g', '--memory-swap', '-1', '--pids-limit', '-1', 'busybox',
    ]],
    ['env-file, label-file, -e, -l', [
      'create', '--env-file', '', '-e', 'FROM_CLIENT', '-e', 'X=1', '-e', 'Y=1', '-e', 'X=2', '-e', 'UNSET_BARE', '--label-file', '',
      '-l', 'com.example.b=cli', 'busybox',
    ]],
    ['attach selection and -i', ['create', '-a', 'stdout', '-a', 'STDIN', '-i', 'busybox']],
    ['-it --rm, stop signal and timeout', ['create', '-it', '--rm', '--stop-signal', 'SIGUSR1', '--stop-timeout', '-1', 'busybox']],
    ['published ports, ranges, --expose and -P', [
      'create', '-p', '127.0.0.1:28080:80', '-p', '80', '-p', '28090-28091:90-91/udp', '-p', '28100-28110:100', '--expose', '7000-7001',
      '--expose', '53/udp', '-P', 'busybox',
    ]],
    ['dns, dns-search, dns-option, add-host', [
      'create', '--dns', '192.0.2.53', '--dns-search', 'example.org', '--dns-option', 'ndots:2', '--add-host', 'gw:host-gateway',
      '--add-host', 'db:192.0.2.7', 'busybox',
    ]],
    ['user network with --ip and --network-alias', ['create', '--network', 'mynet', '--ip', '10.213.5.9', '--network-alias', 'web', 'busybox']],
    ['network modes none, host and container:x', ['create', '--network', 'container:other', 'busybox']],
    ['--link (sent as docker sends it; the daemon refuses it)', ['create', '--link', 'db:db', 'busybox']],
    ['security options', ['create', '--security-opt', 'no-new-privileges', '--security-opt', 'systempaths=unconfined', 'busybox']],
    ['run -d with everything', [
      'run', '-d', '--sig-proxy=false', '--restart', 'always', '--init', '-m', '128m', '--cpus', '1.5', '--read-only', '-h', 'h',
      '--health-cmd', 'true', '--log-opt', 'max-size=1m', 'busybox', 'sleep', '1',
    ]],
  ];

  test('the comparison itself: zero-valued fields may be left out, anything else must match', () => {
    assert.deepEqual(bodyDiff({ A: 0, B: { C: null, D: [] }, E: 'x', Env: ['b', 'a'] }, { E: 'x', Env: ['a', 'b'] }), []);
    assert.equal(bodyDiff({ A: 1 }, {}).length, 1);
    assert.equal(bodyDiff({}, { A: 'x' }).length, 1);
    assert.equal(bodyDiff({ A: [1, 2] }, { A: [2, 1] }).length, 1);
    assert.equal(bodyDiff({ A: null }, { A: [] }).length, 1);
    assert.equal(bodyDiff({ Env: ['a=1', 'a=1'] }, { Env: ['a=1'] }).length, 1);
  });

  for (const [name, args] of cases) {
    test(name, async () => {
      const real = args.map((a, i) => (a === '' && args[i - 1] === '--env-file' ? join(dir, 'env') : a === '' ? join(dir, 'labels') : a));
      const { docker, brig } = await bodies(real);
      assert.deepEqual(bodyDiff(docker, brig), [], `docker: ${JSON.stringify(docker)}\nbrig:   ${JSON.stringify(brig)}`);
    });
  }
});
