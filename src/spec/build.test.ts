import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import type { ResourceSpec, SecuritySpec } from '../model/container.js';
import { BRIG_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, capabilitiesFromMask } from '../security/capabilities.js';
import { MASKED_PATHS } from '../security/paths.js';
import { defaultSeccompProfile } from '../security/seccomp.js';
import { evaluateSeccomp } from '../security/seccomp-eval.js';
import { DEFAULT_NOFILE, PRIVATE_NETNS_SYSCTLS, buildOciSpec, type SpecInput } from './build.js';
import type { OciSpec } from './oci.js';

const REFERENCE = resolve(process.cwd(), '../shared/reference/dockerd-20.10-default-oci-config.json');
const HOST_BOUNDING = capabilitiesFromMask('000001fffeffffff'); // this machine kind: no CAP_SYS_RESOURCE
const THERMAL = ['/sys/devices/system/cpu/cpu0/thermal_throttle', '/sys/devices/system/cpu/cpu1/thermal_throttle'];

function reference(): OciSpec {
  assert.ok(existsSync(REFERENCE), `reference file missing: ${REFERENCE} (the golden spec tests compare against it)`);
  return JSON.parse(readFileSync(REFERENCE, 'utf8')) as OciSpec;
}

const security = (o: Partial<SecuritySpec> = {}): SecuritySpec => ({
  privileged: false,
  capAdd: [],
  capDrop: [],
  noNewPrivileges: true,
  seccomp: { kind: 'default' },
  readonlyRootfs: false,
  ...o,
});

const resources = (o: Partial<ResourceSpec> = {}): ResourceSpec => ({
  pidsLimit: null,
  memory: 0,
  memorySwap: 0,
  cpuShares: 0,
  nanoCpus: 0,
  cpuQuota: 0,
  cpuPeriod: 0,
  ...o,
});

/** The input for the reference container: `docker run busybox sleep 300`. */
function busybox(o: Partial<SpecInput> = {}, compat: 'brig' | 'docker' = 'brig'): SpecInput {
  return {
    id: '324b1d3a8b057ecce70e886622c35964264acca805e13dff0f23a99a398c668e',
    rootfsPath: '/var/lib/brig/rootfs/324b1d3a8b05',
    args: ['sleep', '300'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=324b1d3a8b05'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [0] },
    terminal: false,
    hostname: '324b1d3a8b05',
    domainname: '',
    security: security(),
    resources: resources(),
    daemon: {
      compat,
      defaultPidsLimit: 2048,
      hostBounding: HOST_BOUNDING,
      hostRlimits: { nofile: [20000, 20000], nproc: [96551, 96551] },
      thermalThrottlePaths: THERMAL,
    },
    cgroupsPath: '/brig/324b1d3a8b057ecce70e886622c35964264acca805e13dff0f23a99a398c668e',
    netnsPath: null,
    extraMounts: [],
    ...o,
  };
}

const DEFAULT_DESTS = ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'];

test('golden: busybox in docker mode matches the spec dockerd generated', () => {
  const ref = reference();
  const spec = buildOciSpec(busybox({}, 'docker'));

  assert.deepEqual(spec.process.capabilities, ref.process.capabilities ? {
    bounding: ref.process.capabilities.bounding,
    effective: ref.process.capabilities.effective,
    permitted: ref.process.capabilities.permitted,
  } : undefined);
  assert.deepEqual(spec.process.user, ref.process.user);
  assert.deepEqual(spec.process.args, ref.process.args);
  assert.deepEqual(spec.process.env, ref.process.env);
  assert.equal(spec.process.cwd, ref.process.cwd);
  assert.equal(spec.hostname, ref.hostname);
  assert.equal('oomScoreAdj' in spec.process, false);

  // The seven default mounts, byte for byte, in Docker's order.
  assert.deepEqual(spec.mounts, ref.mounts.filter((m) => DEFAULT_DESTS.includes(m.destination)));
  assert.deepEqual(spec.linux.resources!.devices, ref.linux.resources!.devices);
  assert.deepEqual(spec.linux.readonlyPaths, ref.linux.readonlyPaths);
  assert.deepEqual(spec.linux.sysctl, ref.linux.sysctl);

  // Masked: everything Docker 20.10 masked, plus the later side-channel additions and thermal_throttle.
  const masked = spec.linux.maskedPaths!;
  for (const p of ref.linux.maskedPaths!) assert.ok(masked.includes(p), `${p} must stay masked`);
  assert.deepEqual(
    masked.filter((p) => !ref.linux.maskedPaths!.includes(p)),
    ['/proc/interrupts', '/sys/devices/virtual/powercap', ...THERMAL],
  );

  // Namespaces: Docker's five plus a private cgroup namespace.
  const types = spec.linux.namespaces.map((n) => n.type);
  assert.deepEqual(types.slice(0, 5), ref.linux.namespaces.map((n) => n.type));
  assert.deepEqual(types.slice(5), ['cgroup']);

  assert.equal(spec.root.path, busybox().rootfsPath);
  assert.equal(spec.root.readonly, false);
  assert.equal(spec.ociVersion, ref.ociVersion);
  assert.deepEqual(spec.linux.seccomp, defaultSeccompProfile(DOCKER_DEFAULT_CAPS, { compatArchitectures: true }));
});

test('golden: brig mode is the same spec with NET_RAW, MKNOD and AUDIT_WRITE dropped', () => {
  const ref = reference();
  const spec = buildOciSpec(busybox());
  const expected = ref.process.capabilities!.bounding.filter((c) => !['CAP_NET_RAW', 'CAP_MKNOD', 'CAP_AUDIT_WRITE'].includes(c));
  assert.deepEqual(spec.process.capabilities, { bounding: expected, effective: expected, permitted: expected });
  assert.equal('inheritable' in spec.process.capabilities!, false);
  assert.equal('ambient' in spec.process.capabilities!, false);
  assert.deepEqual(spec.linux.seccomp, defaultSeccompProfile(BRIG_DEFAULT_CAPS));
  assert.equal(spec.process.noNewPrivileges, true);
  assert.deepEqual(spec.linux.resources!.pids, { limit: 2048 });
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }], 'clamped to the host hard limit');
  const docker = buildOciSpec(busybox({}, 'docker'));
  assert.deepEqual({ ...spec, process: { ...spec.process, capabilities: undefined }, linux: { ...spec.linux, seccomp: undefined } },
    { ...docker, process: { ...docker.process, capabilities: undefined }, linux: { ...docker.linux, seccomp: undefined } });
});

