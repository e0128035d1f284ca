import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import tar, { type Header } from 'tar-stream';
import { ROOTFS_MTIME, assertStaticElf, busyboxRootfsTar, listApplets, writeBusyboxRootfsTar } from './busybox-rootfs.js';

const BUSYBOX = '/bin/busybox';

function requireBusybox(): void {
  if (!existsSync(BUSYBOX)) {
    assert.fail(`${BUSYBOX} is missing: these tests need a static busybox (Debian: apt-get install busybox-static)`);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Entry {
  header: Header;
  content: Buffer;
}

async function entries(stream: Readable): Promise<Entry[]> {
  const ex = tar.extract();
  const feed = pipeline(stream, ex as unknown as Writable);
  const out: Entry[] = [];
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(Buffer.from(c as Uint8Array));
    out.push({ header: entry.header, content: Buffer.concat(chunks) });
  }
  await feed;
  return out;
}

test('the busybox rootfs has bin/busybox, one symlink per applet, the base directories and accounts', async () => {
  requireBusybox();
  const list = await entries(busyboxRootfsTar(BUSYBOX));
  const byName = new Map(list.map((e) => [e.header.name.replace(/\/$/, ''), e]));

  const bin = byName.get('bin/busybox')!;
  assert.equal(bin.header.type, 'file');
  assert.equal(bin.header.mode, 0o755);
  const original = await readFile(BUSYBOX);
  assert.equal(bin.header.size, original.length);
  assert.ok(bin.content.equals(original), 'bin/busybox is the host binary byte for byte');

  const applets = await listApplets(BUSYBOX);
  assert.ok(applets.includes('sh') && applets.includes('ls') && applets.includes('cat'));
  assert.ok(!applets.includes('busybox'));
  const links = list.filter((e) => e.header.type === 'symlink');
  assert.equal(links.length, applets.length);
  for (const l of links) {
    assert.match(l.header.name, /^bin\/[^/]+$/);
    assert.equal(l.header.linkname, 'busybox');
  }
  assert.equal(byName.get('bin/sh')!.header.linkname, 'busybox');

  const dirModes: Record<string, number> = {
    bin: 0o755, dev: 0o755, proc: 0o755, sys: 0o755, tmp: 0o1777, root: 0o700, home: 0o755, var: 0o755, etc: 0o755, usr: 0o755, 'usr/bin': 0o755,
  };
  for (const [dir, mode] of Object.entries(dirModes)) {
    const e = byName.get(dir);
    assert.ok(e, `${dir}/ exists`);
    assert.equal(e.header.type, 'directory', dir);
    assert.equal(e.header.mode, mode, `${dir} mode ${mode.toString(8)}`);
  }

  const passwd = byName.get('etc/passwd')!.content.toString();
  assert.match(passwd, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(passwd, /^daemon:x:1:1:/m);
  assert.match(passwd, /^bin:x:2:2:/m);
  assert.match(passwd, /^sys:x:3:3:/m);
  assert.match(passwd, /^nobody:x:65534:65534:nobody:\/home:\/bin\/false$/m);
  const group = byName.get('etc/group')!.content.toString();
  assert.match(group, /^root:x:0:$/m);
  assert.match(group, /^nogroup:x:65534:$/m);
  assert.match(group, /^nobody:x:65534:$/m);
  // every group a passwd entry names exists
  const gids = new Set(group.trim().split('\n').map((l) => l.split(':')[2]));
  for (const line of passwd.trim().split('\n')) assert.ok(gids.has(line.split(':')[3]), line);
  assert.equal(byName.get('etc/passwd')!.header.mode, 0o644);

  for (const e of list) {
    assert.equal(e.header.uid, 0, e.header.name);
    assert.equal(e.header.gid, 0, e.header.name);
    assert.equal(e.header.mtime?.getTime(), ROOTFS_MTIME.getTime(), e.header.name);
  }
  assert.equal(new Set(list.map((e) => e.header.name)).size, list.length, 'no duplicate entries');
});

test('two builds give identical bytes (so the same image ID), and the file writer writes the same bytes', async (t) => {
  requireBusybox();
  const a = await readAll(busyboxRootfsTar(BUSYBOX));
  const b = await readAll(busyboxRootfsTar(BUSYBOX));
  assert.equal(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
  assert.ok(a.equals(b));
  assert.equal(a.length % 512, 0);

  const dir = await mkdtemp(join(tmpdir(), 'brig-rootfs-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'rootfs.tar');
  await writeBusyboxRootfsTar(BUSYBOX, file);
  assert.ok((await readFile(file)).equals(a));
});

test('an unread tar does not pull the whole binary into memory (back-pressure)', async () => {
  requireBusybox();
  const before = process.memoryUsage().arrayBuffers;
  const stream = busyboxRootfsTar(BUSYBOX);
  // start the flow, then stop reading
  const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
  stream.pause();
  assert.ok(first.length > 0);
  await sleep(200);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 1024 * 1024, `buffered ${grown} bytes while nobody read`);
  assert.ok(stream.readableLength <= 64 * 1024, `readable buffer ${stream.readableLength}`);
  stream.destroy();
  await sleep(20); // the producer must stop quietly (no unhandled rejection)
});

test('a missing busybox, a non-ELF file and a dynamic binary fail the stream clearly', async (t) => {
  await assert.rejects(readAll(busyboxRootfsTar('/nonexistent/busybox')), (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.code, 'ERR_NOT_FOUND');
    assert.match(err.message, /busybox not found at \/nonexistent\/busybox/);
    assert.match(err.hint ?? '', /busybox-static/);
    return true;
  });

  const dir = await mkdtemp(join(tmpdir(), 'brig-rootfs-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const text = join(dir, 'busybox');
  await writeFile(text, '#!/bin/sh\necho not really busybox\n'.repeat(4), { mode: 0o755 });
  await assert.rejects(readAll(busyboxRootfsTar(text)), { code: 'ERR_INVALID_ARGUMENT', message: `${text} is not an ELF executable` });
  await assert.rejects(readAll(busyboxRootfsTar(dir)), { code: 'ERR_INVALID_ARGUMENT', message: `${dir} is not a regular file` });

  // node itself is dynamically linked: it has a PT_INTERP program header
  await assert.rejects(assertStaticElf(process.execPath), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
    assert.match(err.message, /is dynamically linked \(program interpreter \/.*ld-linux.*\)/);
    return true;
  });
  if (existsSync(BUSYBOX)) await assertStaticElf(BUSYBOX);
});
