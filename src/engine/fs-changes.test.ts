/**
 * `docker diff` rules over in-memory trees (diffUpper), overlayfs lookup over real layer
 * directories (LayersView), the getfattr parser, and the upper walk on a real directory.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  containerChanges, diffUpper, LayersView, parseGetfattr,
  type Change, type EntryInfo, type LowerView, type UpperDir,
} from './fs-changes.js';

type Node =
  | { type: 'dir'; children: Record<string, Node>; opaque?: boolean; mode?: number; mtime?: number }
  | { type: 'file' | 'symlink' | 'whiteout'; size?: number; mtime?: number; mode?: number };

const dir = (children: Record<string, Node>, extra: { opaque?: boolean; mtime?: number; mode?: number } = {}): Node => ({ type: 'dir', children, ...extra });
const file = (size = 1, mtime = 1): Node => ({ type: 'file', size, mtime });
const WH: Node = { type: 'whiteout' };

function info(n: Node): EntryInfo {
  const typeBits = { dir: 0o040000, file: 0o100000, symlink: 0o120000, whiteout: 0o020000 }[n.type];
  return {
    type: n.type,
    mode: typeBits | (n.mode ?? 0o755),
    uid: 0,
    gid: 0,
    mtimeNs: BigInt(n.mtime ?? 1) * 1_000_000_000n,
    size: n.type === 'dir' ? 4096 : (n as { size?: number }).size ?? 0,
  };
}

class MemUpper implements UpperDir {
  private readonly node: Extract<Node, { type: 'dir' }>;
  constructor(node: Extract<Node, { type: 'dir' }>) {
    this.node = node;
  }
  async names() {
    return Object.keys(this.node.children).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
  async info(name: string) {
    const n = this.node.children[name];
    return n ? info(n) : undefined;
  }
  async dir(name: string) {
    const n = this.node.children[name];
    return n?.type === 'dir' ? new MemUpper(n) : undefined;
  }
  async opaque() {
    return this.node.opaque === true;
  }
  async close() {}
}

class MemLower implements LowerView {
  private readonly root: Node;
  constructor(root: Node) {
    this.root = root;
  }
  #find(path: string): Node | undefined {
    let n: Node | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) n = n?.type === 'dir' ? n.children[part] : undefined;
    return n;
  }
  async lookup(path: string) {
    const n = this.#find(path);
    return n ? info(n) : undefined;
  }
  async children(path: string) {
    const n = this.#find(path);
    return n?.type === 'dir' ? Object.keys(n.children).sort() : [];
  }
}

const show = (changes: Change[]) => changes.map((c) => `${'CAD'[c.kind]} ${c.path}`);
const diff = async (upper: Node, lower: Node) => show(await diffUpper(new MemUpper(upper as Extract<Node, { type: 'dir' }>), new MemLower(lower)));

const IMAGE = dir({
  bin: dir({ busybox: file(), sh: { type: 'symlink' } }),
  etc: dir({ group: file(), passwd: file() }),
  usr: dir({ bin: dir({}) }),
  var: dir({ spool: dir({ mail: dir({ old: file() }) }), www: dir({}) }),
  proc: dir({}),
});

test('added, deleted and changed files, parents reported once before their first child (docker diff order)', async () => {
  const upper = dir({
    newfile: file(0, 9),
    d: dir({}, { mtime: 9 }),
    etc: dir({ group: WH, passwd: file(5, 9) }, { mtime: 9 }),
  });
  assert.deepEqual(await diff(upper, IMAGE), ['A /d', 'C /etc', 'D /etc/group', 'C /etc/passwd', 'A /newfile']);
});

test('a copied-up directory with the image mtime is not itself a change; its parent rule still applies', async () => {
  const upper = dir({ usr: dir({ bin: dir({ tool: file() }) }) });
  assert.deepEqual(await diff(upper, IMAGE), ['C /usr/bin', 'A /usr/bin/tool']);
});

test('walk order is a depth-first walk with bytewise-sorted names, not a sort of whole paths', async () => {
  const upper = dir({ 'a-b': file(), a: dir({ b: file() }, { mtime: 9 }), B: file() });
  assert.deepEqual(await diff(upper, dir({})), ['A /B', 'A /a', 'A /a/b', 'A /a-b']);
});

test('runtime mount points the image lacks are not changes, nor is the mtime they gave their parent', async () => {
  const upper = dir({
    etc: dir({ hostname: file(0, 9), hosts: file(0, 9), 'resolv.conf': file(0, 9) }, { mtime: 9 }),
    dev: dir({}, { mtime: 9 }),
    sys: dir({}, { mtime: 9 }),
  });
  assert.deepEqual(await diff(upper, IMAGE), []);
  // …but written ones are, and so is a directory the container filled
  const written = dir({ etc: dir({ hostname: file(0, 9), hosts: file(12, 9) }, { mtime: 9 }), dev: dir({ x: file() }, { mtime: 9 }) });
  assert.deepEqual(await diff(written, IMAGE), ['A /dev', 'A /dev/x', 'C /etc', 'A /etc/hosts']);
  // and the image's own /proc changed in mode is a change
  assert.deepEqual(await diff(dir({ proc: dir({}, { mode: 0o555 }) }), IMAGE), ['C /proc']);
});

test('an opaque directory the image had: changed, its hidden entries deleted, recreated ones changed or added', async () => {
  const upper = dir({ var: dir({ spool: dir({ new: file(), sub: dir({}) }, { opaque: true, mtime: 9 }) }, { mtime: 9 }) });
  assert.deepEqual(await diff(upper, IMAGE), ['C /var', 'C /var/spool', 'D /var/spool/mail', 'A /var/spool/new', 'A /var/spool/sub']);
  // recreated with the same name: mail existed → changed; its old content is hidden → deleted
  const again = dir({ var: dir({ spool: dir({ mail: dir({}, { mtime: 9 }) }, { opaque: true, mtime: 9 }) }, { mtime: 9 }) });
  assert.deepEqual(await diff(again, IMAGE), ['C /var', 'C /var/spool', 'C /var/spool/mail', 'D /var/spool/mail/old']);
});

test('an opaque directory the image did not have is simply added', async () => {
  assert.deepEqual(await diff(dir({ fresh: dir({ x: file() }, { opaque: true }) }), IMAGE), ['A /fresh', 'A /fresh/x']);
});

test('a directory that replaced a file, and a file that replaced a directory', async () => {
  const upper = dir({ etc: dir({ passwd: dir({ x: file() }) }, { mtime: 9 }), usr: file() });
  assert.deepEqual(await diff(upper, IMAGE), ['C /etc', 'C /etc/passwd', 'A /etc/passwd/x', 'C /usr']);
});

// ── real directories ──────────────────────────────────────────────────────────────────────────────

const isRoot = process.getuid?.() === 0;

async function tree(root: string, spec: Record<string, string | null | { link: string }>): Promise<void> {
  for (const [path, content] of Object.entries(spec)) {
    const full = join(root, path);
    if (content === null) await mkdir(full, { recursive: true });
    else if (typeof content === 'string') {
      await mkdir(join(full, '..'), { recursive: true });
      await writeFile(full, content);
    } else {
      await mkdir(join(full, '..'), { recursive: true });
      await symlink(content.link, full);
    }
  }
}

test('LayersView: overlay lookup over layer dirs (upper layer hides lower files, opaque dirs, symlinks never followed)', async () => {
  const base = await mkdtemp(join(tmpdir(), 'brig-layers-'));
  try {
    const l1 = join(base, 'l1');
    const l2 = join(base, 'l2');
    await tree(l1, { 'a/x': '1', b: 'file', 'o/z': '1', 'o/keep': '1', s: { link: '/etc' }, 'r/rel': { link: '../a' } });
    await tree(l2, { 'a/y': '2', 'b/inner': '2', 'o/new': '2' });
    const opaque = new Map([[l2, new Set(['/o'])], [l1, new Set<string>()]]);
    const view = new LayersView([l2, l1], async (l) => opaque.get(l) ?? new Set());
    assert.equal((await view.lookup('/a/x'))?.type, 'file');
    assert.equal((await view.lookup('/a/y'))?.type, 'file');
    assert.equal((await view.lookup('/b'))?.type, 'dir');
    assert.equal((await view.lookup('/b/inner'))?.type, 'file');
    assert.equal(await view.lookup('/o/z'), undefined);
    assert.equal((await view.lookup('/o/new'))?.type, 'file');
    assert.deepEqual(await view.children('/o'), ['new']);
    assert.deepEqual(await view.children('/a'), ['x', 'y']);
    assert.deepEqual(await view.children('/'), ['a', 'b', 'o', 'r', 's']);
    // a symlink is an entry, never a way into the host (or elsewhere in the image)
    assert.equal((await view.lookup('/s'))?.type, 'symlink');
    assert.equal(await view.lookup('/s/passwd'), undefined);
    assert.equal(await view.lookup('/r/rel/x'), undefined);
    assert.equal(await view.lookup('/nope'), undefined);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('LayersView: a whiteout in an upper layer hides the path below (root only: mknod)', { skip: !isRoot && 'needs root for mknod' }, async () => {
  const base = await mkdtemp(join(tmpdir(), 'brig-layers-'));
  try {
    const l1 = join(base, 'l1');
    const l2 = join(base, 'l2');
    await tree(l1, { 'a/x': '1', 'a/keep': '1' });
    await mkdir(join(l2, 'a'), { recursive: true });
    execFileSync('mknod', [join(l2, 'a', 'x'), 'c', '0', '0']);
    const view = new LayersView([l2, l1], async () => new Set());
    assert.equal(await view.lookup('/a/x'), undefined);
    assert.deepEqual(await view.children('/a'), ['keep']);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('containerChanges on real dirs: an upper dir with a symlink to the host is reported, never followed', async () => {
  const base = await mkdtemp(join(tmpdir(), 'brig-upper-'));
  try {
    const layer = join(base, 'layer');
    const upper = join(base, 'upper');
    await tree(layer, { 'etc/passwd': 'root', 'bin/sh': 'x' });
    await tree(upper, { 'etc/passwd': 'root2', evil: { link: '/etc' }, 'new/dir/file': 'x' });
    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(join(layer, 'etc'), old, old);
    assert.deepEqual(show(await containerChanges(upper, [layer])), ['C /etc', 'C /etc/passwd', 'A /evil', 'A /new', 'A /new/dir', 'A /new/dir/file']);
    // a container that never ran has no upper dir
    assert.deepEqual(await containerChanges(join(base, 'missing'), [layer]), []);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('getfattr output: opaque directories as paths in the tree, octal escapes decoded', () => {
  const out = [
    '# file: /data/upper/var/spool',
    'trusted.overlay.opaque="y"',
    '',
    '# file: /data/upper/a\\040b\\303\\251',
    'trusted.overlay.opaque="y"',
    '',
    '# file: /data/upper/x',
    'trusted.overlay.opaque="x"',
    '',
    '# file: /data/upper',
    'trusted.overlay.opaque="y"',
    '',
  ].join('\n');
  assert.deepEqual([...parseGetfattr(out, '/data/upper/')].sort(), ['/', '/a bé', '/var/spool']);
});