test('privileged: host bounding set, no seccomp, no masks, writable /sys and cgroupfs, all devices', () => {
  const spec = buildOciSpec(busybox({ security: security({ privileged: true, capDrop: ['ALL'], seccomp: { kind: 'default' } }) }));
  assert.deepEqual(spec.process.capabilities!.bounding, HOST_BOUNDING);
  assert.ok(!spec.process.capabilities!.bounding.includes('CAP_SYS_RESOURCE'));
  assert.equal(spec.linux.seccomp, undefined);
  assert.equal(spec.linux.maskedPaths, undefined);
  assert.equal(spec.linux.readonlyPaths, undefined);
  assert.deepEqual(spec.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  const sys = spec.mounts.find((m) => m.destination === '/sys')!;
  const cg = spec.mounts.find((m) => m.destination === '/sys/fs/cgroup')!;
  assert.deepEqual(sys.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(cg.options, ['nosuid', 'noexec', 'nodev']);
  assert.equal(spec.linux.devices, undefined, 'host /dev nodes are not populated yet');
});

test('cap-add / cap-drop / ALL reach the spec, and seccomp follows the final caps', () => {
  const addAdmin = buildOciSpec(busybox({ security: security({ capAdd: ['SYS_ADMIN'] }) }));
  assert.ok(addAdmin.process.capabilities!.effective.includes('CAP_SYS_ADMIN'));
  assert.equal(evaluateSeccomp(addAdmin.linux.seccomp!, 'mount').action, 'SCMP_ACT_ALLOW');

  const dropAll = buildOciSpec(busybox({ security: security({ capDrop: ['ALL'], capAdd: ['CHOWN'] }) }));
  assert.deepEqual(dropAll.process.capabilities!.bounding, ['CAP_CHOWN']);
  assert.deepEqual(evaluateSeccomp(dropAll.linux.seccomp!, 'chroot'), { action: 'SCMP_ACT_ERRNO', errno: 1 });

  const addAll = buildOciSpec(busybox({ security: security({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }) }));
  assert.deepEqual(addAll.process.capabilities!.bounding, HOST_BOUNDING.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(evaluateSeccomp(addAll.linux.seccomp!, 'mount'), { action: 'SCMP_ACT_ERRNO', errno: 1 });
  assert.ok(addAll.linux.maskedPaths!.length > 0, 'cap-add ALL is not privileged');

  assert.throws(() => buildOciSpec(busybox({ security: security({ capAdd: ['FLY'] }) })), { code: 'ERR_INVALID_ARGUMENT' });
});

test('non-root user keeps the same sets (execve clears them), inheritable and ambient stay empty', () => {
  const spec = buildOciSpec(busybox({ user: { uid: 1000, gid: 1000, additionalGids: [] } }));
  assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000 });
  assert.deepEqual(spec.process.capabilities!.effective, [...BRIG_DEFAULT_CAPS]);
  assert.deepEqual(Object.keys(spec.process.capabilities!).sort(), ['bounding', 'effective', 'permitted']);
});

test('seccomp kinds: unconfined omits it, custom converts a Docker profile', () => {
  assert.equal(buildOciSpec(busybox({ security: security({ seccomp: { kind: 'unconfined' } }) })).linux.seccomp, undefined);
  const custom = buildOciSpec(
    busybox({
      security: security({
        seccomp: {
          kind: 'custom',
          profile: {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_FOWNER'] } }, { name: 'mkdir', action: 'SCMP_ACT_ERRNO' }],
          },
        },
      }),
    }),
  );
  assert.deepEqual(custom.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.throws(
    () => buildOciSpec(busybox({ security: security({ seccomp: { kind: 'custom', profile: '{bad' } }) })),
    { code: 'ERR_INVALID_ARGUMENT' },
  );
});

test('pids: daemon default, explicit, and unlimited', () => {
  assert.deepEqual(buildOciSpec(busybox()).linux.resources!.pids, { limit: 2048 });
  assert.deepEqual(buildOciSpec(busybox({ resources: resources({ pidsLimit: 32 }) })).linux.resources!.pids, { limit: 32 });
  assert.equal(buildOciSpec(busybox({ resources: resources({ pidsLimit: 0 }) })).linux.resources!.pids, undefined);
  assert.equal(buildOciSpec(busybox({ resources: resources({ pidsLimit: -1 }) })).linux.resources!.pids, undefined);
});

test('memory and cpu come from the ResourceSpec', () => {
  const r = buildOciSpec(busybox({ resources: resources({ memory: 67108864, memorySwap: 67108864, cpuShares: 512, nanoCpus: 500_000_000 }) }))
    .linux.resources!;
  assert.deepEqual(r.memory, { limit: 67108864, swap: 67108864 });
  assert.deepEqual(r.cpu, { shares: 512, period: 100000, quota: 50000 });
  const q = buildOciSpec(busybox({ resources: resources({ memory: 1 << 20, memorySwap: -1, cpuQuota: 25000, cpuPeriod: 50000 }) })).linux.resources!;
  assert.deepEqual(q.memory, { limit: 1 << 20, swap: -1 });
  assert.deepEqual(q.cpu, { period: 50000, quota: 25000 });
  const none = buildOciSpec(busybox()).linux.resources!;
  assert.equal(none.memory, undefined);
  assert.equal(none.cpu, undefined);
});

test('rlimits: 1048576 when the host allows it', () => {
  const spec = buildOciSpec(busybox({ daemon: { ...busybox().daemon, hostRlimits: { nofile: [1024, 4194304], nproc: [1, 1] } } }));
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: DEFAULT_NOFILE, soft: DEFAULT_NOFILE }]);
});

