/** The `X-Docker-Container-Path-Stat` encoding: Go `os.FileMode` bits and RFC 3339 nanosecond times. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goFileMode, pathStatHeader, rfc3339Nano } from './archive.js';

test('POSIX modes map to Go os.FileMode bits as dockerd reports them', () => {
  assert.equal(goFileMode(0o100644), 420);
  assert.equal(goFileMode(0o040755), 2147484141, 'dir | 0755, the value captured from dockerd');
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, 'sticky');
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777, 'symlink');
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755, 'setuid');
  assert.equal(goFileMode(0o102755), 2 ** 22 + 0o755, 'setgid');
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666, 'char device = device | char device');
  assert.equal(goFileMode(0o060660), 2 ** 26 + 0o660, 'block device');
  assert.equal(goFileMode(0o010644), 2 ** 25 + 0o644, 'named pipe');
  assert.equal(goFileMode(0o140755), 2 ** 24 + 0o755, 'socket');
});

test('times are RFC 3339 in UTC with trailing zeros of the nanoseconds dropped', () => {
  assert.equal(rfc3339Nano(1_795_877_319_393_461_300n), '2026-11-28T14:48:39.3934613Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  assert.equal(rfc3339Nano(1_000_000_001n), '1970-01-01T00:00:01.000000001Z');
  assert.equal(rfc3339Nano(-1n), '1969-12-31T23:59:59.999999999Z');
});

test('the stat header is base64 JSON in dockerd\'s key order', () => {
  const h = pathStatHeader({ name: 'hostname', size: 13, mode: 0o100644, mtimeNs: 1_795_877_319_393_461_300n, linkTarget: '' });
  assert.equal(Buffer.from(h, 'base64').toString(), '{"name":"hostname","size":13,"mode":420,"mtime":"2026-11-28T14:48:39.3934613Z","linkTarget":""}');
});
