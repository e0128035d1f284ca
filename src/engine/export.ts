/**
 * `docker export`: a container's root filesystem as an uncompressed tar stream.
 *
 * The tree is walked through pinned directory fds (rootfs-walk.ts), so a running container that
 * swaps a directory for a symlink while the export runs cannot make it read anything outside its
 * root; such an entry is skipped. Entries come depth-first with names sorted bytewise, without a
 * leading `./` (`bin/`, `bin/busybox`), like dockerd's. Hard links within the tree become tar hard
 * links; sockets are left out (as dockerd does); extended attributes are not exported (Node has no
 * xattr API; dockerd only exports `security.capability`).
 *
 * Back-pressure: a file's bytes are written only as fast as the tar is read (tar-stream's entry
 * streams wait), and before every entry the walk waits until the tar stream wants more data, so a
 * client that stops reading stops the walk instead of filling memory with headers.
 */
import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header, type Pack } from 'tar-stream';

type EntryHeader = Partial<Header> & Pick<Header, 'name'>;
import { PinnedDir } from './rootfs-walk.js';

export interface ExportOptions {
  /** Stops the walk (the tar stream is destroyed with the signal's reason). */
  signal?: AbortSignal;
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
function devParts(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/** Reads exactly `size` bytes (zeros past a shrunk file's end, a grown file cut), so the tar stays valid. */
async function* exactly(handle: FileHandle, size: number): AsyncGenerator<Buffer> {
  let left = size;
  let eof = false;
  while (left > 0) {
    const want = Math.min(left, 64 * 1024);
    let chunk: Buffer;
    if (eof) {
      chunk = Buffer.alloc(want);
    } else {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, null);
      if (bytesRead === 0) {
        eof = true;
        continue;
      }
      chunk = buf.subarray(0, bytesRead);
    }
    left -= chunk.length;
    yield chunk;
  }
}

/**
 * Lets the walk wait for the tar stream's demand: streamx calls a readable's `_read` whenever its
 * buffer is below the high-water mark and it wants data; the walk adds an entry only after such a
 * call. (tar-stream's Pack uses `_read` to resume a waiting entry; that still happens first.)
 */
function demandGate(pack: Pack): () => Promise<void> {
  let wanted = true;
  let wake: (() => void) | undefined;
  const p = pack as unknown as { _read(cb: (err?: Error | null) => void): void };
  const packRead = p._read.bind(pack);
  p._read = (cb) => {
    wanted = true;
    wake?.();
    wake = undefined;
    packRead(cb);
  };
  pack.on('close', () => {
    wanted = true;
    wake?.();
  });
  return async () => {
    if (!wanted) await new Promise<void>((resolve) => (wake = resolve));
    wanted = false;
  };
}

function addVoid(pack: Pack, header: EntryHeader): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

async function walk(pack: Pack, dir: PinnedDir, prefix: string, state: { links: Map<string, string>; gate: () => Promise<void>; signal?: AbortSignal }): Promise<void> {
  for (const raw of await dir.names()) {
    state.signal?.throwIfAborted();
    const st: BigIntStats | undefined = await dir.lstat(raw);
    if (!st) continue;
    const name = `${prefix}${raw.toString('utf8')}`;
    const base: EntryHeader = {
      name,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: new Date(Number(st.mtimeNs / 1_000_000n)),
    };
    await state.gate();
    if (st.isDirectory()) {
      const sub = await dir.dir(raw);
      if (!sub) continue;
      try {
        await addVoid(pack, { ...base, name: `${name}/`, type: 'directory', mode: Number(BigInt(sub.stat.mode) & 0o7777n) });
        await walk(pack, sub, `${name}/`, state);
      } finally {
        await sub.close();
      }
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? state.links.get(key) : undefined;
      if (first !== undefined) {
        await addVoid(pack, { ...base, type: 'link', linkname: first });
        continue;
      }
      const file = await dir.file(raw);
      if (!file) continue;
      try {
        if (st.nlink > 1n) state.links.set(key, name);
        // tar-stream's entries are streamx Writables, which Node's pipeline drives like its own
        const entry = pack.entry({ ...base, type: 'file', size: file.stat.size }) as unknown as Writable;
        await pipeline(Readable.from(exactly(file.handle, file.stat.size)), entry);
      } finally {
        await file.handle.close();
      }
    } else if (st.isSymbolicLink()) {
      const target = await dir.readlink(raw);
      if (target === undefined) continue;
      await addVoid(pack, { ...base, type: 'symlink', linkname: target.toString('utf8') });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = devParts(st.rdev);
      await addVoid(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
    } else if (st.isFIFO()) {
      await addVoid(pack, { ...base, type: 'fifo' });
    }
    // sockets: not exportable (dockerd skips them too)
  }
}

/**
 * The tar stream of the tree at `root` (a mounted root filesystem). The walk starts at once and
 * runs as fast as the stream is read. `onEnd` runs once the walk is over (finished, failed or
 * aborted), e.g. to unmount `root`; on success the tar's end-of-archive is written only after it,
 * so a client that has read the whole tar knows the mount is gone. Errors destroy the stream.
 */
export function exportTree(root: string, options: ExportOptions & { onEnd?: () => Promise<void> } = {}): Readable {
  const pack = tar.pack();
  const out = Readable.from(pack, { objectMode: false });
  const gate = demandGate(pack);
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await options.onEnd?.().catch(() => {});
  };
  const fail = (err: unknown) => {
    if (!out.destroyed) out.destroy(err as Error);
    pack.destroy(err as Error);
  };
  const abort = () => fail(options.signal?.reason ?? new Error('export aborted'));
  options.signal?.addEventListener('abort', abort, { once: true });
  out.on('close', () => {
    if (!pack.destroyed) pack.destroy();
  });
  // Failures reach the consumer through `out`; the pack's own error event must not go unheard.
  pack.on('error', () => {});
  const run = async () => {
    const top = await PinnedDir.open(root);
    try {
      await walk(pack, top, '', { links: new Map(), gate, ...(options.signal ? { signal: options.signal } : {}) });
    } finally {
      await top.close();
    }
    await end();
    pack.finalize();
  };
  run()
    .catch(async (err: unknown) => {
      await end();
      fail(err);
    })
    .finally(() => options.signal?.removeEventListener('abort', abort));
  return out;
}
