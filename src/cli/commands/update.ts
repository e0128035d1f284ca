/**
 * `brig update [OPTIONS] CONTAINER...`: resources and restart policy of existing containers, sent as
 * docker's full `UpdateConfig` (unset fields zero, which the daemon ignores). Prints each container
 * updated, then the daemon's warnings; errors go to stderr, exit 1.
 */
import { isApiError } from '../../client/api-error.js';
import type { ContainerUpdateRequest, RestartPolicy } from '../../client/types.js';
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { parseCpus, parseRestartPolicy, ramInBytes } from '../flag-values.js';
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

export { parseCpus, parseRestartPolicy, ramInBytes };

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
    CpuShares: intFlag('cpu-shares', v['cpu-shares'], 'c') ?? 0,
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
