/**
 * Docker-format seccomp profiles (`docker run --security-opt seccomp=FILE`; the CLI sends the file's
 * content as `seccomp=<json>` in HostConfig.SecurityOpt) converted to OCI `linux.seccomp`, with
 * Docker's rules for `archMap`, `name`/`names` and `includes`/`excludes` (caps, arches, minKernel).
 */
import { release } from 'node:os';
import { EngineError } from '../errors.js';
import { normalizeCapability } from './capabilities.js';
import {
  SECCOMP_ACTIONS,
  SECCOMP_OPERATORS,
  type OciSeccomp,
  type OciSeccompArg,
  type OciSeccompSyscall,
  type SeccompAction,
  type SeccompOperator,
} from './seccomp-types.js';

/** Docker's native architecture names (Go's GOARCH, with `x86` for 386) and their libseccomp names. */
const NATIVE_TO_SCMP: Readonly<Record<string, string>> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

export interface DockerProfileOptions {
  /** Docker's name for the native architecture (`amd64`, `arm64`, `x86`…); default `amd64`. */
  arch?: string;
  /** Kernel release for `minKernel` filters (`6.1.0-18-amd64`); default: this host's (`os.release()`). */
  kernelRelease?: string;
}

/**
 * Converts a Docker seccomp profile (parsed JSON, or its JSON text) into OCI `linux.seccomp` for a
 * container holding `caps`. Rules whose `includes` do not hold, or whose `excludes` do, are dropped.
 * @throws EngineError ERR_INVALID_ARGUMENT naming the offending field when the profile is malformed.
 */
export function dockerProfileToOci(json: unknown, caps: readonly string[], options: DockerProfileOptions = {}): OciSeccomp {
  const profile = typeof json === 'string' ? parseJson(json) : json;
  if (!isObject(profile)) throw invalid('the profile must be a JSON object');
  const arch = options.arch ?? 'amd64';
  const kernelRelease = options.kernelRelease ?? release();
  const held = new Set(caps.map(normalizeCapability));

  const out: OciSeccomp = { defaultAction: action(profile.defaultAction, 'defaultAction') };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = uint(profile.defaultErrnoRet, 'defaultErrnoRet');
  const architectures = optionalStrings(profile.architectures, 'architectures');
  const archMap = profile.archMap === undefined || profile.archMap === null ? [] : array(profile.archMap, 'archMap');
  if (architectures.length > 0 && archMap.length > 0) {
    throw invalid("both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'");
  }
  const archs = [...architectures];
  archMap.forEach((entry, i) => {
    if (!isObject(entry)) throw invalid(`archMap[${i}] must be an object`);
    const main = string(entry.architecture, `archMap[${i}].architecture`);
    if (main === NATIVE_TO_SCMP[arch]) archs.push(main, ...optionalStrings(entry.subArchitectures, `archMap[${i}].subArchitectures`));
  });
  if (archs.length > 0) out.architectures = archs;
  const flags = optionalStrings(profile.flags, 'flags');
  if (flags.length > 0) out.flags = flags;
  if (profile.listenerPath !== undefined && profile.listenerPath !== '') out.listenerPath = string(profile.listenerPath, 'listenerPath');
  if (profile.listenerMetadata !== undefined && profile.listenerMetadata !== '') {
    out.listenerMetadata = string(profile.listenerMetadata, 'listenerMetadata');
  }

  const rules = profile.syscalls === undefined || profile.syscalls === null ? [] : array(profile.syscalls, 'syscalls');
  const syscalls: OciSeccompSyscall[] = [];
  rules.forEach((raw, i) => {
    const where = `syscalls[${i}]`;
    if (!isObject(raw)) throw invalid(`${where} must be an object`);
    const rule = convertRule(raw, where);
    const ctx = { arch, kernelRelease, held };
    if (raw.excludes !== undefined && raw.excludes !== null && filterHits(raw.excludes, `${where}.excludes`, ctx, 'any')) return;
    if (raw.includes !== undefined && raw.includes !== null && !filterHits(raw.includes, `${where}.includes`, ctx, 'all')) return;
    syscalls.push(rule);
  });
  out.syscalls = syscalls;
  return out;
}

/** Parses a kernel release's first two numbers (`5.10.0-21-amd64` -> [5, 10]). */
export function parseKernel(text: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (!m) throw invalid(`${what} "${text}" is not of the form <major>.<minor>`);
  return [Number(m[1]), Number(m[2])];
}

