/**
 * What brig's tests may leave on the host, listed so that a test can compare before and after:
 * mounts, cgroups, runc state, conmon processes and temp dirs that belong to test roots
 * (`/tmp/brig-it-*`, cgroup parents `brig-it-*`), and the host's network state: network namespaces,
 * interfaces (bridges, veths), iptables rules and chains (the nf_tables backend, via iptables-save),
 * nft tables iptables does not manage, and sockets bound to the test port range 28000–28999.
 *
 * Every item is a line `key` or `key — detail`; two snapshots are compared by key, counting
 * duplicates (a rule added twice is a leak), and a diff names each item that appeared.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

export const TEST_MARK = 'brig-it-';
/** The host ports tests may publish or bind (test/integration and the leak check agree on it). */
export const TEST_PORTS = { first: 28000, last: 28999 } as const;
/** Separates an item's comparison key from its readable detail. */
const DETAIL = ' — ';

export interface HostSnapshot {
  mounts: string[];
  /** /run/netns entries, nsfs mounts anywhere, and files in test run roots' netns dirs. */
  netns: string[];
  cgroups: string[];
  processes: string[];
  dirs: string[];
  /** Network interfaces: `name — kind [master M]`. */
  links: string[];
  /** Normalised iptables-save/ip6tables-save lines: `ip nat -A POSTROUTING …`, `ip filter :FORWARD ACCEPT`. */
  iptables: string[];
  /** nft tables that are not iptables' own (those are covered by `iptables`): `table inet netavark`. */
  nftTables: string[];
  /** Listening TCP and bound UDP sockets on ports 28000–28999: `tcp 127.0.0.1:28181 — pid 12 node`. */
  ports: string[];
}

const run = promisify(execFile);

