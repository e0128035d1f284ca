/** Unit tests of the benches' iptables cleanup plan (pure: no iptables is run). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iptablesCleanup, parseIptablesSave, splitRule } from './firewall.js';

const MARKERS = /brigbench|10\.213\.25[0-5]\./;

const BEFORE = parseIptablesSave('ip', `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 192.0.2.9/32 -j DROP
COMMIT
`);

/** What dockerd 20.10 (--bridge brigbench0, iptables and ip-masq on) and brig's netavark leave, plus another user's network. */
const AFTER = parseIptablesSave('ip', `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [3:180]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
:NETAVARK_FORWARD - [0:0]
-A INPUT -s 192.0.2.9/32 -j DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o brigbench0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o brigbench0 -j DOCKER
-A FORWARD -i brigbench0 ! -o brigbench0 -j ACCEPT
-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD
-A DOCKER-ISOLATION-STAGE-1 -i brigbench0 ! -o brigbench0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o brigbench0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
:NETAVARK-HOSTPORT-DNAT - [0:0]
:NETAVARK-HOSTPORT-MASQ - [0:0]
:NETAVARK-HOSTPORT-SETMARK - [0:0]
:NETAVARK-1D8721804F16F - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
-A POSTROUTING -s 10.213.250.0/24 ! -o brigbench0 -j MASQUERADE
-A POSTROUTING -j NETAVARK-HOSTPORT-MASQ
-A POSTROUTING -s 10.213.252.0/22 -j NETAVARK-1D8721804F16F
-A DOCKER -i brigbench0 -j RETURN
-A NETAVARK-1D8721804F16F -d 10.213.252.0/22 -j ACCEPT
-A NETAVARK-1D8721804F16F ! -d 224.0.0.0/4 -j MASQUERADE
-A NETAVARK-HOSTPORT-MASQ -m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A NETAVARK-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000
COMMIT
`);

test('splitRule keeps quoted comments as one argument', () => {
  assert.deepEqual(splitRule('-A FORWARD -m comment --comment "netavark firewall plugin rules" -j X'),
    ['-A', 'FORWARD', '-m', 'comment', '--comment', 'netavark firewall plugin rules', '-j', 'X']);
  assert.deepEqual(splitRule('-A X -m comment --comment "a \\"b\\"" -j Y'), ['-A', 'X', '-m', 'comment', '--comment', 'a "b"', '-j', 'Y']);
});

test('the cleanup removes the engines\' rules and chains and nothing else', () => {
  const cmds = iptablesCleanup(BEFORE, AFTER, MARKERS).map((c) => c.join(' '));
  const rule = (t: string, r: string): string => `iptables -t ${t} -D ${r}`;
  assert.deepEqual(new Set(cmds), new Set([
    rule('filter', 'FORWARD -j DOCKER-USER'),
    rule('filter', 'FORWARD -j DOCKER-ISOLATION-STAGE-1'),
    rule('filter', 'FORWARD -o brigbench0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'),
    rule('filter', 'FORWARD -o brigbench0 -j DOCKER'),
    rule('filter', 'FORWARD -i brigbench0 ! -o brigbench0 -j ACCEPT'),
    rule('filter', 'FORWARD -m comment --comment netavark firewall plugin rules -j NETAVARK_FORWARD'),
    rule('nat', 'PREROUTING -m addrtype --dst-type LOCAL -j DOCKER'),
    rule('nat', 'PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT'),
    rule('nat', 'OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER'),
    rule('nat', 'OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT'),
    rule('nat', 'POSTROUTING -s 10.213.250.0/24 ! -o brigbench0 -j MASQUERADE'),
    rule('nat', 'POSTROUTING -j NETAVARK-HOSTPORT-MASQ'),
    rule('nat', 'POSTROUTING -s 10.213.252.0/22 -j NETAVARK-1D8721804F16F'),
    ...['-F', '-X'].flatMap((op) => [
      ...['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER', 'NETAVARK_FORWARD'].map((c) => `iptables -t filter ${op} ${c}`),
      ...['DOCKER', 'NETAVARK-1D8721804F16F', 'NETAVARK-HOSTPORT-DNAT', 'NETAVARK-HOSTPORT-MASQ', 'NETAVARK-HOSTPORT-SETMARK'].map((c) => `iptables -t nat ${op} ${c}`),
    ]),
  ]));
  // Rules before chains: every -D comes before the first -F, every -F before the first -X.
  const first = (op: string): number => cmds.findIndex((c) => c.includes(` ${op} `));
  const last = (op: string): number => cmds.length - 1 - [...cmds].reverse().findIndex((c) => c.includes(` ${op} `));
  assert.ok(last('-D') < first('-F') && last('-F') < first('-X'));
});

test('netavark\'s shared chains stay while another network uses them; nothing new, nothing to do', () => {
  const other = parseIptablesSave('ip', `*nat
:NETAVARK-HOSTPORT-MASQ - [0:0]
:NETAVARK-AAAAAAAAAAAAA - [0:0]
-A POSTROUTING -j NETAVARK-HOSTPORT-MASQ
-A POSTROUTING -s 10.213.7.0/24 -j NETAVARK-AAAAAAAAAAAAA
COMMIT
`);
  assert.deepEqual(iptablesCleanup([], other, MARKERS), []);
  assert.deepEqual(iptablesCleanup(AFTER, AFTER, MARKERS), []);
});