test('process and root options', () => {
  const spec = buildOciSpec(
    busybox({
      terminal: true,
      consoleSize: [40, 120],
      domainname: 'example.org',
      security: security({ readonlyRootfs: true, noNewPrivileges: false }),
    }),
  );
  assert.equal(spec.process.terminal, true);
  assert.deepEqual(spec.process.consoleSize, { height: 40, width: 120 });
  assert.equal(spec.domainname, 'example.org');
  assert.deepEqual(spec.root, { path: busybox().rootfsPath, readonly: true });
  assert.equal(spec.process.noNewPrivileges, false);
  assert.equal(buildOciSpec(busybox({ consoleSize: [40, 120] })).process.consoleSize, undefined, 'no terminal, no console size');
});

test('network namespace: join a path, no default sysctls for it', () => {
  const spec = buildOciSpec(busybox({ netnsPath: '/run/brig/netns/abc' }));
  assert.deepEqual(spec.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/brig/netns/abc' });
  assert.equal(spec.linux.sysctl, undefined);
  const withSysctl = buildOciSpec(busybox({ netnsPath: '/run/brig/netns/abc', sysctl: { ...PRIVATE_NETNS_SYSCTLS } }));
  assert.deepEqual(withSysctl.linux.sysctl, PRIVATE_NETNS_SYSCTLS);
  assert.deepEqual(buildOciSpec(busybox()).linux.namespaces.find((n) => n.type === 'network'), { type: 'network' });
});

test('host networking: no network namespace and no network sysctls, the other namespaces stay', () => {
  const spec = buildOciSpec(busybox({ hostNetwork: true }));
  assert.deepEqual(spec.linux.namespaces.map((n) => n.type), ['mount', 'uts', 'pid', 'ipc', 'cgroup']);
  assert.equal(spec.linux.sysctl, undefined);
});

test('user mounts replace the defaults at the same destination', () => {
  const shm = { destination: '/dev/shm/', type: 'tmpfs', source: 'tmpfs', options: ['size=1g'] };
  const hosts = { destination: '/etc/hosts', type: 'bind', source: '/x/hosts', options: ['rbind', 'rprivate'] };
  const spec = buildOciSpec(busybox({ extraMounts: [shm, hosts], shmSize: 1 }));
  assert.deepEqual(spec.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm/', '/etc/hosts']);
  const dev = buildOciSpec(busybox({ extraMounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }] }));
  assert.deepEqual(dev.mounts.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
  const small = buildOciSpec(busybox({ shmSize: 1048576 })).mounts.find((m) => m.destination === '/dev/shm')!;
  assert.ok(small.options!.includes('size=1048576'));
});

test('the spec is plain JSON and the input is not shared with it', () => {
  const input = busybox();
  const spec = buildOciSpec(input);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  spec.process.args.push('x');
  spec.linux.maskedPaths!.push('/y');
  assert.deepEqual(input.args, ['sleep', '300']);
  assert.ok(!MASKED_PATHS.includes('/y'));
});
