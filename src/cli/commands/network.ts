/**
 * `brig network create|ls|inspect|rm|prune|connect|disconnect`, printing what `docker network …`
 * prints: the new ID, the `NETWORK ID  NAME  DRIVER  SCOPE` table (sorted by name), inspect's JSON
 * array, the removed names, `Deleted Networks:`. Daemon errors print `Error response from daemon: …`
 * and exit 1.
 */
import { isApiError } from '../../client/api-error.js';
import type { NetworkCreateRequest } from '../../client/types.js';
import { flagValue, formatOptions, parseCommandArgs, type OptionSpecs } from '../args.js';
import { HelpRequested, UsageError, write, type CliContext, type Command } from '../command.js';
import { parseFilters } from '../filters.js';
import { formatTable } from '../output/table.js';
import { kvToMap, validateLabel } from './container-flags.js';
import { confirm } from './image-local.js';

const createOptions = {
  attachable: { type: 'boolean', description: 'Enable manual container attachment' },
  driver: { type: 'string', short: 'd', description: 'Driver to manage the Network (default "bridge")' },
  gateway: { type: 'string', multiple: true, valueName: 'strings', description: 'IPv4 Gateway for the master subnet' },
  internal: { type: 'boolean', description: 'Restrict external access to the network' },
  'ip-range': { type: 'string', multiple: true, valueName: 'strings', description: 'Allocate container ip from a sub-range' },
  ipv6: { type: 'boolean', description: 'Enable IPv6 networking' },
  label: { type: 'string', multiple: true, description: 'Set metadata on a network' },
  opt: { type: 'string', short: 'o', multiple: true, valueName: 'map', description: 'Set driver specific options (default map[])' },
  subnet: { type: 'string', multiple: true, valueName: 'strings', description: 'Subnet in CIDR format that represents a network segment' },
} as const satisfies OptionSpecs;

/** The `POST /networks/create` body of `docker network create` for these flags. */
export function buildNetworkCreateBody(name: string, v: {
  driver?: string | undefined; subnet?: string[] | undefined; gateway?: string[] | undefined; 'ip-range'?: string[] | undefined;
  internal?: boolean | undefined; attachable?: boolean | undefined; ipv6?: boolean | undefined; label?: string[] | undefined; opt?: string[] | undefined;
}): NetworkCreateRequest {
  const subnets = v.subnet ?? [];
  const gateways = v.gateway ?? [];
  const ranges = v['ip-range'] ?? [];
  if (gateways.length > subnets.length || ranges.length > subnets.length) {
    throw new UsageError('every ip-range or gateway must have a corresponding subnet');
  }
  return {
    Name: name,
    CheckDuplicate: true,
    Driver: v.driver ?? 'bridge',
    ...(v.ipv6 === true ? { EnableIPv6: true } : {}),
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: subnets.map((Subnet, i) => ({ Subnet, ...(ranges[i] ? { IPRange: ranges[i] } : {}), ...(gateways[i] ? { Gateway: gateways[i] } : {}) })),
    },
    Internal: v.internal === true,
    Attachable: v.attachable === true,
    Ingress: false,
    ConfigOnly: false,
    ConfigFrom: null,
    Options: kvToMap(v.opt ?? []),
    Labels: kvToMap((v.label ?? []).map((l) => flagValue(createOptions, 'label', l, validateLabel)!)),
  };
}

/** Runs `fn`, printing a daemon error docker's way (exit 1). */
async function daemonCall(ctx: CliContext, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (!isApiError(err)) throw err;
    await write(ctx.stderr, `Error response from daemon: ${err.message}\n`);
    return 1;
  }
}

async function create(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(createOptions, args);
  if (positionals.length !== 1) throw new UsageError('"brig network create" requires exactly 1 argument.');
  const body = buildNetworkCreateBody(positionals[0]!, values);
  return daemonCall(ctx, async () => {
    const r = await ctx.client().createNetwork(body);
    if (r.Warning) await write(ctx.stderr, `WARNING: ${r.Warning}\n`);
    await write(ctx.stdout, `${r.Id}\n`);
    return 0;
  });
}

const lsOptions = {
  filter: { type: 'string', short: 'f', multiple: true, valueName: 'filter', description: 'Provide filter values (e.g. "driver=bridge")' },
  'no-trunc': { type: 'boolean', description: 'Do not truncate the output' },
  quiet: { type: 'boolean', short: 'q', description: 'Only display network IDs' },
} as const satisfies OptionSpecs;

async function ls(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(lsOptions, args);
  if (positionals.length > 0) throw new UsageError('"brig network ls" accepts no arguments.');
  const filters = parseFilters(values.filter);
  return daemonCall(ctx, async () => {
    const list = (await ctx.client().listNetworks(filters ? { filters } : {})).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const id = (x: string) => (values['no-trunc'] === true ? x : x.slice(0, 12));
    if (values.quiet === true) await write(ctx.stdout, list.map((n) => `${id(n.Id)}\n`).join(''));
    else await write(ctx.stdout, formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], list.map((n) => [id(n.Id), n.Name, n.Driver, n.Scope])));
    return 0;
  });
}

