/**
 * `docker export`'s tar, written by the `docker cp` walker (archive-fs.ts `archiveRootfs`) over a
 * pinned root: dockerd's naming (relative to the root, no `./`, no root entry), entry order and
 * types, back-pressure, abort without a crash or a leaked fd, and the bugs of the former separate
 * export walker: a UNIX socket followed by more entries (it deadlocked), and a large file read by a
 * slow client (its body must arrive whole). Runs as root (O_PATH pins of any file).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { constants as C, openat2 } from '../native/index.js';
import { readTar } from '../image/testdata/tar-fixtures.js';
import { archiveRootfs } from './archive-fs.js';

const skip = process.getuid?.() === 0 ? false : 'requires root';

const untar = readTar;

async function withTree(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'brig-export-test-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The export of the tree at `root` (pinned the way the daemon pins a container's rootfs). */
function exportOf(root: string, options: Parameters<typeof archiveRootfs>[1] = {}): Readable {
  return archiveRootfs(openat2(C.AT_FDCWD, root, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW), options);
}

function listen(path: string): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** Rejects if `p` takes longer than `ms` (a deadlocked walk never settles). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const openFds = () => readdirSync('/proc/self/fd').length;

test('docker export naming: entries relative to the root (no ./, no root entry), depth-first sorted, dirs with a slash; bodies, links, fifos; no sockets', { skip }, async () => {
  await withTree(async (root) => {
    await mkdir(join(root, 'bin'));
    await writeFile(join(root, 'bin', 'busybox'), 'ELF...');
    await chmod(join(root, 'bin', 'busybox'), 0o4755);
    await symlink('busybox', join(root, 'bin', 'sh'));
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    await link(join(root, 'etc', 'passwd'), join(root, 'etc', 'passwd-'));
    await symlink('/etc', join(root, 'hostetc'));
    await mkdir(join(root, 'a'));
    await writeFile(join(root, 'a-b'), '');
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const server = await listen(join(root, 'sock'));
    try {
      let ended = false;
      const entries = await untar(exportOf(root, { onEnd: () => void (ended = true) }));
      assert.ok(ended);
      assert.deepEqual(entries.map((e) => `${e.header.type} ${e.header.name}`), [
        'directory a/',
        'file a-b',
        'directory bin/',
        'file bin/busybox',
        'symlink bin/sh',
        'directory etc/',
        'file etc/passwd',
        'link etc/passwd-',
        'symlink hostetc',
        'fifo pipe',
      ]);
      const by = (name: string) => entries.find((e) => e.header.name === name)!;
      assert.equal(by('bin/busybox').text, 'ELF...');
      assert.equal(by('bin/busybox').header.mode, 0o4755);
      assert.equal(by('bin/sh').header.linkname, 'busybox');
      assert.equal(by('etc/passwd-').header.linkname, 'etc/passwd');
      assert.equal(by('hostetc').header.linkname, '/etc');
      assert.equal(by('hostetc').text, '');
    } finally {
      server.close();
    }
  });
});

test('a UNIX socket is skipped and the entries after it still come (the old export walker deadlocked here)', { skip }, async () => {
  await withTree(async (root) => {
    await mkdir(join(root, 'run'));
    await mkdir(join(root, 'var'));
    const servers = [await listen(join(root, '0.sock')), await listen(join(root, 'run', 'a.sock')), await listen(join(root, 'run', 'b.sock'))];
    await writeFile(join(root, 'run', 'pid'), '1\n');
    await writeFile(join(root, 'var', 'log'), 'x');
    try {
      const entries = await within(10_000, 'export of a tree with sockets', untar(exportOf(root)));
      assert.deepEqual(entries.map((e) => e.header.name), ['run/', 'run/pid', 'var/', 'var/log']);
    } finally {
      for (const s of servers) s.close();
    }
  });
});

test('a 50 MiB file read by a slow client arrives whole (sha256), followed by the rest of the tree', { skip, timeout: 120_000 }, async () => {
  await withTree(async (root) => {
    const data = randomBytes(50 * 1024 * 1024);
    await writeFile(join(root, 'big'), data);
    await writeFile(join(root, 'small'), 'after the big one');
    const entries = await within(100_000, 'export of a 50 MiB file', untar(exportOf(root), true));
    assert.deepEqual(entries.map((e) => e.header.name), ['big', 'small']);
    assert.equal(entries[0]!.size, data.length);
    assert.equal(entries[0]!.header.size, data.length);
    assert.equal(entries[0]!.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(entries[1]!.text, 'after the big one');
  });
});

test('back-pressure: an unread export stops walking; reading it finishes the walk', { skip }, async () => {
  await withTree(async (root) => {
    for (let i = 0; i < 3000; i++) await symlink(`target-${i}`, join(root, `l${String(i).padStart(5, '0')}`));
    let ended = false;
    const stream = exportOf(root, { onEnd: () => void (ended = true) });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ended, false, 'the walk must wait for the reader');
    assert.ok(stream.readableLength < 256 * 1024, `buffered ${stream.readableLength} bytes`);
    const entries = await untar(stream);
    assert.equal(entries.length, 3000);
    assert.ok(ended);
  });
});

test('a client leaving mid-export (abort, or the stream destroyed) at any point: no crash, every fd closed, the end hook runs once', { skip }, async () => {
  await withTree(async (root) => {
    for (let d = 0; d < 10; d++) {
      await mkdir(join(root, `d${d}`));
      for (let i = 0; i < 60; i++) {
        if (i % 3 === 0) await writeFile(join(root, `d${d}`, `f${i}`), 'x'.repeat(i * 2000));
        else await symlink('x', join(root, `d${d}`, `l${i}`));
      }
    }
    await writeFile(join(root, 'big'), Buffer.alloc(8 * 1024 * 1024));
    const fdsBefore = openFds();
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      for (let run = 0; run < 60; run++) {
        const abort = new AbortController();
        let ends = 0;
        const stream = exportOf(root, { signal: abort.signal, onEnd: () => void ends++ });
        const closed = new Promise((r) => stream.once('close', r));
        stream.on('error', () => {});
        const leave = () => (run % 2 === 0 ? abort.abort(new Error('the client went away')) : stream.destroy());
        let seen = 0;
        const limit = (run * 37_000) % 1_500_000;
        stream.on('data', (c: Buffer) => {
          seen += c.length;
          if (seen > limit) leave();
        });
        await within(10_000, `run ${run}: the stream closes`, closed);
        for (let i = 0; i < 100 && ends === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(ends, 1, `run ${run}: the end hook ran once`);
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
    assert.equal(openFds(), fdsBefore, 'fds left open');
  });
});

test('abort before the walk: the stream fails and the end hook still runs (e.g. to unmount)', { skip }, async () => {
  await withTree(async (root) => {
    await writeFile(join(root, 'f'), 'x');
    let ended = false;
    const stream = exportOf(root, { signal: AbortSignal.abort(new Error('gone')), onEnd: () => void (ended = true) });
    await assert.rejects(untar(stream), /gone/);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(ended);
  });
});
