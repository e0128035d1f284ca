import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { fromDockerCreate, parseSecurity } from './container-create.js';

/**
 * The body docker CLI 28.2.2 sends for `docker run --rm busybox echo hi` (Go's encoding of
 * container.Config + HostConfig + NetworkingConfig: every non-omitempty field present, most empty).
 */
function dockerRunRmEchoHi(): Record<string, any> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: ['echo', 'hi'], Image: 'busybox',
    Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default',
      PortBindings: {}, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: true,
      VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null,
      CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null,
      IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false,
      PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
      ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
      BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
      CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [],
      DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
      MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0,
      CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
    },
    NetworkingConfig: {
      EndpointsConfig: {
        default: {
          IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0,
          NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
          GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
        },
      },
    },
  };
}

/** The CLI body with some HostConfig fields changed. */
function withHost(host: Record<string, unknown>, top: Record<string, unknown> = {}): Record<string, any> {
  const b = dockerRunRmEchoHi();
  return { ...b, ...top, HostConfig: { ...b['HostConfig'], ...host } };
}

function assertError(body: unknown, code: ErrorCode, message: string | RegExp): void {
  assert.throws(
    () => fromDockerCreate(body),
    (err: unknown) => {
      assert.ok(isEngineError(err, code), `${JSON.stringify(body).slice(0, 200)}: ${String(err)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('the docker CLI 28 body for `docker run --rm busybox echo hi` is accepted as is', () => {
  const { spec, warnings } = fromDockerCreate(dockerRunRmEchoHi());
  assert.deepEqual(warnings, []);
  assert.equal(spec.image, 'busybox');
  assert.deepEqual(spec.cmd, ['echo', 'hi']);
  assert.equal(spec.entrypoint, null);
  assert.deepEqual(spec.env, []);
  assert.equal(spec.autoRemove, true);
  assert.deepEqual([spec.attachStdin, spec.attachStdout, spec.attachStderr, spec.tty, spec.openStdin], [false, true, true, false, false]);
  assert.deepEqual(spec.restartPolicy, { name: 'no', maximumRetryCount: 0 });
  assert.deepEqual(spec.consoleSize, [0, 0]);
  assert.deepEqual(spec.labels, {});
  assert.deepEqual(spec.exposedPorts, []);
  assert.equal(spec.stopSignal, null);
  assert.equal(spec.stopTimeout, null);
  assert.deepEqual(spec.resources, { pidsLimit: null, memory: 0, memorySwap: 0, cpuShares: 0, nanoCpus: 0, cpuQuota: 0, cpuPeriod: 0 });
  assert.deepEqual(spec.security, {
    privileged: false, capAdd: [], capDrop: [], noNewPrivileges: true, seccomp: { kind: 'default' }, readonlyRootfs: false,
  });
  assert.deepEqual(spec.network, {
    mode: 'bridge', modeName: 'default', endpoints: [], ports: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], macAddress: '',
  });
});

test('a minimal body (curl, docker-py) is enough', () => {
  const { spec } = fromDockerCreate({ Image: 'busybox' });
  assert.equal(spec.image, 'busybox');
  assert.equal(spec.cmd, null);
  assert.equal(spec.autoRemove, false);
  assert.deepEqual(spec.consoleSize, [0, 0]);
});

test('no image is a 400', () => {
  assertError({}, 'ERR_INVALID_ARGUMENT', /Image is required/);
  assertError(withHost({}, { Image: '' }), 'ERR_INVALID_ARGUMENT', /Image is required/);
});

test('type errors name the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ Image: 7 }, 'invalid value for Image: expected a string, got number'],
    [{ Image: 'b', Tty: 'true' }, 'invalid value for Tty: expected a boolean, got string'],
    [{ Image: 'b', Cmd: ['echo', 1] }, 'invalid value for Cmd[1]: expected a string, got number'],
    [{ Image: 'b', Env: 'A=1' }, 'invalid value for Env: expected an array of strings, got string'],
    [{ Image: 'b', Labels: { a: 1 } }, 'invalid value for Labels.a: expected a string, got number'],
    [{ Image: 'b', HostConfig: [] }, 'invalid value for HostConfig: expected an object, got array'],
    [{ Image: 'b', HostConfig: { Memory: '1g' } }, 'invalid value for HostConfig.Memory: expected an integer, got string'],
    [{ Image: 'b', HostConfig: { CpuShares: 1.5 } }, 'invalid value for HostConfig.CpuShares: expected an integer, got number'],
    [{ Image: 'b', HostConfig: { AutoRemove: 1 } }, 'invalid value for HostConfig.AutoRemove: expected a boolean, got number'],
    [{ Image: 'b', HostConfig: { RestartPolicy: { Name: 5 } } }, 'invalid value for HostConfig.RestartPolicy.Name: expected a string, got number'],
    [{ Image: 'b', HostConfig: { SecurityOpt: [null] } }, 'invalid value for HostConfig.SecurityOpt[0]: expected a string, got null'],
    [{ Image: 'b', HostConfig: { ConsoleSize: [24] } }, 'invalid value for HostConfig.ConsoleSize: expected [height, width]'],
  ];
  for (const [body, message] of cases) assertError(body, 'ERR_INVALID_ARGUMENT', message);
  assertError('not an object', 'ERR_INVALID_ARGUMENT', 'invalid value for body: expected an object, got string');
});

test('unsupported HostConfig features are 501s naming the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ Binds: ['/host:/ctr'] }, 'HostConfig.Binds'],
    [{ Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] }, 'HostConfig.Devices'],
    [{ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] }, 'HostConfig.Ulimits'],
    [{ OomKillDisable: true }, 'HostConfig.OomKillDisable'],
    [{ Tmpfs: { '/run': '' } }, 'HostConfig.Tmpfs'],
    [{ CpuRealtimeRuntime: 95000 }, 'HostConfig.CpuRealtimeRuntime'],
    [{ Annotations: { 'io.kubernetes.x': 'y' } }, 'HostConfig.Annotations'],
    [{ PidMode: 'host' }, 'HostConfig.PidMode'],
    [{ IpcMode: 'host' }, 'HostConfig.IpcMode'],
    [{ UsernsMode: 'host' }, 'HostConfig.UsernsMode'],
    [{ Runtime: 'kata' }, 'HostConfig.Runtime'],
    [{ LogConfig: { Type: 'syslog', Config: {} } }, 'HostConfig.LogConfig.Type'],
    [{ LogConfig: { Type: '', Config: { 'syslog-address': 'udp://x' } } }, 'HostConfig.LogConfig.Config'],
    [{ ShmSize: 1 << 27 }, 'HostConfig.ShmSize'],
    [{ MemorySwappiness: 10 }, 'HostConfig.MemorySwappiness'],
    // `--security-opt systempaths=unconfined`: an empty list means "no masked paths", not "default".
    [{ MaskedPaths: [], ReadonlyPaths: [] }, 'HostConfig.MaskedPaths'],
    [{ ReadonlyPaths: ['/proc/sys'] }, 'HostConfig.ReadonlyPaths'],
  ];
  for (const [host, field] of cases) {
    assertError(withHost(host), 'ERR_NOT_IMPLEMENTED', new RegExp(`${field.replace(/\./g, '\\.')}(?![\\w.])`));
  }
});

test('other unsupported features are 501s too', () => {
  assertError(withHost({}, { Volumes: { '/data': {} } }), 'ERR_NOT_IMPLEMENTED', /^Volumes:/);
  assert.doesNotThrow(() => fromDockerCreate(withHost({}, { Healthcheck: { Test: ['NONE'] } })));
});

test('restart policies, --init, log options and health checks are read', () => {
  const spec = fromDockerCreate(withHost({ AutoRemove: false, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, Init: true,
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } },
  { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Retries: 2 } })).spec;
  assert.deepEqual(spec.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
  assert.equal(spec.init, true);
  assert.deepEqual(spec.logConfig, { type: 'k8s-file', maxSize: 10 * 1024 * 1024, maxFile: 3, options: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(spec.healthcheck, { test: ['CMD-SHELL', 'true'], intervalNs: 2e9, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 2 });
  assertError(withHost({ AutoRemove: false, RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }), 'ERR_INVALID_ARGUMENT', /cannot be used with restart policy 'always'/);
  assertError(withHost({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), 'ERR_INVALID_ARGUMENT', /AutoRemove/);
  assertError(withHost({ LogConfig: { Type: '', Config: { 'max-file': '2' } } }), 'ERR_INVALID_ARGUMENT', /max-file cannot be used without max-size/);
  assertError(withHost({}, { Healthcheck: { Test: ['BOGUS'] } }), 'ERR_INVALID_ARGUMENT', /NONE, CMD or CMD-SHELL/);
});

test('network modes: default, bridge, none, host, container:<x> and user networks with their endpoint config', () => {
  const net = (host: Record<string, unknown>, extra: Record<string, unknown> = {}) => fromDockerCreate(withHost(host, extra)).spec.network;
  assert.equal(net({ NetworkMode: 'bridge' }).mode, 'bridge');
  assert.equal(net({ NetworkMode: '' }).modeName, 'default');
  assert.deepEqual([net({ NetworkMode: 'none' }).mode, net({ NetworkMode: 'host' }).mode], ['none', 'host']);
  const c = net({ NetworkMode: 'container:web' });
  assert.deepEqual([c.mode, c.container, c.modeName], ['container', 'web', 'container:web']);
  const u = net({ NetworkMode: 'mynet' }, {
    NetworkingConfig: { EndpointsConfig: { mynet: { IPAMConfig: { IPv4Address: '10.213.5.9' }, Aliases: ['web', 'web'] }, other: {} } },
  });
  assert.equal(u.mode, 'user');
  assert.deepEqual(u.endpoints, [{ network: 'mynet', aliases: ['web'], ipv4: '10.213.5.9' }, { network: 'other', aliases: [], ipv4: '' }]);
  // host mode drops published ports with Docker's warning
  const hostRun = fromDockerCreate(withHost({ NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '28080' }] } }));
  assert.deepEqual(hostRun.spec.network.ports, []);
  assert.deepEqual(hostRun.warnings, ['Published ports are discarded when using host network mode']);
});

test('network settings that conflict or are malformed are 400s with Docker\'s messages; --link names user networks', () => {
  assertError(withHost({ Links: ['db:db'] }), 'ERR_INVALID_ARGUMENT', /--link.*not supported by brig.*docker network create/);
  assertError(withHost({}, { NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: { IPv4Address: '10.0.0.2' } } } } }),
    'ERR_INVALID_ARGUMENT', 'user specified IP address is supported on user defined networks only');
  assertError(withHost({ NetworkMode: 'bridge' }, { NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['x'] } } } }),
    'ERR_INVALID_ARGUMENT', 'network-scoped alias is supported only for containers in user defined networks');
  assertError(withHost({ NetworkMode: 'container:x', PortBindings: { '80/tcp': [{}] } }), 'ERR_INVALID_ARGUMENT',
    'conflicting options: port publishing and the container type network mode');
  assertError(withHost({ NetworkMode: 'container:x', Dns: ['1.1.1.1'] }), 'ERR_INVALID_ARGUMENT', 'conflicting options: dns and the network mode');
  assertError(withHost({ NetworkMode: 'container:x' }, { Hostname: 'h' }), 'ERR_INVALID_ARGUMENT', 'conflicting options: hostname and the network mode');
  assertError(withHost({ NetworkMode: 'container:' }), 'ERR_INVALID_ARGUMENT', /container:<name\|id>/);
  assertError(withHost({ Dns: ['not-an-ip'] }), 'ERR_INVALID_ARGUMENT', 'not-an-ip is not an ip address');
  assertError(withHost({ ExtraHosts: ['nohost'] }), 'ERR_INVALID_ARGUMENT', /--add-host/);
  assertError(withHost({ PortBindings: { '80/tcp': [{ HostIp: 'x', HostPort: '1' }] } }), 'ERR_INVALID_ARGUMENT', /host IP/);
  assertError(withHost({ PortBindings: { '80/sctp': [{}] } }), 'ERR_NOT_IMPLEMENTED', /sctp/);
  assertError(withHost({}, { ExposedPorts: { 'abc/tcp': {} } }), 'ERR_INVALID_ARGUMENT', /container port/);
});

test('ports, -P, dns and extra hosts are read', () => {
  const n = fromDockerCreate(withHost({
    PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '28080' }, { HostIp: '', HostPort: '' }], '53/udp': null, '81/tcp': [{ HostPort: '28100-28110' }] },
    PublishAllPorts: true, Dns: ['192.0.2.53'], DnsSearch: ['example.org'], DnsOptions: ['ndots:2'], ExtraHosts: ['gw:host-gateway', 'db=192.0.2.7'],
  }, { ExposedPorts: { '80/tcp': {}, '9000': {} } })).spec;
  assert.deepEqual(n.network.ports, [
    { hostIp: '127.0.0.1', hostPortStart: 28080, hostPortEnd: 28080, containerPort: 80, protocol: 'tcp' },
    { hostIp: '', hostPortStart: 0, hostPortEnd: 0, containerPort: 80, protocol: 'tcp' },
    { hostIp: '', hostPortStart: 0, hostPortEnd: 0, containerPort: 53, protocol: 'udp' },
    { hostIp: '', hostPortStart: 28100, hostPortEnd: 28110, containerPort: 81, protocol: 'tcp' },
  ]);
  assert.equal(n.network.publishAll, true);
  assert.deepEqual([n.network.dns, n.network.dnsSearch, n.network.dnsOptions], [['192.0.2.53'], ['example.org'], ['ndots:2']]);
  assert.deepEqual(n.network.extraHosts, ['gw:host-gateway', 'db:192.0.2.7']);
  assert.deepEqual([...n.exposedPorts].sort(), ['80/tcp', '9000/tcp']);
});

test('restart policy: an unknown name is a 400', () => {
  assertError(withHost({ RestartPolicy: { Name: 'sometimes' } }), 'ERR_INVALID_ARGUMENT', "invalid restart policy 'sometimes'");
  assert.doesNotThrow(() => fromDockerCreate(withHost({ RestartPolicy: { Name: '', MaximumRetryCount: 0 } })));
});

test('entrypoint [""] (--entrypoint "") means no entrypoint; a string entrypoint or cmd is a one-element list', () => {
  assert.deepEqual(fromDockerCreate(withHost({}, { Entrypoint: [''] })).spec.entrypoint, []);
  assert.deepEqual(fromDockerCreate(withHost({}, { Entrypoint: '/bin/sh' })).spec.entrypoint, ['/bin/sh']);
  assert.deepEqual(fromDockerCreate(withHost({}, { Cmd: 'date' })).spec.cmd, ['date']);
  assert.equal(fromDockerCreate(withHost({}, { Cmd: [] })).spec.cmd, null);
});

test('PidsLimit: 0 (what the CLI sends without --pids-limit) and null are the daemon default; -1 and N are kept', () => {
  const pids = (v: unknown) => fromDockerCreate(withHost({ PidsLimit: v })).spec.resources.pidsLimit;
  assert.equal(pids(0), null);
  assert.equal(pids(null), null);
  assert.equal(pids(-1), -1);
  assert.equal(pids(100), 100);
});

test('memory: Docker\'s 6 MB minimum and default swap (2 × memory)', () => {
  const res = (host: Record<string, unknown>) => fromDockerCreate(withHost(host)).spec.resources;
  assertError(withHost({ Memory: 6 * 1024 * 1024 - 1 }), 'ERR_INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB');
  assertError(withHost({ Memory: -5 }), 'ERR_INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB');
  assert.deepEqual([res({ Memory: 6 * 1024 * 1024 }).memory, res({ Memory: 6 * 1024 * 1024 }).memorySwap], [6291456, 12582912]);
  const m = 256 * 1024 * 1024;
  assert.equal(res({ Memory: m }).memorySwap, 2 * m);
  assert.equal(res({ Memory: m, MemorySwap: -1 }).memorySwap, -1);
  assert.equal(res({ Memory: m, MemorySwap: m }).memorySwap, m);
  assert.equal(res({ Memory: m, MemorySwap: 3 * m }).memorySwap, 3 * m);
  assertError(withHost({ Memory: m, MemorySwap: m - 1 }), 'ERR_INVALID_ARGUMENT',
    'Minimum memoryswap limit should be larger than memory limit, see usage');
  assertError(withHost({ MemorySwap: m }), 'ERR_INVALID_ARGUMENT',
    'You should always set the Memory limit when using Memoryswap limit, see usage');
});

test('CPU: --cpus conflicts with --cpu-quota and --cpu-period, as in Docker', () => {
  assertError(withHost({ NanoCpus: 1e9, CpuQuota: 50000 }), 'ERR_INVALID_ARGUMENT',
    'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  assertError(withHost({ NanoCpus: 1e9, CpuPeriod: 100000 }), 'ERR_INVALID_ARGUMENT',
    'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  const r = fromDockerCreate(withHost({ CpuQuota: 50000, CpuPeriod: 100000, CpuShares: 512 })).spec.resources;
  assert.deepEqual([r.cpuQuota, r.cpuPeriod, r.cpuShares], [50000, 100000, 512]);
});

test('StopSignal and StopTimeout; a bad stop signal is refused at create', () => {
  const { spec } = fromDockerCreate(withHost({}, { StopSignal: 'SIGUSR1', StopTimeout: 3 }));
  assert.equal(spec.stopSignal, 'SIGUSR1');
  assert.equal(spec.stopTimeout, 3);
  assertError(withHost({}, { StopSignal: 'SIGBOGUS' }), 'ERR_INVALID_ARGUMENT', 'Invalid signal: SIGBOGUS');
});

test('Env, WorkingDir and Hostname are validated', () => {
  assertError(withHost({}, { Env: ['=x'] }), 'ERR_INVALID_ARGUMENT', 'invalid environment variable: =x');
  assertError(withHost({}, { Env: ['A=\0'] }), 'ERR_INVALID_ARGUMENT', /NUL/);
  assertError(withHost({}, { WorkingDir: 'rel' }), 'ERR_INVALID_ARGUMENT', /needs to be an absolute path/);
  assertError(withHost({}, { Hostname: '-bad' }), 'ERR_INVALID_ARGUMENT', 'invalid hostname: -bad');
  const { spec } = fromDockerCreate(withHost({}, { Env: ['A=1', 'B='], WorkingDir: '/w', Hostname: 'web-1' }));
  assert.deepEqual([spec.env, spec.workingDir, spec.hostname], [['A=1', 'B='], '/w', 'web-1']);
});

test('ConsoleSize is [height, width]', () => {
  assert.deepEqual(fromDockerCreate(withHost({ ConsoleSize: [40, 120] })).spec.consoleSize, [40, 120]);
  assertError(withHost({ ConsoleSize: [-1, 80] }), 'ERR_INVALID_ARGUMENT', /ConsoleSize/);
});

// ── parseSecurity ────────────────────────────────────────────────────────────────────────────────

const sec = (...opts: string[]) => parseSecurity({ SecurityOpt: opts });

function assertBadOpt(opt: string, message: RegExp): void {
  assert.throws(() => sec(opt), (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && message.test(err.message), opt);
}

test('parseSecurity: brig defaults (no-new-privileges on, default seccomp)', () => {
  assert.deepEqual(parseSecurity({}), {
    privileged: false, capAdd: [], capDrop: [], noNewPrivileges: true, seccomp: { kind: 'default' }, readonlyRootfs: false,
  });
  const s = parseSecurity({ Privileged: true, CapAdd: ['NET_ADMIN'], CapDrop: 'ALL', ReadonlyRootfs: true });
  assert.deepEqual([s.privileged, s.capAdd, s.capDrop, s.readonlyRootfs], [true, ['NET_ADMIN'], ['ALL'], true]);
});

test('parseSecurity: no-new-privileges in every form Docker accepts', () => {
  for (const o of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:true', 'no-new-privileges=1', 'no-new-privileges=True']) {
    assert.equal(sec(o).noNewPrivileges, true, o);
  }
  for (const o of ['no-new-privileges=false', 'no-new-privileges:false', 'no-new-privileges=0', 'no-new-privileges=False']) {
    assert.equal(sec(o).noNewPrivileges, false, o);
  }
  assert.equal(sec('no-new-privileges=false', 'no-new-privileges').noNewPrivileges, true);
  assertBadOpt('no-new-privileges=maybe', /no-new-privileges/);
});

test('parseSecurity: seccomp unconfined, builtin, an inline JSON profile, bad JSON', () => {
  assert.deepEqual(sec('seccomp=unconfined').seccomp, { kind: 'unconfined' });
  assert.deepEqual(sec('seccomp:unconfined').seccomp, { kind: 'unconfined' });
  assert.deepEqual(sec('seccomp=builtin').seccomp, { kind: 'default' });
  const profile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  // The CLI reads the file and sends it inline; JSON may span lines and contain `=` and `:`.
  assert.deepEqual(sec(`seccomp=${JSON.stringify(profile, null, 2)}`).seccomp, { kind: 'custom', profile });
  assertBadOpt('seccomp={"defaultAction":', /not valid JSON/);
  assertBadOpt('seccomp=/etc/docker/seccomp.json', /not valid JSON/);
  assertBadOpt('seccomp', /invalid --security-opt: seccomp/);
});

test('parseSecurity: apparmor and label can only be turned off on this host', () => {
  assert.doesNotThrow(() => sec('apparmor=unconfined', 'apparmor:unconfined', 'label=disable', 'label:disable'));
  assertBadOpt('apparmor=docker-default', /AppArmor is not enabled/);
  assertBadOpt('label=type:svirt_apache_t', /SELinux is not enabled/);
});

test('parseSecurity: unknown options are refused, long ones shortened in the message', () => {
  assertBadOpt('bogus=1', /^invalid --security-opt: bogus=1$/);
  assertBadOpt('Seccomp=unconfined', /invalid --security-opt/);
  assertBadOpt(`x=${'a'.repeat(200)}`, /^invalid --security-opt: x=a{78}…$/);
});
