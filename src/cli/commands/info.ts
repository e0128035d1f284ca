/** `brig info`: the daemon's `GET /info`, printed like `docker info`. */
import type { InfoResponse } from '../../client/types.js';
import { CLIENT_VERSION } from '../../client/version.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { write, type CliContext, type Command } from '../command.js';
import { bytesSize } from '../output/format.js';

const options = {} as const satisfies OptionSpecs;

/** `name=seccomp,profile=builtin` → `  seccomp` / `   Profile: builtin`. */
function securityOptions(opts: readonly string[]): string[] {
  const lines: string[] = [];
  for (const opt of opts) {
    for (const kv of opt.split(',')) {
      const eq = kv.indexOf('=');
      const key = eq === -1 ? 'name' : kv.slice(0, eq);
      const value = eq === -1 ? kv : kv.slice(eq + 1);
      if (key === 'name') lines.push(`  ${value}`);
      else lines.push(`   ${key.charAt(0).toUpperCase()}${key.slice(1)}: ${value}`);
    }
  }
  return lines;
}

export function formatInfo(i: InfoResponse, debug = false): string {
  const n = (v: number | undefined) => String(v ?? 0);
  const s = (v: string | undefined) => v ?? '';
  const lines = [
    'Client:',
    ` Version:    ${CLIENT_VERSION}`,
    ` Debug Mode: ${debug}`,
    '',
    'Server:',
    ` Containers: ${n(i.Containers)}`,
    `  Running: ${n(i.ContainersRunning)}`,
    `  Paused: ${n(i.ContainersPaused)}`,
    `  Stopped: ${n(i.ContainersStopped)}`,
    ` Images: ${n(i.Images)}`,
    ` Server Version: ${s(i.ServerVersion)}`,
    ` Storage Driver: ${s(i.Driver)}`,
    ...(i.DriverStatus ?? []).map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${s(i.LoggingDriver)}`,
    ` Cgroup Driver: ${s(i.CgroupDriver)}`,
    ` Cgroup Version: ${s(i.CgroupVersion)}`,
    ' Plugins:',
    `  Volume: ${(i.Plugins?.Volume ?? []).join(' ')}`,
    `  Network: ${(i.Plugins?.Network ?? []).join(' ')}`,
    `  Log: ${(i.Plugins?.Log ?? []).join(' ')}`,
    ` Runtimes: ${Object.keys(i.Runtimes ?? {}).sort().join(' ')}`,
    ` Default Runtime: ${s(i.DefaultRuntime)}`,
  ];
  if (i.SecurityOptions && i.SecurityOptions.length > 0) lines.push(' Security Options:', ...securityOptions(i.SecurityOptions));
  lines.push(
    ` Kernel Version: ${s(i.KernelVersion)}`,
    ` Operating System: ${s(i.OperatingSystem)}`,
    ` OSType: ${s(i.OSType)}`,
    ` Architecture: ${s(i.Architecture)}`,
    ` CPUs: ${n(i.NCPU)}`,
    ` Total Memory: ${bytesSize(i.MemTotal ?? 0)}`,
    ` Name: ${s(i.Name)}`,
    ` ID: ${s(i.ID)}`,
    ` Root Dir: ${s(i.DockerRootDir)}`,
    ` Debug Mode: ${i.Debug === true}`,
    ` Experimental: ${i.ExperimentalBuild === true}`,
  );
  if (i.Labels && i.Labels.length > 0) lines.push(' Labels:', ...i.Labels.map((l) => `  ${l}`));
  // As the docker CLI: insecure registries by name, then the CIDRs.
  const insecure = [
    ...Object.values(i.RegistryConfig?.IndexConfigs ?? {}).filter((c) => !c.Secure).map((c) => c.Name),
    ...(i.RegistryConfig?.InsecureRegistryCIDRs ?? []),
  ];
  if (insecure.length > 0) lines.push(' Insecure Registries:', ...insecure.map((r) => `  ${r}`));
  lines.push(` Live Restore Enabled: ${i.LiveRestoreEnabled === true}`);
  const pools = i.DefaultAddressPools ?? [];
  if (pools.length > 0) lines.push(' Default Address Pools:', ...pools.map((p) => `   Base: ${p.Base}, Size: ${p.Size}`));
  return `${lines.join('\n')}\n`;
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Display system-wide information',
  usage: '',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    parseCommandArgs(options, args);
    const info = await ctx.client().info();
    await write(ctx.stdout, formatInfo(info));
    for (const w of info.Warnings ?? []) await write(ctx.stderr, `${w}\n`);
    return 0;
  },
};
