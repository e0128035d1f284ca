import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import type { PortRequest } from '../model/network.js';
import { parsePortBinding, parsePublishSpec, PortReservations, withPublishAll } from './ports.js';

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;
const req = (hostPortStart: number, containerPort: number, extra: Partial<PortRequest> = {}): PortRequest =>
  ({ hostIp: '', hostPortStart, hostPortEnd: hostPortStart, containerPort, protocol: 'tcp', ...extra });

test('-p specs parse: ip, ranges pairwise, range for one port, protocol', () => {
  assert.deepEqual(parsePublishSpec('80'), [req(0, 80)]);
  assert.deepEqual(parsePublishSpec('28080:80'), [req(28080, 80)]);
  assert.deepEqual(parsePublishSpec('127.0.0.1:28080:80/udp'), [req(28080, 80, { hostIp: '127.0.0.1', protocol: 'udp' })]);
  assert.deepEqual(parsePublishSpec('0.0.0.0::80'), [req(0, 80, { hostIp: '0.0.0.0' })]);
  assert.deepEqual(parsePublishSpec('28000-28010:80'), [{ ...req(28000, 80), hostPortEnd: 28010 }]);
  assert.deepEqual(parsePublishSpec('28000-28001:80-81'), [req(28000, 80), req(28001, 81)]);
  assert.deepEqual(parsePublishSpec('80-81'), [req(0, 80), req(0, 81)]);
  for (const bad of ['', 'x', '70000', '0', '1:2:3:4', '28000-28002:80-81', '80/icmp', '1.2.3:80:80', '28001-28000:80']) {
    assert.throws(() => parsePublishSpec(bad), code('ERR_INVALID_ARGUMENT'), bad);
  }
  assert.throws(() => parsePublishSpec('80/sctp'), code('ERR_NOT_IMPLEMENTED'));
  assert.throws(() => parsePublishSpec('[::1]:80:80'), code('ERR_INVALID_ARGUMENT'));
});

test('API PortBindings entries parse', () => {
  assert.deepEqual(parsePortBinding('80/tcp', '', ''), req(0, 80));
  assert.deepEqual(parsePortBinding('53/udp', '127.0.0.1', '28053'), req(28053, 53, { hostIp: '127.0.0.1', protocol: 'udp' }));
  assert.deepEqual(parsePortBinding('80/tcp', '', '28000-28003'), { ...req(28000, 80), hostPortEnd: 28003 });
  assert.throws(() => parsePortBinding('80/tcp', '::', '80'), code('ERR_NOT_IMPLEMENTED'));
});

test('-P adds every exposed port without an explicit binding', () => {
  assert.deepEqual(withPublishAll([req(28080, 80)], true, ['80/tcp', '443/tcp', '53/udp']),
    [req(28080, 80), req(0, 443), req(0, 53, { protocol: 'udp' })]);
  assert.deepEqual(withPublishAll([], false, ['80/tcp']), []);
});

test('reservations hold the port, choose ephemeral and range ports, are all-or-nothing, release idempotently', async () => {
  const ports = new PortReservations('127.0.0.1');
  const [b] = await ports.reserve('c1', [req(0, 80)]);
  assert.ok(b && b.hostPort > 0 && b.hostIp === '127.0.0.1' && b.containerPort === 80);
  // Held: another listener on the same port fails.
  await assert.rejects(new Promise((res, rej) => net.createServer().once('error', rej).listen(b.hostPort, '127.0.0.1', () => res(undefined))), { code: 'EADDRINUSE' });
  // A second container asking for it gets Docker's message, and nothing it made is left held.
  const [free] = await ports.reserve('tmp', [req(0, 1)]);
  await ports.release('tmp');
  await assert.rejects(ports.reserve('c2', [req(free!.hostPort, 81), req(b.hostPort, 80)]),
    (err: unknown) => code('ERR_PORT_ALLOCATED')(err) && (err as Error).message === `Bind for 127.0.0.1:${b.hostPort} failed: port is already allocated`);
  const again = await ports.reserve('c3', [req(free!.hostPort, 81)]);
  assert.equal(again[0]!.hostPort, free!.hostPort, 'the first port of the failed request was released');
  await ports.release('c3');
  // A range skips the taken port.
  const [r] = await ports.reserve('c4', [{ ...req(b.hostPort, 80), hostPortEnd: b.hostPort + 1 }]);
  if (r!.hostPort !== b.hostPort + 1) assert.fail(`range picked ${r!.hostPort}`);
  await assert.rejects(ports.reserve('c5', [{ ...req(b.hostPort, 80), hostPortEnd: b.hostPort + 1 }]),
    { message: `Bind for 127.0.0.1:${b.hostPort}-${b.hostPort + 1} failed: port is already allocated` });
  // UDP on the same number is independent of TCP.
  const [u] = await ports.reserve('c6', [req(b.hostPort, 53, { protocol: 'udp', hostIp: '127.0.0.1' })]);
  await assert.rejects(new Promise((res, rej) => { const s = dgram.createSocket('udp4'); s.once('error', (e) => { s.close(); rej(e); }); s.bind(u!.hostPort, '127.0.0.1', () => { s.close(); res(undefined); }); }), { code: 'EADDRINUSE' });
  for (const id of ['c1', 'c4', 'c6', 'c1']) await ports.release(id);
  await new Promise<void>((res, rej) => { const s = net.createServer().once('error', rej).listen(b.hostPort, '127.0.0.1', () => s.close(() => res())); });
});

test('an address not on this host is a clear 400', async () => {
  const ports = new PortReservations('127.0.0.1');
  await assert.rejects(ports.reserve('c', [req(0, 80, { hostIp: '192.0.2.254' })]), /cannot publish on 192.0.2.254: no such address on this host/);
});
