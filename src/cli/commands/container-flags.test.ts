import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HelpRequested, UsageError } from '../command.js';
import { buildCreateBody, buildHealthcheck, containerOptions, kvToMap, parseContainerArgs, runOptions } from './container-flags.js';

const MiB = 1024 * 1024;
const S = 1_000_000_000;

function body(args: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  const readFile = (p: string) => {
    const c = files[p];
    if (c === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT', syscall: 'open' });
    return Buffer.from(c);
  };
  return buildCreateBody(parseContainerArgs('run', args, { env, readFile }));
}

function usageError(args: string[], message: string | RegExp, command: 'run' | 'create' = 'run') {
  assert.throws(
    () => parseContainerArgs(command, args),
    (e: unknown) => e instanceof UsageError && (typeof message === 'string' ? e.message === message : message.test(e.message)),
    String(message),
  );
}

test('--restart: no (default), always, unless-stopped, on-failure[:N]; --rm conflicts with a policy', () => {
  assert.deepEqual(body(['img']).HostConfig!.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(body(['--restart', 'always', 'img']).HostConfig!.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(body(['--restart=unless-stopped', 'img']).HostConfig!.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.deepEqual(body(['--restart', 'on-failure:3', 'img']).HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(body(['--restart', 'on-failure', 'img']).HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
  usageError(['--restart', 'on-failure:x', 'img'], 'invalid restart policy format: maximum retry count must be an integer');
  usageError(['--rm', '--restart', 'always', 'img'], 'conflicting options: cannot specify both --restart and --rm');
  assert.equal(body(['--rm', '--restart', 'no', 'img']).HostConfig!.AutoRemove, true);
});

test('--init sends Init only when given (true or false)', () => {
  assert.equal('Init' in body(['img']).HostConfig!, false);
  assert.equal(body(['--init', 'img']).HostConfig!.Init, true);
  assert.equal(body(['--init=false', 'img']).HostConfig!.Init, false);
});

test('healthcheck flags: Go durations in ns, CMD-SHELL, zero fields left out; --no-healthcheck', () => {
  const b = body([
    '--health-cmd', 'wget -q localhost || exit 1', '--health-interval', '1m30s', '--health-timeout', '500ms',
    '--health-start-period', '2s', '--health-start-interval', '100ms', '--health-retries', '3', 'img',
  ]);
  assert.deepEqual(b.Healthcheck, {
    Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 90 * S, Timeout: 500_000_000, StartPeriod: 2 * S, StartInterval: 100_000_000, Retries: 3,
  });
  assert.deepEqual(body(['--health-interval=5s', 'img']).Healthcheck, { Interval: 5 * S }, 'no Test: the image\'s command stays');
  assert.equal(body(['img']).Healthcheck, undefined);
  assert.equal('Healthcheck' in body(['img']), false);
  assert.deepEqual(body(['--no-healthcheck', 'img']).Healthcheck, { Test: ['NONE'] });
  assert.deepEqual(body(['--health-interval', '0s', 'img']).Healthcheck, undefined, 'all zero: no health config');
  usageError(['--no-healthcheck', '--health-retries', '1', 'img'], '--no-healthcheck conflicts with --health-* options');
  usageError(['--health-interval', '-1s', 'img'], '--health-interval cannot be negative');
  usageError(['--health-retries', '-1', 'img'], '--health-retries cannot be negative');
  usageError(['--health-interval', '1d', 'img'], 'invalid argument "1d" for "--health-interval" flag: time: unknown unit "d" in duration "1d"');
  usageError(['--health-timeout', '10', 'img'], 'invalid argument "10" for "--health-timeout" flag: time: missing unit in duration "10"');
  usageError(['--health-retries', 'x', 'img'], 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax');
  assert.deepEqual(buildHealthcheck({ cmd: 'true' }), { Test: ['CMD-SHELL', 'true'] });
});

test('--log-driver and repeatable --log-opt k=v go to LogConfig as given', () => {
  assert.deepEqual(body(['img']).HostConfig!.LogConfig, { Type: '', Config: {} });
  assert.deepEqual(body(['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt=max-file=3', 'img']).HostConfig!.LogConfig, {
    Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' },
  });
  assert.deepEqual(body(['--log-opt', 'flag', 'img']).HostConfig!.LogConfig!.Config, { flag: '' });
  usageError(['--log-driver', 'none', '--log-opt', 'a=b', 'img'], 'invalid logging opts for driver none');
});

test('memory and CPU flags: go-units sizes, --cpus 0.5 → 500000000 NanoCpus, ints as pflag parses them', () => {
  const h = body(['-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '-c', '512', '--pids-limit', '-1', 'img']).HostConfig!;
  assert.equal(h.Memory, 64 * MiB);
  assert.equal(h.MemorySwap, 128 * MiB);
  assert.equal(h.NanoCpus, 500_000_000);
  assert.equal(h.CpuShares, 512);
  assert.equal(h.PidsLimit, -1);
  const q = body(['--memory=1g', '--memory-swap', '-1', '--cpu-quota', '50000', '--cpu-period=100000', 'img']).HostConfig!;
  assert.deepEqual([q.Memory, q.MemorySwap, q.CpuQuota, q.CpuPeriod, q.NanoCpus], [1024 * MiB, -1, 50_000, 100_000, 0]);
  const zero = body(['img']).HostConfig!;
  assert.deepEqual([zero.Memory, zero.MemorySwap, zero.NanoCpus, zero.CpuShares, zero.CpuQuota, zero.CpuPeriod], [0, 0, 0, 0, 0, 0]);
  usageError(['-m', '1x', 'img'], 'invalid argument "1x" for "-m, --memory" flag: invalid suffix: \'x\'');
  usageError(['--cpus', 'abc', 'img'], 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  usageError(['-c', 'x', 'img'], 'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "x": invalid syntax');
  usageError(['--memory-swap', '-2', 'img'], 'invalid argument "-2" for "--memory-swap" flag: invalid size: \'-2\'');
});

test('-h/--hostname, --domainname, --read-only', () => {
  const b = body(['-h', 'box', '--domainname', 'example.org', '--read-only', 'img']);
  assert.equal(b.Hostname, 'box');
  assert.equal(b.Domainname, 'example.org');
  assert.equal(b.HostConfig!.ReadonlyRootfs, true);
  const d = body(['img']);
  assert.deepEqual([d.Hostname, d.Domainname, d.HostConfig!.ReadonlyRootfs], ['', '', false]);
  assert.equal(body(['--hostname=h2', 'img']).Hostname, 'h2');
});

test('-a picks the attached streams like docker; -i adds stdin; -d attaches nothing', () => {
  const streams = (args: string[]) => {
    const b = body([...args, 'img']);
    return [b.AttachStdin, b.AttachStdout, b.AttachStderr, b.OpenStdin, b.StdinOnce];
  };
  assert.deepEqual(streams([]), [false, true, true, false, false]);
  assert.deepEqual(streams(['-a', 'stdout']), [false, true, false, false, false]);
  assert.deepEqual(streams(['-a', 'STDERR']), [false, false, true, false, false]);
  assert.deepEqual(streams(['-a', 'stdin']), [true, false, false, false, false]);
  assert.deepEqual(streams(['-a', 'stdin', '-i']), [true, false, false, true, true]);
  assert.deepEqual(streams(['-i', '-a', 'stdout']), [true, true, false, true, true]);
  assert.deepEqual(streams(['-a', 'stdout', '--attach=stderr']), [false, true, true, false, false]);
  assert.deepEqual(streams(['-d', '-i']), [false, false, false, true, false]);
  usageError(['-a', 'foo', 'img'], 'invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
  assert.deepEqual(parseContainerArgs('run', ['-a', 'Stdout', 'img']).attach, ['stdout']);
});

test('--env-file: comments and blank lines skipped, bare KEY from the client environment, -e overrides after the files', () => {
  const files = {
    '/e1': '# comment\n\nA=1\n  B=from file\nHOME_DIR\nMISSING\nC="q"\n',
    '/e2': 'A=2\n',
  };
  const b = body(['--env-file', '/e1', '--env-file=/e2', '-e', 'A=cli', '-e', 'HOME_DIR', '-e', 'NOPE', 'img'], { HOME_DIR: '/home/me' }, files);
  assert.deepEqual(b.Env, ['A=1', 'B=from file', 'HOME_DIR=/home/me', 'C="q"', 'A=2', 'A=cli', 'HOME_DIR=/home/me', 'NOPE']);
  // like docker, the -e list has one entry a key, the last given (files keep their duplicates)
  assert.deepEqual(body(['-e', 'A=1', '-e', 'B=1', '-e', 'A=2', '-e', 'C=1', '-e', 'C', 'img']).Env, ['A=2', 'B=1', 'C']);
  assert.deepEqual(body(['--env-file', '/e2', '--env-file', '/e2', 'img'], {}, files).Env, ['A=2', 'A=2']);
  usageError(['--env-file', '/nonexistent-brig-env', 'img'], 'open /nonexistent-brig-env: no such file or directory');
  assert.throws(() => body(['--env-file', '/bad', 'img'], {}, { '/bad': 'X Y=1\n' }), {
    message: "invalid env file (/bad): variable 'X Y' contains whitespaces",
  });
});

test('--label-file: labels from files, then -l/--label; bare keys in files are dropped, bare -l keys are ""', () => {
  const files = { '/l1': '# labels\ncom.example.a=1\ncom.example.b=x=y\nbare\n', '/l2': 'com.example.a=2\n' };
  const b = body(['--label-file', '/l1', '--label-file', '/l2', '-l', 'cli', '--label', 'com.example.c=3', 'img'], {}, files);
  assert.deepEqual(b.Labels, { 'com.example.a': '2', 'com.example.b': 'x=y', cli: '', 'com.example.c': '3' });
  usageError(['-l', '=x', 'img'], 'invalid argument "=x" for "-l, --label" flag: invalid label \'=x\': empty name');
  usageError(['-l', 'a b=1', 'img'], 'invalid argument "a b=1" for "-l, --label" flag: label \'a b\' contains whitespaces');
  assert.deepEqual(kvToMap(['a=1', 'a=2', 'b']), { a: '2', b: '' });
});

test('--security-opt systempaths=unconfined becomes empty MaskedPaths/ReadonlyPaths, as docker sends it', () => {
  const h = body(['--security-opt', 'systempaths=unconfined', 'img']).HostConfig!;
  assert.deepEqual([h.SecurityOpt, h.MaskedPaths, h.ReadonlyPaths], [[], [], []]);
  assert.equal('MaskedPaths' in body(['img']).HostConfig!, false);
  const f = parseContainerArgs('run', ['--security-opt', 'seccomp=', 'img']);
  assert.throws(() => buildCreateBody(f), { message: 'Invalid --security-opt: "seccomp="' });
});

test('run-only flags: -d, --detach-keys, --sig-proxy (default true); create refuses them like docker', () => {
  const f = parseContainerArgs('run', ['--detach-keys', 'ctrl-x,x', '--sig-proxy=false', 'img']);
  assert.equal(f.detachKeys, 'ctrl-x,x');
  assert.equal(f.sigProxy, false);
  assert.equal(parseContainerArgs('run', ['img']).sigProxy, true);
  usageError(['-d', 'img'], "unknown shorthand flag: 'd' in -d", 'create');
  usageError(['--detach-keys', 'a', 'img'], 'unknown flag: --detach-keys', 'create');
  usageError(['--sig-proxy', 'img'], 'unknown flag: --sig-proxy', 'create');
  usageError([], '"brig create" requires at least 1 argument.', 'create');
  // like docker create, -a, -i and --rm are create flags too (stored with the container)
  const c = buildCreateBody(parseContainerArgs('create', ['--rm', '-i', '-a', 'stdout', 'img']));
  assert.deepEqual([c.HostConfig!.AutoRemove, c.AttachStdin, c.AttachStdout, c.AttachStderr, c.OpenStdin], [true, true, true, false, true]);
  assert.deepEqual(Object.keys(runOptions).filter((k) => !(k in containerOptions)).sort(), ['detach', 'detach-keys', 'sig-proxy']);
});

test('unsupported docker flags are unknown flags; values starting with a dash are values', () => {
  for (const flag of ['--volume', '-v', '--mount', '--cidfile', '--pull', '--platform', '--ulimit', '--tmpfs', '--shm-size']) {
    assert.throws(() => parseContainerArgs('run', [flag, 'x', 'img']), UsageError, flag);
  }
  usageError(['-v', '/a:/b', 'img'], "unknown shorthand flag: 'v' in -v");
  usageError(['--volume=/a:/b', 'img'], 'unknown flag: --volume');
  assert.equal(parseContainerArgs('run', ['--stop-timeout', '-1', 'img']).stopTimeout, -1);
  assert.throws(() => parseContainerArgs('run', ['--help']), HelpRequested);
  assert.equal(parseContainerArgs('run', ['img', '-h']).hostname, '', '-h after IMAGE belongs to the container');
});