async function command(file: string, args: string[], missingHint: string): Promise<string> {
  try {
    return (await run(file, args, { maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${file} is not installed (${missingHint}); the leak check cannot see the host's network state without it`);
    throw new Error(`${file} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export async function snapshotHost(mark = TEST_MARK): Promise<HostSnapshot> {
  const mountinfo = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter(Boolean);
  const mounts = mountinfo.filter((l) => l.includes(mark)).map((l) => l.split(' ')[4] ?? l);
  const dirs = (await readdir('/tmp').catch(() => [] as string[])).filter((d) => d.startsWith(mark)).map((d) => `/tmp/${d}`);
  const cgroups: string[] = [];
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const d of await readdir(`/sys/fs/cgroup/${ctrl}`).catch(() => [] as string[])) {
      if (d.startsWith(mark)) {
        const kids = (await readdir(`/sys/fs/cgroup/${ctrl}/${d}`, { withFileTypes: true }).catch(() => []))
          .filter((k) => k.isDirectory()).map((k) => k.name);
        cgroups.push(`${ctrl}/${d}`, ...kids.map((k) => `${ctrl}/${d}/${k}`));
      }
    }
  }
  const processes: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || cmd === '') continue;
    // aardvark-dns outlives a missed teardown wherever its config is; count it even outside test roots.
    if (cmd.includes(mark) || /(^|\/)aardvark-dns /.test(cmd)) processes.push(`${pid} ${cmd}`);
  }

  const netns = [
    ...(await readdir('/run/netns').catch(() => [] as string[])).map((n) => `/run/netns/${n}`),
    ...nsfsMounts(mountinfo),
  ];
  for (const d of dirs) {
    netns.push(...(await readdir(`${d}/run/netns`).catch(() => [] as string[])).map((n) => `${d}/run/netns/${n}`));
  }

  const links = parseLinks(await command('ip', ['-j', '-d', 'link', 'show'], 'apt-get install iproute2'));
  const iptables = [
    ...parseIptablesSave('ip', await command('iptables-save', [], 'apt-get install iptables')),
    ...parseIptablesSave('ip6', await command('ip6tables-save', [], 'apt-get install iptables')),
  ];
  const nftTables = parseNftTables(await command('nft', ['list', 'tables'], 'apt-get install nftables'));
  const ports = await heldPorts();
  return { mounts, netns: [...new Set(netns)], cgroups, processes, dirs, links, iptables, nftTables, ports };
}

/** Mount points of nsfs files (bind-mounted namespaces: `ip netns`, brig's `<runRoot>/netns/<id>`). */
export function nsfsMounts(mountinfo: string[]): string[] {
  return mountinfo.filter((l) => / - nsfs /.test(l)).map((l) => unescapeMount(l.split(' ')[4] ?? ''));
}

function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface IpLink {
  ifname?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

/** `ip -j -d link show` → `name — kind [master M]` (kind `device` for links without one, e.g. a NIC). */
export function parseLinks(json: string): string[] {
  const list = JSON.parse(json) as IpLink[];
  return list.filter((l) => l.ifname).map((l) => {
    const kind = l.linkinfo?.info_kind ?? 'device';
    return `${l.ifname}${DETAIL}${kind}${l.master ? ` master ${l.master}` : ''}`;
  });
}

/**
 * iptables-save output → one line per chain and rule, prefixed by family and table, counters and
 * comments dropped: `ip filter :FORWARD DROP`, `ip nat -A POSTROUTING -s 10.213.1.0/24 -j X`.
 */
export function parseIptablesSave(family: string, text: string): string[] {
  const out: string[] = [];
  let table = '?';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
    } else if (line.startsWith(':')) {
      out.push(`${family} ${table} ${line.replace(/\s*\[[0-9]+:[0-9]+\]$/, '')}`);
    } else {
      out.push(`${family} ${table} ${line.replace(/^\[[0-9]+:[0-9]+\]\s*/, '')}`);
    }
  }
  return out;
}

/** Tables iptables-nft, ip6tables-nft, arptables-nft and ebtables-nft manage (their content is in iptables-save). */
const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security', 'broute']);

/** `nft list tables` → the tables iptables does not manage, e.g. `table inet netavark` (netavark's nftables driver). */
export function parseNftTables(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => {
    const m = /^table (\S+) (\S+)$/.exec(l);
    return m !== null && !(['ip', 'ip6', 'arp', 'bridge'].includes(m[1]!) && IPTABLES_TABLES.has(m[2]!));
  });
}

/** One socket line of /proc/net/{tcp,udp}{,6}. */
export interface ProcSocket {
  proto: 'tcp' | 'udp' | 'tcp6' | 'udp6';
  address: string;
  port: number;
  inode: string;
}

/** Listening TCP (state 0A) and bound UDP (state 07) sockets of one /proc/net file in the port range. */
export function parseProcNet(proto: ProcSocket['proto'], text: string, range: { first: number; last: number } = TEST_PORTS): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [local, state, inode] = [f[1], f[3], f[9]];
    if (!local || !state || inode === undefined) continue;
    if (state !== (proto.startsWith('tcp') ? '0A' : '07')) continue;
    const [hexAddr = '', hexPort = ''] = local.split(':');
    const port = parseInt(hexPort, 16);
    if (port < range.first || port > range.last) continue;
    out.push({ proto, address: hexAddr.length === 8 ? ipv4FromProc(hexAddr) : `[${ipv6FromProc(hexAddr)}]`, port, inode });
  }
  return out;
}

/** /proc/net's IPv4 address (the kernel's bytes as a little-endian word) → dotted quad. */
export function ipv4FromProc(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** /proc/net's IPv6 address (four little-endian words) → the compressed text form. */
export function ipv6FromProc(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) for (const i of [6, 4, 2, 0]) bytes.push(parseInt(hex.slice(w * 8 + i, w * 8 + i + 2), 16));
  const groups = Array.from({ length: 8 }, (_, g) => ((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16));
  // The longest run of at least two zero groups becomes `::`.
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

async function heldPorts(): Promise<string[]> {
  const socks: ProcSocket[] = [];
  for (const proto of ['tcp', 'udp', 'tcp6', 'udp6'] as const) {
    socks.push(...parseProcNet(proto, await readFile(`/proc/net/${proto}`, 'utf8').catch(() => '')));
  }
  if (socks.length === 0) return [];
  // Who holds them: socket inode → first process with an fd on it.
  const owners = new Map<string, string>();
  const wanted = new Set(socks.map((s) => s.inode));
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(pid)) continue;
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const m = /^socket:\[([0-9]+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
      if (m && wanted.has(m[1]!) && !owners.has(m[1]!)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        owners.set(m[1]!, `pid ${pid} ${comm}`);
      }
    }
  }
  return socks.map((s) => `${s.proto} ${s.address}:${s.port}${DETAIL}${owners.get(s.inode) ?? 'no process (kernel or gone)'}`);
}

/**
 * What may appear during the tests without being theirs to remove: the empty built-in chains of an
 * iptables table created on first use (policy ACCEPT only: a changed policy is reported), and the
 * chains and rules netavark 1.4 shares between all its networks (and with Podman) and keeps after
 * the last teardown. Per-network chains (`NETAVARK-<hash>`, `NETAVARK-DN-<hash>`) and rules that
 * name a subnet, address or port are never tolerated.
 */
export function toleratedIptables(item: string): boolean {
  const rest = item.replace(/^ip6? \S+ /, '');
  if (/^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT$/.test(rest)) return true;
  return NETAVARK_SHARED.has(rest);
}

const NETAVARK_SHARED = new Set([
  ':NETAVARK_FORWARD -',
  // with `isolate` (brig sets it on every network), emptied but kept after the last teardown
  ':NETAVARK_ISOLATION_1 -',
  ':NETAVARK_ISOLATION_2 -',
  '-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
  ':NETAVARK-HOSTPORT-DNAT -',
  ':NETAVARK-HOSTPORT-MASQ -',
  ':NETAVARK-HOSTPORT-SETMARK -',
  '-A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT',
  '-A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT',
  '-A POSTROUTING -j NETAVARK-HOSTPORT-MASQ',
  '-A NETAVARK-HOSTPORT-MASQ -m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000 -j MASQUERADE',
  '-A NETAVARK-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000',
]);

/** An item's comparison key: the part before ` — ` (the detail, e.g. a socket's owner, may differ). */
export function itemKey(item: string): string {
  const i = item.indexOf(DETAIL);
  return i < 0 ? item : item.slice(0, i);
}

/** Items of `after` beyond those of `before`, compared by `key` and counted (a second copy of an item is new). */
export function addedItems(before: readonly string[], after: readonly string[], key: (item: string) => string = (x) => x): string[] {
  const left = new Map<string, number>();
  for (const x of before) left.set(key(x), (left.get(key(x)) ?? 0) + 1);
  return after.filter((x) => {
    const n = left.get(key(x)) ?? 0;
    if (n > 0) left.set(key(x), n - 1);
    return n === 0;
  });
}

/** What may appear in a category without being a leak. */
const TOLERATED: Partial<Record<keyof HostSnapshot, (item: string) => boolean>> = { iptables: toleratedIptables };

/**
 * Items present in `after` but not in `before`, per category (empty object = no leak), compared
 * by key and counted (an item twice in `after` and once in `before` is reported once). Categories
 * missing from `before` (an older snapshot) count as empty.
 */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): Partial<HostSnapshot> {
  const out: Partial<HostSnapshot> = {};
  for (const k of Object.keys(after) as (keyof HostSnapshot)[]) {
    const added = addedItems(before[k] ?? [], after[k], itemKey).filter((x) => !TOLERATED[k]?.(x));
    if (added.length) out[k] = added;
  }
  return out;
}

/** A diff as text, one category per block, for an assertion message. */
export function formatLeaks(diff: Partial<HostSnapshot>): string {
  return Object.entries(diff).map(([k, items]) => `${k} (${items.length} new):\n${items.map((x) => `  ${x}`).join('\n')}`).join('\n');
}
