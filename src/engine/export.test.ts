/**
 * The export tar (entry order, types, links, modes), its back-pressure and abort, and the pinned
 * walk it stands on: a tree swapped for a symlink mid-walk is never left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import tar, { type Header } from 'tar-stream';
import { exportTree } from './export.js';
import { PinnedDir } from './rootfs-walk.js';

async function untar(stream: Readable): Promise<{ header: Header; body: string }[]> {
  const out: { header: Header; body: string }[] = [];
  const extract = tar.extract();
  const piped = pipeline(stream, extract as unknown as NodeJS.WritableStream);
  const read = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({ header: entry.header, body: Buffer.concat(chunks).toString() });
    }
  })();
  await Promise.all([piped, read]);
  return out;
}

async function withTree(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'brig-export-test-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('the tar: depth-first sorted entries, dirs with a slash, file bodies, symlinks as links (never followed), hard links, fifos; no sockets', async () => {
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
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(root, 'sock'), r));
    try {
      let ended = false;
      const entries = await untar(exportTree(root, { onEnd: async () => void (ended = true) }));
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
      assert.equal(by('bin/busybox').body, 'ELF...');
      assert.equal(by('bin/busybox').header.mode, 0o4755);
      assert.equal(by('bin/sh').header.linkname, 'busybox');
      assert.equal(by('etc/passwd-').header.linkname, 'etc/passwd');
      assert.equal(by('hostetc').header.linkname, '/etc');
      assert.equal(by('hostetc').body, '');
    } finally {
      server.close();
    }
  });
});

test('back-pressure: an unread export stops walking; reading it finishes the walk', async () => {
  await withTree(async (root) => {
    for (let i = 0; i < 3000; i++) await symlink(`target-${i}`, join(root, `l${String(i).padStart(5, '0')}`));
    let ended = false;
    const stream = exportTree(root, { onEnd: async () => void (ended = true) });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ended, false, 'the walk must wait for the reader');
    assert.ok(stream.readableLength < 256 * 1024, `buffered ${stream.readableLength} bytes`);
    const entries = await untar(stream);
    assert.equal(entries.length, 3000);
    assert.ok(ended);
  });
});

test('abort: the stream fails and the end hook still runs (e.g. to unmount)', async () => {
  await withTree(async (root) => {
    for (let i = 0; i < 2000; i++) await writeFile(join(root, `f${i}`), 'x'.repeat(100));
    const abort = new AbortController();
    let ended = false;
    const stream = exportTree(root, { signal: abort.signal, onEnd: async () => void (ended = true) });
    setTimeout(() => abort.abort(new Error('client went away')), 20);
    await assert.rejects(untar(stream));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(ended);
  });
});

test('a directory swapped for a symlink after it was listed is skipped, never followed; a pinned directory stays itself', async () => {
  await withTree(async (root) => {
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd', 'mine'), 'x');
    const top = await PinnedDir.open(root);
    const sub = await top.dir(Buffer.from('d'));
    assert.ok(sub);
    try {
      // the container moves d away and puts a symlink to the host's /etc in its place
      await rename(join(root, 'd'), join(root, 'moved'));
      await symlink('/etc', join(root, 'd'));
      assert.equal(await top.dir(Buffer.from('d')), undefined);
      assert.equal(await top.file(Buffer.from('d')), undefined);
      assert.equal((await top.lstat(Buffer.from('d')))?.isSymbolicLink(), true);
      // the fd opened before the swap still reads the original directory, wherever it went
      assert.deepEqual((await sub.names()).map(String), ['mine']);
      const f = await sub.file(Buffer.from('mine'));
      assert.ok(f);
      assert.equal((await f.handle.readFile()).toString(), 'x');
      await f.handle.close();
    } finally {
      await sub.close();
      await top.close();
    }
  });
});

test('a file swapped for a symlink to a host file is not opened', async () => {
  await withTree(async (root) => {
    await symlink('/etc/passwd', join(root, 'f'));
    const top = await PinnedDir.open(root);
    try {
      assert.equal(await top.file(Buffer.from('f')), undefined);
      assert.equal(String(await top.readlink(Buffer.from('f'))), '/etc/passwd');
    } finally {
      await top.close();
    }
  });
});