function convertRule(raw: Record<string, unknown>, where: string): OciSeccompSyscall {
  const hasName = raw.name !== undefined && raw.name !== '';
  const hasNames = Array.isArray(raw.names) && raw.names.length > 0;
  if (hasName && hasNames) throw invalid(`${where}: use either 'name' or 'names'`);
  const names = hasName ? [string(raw.name, `${where}.name`)] : strings(raw.names, `${where}.names`);
  if (names.length === 0 || names.some((n) => n === '')) throw invalid(`${where}.names must list at least one syscall name`);
  const rule: OciSeccompSyscall = { names, action: action(raw.action, `${where}.action`) };
  if (raw.errnoRet !== undefined && raw.errnoRet !== null) {
    if (rule.action !== 'SCMP_ACT_ERRNO' && rule.action !== 'SCMP_ACT_TRACE') {
      throw invalid(`${where}.errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE`);
    }
    rule.errnoRet = uint(raw.errnoRet, `${where}.errnoRet`);
  }
  if (raw.args !== undefined && raw.args !== null) {
    const args = array(raw.args, `${where}.args`).map((a, j) => convertArg(a, `${where}.args[${j}]`));
    if (args.length > 0) rule.args = args;
  }
  return rule;
}

function convertArg(raw: unknown, where: string): OciSeccompArg {
  if (!isObject(raw)) throw invalid(`${where} must be an object`);
  const index = uint(raw.index, `${where}.index`);
  if (index > 5) throw invalid(`${where}.index must be between 0 and 5`);
  const op = raw.op;
  if (typeof op !== 'string' || !SECCOMP_OPERATORS.includes(op as SeccompOperator)) {
    throw invalid(`${where}.op: unknown operator ${JSON.stringify(op)}`);
  }
  const arg: OciSeccompArg = { index, value: uint(raw.value ?? 0, `${where}.value`), op: op as SeccompOperator };
  if (raw.valueTwo !== undefined && raw.valueTwo !== null) arg.valueTwo = uint(raw.valueTwo, `${where}.valueTwo`);
  return arg;
}

interface FilterContext {
  arch: string;
  kernelRelease: string;
  held: ReadonlySet<string>;
}

/**
 * `includes` holds when every listed condition holds ('all'); `excludes` drops the rule when any
 * listed condition holds ('any'). Within `caps`, includes needs all of them, excludes any of them.
 */
function filterHits(raw: unknown, where: string, ctx: FilterContext, mode: 'all' | 'any'): boolean {
  if (!isObject(raw)) throw invalid(`${where} must be an object`);
  const results: boolean[] = [];
  const arches = optionalStrings(raw.arches, `${where}.arches`);
  if (arches.length > 0) results.push(arches.includes(ctx.arch));
  const caps = optionalStrings(raw.caps, `${where}.caps`).map(canonicalOrRaw);
  if (caps.length > 0) results.push(mode === 'all' ? caps.every((c) => ctx.held.has(c)) : caps.some((c) => ctx.held.has(c)));
  if (raw.minKernel !== undefined && raw.minKernel !== null && raw.minKernel !== '') {
    const min = parseKernel(string(raw.minKernel, `${where}.minKernel`), `${where}.minKernel`);
    const kernel = parseKernel(ctx.kernelRelease, 'kernel release');
    results.push(kernel[0] > min[0] || (kernel[0] === min[0] && kernel[1] >= min[1]));
  }
  return mode === 'all' ? results.every(Boolean) : results.some(Boolean);
}

function canonicalOrRaw(name: string): string {
  try {
    return normalizeCapability(name);
  } catch {
    return name; // an unknown capability is never held, so the filter simply does not match
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EngineError('ERR_INVALID_ARGUMENT', `Decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
}

function action(value: unknown, where: string): SeccompAction {
  if (typeof value !== 'string' || !SECCOMP_ACTIONS.includes(value as SeccompAction)) {
    throw invalid(`${where}: unknown action ${JSON.stringify(value)}`);
  }
  return value as SeccompAction;
}

function uint(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${where} must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw invalid(`${where} must be a string`);
  return value;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value;
}

function strings(value: unknown, where: string): string[] {
  return array(value, where).map((v, i) => string(v, `${where}[${i}]`));
}

function optionalStrings(value: unknown, where: string): string[] {
  return value === undefined || value === null ? [] : strings(value, where);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): EngineError {
  return new EngineError('ERR_INVALID_ARGUMENT', `invalid seccomp profile: ${message}`);
}