async function inspect(ctx: CliContext, args: string[]): Promise<number> {
  const { positionals } = parseCommandArgs({}, args);
  if (positionals.length === 0) throw new UsageError('"brig network inspect" requires at least 1 argument.');
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of positionals) {
    try {
      found.push(await ctx.client().inspectNetwork(name));
    } catch (err) {
      if (!isApiError(err)) throw err;
      errors.push(err.status === 404 ? `Error: No such network: ${name}` : `Error response from daemon: ${err.message}`);
    }
  }
  await write(ctx.stdout, `${JSON.stringify(found, null, 4)}\n`);
  for (const e of errors) await write(ctx.stderr, `${e}\n`);
  return errors.length > 0 ? 1 : 0;
}

async function rm(ctx: CliContext, args: string[]): Promise<number> {
  const { positionals } = parseCommandArgs({}, args);
  if (positionals.length === 0) throw new UsageError('"brig network rm" requires at least 1 argument.');
  let status = 0;
  for (const name of positionals) {
    status = Math.max(status, await daemonCall(ctx, async () => {
      await ctx.client().removeNetwork(name);
      await write(ctx.stdout, `${name}\n`);
      return 0;
    }));
  }
  return status;
}

const pruneOptions = {
  filter: { type: 'string', multiple: true, valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
  force: { type: 'boolean', short: 'f', description: 'Do not prompt for confirmation' },
} as const satisfies OptionSpecs;

async function prune(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(pruneOptions, args);
  if (positionals.length > 0) throw new UsageError('"brig network prune" accepts no arguments.');
  const filters = parseFilters(values.filter);
  if (values.force !== true && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
  return daemonCall(ctx, async () => {
    const r = await ctx.client().pruneNetworks(filters ? { filters } : {});
    const names = r.NetworksDeleted ?? [];
    if (names.length > 0) await write(ctx.stdout, `Deleted Networks:\n${names.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  });
}

const connectOptions = {
  alias: { type: 'string', multiple: true, valueName: 'strings', description: 'Add network-scoped alias for the container' },
  ip: { type: 'string', description: 'IPv4 address (e.g., "172.30.100.104")' },
} as const satisfies OptionSpecs;

async function connect(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(connectOptions, args);
  if (positionals.length !== 2) throw new UsageError('"brig network connect" requires exactly 2 arguments.');
  const endpoint = {
    ...(values.ip ? { IPAMConfig: { IPv4Address: values.ip } } : {}),
    ...(values.alias?.length ? { Aliases: values.alias } : {}),
  };
  return daemonCall(ctx, async () => {
    await ctx.client().connectNetwork(positionals[0]!, positionals[1]!, endpoint);
    return 0;
  });
}

const disconnectOptions = { force: { type: 'boolean', short: 'f', description: 'Force the container to disconnect from a network' } } as const satisfies OptionSpecs;

async function disconnect(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(disconnectOptions, args);
  if (positionals.length !== 2) throw new UsageError('"brig network disconnect" requires exactly 2 arguments.');
  return daemonCall(ctx, async () => {
    await ctx.client().disconnectNetwork(positionals[0]!, positionals[1]!, values.force === true);
    return 0;
  });
}

const SUBCOMMANDS: Record<string, { summary: string; usage: string; options: OptionSpecs; aliases?: string[]; run: typeof create }> = {
  connect: { summary: 'Connect a container to a network', usage: '[OPTIONS] NETWORK CONTAINER', options: connectOptions, run: connect },
  create: { summary: 'Create a network', usage: '[OPTIONS] NETWORK', options: createOptions, run: create },
  disconnect: { summary: 'Disconnect a container from a network', usage: '[OPTIONS] NETWORK CONTAINER', options: disconnectOptions, run: disconnect },
  inspect: { summary: 'Display detailed information on one or more networks', usage: 'NETWORK [NETWORK...]', options: {}, run: inspect },
  ls: { summary: 'List networks', usage: '[OPTIONS]', options: lsOptions, aliases: ['list'], run: ls },
  prune: { summary: 'Remove all unused networks', usage: '[OPTIONS]', options: pruneOptions, run: prune },
  rm: { summary: 'Remove one or more networks', usage: 'NETWORK [NETWORK...]', options: {}, aliases: ['remove'], run: rm },
};

export const networkCommand: Command = {
  name: 'network',
  summary: 'Manage networks',
  usage: 'COMMAND',
  options: {},
  extraHelp: () => {
    const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(12)}${s.summary}`);
    const details = Object.entries(SUBCOMMANDS).map(([name, s]) => `brig network ${name} ${s.usage}\n${formatOptions(s.options)}`);
    return `Commands:\n${lines.join('\n')}\n\n${details.join('\n\n')}\n`;
  },
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === 'help') throw new HelpRequested();
    const entry = Object.entries(SUBCOMMANDS).find(([name, s]) => name === sub || s.aliases?.includes(sub));
    if (!entry) throw new UsageError(`unknown command "${sub}" for "brig network"`);
    return entry[1].run(ctx, rest);
  },
};
