/**
 * A reference evaluator for OCI seccomp profiles: which action a syscall with given arguments gets.
 * Used by tests to compare profiles by behaviour, and by anything that wants to explain a profile.
 */
import { EngineError } from '../errors.js';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall, SeccompAction } from './seccomp-types.js';

/** What the kernel does with one call. */
export interface SeccompVerdict {
  action: SeccompAction;
  /** errno for SCMP_ACT_ERRNO (EPERM when the profile gives none, as runc does); undefined otherwise. */
  errno: number | undefined;
}

/**
 * The verdict for `syscall(args)` under `profile`, on one architecture the profile covers.
 * Arguments are unsigned 64-bit register values; missing ones are 0.
 * @throws EngineError ERR_INTERNAL when two matching rules disagree (an ambiguous profile: libseccomp's choice would
 *   depend on rule order, which brig's profiles must never rely on).
 */
export function evaluateSeccomp(profile: OciSeccomp, syscall: string, args: readonly (number | bigint)[] = []): SeccompVerdict {
  const regs = Array.from({ length: 6 }, (_, i) => BigInt.asUintN(64, BigInt(args[i] ?? 0)));
  const matching = (profile.syscalls ?? []).filter((r) => r.names.includes(syscall) && ruleMatches(r, regs));
  const verdicts = matching.map((r) => ({ action: r.action, errno: errnoOf(r.action, r.errnoRet) }));
  const first = verdicts[0];
  if (!first) return { action: profile.defaultAction, errno: errnoOf(profile.defaultAction, profile.defaultErrnoRet) };
  for (const v of verdicts) {
    if (v.action !== first.action || v.errno !== first.errno) {
      throw new EngineError('ERR_INTERNAL', `ambiguous seccomp profile: ${syscall}(${regs.join(', ')}) matches rules with different actions`);
    }
  }
  return first;
}

/** Whether the rule has no argument conditions (it decides every call of its syscalls). */
export function isUnconditional(rule: OciSeccompSyscall): boolean {
  return (rule.args ?? []).length === 0;
}

function ruleMatches(rule: OciSeccompSyscall, regs: readonly bigint[]): boolean {
  return (rule.args ?? []).every((a) => argMatches(a, regs[a.index] ?? 0n));
}

function argMatches(cond: OciSeccompArg, reg: bigint): boolean {
  const value = BigInt(cond.value);
  switch (cond.op) {
    case 'SCMP_CMP_NE':
      return reg !== value;
    case 'SCMP_CMP_LT':
      return reg < value;
    case 'SCMP_CMP_LE':
      return reg <= value;
    case 'SCMP_CMP_EQ':
      return reg === value;
    case 'SCMP_CMP_GE':
      return reg >= value;
    case 'SCMP_CMP_GT':
      return reg > value;
    case 'SCMP_CMP_MASKED_EQ':
      return (reg & value) === BigInt(cond.valueTwo ?? 0);
  }
}

function errnoOf(action: SeccompAction, errnoRet: number | undefined): number | undefined {
  return action === 'SCMP_ACT_ERRNO' ? (errnoRet ?? 1) : undefined;
}
