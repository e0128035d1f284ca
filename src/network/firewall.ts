/**
 * brig's own firewall rules beside netavark's. Only iptables (the nft backend on brig's hosts);
 * brig never touches other rules.
 *
 * - `--icc=false` on the default bridge: a chain `BRIG-ICC-<bridge>` holding one DROP for
 *   bridge→same-bridge forwarding, jumped to from the top of FORWARD (netavark puts its ACCEPTs
 *   into FORWARD too, so the jump is moved back to the top after each setup).
 * - The localnet guard, on every bridge brig uses: netavark turns `route_localnet` on for a bridge
 *   with published ports (so that 127.0.0.1:P is forwarded), which also lets a container with
 *   CAP_NET_RAW send packets to the host's 127.0.0.1 through the bridge and reach every service the
 *   host keeps on loopback, ports other containers published on 127.0.0.1 included (the
 *   CVE-2020-8558 class). One rule in the raw table drops them before anything else sees them;
 *   nothing legitimate comes in on a bridge addressed to 127.0.0.0/8 (a container's own loopback
 *   never leaves it).
 */
import { EngineError } from '../errors.js';
import { execFileResult } from '../util/exec.js';

export function iccChainName(bridge: string): string {
  return `BRIG-ICC-${bridge}`;
}

async function iptables(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return await execFileResult('iptables', ['-w', ...args], { timeoutMs: 30_000 });
  } catch (err) {
    throw new EngineError('ERR_UNAVAILABLE', `cannot run iptables: ${(err as Error).message}`, { cause: err });
  }
}

async function must(args: string[]): Promise<string> {
  const r = await iptables(args);
  if (r.code !== 0) throw new EngineError('ERR_INTERNAL', `iptables ${args.join(' ')}: ${r.stderr.replace(/# Warning: iptables-legacy tables present.*\n?/g, '').trim()}`);
  return r.stdout;
}

/** Creates (or re-asserts) the DROP chain for `bridge` and makes its jump the first FORWARD rule. */
export async function ensureIccDrop(bridge: string): Promise<void> {
  const chain = iccChainName(bridge);
  const jump = ['-i', bridge, '-o', bridge, '-j', chain];
  const list = await must(['-t', 'filter', '-S', 'FORWARD']);
  const first = list.split('\n').find((l) => l.startsWith('-A FORWARD'));
  if (first === `-A FORWARD ${jump.join(' ')}`) return;
  if ((await iptables(['-t', 'filter', '-n', '-L', chain])).code !== 0) {
    await must(['-t', 'filter', '-N', chain]);
    await must(['-t', 'filter', '-A', chain, '-j', 'DROP']);
  }
  while ((await iptables(['-t', 'filter', '-D', 'FORWARD', ...jump])).code === 0) {
    // remove every older copy of the jump before inserting it on top
  }
  await must(['-t', 'filter', '-I', 'FORWARD', '1', ...jump]);
}

/** Removes the jump and the chain; nothing to remove is fine. */
export async function removeIccDrop(bridge: string): Promise<void> {
  const chain = iccChainName(bridge);
  while ((await iptables(['-t', 'filter', '-D', 'FORWARD', '-i', bridge, '-o', bridge, '-j', chain])).code === 0) {
    // every copy
  }
  if ((await iptables(['-t', 'filter', '-n', '-L', chain])).code !== 0) return;
  await must(['-t', 'filter', '-F', chain]);
  await must(['-t', 'filter', '-X', chain]);
}

const GUARD_COMMENT = 'brig localnet guard';

function guardRule(bridge: string): string[] {
  return ['-i', bridge, '-d', '127.0.0.0/8', '-m', 'comment', '--comment', GUARD_COMMENT, '-j', 'DROP'];
}

/** Installs the localnet guard of `bridge` (raw PREROUTING, first rule) unless it is there. */
export async function ensureLocalnetGuard(bridge: string): Promise<void> {
  if ((await iptables(['-t', 'raw', '-C', 'PREROUTING', ...guardRule(bridge)])).code === 0) return;
  await must(['-t', 'raw', '-I', 'PREROUTING', '1', ...guardRule(bridge)]);
}

/** Removes the localnet guard of `bridge` (every copy; none is fine). */
export async function removeLocalnetGuard(bridge: string): Promise<void> {
  while ((await iptables(['-t', 'raw', '-D', 'PREROUTING', ...guardRule(bridge)])).code === 0) {
    // every copy
  }
}

/** Bridges that have a localnet guard now (from `iptables -t raw -S PREROUTING`). */
export async function localnetGuards(): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await must(['-t', 'raw', '-S', 'PREROUTING'])).split('\n')) {
    const m = /^-A PREROUTING -d 127\.0\.0\.0\/8 -i (\S+) -m comment --comment "brig localnet guard" -j DROP$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}
