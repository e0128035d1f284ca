/**
 * `brig port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports from inspect's
 * `NetworkSettings.Ports`, printed and sorted (natural order) as `docker port` does.
 */
import type { ContainerInspect } from '../../client/types.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `sortorder.NaturalLess` (fvbommel): digit runs compare as numbers, digits before other characters. */
export function naturalLess(a: string, b: string): boolean {
  const s1 = Buffer.from(a);
  const s2 = Buffer.from(b);
  let i = 0;
  let j = 0;
  while (i < s1.length && j < s2.length) {
    const c1 = s1[i]!;
    const c2 = s2[j]!;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i++;
      j++;
      continue;
    }
    while (i < s1.length && s1[i] === 0x30) i++;
    while (j < s2.length && s2[j] === 0x30) j++;
    const n1 = i;
    const n2 = j;
    while (i < s1.length && isDigit(s1[i]!)) i++;
    while (j < s2.length && isDigit(s2[j]!)) j++;
    if (i - n1 !== j - n2) return i - n1 < j - n2;
    const r1 = s1.subarray(n1, i).toString();
    const r2 = s2.subarray(n2, j).toString();
    if (r1 !== r2) return r1 < r2;
    if (n1 !== n2) return n1 < n2;
  }
  return s1.length < s2.length;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The lines `docker port` prints; throws Error with docker's message for an unknown or invalid port. */
export function portLines(c: Pick<ContainerInspect, 'NetworkSettings'>, container: string, port?: string): string[] {
  const ports = c.NetworkSettings?.Ports ?? {};
  const out: string[] = [];
  if (port !== undefined) {
    const slash = port.indexOf('/');
    const number = slash === -1 ? port : port.slice(0, slash);
    const proto = slash === -1 || port.slice(slash + 1) === '' ? 'tcp' : port.slice(slash + 1);
    if (!/^[0-9]+$/.test(number)) throw new Error(`Error: invalid port (${number}): strconv.ParseUint: parsing ${JSON.stringify(number)}: invalid syntax`);
    if (Number(number) > 65535) throw new Error(`Error: invalid port (${number}): strconv.ParseUint: parsing ${JSON.stringify(number)}: value out of range`);
    const frontends = ports[`${number}/${proto}`];
    if (!frontends || frontends.length === 0) throw new Error(`Error: No public port '${port}' published for ${container}`);
    for (const f of frontends) out.push(joinHostPort(f.HostIp, f.HostPort));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
    }
  }
  return out.sort((x, y) => (naturalLess(x, y) ? -1 : naturalLess(y, x) ? 1 : 0));
}

export const portCommand: Command = {
  name: 'port',
  summary: 'List port mappings or a specific mapping for the container',
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  options: {},
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs({}, args);
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('"brig port" requires at least 1 and at most 2 arguments.');
    const [name, port] = positionals as [string, string | undefined];
    const c = await ctx.client().inspectContainer(name);
    let lines: string[];
    try {
      lines = portLines(c, name, port);
    } catch (err) {
      await write(ctx.stderr, `${(err as Error).message}\n`);
      return 1;
    }
    if (lines.length > 0) await write(ctx.stdout, `${lines.join('\n')}\n`);
    return 0;
  },
};
