import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { DOCKER_DEFAULT_CAPS } from './capabilities.js';
import { dockerProfileToOci, parseKernel } from './seccomp-docker.js';
import { evaluateSeccomp } from './seccomp-eval.js';

const REFERENCE = resolve(process.cwd(), '../shared/reference/dockerd-20.10-default-oci-config.json');
const CAPS = [...DOCKER_DEFAULT_CAPS];
const OPTS = { arch: 'amd64', kernelRelease: '5.10.0-21-amd64' };

const rule = (extra: Record<string, unknown>) => ({ names: ['getpid'], action: 'SCMP_ACT_ALLOW', ...extra });
const convert = (profile: unknown, caps: string[] = CAPS, opts = OPTS) => dockerProfileToOci(profile, caps, opts);
const namesOf = (p: ReturnType<typeof convert>) => (p.syscalls ?? []).flatMap((r) => r.names);

function invalid(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
    assert.match(err.message, pattern);
    return true;
  });
}

test('an OCI profile (Docker 20.10 output) converts to itself', () => {
  assert.ok(existsSync(REFERENCE), `reference file missing: ${REFERENCE}`);
  const seccomp = (JSON.parse(readFileSync(REFERENCE, 'utf8')) as { linux: { seccomp: unknown } }).linux.seccomp;
  const out = convert(seccomp);
  assert.deepEqual(JSON.parse(JSON.stringify(out)), seccomp);
  // And from the JSON text the docker CLI puts into SecurityOpt (`seccomp=<json>`).
  assert.deepEqual(convert(JSON.stringify(seccomp)), out);
});

test('top-level fields: defaultErrnoRet, flags, architectures, archMap', () => {
  const out = convert({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [],
  });
  assert.deepEqual(out, {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [],
  });
  const arm = convert({ defaultAction: 'SCMP_ACT_ALLOW', archMap: [{ architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }] }, CAPS, { ...OPTS, arch: 'arm64' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(convert({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] }).architectures, ['SCMP_ARCH_X86_64']);
  assert.equal(convert({ defaultAction: 'SCMP_ACT_ALLOW' }).architectures, undefined);
});

test('name and names', () => {
  const out = convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', action: 'SCMP_ACT_ALLOW' }, rule({ names: ['write', 'close'] })] });
  assert.deepEqual(out.syscalls, [
    { names: ['read'], action: 'SCMP_ACT_ALLOW' },
    { names: ['write', 'close'], action: 'SCMP_ACT_ALLOW' },
  ]);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }), /syscalls\[0\].*either 'name' or 'names'/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }), /syscalls\[0\]\.names/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] }), /syscalls\[0\]\.names must be an array/);
});

test('includes and excludes: caps (all / any), arches, minKernel', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT', 'CAP_SYS_PTRACE'] } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['breakpoint'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['newfangled'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.2' } },
      { names: ['oldthing'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { minKernel: '5.4' } },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['sys_admin'] } },
    ],
  };
  assert.deepEqual(namesOf(convert(profile)), ['chroot', 'clone', 'arch_prctl', 'ptrace']);
  assert.deepEqual(namesOf(convert(profile, [...CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'])), ['mount', 'chroot', 'kcmp', 'arch_prctl', 'ptrace', 'socket']);
  assert.deepEqual(namesOf(convert(profile, CAPS, { arch: 's390x', kernelRelease: '6.6.1' })), ['chroot', 'ptrace', 'newfangled']);
  assert.deepEqual(namesOf(convert(profile, CAPS, { arch: 'amd64', kernelRelease: '4.4.0' })), ['chroot', 'clone', 'arch_prctl', 'oldthing']);
});

test('args, errnoRet and actions are carried over and checked', () => {
  const out = convert({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 8, op: 'SCMP_CMP_NE' }] },
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['uname'], action: 'SCMP_ACT_LOG', args: null, comment: 'ignored' },
    ],
  });
  assert.deepEqual(evaluateSeccomp(out, 'personality', [0x400000]), { action: 'SCMP_ACT_ERRNO', errno: 22 });
  assert.equal(evaluateSeccomp(out, 'personality', [8]).action, 'SCMP_ACT_ALLOW');
  assert.deepEqual(evaluateSeccomp(out, 'clone', [0x10000011]), { action: 'SCMP_ACT_ERRNO', errno: 1 });
  assert.deepEqual(out.syscalls![2], { names: ['uname'], action: 'SCMP_ACT_LOG' });
});

test('malformed profiles are refused with the field named', () => {
  invalid(() => convert('{"defaultAction": '), /^Decoding seccomp profile failed/);
  invalid(() => convert([]), /must be a JSON object/);
  invalid(() => convert({}), /defaultAction: unknown action undefined/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_NOPE' }), /defaultAction: unknown action "SCMP_ACT_NOPE"/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }), /defaultErrnoRet/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }), /either 'architectures' or 'archMap'/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', archMap: [{}] }), /archMap\[0\]\.architecture must be a string/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: {} }), /syscalls must be an array/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: ['read'] }), /syscalls\[0\] must be an object/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ action: 'ALLOW' })] }), /syscalls\[0\]\.action: unknown action "ALLOW"/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ errnoRet: 1 })] }), /syscalls\[0\]\.errnoRet is only valid/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] })] }), /args\[0\]\.index must be between 0 and 5/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ args: [{ index: 0, value: 1, op: 'EQ' }] })] }), /args\[0\]\.op: unknown operator "EQ"/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ args: [{ index: 0, value: -5, op: 'SCMP_CMP_EQ' }] })] }), /args\[0\]\.value must be an integer/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] })] }), /args\[0\]\.value/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ includes: { caps: 'CAP_SYS_ADMIN' } })] }), /includes\.caps must be an array/);
  invalid(() => convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule({ includes: { minKernel: 'new' } })] }), /minKernel "new"/);
});

test('parseKernel', () => {
  assert.deepEqual(parseKernel('6.18.44-fc-v657', 'k'), [6, 18]);
  assert.deepEqual(parseKernel('4.8', 'k'), [4, 8]);
  assert.throws(() => parseKernel('x', 'k'), { code: 'ERR_INVALID_ARGUMENT' });
});
