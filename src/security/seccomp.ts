/**
 * brig's default seccomp profile, built for one container's final capability set.
 *
 * Shape: an allowlist. Unknown syscalls get ENOSYS (the default action) so libc can fall back; every
 * known dangerous syscall gets an explicit EPERM rule; capability-gated syscalls are decided here,
 * at spec time, from the capabilities the container will hold. A name in an unconditional rule
 * appears in no other rule, and argument rules with different actions never match the same value,
 * so the outcome never depends on how libseccomp orders overlapping rules.
 */
import { normalizeCapability } from './capabilities.js';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './seccomp-types.js';
import { ALLOWED_SYSCALLS, CAPABILITY_SYSCALLS, DENIED_SYSCALLS } from './syscalls.js';

export type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './seccomp-types.js';

export const EPERM = 1;
export const ENOSYS = 38;

/** The native architecture and its compat ABIs: a 32-bit or x32 syscall is filtered like a 64-bit one. */
export const SECCOMP_ARCHITECTURES: readonly string[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};
const CLONE_NAMESPACE_MASK = Object.values(CLONE_NAMESPACE_FLAGS).reduce((a, b) => a + b, 0); // 0x7e020000

/**
 * personality() values allowed, as in Docker: PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000),
 * PER_LINUX32|UNAME26, and 0xffffffff (query the current persona). Everything else (notably
 * READ_IMPLIES_EXEC and ADDR_NO_RANDOMIZE) is refused, with ENOSYS (see personalityRules).
 */
export const ALLOWED_PERSONALITIES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** Address families socket() may create: all but AF_ALG (38, kernel crypto API) and AF_VSOCK (40). */
export const DENIED_SOCKET_FAMILIES: Readonly<Record<string, number>> = { AF_ALG: 38, AF_VSOCK: 40 };
/** Highest address family the kernel defines today (AF_MCTP); newer ones get ENOSYS until reviewed. */
const MAX_SOCKET_FAMILY = 45;

/** Options of `defaultSeccompProfile`. */
export interface DefaultProfileOptions {
  /**
   * Allow the 32-bit x86 and x32 syscall ABIs too (Docker's choice; `--compat docker`). brig's
   * default filters the native x86-64 ABI only: a 32-bit syscall (`int 0x80`) then kills the
   * process. That closes the `socketcall()` path around the socket-family filter (Copy Fail via
   * AF_ALG) and roughly halves the time libseccomp needs to compile the filter at every start.
   */
  compatArchitectures?: boolean;
}

/** The native architecture only (see DefaultProfileOptions). */
export const NATIVE_ARCHITECTURES: readonly string[] = ['SCMP_ARCH_X86_64'];

/**
 * brig's default profile for a container holding `caps` (canonical or short names).
 * The result is a fresh object the caller may embed in an OCI spec.
 */
export function defaultSeccompProfile(caps: readonly string[], options: DefaultProfileOptions = {}): OciSeccomp {
  const held = new Set(caps.map(normalizeCapability));
  const allowed = new Set(ALLOWED_SYSCALLS);
  const gated = new Set<string>();
  for (const [cap, names] of Object.entries(CAPABILITY_SYSCALLS)) {
    for (const name of names) {
      gated.add(name);
      if (held.has(cap)) allowed.add(name);
    }
  }
  const sysAdmin = held.has('CAP_SYS_ADMIN');
  if (sysAdmin) {
    allowed.add('clone');
    allowed.add('clone3');
  }
  const argFiltered = new Set(['socket', 'personality', ...(sysAdmin ? [] : ['clone', 'clone3'])]);
  const denied = [...DENIED_SYSCALLS, ...gated].filter((n) => !allowed.has(n) && !argFiltered.has(n));

  const syscalls: OciSeccompSyscall[] = [
    { names: [...allowed], action: 'SCMP_ACT_ALLOW' },
    { names: unique(denied), action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
    ...socketRules(),
    ...personalityRules(),
  ];
  if (!sysAdmin) syscalls.push(...cloneRules());
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    architectures: [...(options.compatArchitectures ? SECCOMP_ARCHITECTURES : NATIVE_ARCHITECTURES)],
    syscalls,
  };
}

/**
 * clone() without namespace flags is allowed; any namespace flag means EPERM (one rule per flag, so
 * the allow and deny rules never overlap). clone3's flags sit in a struct seccomp cannot read, so it
 * gets ENOSYS and libc falls back to clone(). That equals the default action, so runc drops the rule;
 * it is written anyway to state the intent and to survive a change of default.
 */
function cloneRules(): OciSeccompSyscall[] {
  return [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [masked(0, CLONE_NAMESPACE_MASK, 0)] },
    ...Object.values(CLONE_NAMESPACE_FLAGS).map(
      (flag): OciSeccompSyscall => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [masked(0, flag, flag)],
      }),
    ),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
  ];
}

/**
 * socket(): the family is an `int`, but seccomp sees the whole 64-bit register while the kernel
 * uses only its low 32 bits. So allowed families are matched exactly (no `> 40` range that garbage
 * upper bits could satisfy), and the denied ones are matched on the low 32 bits only. Families
 * above MAX_SOCKET_FAMILY and values with garbage upper bits get the ENOSYS default.
 */
function socketRules(): OciSeccompSyscall[] {
  const deniedValues = Object.values(DENIED_SOCKET_FAMILIES);
  const low = Math.min(...deniedValues);
  const exact: number[] = [];
  for (let f = low; f <= MAX_SOCKET_FAMILY; f++) if (!deniedValues.includes(f)) exact.push(f);
  return [
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: low, op: 'SCMP_CMP_LT' }] },
    ...exact.map((f): OciSeccompSyscall => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [cmpEq(0, f)] })),
    ...deniedValues.map(
      (f): OciSeccompSyscall => ({
        names: ['socket'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [masked(0, 0xffffffff, f)],
      }),
    ),
  ];
}

/**
 * personality(): only the listed values are allowed; any other value falls to the default (ENOSYS),
 * so it is refused all the same. An explicit EPERM for "every other value" is not worth its price:
 * each rule may compare the argument only once (runc splits a rule comparing one argument twice into
 * ORed rules), and covering the complement of these five values exactly takes at least 30 such rules
 * (no single comparison that avoids the allowed values matches two of the 30 values 1<<b, b not 3
 * or 17). The 33-rule version measured ~15 ms of extra libseccomp compile time per container start.
 */
function personalityRules(): OciSeccompSyscall[] {
  return ALLOWED_PERSONALITIES.map(
    (v): OciSeccompSyscall => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [cmpEq(0, v)] }),
  );
}

function masked(index: number, mask: number, value: number): OciSeccompArg {
  return { index, value: mask, valueTwo: value, op: 'SCMP_CMP_MASKED_EQ' };
}

function cmpEq(index: number, value: number): OciSeccompArg {
  return { index, value, op: 'SCMP_CMP_EQ' };
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}
