/**
 * brig's own firewall rules beside netavark's: `--icc=false` on the default bridge. A chain
 * `BRIG-ICC-<bridge>` holding one DROP for bridge→same-bridge forwarding, jumped to from the top of
 * FORWARD (netavark puts its ACCEPTs into FORWARD too, so the jump is moved back to the top after
 * each setup). Only iptables (the nft backend on brig's hosts); brig never touches other chains.
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
