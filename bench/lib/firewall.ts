/**
 * Removing the iptables rules and chains the benches' engines leave: dockerd 20.10 keeps its
 * DOCKER* chains and bridge rules after it stops, and netavark (brig) keeps its shared
 * NETAVARK-HOSTPORT-* / NETAVARK_FORWARD chains after the last container is gone.
 *
 * The bench takes iptables-save before its daemons start and after they stopped; only what
 * appeared in between and is the bench's is removed: rules that name one of the bench's markers
 * (bridge names, subnets), chains those rules live in or jump to, dockerd's DOCKER* chains, and
 * netavark's shared chains when they were not there before and no other network uses them.
 * Everything else on the host (other engines, tests running at the same time) is left alone.
 */
import { addedItems, parseIptablesSave, toleratedIptables } from '../../test/leaks.js';

export { parseIptablesSave };

const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Splits an iptables-save rule into arguments (double-quoted parts such as comments stay one argument). */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

interface Item {
  family: string;
  table: string;
  /** `:CHAIN POLICY` or `-A CHAIN args`. */
  body: string;
  chain: string;
}

function parseItem(line: string): Item {
  const [family = '', table = '', ...rest] = line.split(' ');
  const body = rest.join(' ');
  const chain = body.startsWith(':') ? body.slice(1).split(' ')[0]! : body.split(' ')[1]!;
  return { family, table, body, chain };
}

/**
 * The commands (iptables or ip6tables argument lists, first element the binary) that remove what
 * appeared between `before` and `after` (parseIptablesSave lines of both families) and is the
 * bench's: rules matching `markers`, chains of those rules or jumped to by them, chains named
 * DOCKER*, and netavark's shared chains if new and no other NETAVARK- chain remains. Rules are
 * deleted first (-D), then chains are flushed and removed (-F, -X).
 */
export function iptablesCleanup(before: string[], after: string[], markers: RegExp): string[][] {
  const fresh = addedItems(before, after).map(parseItem);
  const key = (i: { family: string; table: string; chain: string }): string => `${i.family} ${i.table} ${i.chain}`;
  const freshChains = new Map(fresh.filter((i) => i.body.startsWith(':') && !BUILTIN.has(i.chain)).map((i) => [key(i), i]));
  const ours = new Set<string>();
  for (const c of freshChains.values()) if (/^DOCKER/.test(c.chain)) ours.add(key(c));
  // Chains with a rule naming a marker, and chains such a rule jumps to (twice: DN chains jump on).
  for (let pass = 0; pass < 2; pass++) {
    for (const r of fresh.filter((i) => i.body.startsWith('-A '))) {
      if (!markers.test(r.body) && !ours.has(key(r))) continue;
      if (freshChains.has(key(r))) ours.add(key(r));
      const target = /(?:^| )-[jg] (\S+)/.exec(r.body)?.[1];
      if (target && freshChains.has(key({ ...r, chain: target }))) ours.add(key({ ...r, chain: target }));
    }
  }
  // netavark's shared chains: ours when new and nothing but them (and ours) is NETAVARK- in the end.
  const all = after.map(parseItem);
  const othersUseNetavark = all.some((i) => i.body.startsWith(':') && /^NETAVARK/.test(i.chain) &&
    !ours.has(key(i)) && !toleratedIptables(`${i.family} ${i.table} ${i.body}`));
  const sharedNetavark = (i: Item): boolean => !othersUseNetavark && /NETAVARK/.test(i.body) && toleratedIptables(`${i.family} ${i.table} ${i.body}`);
  for (const i of fresh) if (i.body.startsWith(':') && sharedNetavark(i)) ours.add(key(i));

  const bin = (family: string): string => (family === 'ip6' ? 'ip6tables' : 'iptables');
  const cmds: string[][] = [];
  for (const r of fresh.filter((i) => i.body.startsWith('-A '))) {
    if (ours.has(key(r))) continue; // flushed below
    const target = /(?:^| )-[jg] (\S+)/.exec(r.body)?.[1];
    const jumpsToOurs = target !== undefined && ours.has(key({ ...r, chain: target }));
    if (markers.test(r.body) || jumpsToOurs || sharedNetavark(r)) {
      cmds.push([bin(r.family), '-t', r.table, '-D', ...splitRule(r.body).slice(1)]);
    }
  }
  const chains = [...ours].map((k) => k.split(' ') as [string, string, string]);
  for (const [family, table, chain] of chains) cmds.push([bin(family), '-t', table, '-F', chain]);
  for (const [family, table, chain] of chains) cmds.push([bin(family), '-t', table, '-X', chain]);
  return cmds;
}
