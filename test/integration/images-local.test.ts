/**
 * Local image management with the real docker CLI: tag, rmi (untag vs delete, every conflict and
 * its message), history, prune, system df, images filters and --digests, save → load round trips
 * (byte-identical), refused malicious archives leaving nothing behind, import from a loopback URL,
 * and garbage collection (no orphans after rmi; never racing an import in progress).
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { startDaemon, type TestDaemon } from './harness.js';

async function tarOf(entries: { name: string; data?: string | Buffer; type?: 'file' | 'symlink' | 'directory'; linkname?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : e.data ?? Buffer.alloc(0);
    const header = { name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) } as const;
    if (e.type && e.type !== 'file') pack.entry({ ...header, size: 0 });
    else pack.entry({ ...header, size: data.length }, data);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function storeState(d: TestDaemon): Promise<{ blobs: string[]; layers: string[]; ingest: string[] }> {
  return {
    blobs: (await readdir(join(d.dataRoot, 'blobs', 'sha256'))).sort(),
    layers: (await readdir(join(d.dataRoot, 'layers'))).sort(),
    ingest: await readdir(join(d.dataRoot, 'ingest')),
  };
}

const ok = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, `failed: ${r.stderr}`);
  return r.stdout;
};

describe('local images', () => {
  let d: TestDaemon;
  let tmp: string;
  let bbId: string;
  before(async () => {
    d = await startDaemon();
    tmp = await mkdtemp(join(tmpdir(), 'brig-images-local-'));
    bbId = ok(await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
    await d?.stop();
  });

  test('tag and rmi: untag vs delete and every conflict with its message', async () => {
    const short = bbId.slice(7, 19);
    ok(await d.docker(['tag', 'busybox', 'mine/app:v1']));
    ok(await d.docker(['tag', 'busybox', 'mine/app:v2']));
    assert.match(ok(await d.docker(['images', 'mine/app'])), /mine\/app\s+v1\s+/);
    const byId = await d.docker(['rmi', short]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, new RegExp(`Error response from daemon: conflict: unable to delete ${short} \\(must be forced\\) - image is referenced in multiple repositories`));
    assert.equal(ok(await d.docker(['rmi', 'mine/app:v1'])), 'Untagged: mine/app:v1\n');
    assert.equal(ok(await d.docker(['rmi', 'mine/app:v2'])), 'Untagged: mine/app:v2\n');
    const missing = await d.docker(['rmi', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:latest/);

    ok(await d.docker(['tag', 'busybox', 'victim:1']));
    const ctr = ok(await d.docker(['create', '--name', 'user1', 'victim:1', 'true'])).trim();
    const cShort = ctr.slice(0, 12);
    ok(await d.docker(['tag', 'busybox', 'victim:2']));
    ok(await d.docker(['rmi', 'victim:2']));
    const byName = await d.docker(['rmi', 'busybox']);
    assert.equal(byName.code, 0, 'another tag remains: busybox is only untagged');
    assert.equal(byName.stdout, 'Untagged: busybox:latest\n');
    const stopped = await d.docker(['rmi', 'victim:1']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, new RegExp(`conflict: unable to remove repository reference "victim:1" \\(must force\\) - container ${cShort} is using its referenced image ${short}`));
    const stoppedId = await d.docker(['rmi', short]);
    assert.match(stoppedId.stderr, new RegExp(`conflict: unable to delete ${short} \\(must be forced\\) - image is being used by stopped container ${cShort}`));
    ok(await d.docker(['start', 'user1']));
    ok(await d.docker(['wait', 'user1']));
    ok(await d.docker(['rm', 'user1']));
    ok(await d.docker(['run', '-d', '--name', 'runner', 'victim:1', 'sleep', '60']));
    const running = await d.docker(['rmi', '-f', short]);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /unable to delete [0-9a-f]{12} \(cannot be forced\) - image is being used by running container/);
    ok(await d.docker(['rm', '-f', 'runner']));
    ok(await d.docker(['tag', 'victim:1', 'busybox:latest']));
    ok(await d.docker(['rmi', 'victim:1']));
  });

  test('history lists the layers newest first', async () => {
    const out = ok(await d.docker(['history', '--no-trunc', 'busybox']));
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/);
    assert.match(lines[1]!, new RegExp(`^${bbId}\\s+.*\\s+1\\.\\d+MB\\s+Imported from -`));
    const api = (await d.http('GET', '/images/busybox/history')).json() as { Id: string; Tags: string[] }[];
    assert.deepEqual(api[0]?.Tags, ['busybox:latest']);
  });

  test('images filters, --digests, system df and prune', async () => {
    // A second image (different ID) through import with a label.
    const tarball = await tarOf([{ name: 'hello.txt', data: 'hi\n' }]);
    const imp = await d.docker(['import', '-c', 'LABEL team=blue', '-', 'labelled:1'], { input: tarball });
    const labelled = ok(imp).trim();
    assert.match(ok(await d.docker(['images', '--filter', 'label=team=blue', '-q', '--no-trunc'])), new RegExp(labelled));
    assert.doesNotMatch(ok(await d.docker(['images', '--filter', 'label=team=red', '-q', '--no-trunc'])), new RegExp(labelled));
    assert.equal(ok(await d.docker(['images', '--filter', 'since=busybox', '-q', '--no-trunc'])).trim(), labelled);
    assert.equal(ok(await d.docker(['images', '--filter', 'before=labelled:1', '-q', '--no-trunc'])).trim(), bbId);
    assert.match(ok(await d.docker(['images', '--filter', 'reference=lab*', '--format', '{{.Repository}}'])), /^labelled\n$/);
    const bad = await d.docker(['images', '--filter', 'dangling=maybe']);
    assert.match(bad.stderr, /Invalid filter 'dangling=maybe'/);
    assert.match(ok(await d.docker(['images', '--digests', 'busybox'])), /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID.*\nbusybox\s+latest\s+<none>\s+/);

    ok(await d.docker(['tag', 'labelled:1', 'labelled:2']));
    ok(await d.docker(['rmi', 'labelled:1']));
    ok(await d.docker(['rmi', 'labelled:2']));
    // rmi of the last tag deletes it; make a dangling one by moving a tag away instead
    const again = ok(await d.docker(['import', '-c', 'LABEL team=blue', '-', 'labelled:1'], { input: tarball })).trim();
    const other = ok(await d.docker(['import', '-', 'labelled:1'], { input: await tarOf([{ name: 'x', data: 'x' }]) })).trim();
    assert.match(ok(await d.docker(['images', '--filter', 'dangling=true', '-q', '--no-trunc'])), new RegExp(again));
    const df = ok(await d.docker(['system', 'df']));
    assert.match(df, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+3\s+0\s+/);
    assert.match(df, /Build Cache\s+0\s+0\s+0B\s+0B/);
    const pruned = ok(await d.docker(['image', 'prune', '-f']));
    assert.match(pruned, new RegExp(`Deleted Images:\ndeleted: ${again}\n\nTotal reclaimed space: `));
    const all = ok(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'label!=keep']));
    assert.match(all, new RegExp(`untagged: labelled:1\ndeleted: ${other}`));
    assert.match(all, new RegExp(`untagged: busybox:latest\ndeleted: ${bbId}`));
    assert.equal(ok(await d.docker(['images', '-q'])), '');
    // GC: nothing of any image is left in the data root
    assert.deepEqual(await storeState(d), { blobs: [], layers: [], ingest: [] });
    const r = await d.brig(['image', 'builtin', 'busybox:latest']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('save → load into a fresh daemon: same image ID, byte-identical second save', async () => {
    ok(await d.docker(['tag', 'busybox', 'second/name:v9']));
    bbId = ok(await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    const a = join(tmp, 'a.tar');
    ok(await d.docker(['save', '-o', a, 'busybox', 'second/name:v9']));
    const twice = join(tmp, 'a2.tar');
    ok(await d.docker(['save', '-o', twice, 'busybox', 'second/name:v9']));
    assert.ok((await readFile(a)).equals(await readFile(twice)), 'saving twice gives the same bytes');
    const fresh = await startDaemon({ busybox: false });
    try {
      const loaded = await fresh.docker(['load', '-i', a]);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(loaded.stdout, 'Loaded image: busybox:latest\nLoaded image: second/name:v9\n');
      assert.equal(ok(await fresh.docker(['image', 'inspect', '-f', '{{.Id}}', 'second/name:v9'])).trim(), bbId);
      const b = join(tmp, 'b.tar');
      ok(await fresh.docker(['save', '-o', b, 'busybox', 'second/name:v9']));
      assert.ok((await readFile(a)).equals(await readFile(b)), 'the round trip is byte-identical');
      assert.equal(ok(await fresh.docker(['run', '--rm', 'second/name:v9', 'echo', 'loaded'])), 'loaded\n');
    } finally {
      await fresh.stop();
    }
    ok(await d.docker(['rmi', 'second/name:v9']));
  });

  test('malicious or broken archives are refused and leave nothing behind', async () => {
    const before = await storeState(d);
    const hex = 'a'.repeat(64);
    const cases: [string, Buffer, RegExp][] = [
      ['path traversal', await tarOf([{ name: '../../etc/evil', data: 'x' }]), /entry name escapes the archive/],
      ['bad blob name', await tarOf([{ name: 'blobs/sha256/../../x', data: 'x' }]), /escapes the archive/],
      ['blob not matching its name', await tarOf([{ name: `blobs/sha256/${hex}`, data: 'not that' }]), /digest mismatch/],
      ['missing blob', await tarOf([{ name: 'manifest.json', data: JSON.stringify([{ Config: `blobs/sha256/${hex}`, RepoTags: ['x:1'], Layers: [] }]) }]), /missing from the archive/],
      ['absolute symlink', await tarOf([{ name: 'blobs/', type: 'directory' }, { name: 'evil', type: 'symlink', linkname: '/etc/passwd' }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'evil', RepoTags: null, Layers: [] }]) }]), /absolute symlink/],
      ['not an archive', Buffer.from('hello'.repeat(200)), /invalid tar|unexpected end|neither manifest/],
    ];
    // A manifest whose config lists a different diff ID than the layer it names.
    const layer = await tarOf([{ name: 'f', data: 'content' }]);
    const { createHash } = await import('node:crypto');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${'b'.repeat(64)}`] } }));
    cases.push(['config/layer mismatch', await tarOf([
      { name: `blobs/sha256/${sha(layer)}`, data: layer },
      { name: `blobs/sha256/${sha(config)}`, data: config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `blobs/sha256/${sha(config)}`, RepoTags: ['mismatch:1'], Layers: [`blobs/sha256/${sha(layer)}`] }]) },
    ]), /diff ID/]);
    for (const [what, archive, message] of cases) {
      const r = await d.docker(['load'], { input: archive });
      assert.equal(r.code, 1, `${what}: must fail`);
      assert.match(r.stderr, message, what);
      assert.deepEqual(await storeState(d), before, `${what}: nothing left behind`);
    }
    assert.doesNotMatch(ok(await d.docker(['images'])), /mismatch|x\s+1/);
  });

  test('import from a loopback URL; other URLs are refused with the reason', async () => {
    const body = await tarOf([{ name: 'from-url.txt', data: 'via url\n' }]);
    const server: Server = createServer((req, res) => {
      if (req.url === '/rootfs.tar') res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await d.docker(['import', `http://127.0.0.1:${port}/rootfs.tar`, 'fromurl:1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
      const missing = await d.docker(['import', `http://127.0.0.1:${port}/nothing.tar`]);
      assert.match(missing.stderr, /HTTP 404/);
      const remote = await d.docker(['import', 'http://192.0.2.1/x.tar']);
      assert.equal(remote.code, 1);
      assert.match(remote.stderr, /only fetches import URLs from loopback addresses/);
    } finally {
      server.close();
    }
    ok(await d.docker(['rmi', 'fromurl:1']));
  });

  test('GC waits for an import in progress and does not remove its blobs', async () => {
    const start = await storeState(d);
    const body = await tarOf([{ name: 'slow.txt', data: Buffer.alloc(200_000, 7) }]);
    let resolveImport!: (v: string) => void;
    const imported = new Promise<string>((r) => (resolveImport = r));
    const req = request({ socketPath: d.socket, method: 'POST', path: '/images/create?fromSrc=-&repo=slow&tag=1', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolveImport(text));
    });
    req.write(body.subarray(0, 100_000));
    // wait until the daemon is ingesting
    for (let i = 0; i < 100 && (await readdir(join(d.dataRoot, 'ingest'))).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await readdir(join(d.dataRoot, 'ingest'))).length, 1, 'the import is in progress');
    let pruneDone = false;
    const prune = d.http('POST', '/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%2C%22label%22%3A%5B%22none%3Dnone%22%5D%7D').then((r) => ((pruneDone = true), r));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pruneDone, false, 'garbage collection waits for the import');
    req.end(body.subarray(100_000));
    const text = await imported;
    const id = /sha256:[0-9a-f]{64}/.exec(text)?.[0];
    assert.ok(id, text);
    assert.equal((await prune).status, 200);
    const after = await storeState(d);
    assert.equal(after.blobs.length, start.blobs.length + 2, 'the import kept its layer blob and config');
    assert.equal(ok(await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'slow:1'])).trim(), id);
    ok(await d.docker(['rmi', 'slow:1']));
    assert.deepEqual(await storeState(d), start, 'rmi left no orphan blob or layer dir');
  });

  test('brig CLI: tag, rmi, history, save/load, image prune and system df print what docker prints', async () => {
    assert.equal(ok(await d.brig(['tag', 'busybox', 'cli/x:1'])), '');
    for (const args of [['history', 'busybox'], ['system', 'df']]) {
      assert.equal(ok(await d.brig(args)), ok(await d.docker(args)), args.join(' '));
    }
    const saved = join(tmp, 'cli.tar');
    ok(await d.brig(['save', '-o', saved, 'cli/x:1']));
    assert.equal(ok(await d.brig(['rmi', 'cli/x:1'])), 'Untagged: cli/x:1\n');
    assert.equal(ok(await d.brig(['load', '-i', saved])), 'Loaded image: cli/x:1\n');
    const dockerSaved = join(tmp, 'cli-docker.tar');
    ok(await d.docker(['save', '-o', dockerSaved, 'cli/x:1']));
    assert.ok((await readFile(saved)).equals(await readFile(dockerSaved)));
    const conflict = await d.brig(['rmi', bbId.slice(7, 19)]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Error response from daemon: conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
    assert.equal(ok(await d.brig(['rmi', 'cli/x:1'])), 'Untagged: cli/x:1\n');
    assert.equal(ok(await d.brig(['image', 'prune', '-f'])), 'Total reclaimed space: 0B\n');
  });
});
