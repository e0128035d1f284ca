/**
 * `brig update [OPTIONS] CONTAINER...`: resources and restart policy of existing containers, sent as
 * docker's full `UpdateConfig` (unset fields zero, which the daemon ignores). Prints each container
 * updated, then the daemon's warnings; errors go to stderr, exit 1.
 */
import { isApiError } from '../../client/api-error.js';
import type { ContainerUpdateRequest, RestartPolicy } from '../../client/types.js';
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {
  'cpu-period': { type: 'string', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  'cpu-quota': { type: 'string', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  'cpu-shares': { type: 'string', short: 'c', valueName: 'int', description: 'CPU shares (relative weight)' },
  cpus: { type: 'string', valueName: 'decimal', description: 'Number of CPUs' },
  memory: { type: 'string', short: 'm', valueName: 'bytes', description: 'Memory limit' },
  'memory-swap': { type: 'string', valueName: 'bytes', description: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
  'pids-limit': { type: 'string', valueName: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  restart: { type: 'string', valueName: 'string', description: 'Restart policy to apply when a container exits' },
} as const satisfies OptionSpecs;

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units `RAMInBytes`: `512m`, `1.5g`, `1024`, `2 GiB` (binary multiples, case-insensitive). */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  const num = size[sep] === ' ' ? size.slice(0, sep) : size.slice(0, sep + 1);
  let sfx = size.slice(sep + 1);
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(num)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  }
  let value = Number(num);
  if (value < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx === '') return Math.trunc(value);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(value);
  }
  const mul = BINARY[sfx[0]!];
  if (mul === undefined) throw bad();
  value *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(value);
}

/** docker's `ParseCPUs`: a rational number of CPUs (`1.5`, `3/2`, `2e-1`) → nano CPUs, exactly. */
export function parseCpus(value: string): number {
  const fail = () => new Error(`failed to parse ${value} as a rational number`);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?[0-9]+)\/([0-9]+)$/.exec(value);
  const dec = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
    if (den === 0n) throw fail();
  } else if (dec && (dec[2] !== '' || (dec[3] ?? '') !== '')) {
    const digits = `${dec[2]}${dec[3] ?? ''}`;
    const exp = Number(dec[4] ?? '0') - (dec[3] ?? '').length;
    num = BigInt(digits || '0') * (exp > 0 ? 10n ** BigInt(exp) : 1n);
    den = exp < 0 ? 10n ** BigInt(-exp) : 1n;
    if (dec[1] === '-') num = -num;
  } else {
    throw fail();
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/** docker's `ParseRestartPolicy`: `NAME[:MAX_RETRIES]`; the daemon validates the name. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon === -1 ? policy : policy.slice(0, colon);
  const count = colon === -1 ? '' : policy.slice(colon + 1);
  if (colon !== -1 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?[0-9]+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

function flagValue<T>(flag: string, value: string | undefined, parse: (v: string) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw new UsageError(`invalid argument "${value}" for "${flag}" flag: ${(err as Error).message}`);
  }
}

type UpdateValues = { [K in keyof typeof options]?: string };

/** The request body `docker update` sends for these flags. */
export function buildUpdateBody(v: UpdateValues): ContainerUpdateRequest {
  const memory = flagValue('-m, --memory', v.memory, ramInBytes) ?? 0;
  const memorySwap = flagValue('--memory-swap', v['memory-swap'], (s) => (s === '-1' ? -1 : ramInBytes(s))) ?? 0;
  const nanoCpus = flagValue('--cpus', v.cpus, parseCpus) ?? 0;
  const pidsLimit = intFlag('pids-limit', v['pids-limit']) ?? 0;
  let restartPolicy: RestartPolicy = { Name: '', MaximumRetryCount: 0 };
  if (v.restart !== undefined && v.restart !== '') {
    try {
      restartPolicy = parseRestartPolicy(v.restart);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    CpuShares: intFlag('cpu-shares', v['cpu-shares']) ?? 0,
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: intFlag('cpu-period', v['cpu-period']) ?? 0,
    CpuQuota: intFlag('cpu-quota', v['cpu-quota']) ?? 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: memorySwap,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: pidsLimit !== 0 ? pidsLimit : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restartPolicy,
  };
}

export const updateCommand: Command = {
  name: 'update',
  summary: 'Update configuration of one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig update" requires at least 1 argument.');
    const given = Object.entries(values).filter(([k, v]) => k !== 'help' && v !== undefined);
    if (given.length === 0) throw new UsageError('you must provide one or more flags when using this command');
    const body = buildUpdateBody(values);
    const client = ctx.client();
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of positionals) {
      try {
        const r = await client.updateContainer(name, body);
        await write(ctx.stdout, `${name}\n`);
        warnings.push(...(r.Warnings ?? []));
      } catch (err) {
        if (!isApiError(err)) throw err;
        errors.push(`Error response from daemon: ${err.message}`);
      }
    }
    if (warnings.length > 0) await write(ctx.stdout, `${warnings.join('\n')}\n`);
    if (errors.length > 0) await write(ctx.stderr, `${errors.join('\n')}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};
