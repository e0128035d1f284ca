/**
 * `docker cp` against brig with the real docker CLI (and brig's own `cp`, and raw archive
 * requests): both directions for files and directories (contents, modes, mtimes, `-a` ownership),
 * Docker's 404 messages, stdin/stdout tars, running and stopped containers (no mount left), and
 * the attacks of security-research.md §2 B: symlinks in the container resolved inside its root,
 * crafted uploads (`../`, absolute names, entries through symlinks, hard links out), an xz upload
 * with a planted decompressor (GHSA-x86f-5xw2-fm2r: never run), and the CVE-2018-15664
 * symlink-swap race (a static renameat2(RENAME_EXCHANGE) loop in the container while 400+ copies
 * run both ways against a victim file on the host).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tarOf, type TarOfEntry } from '../../src/image/testdata/tar-fixtures.js';
import { REPO, startDaemon, type TestDaemon } from './harness.js';


const q = (path: string) => encodeURIComponent(path);

describe('docker cp', () => {
  let d: TestDaemon;
  let work: string;

  /** Runs a shell command in the running `cpbox` container and returns its stdout. */
  async function sh(script: string, container = 'cpbox'): Promise<string> {
    const r = await d.docker(['exec', container, 'sh', '-c', script]);
    assert.equal(r.code, 0, `exec ${script}: ${r.stderr}`);
    return r.stdout;
  }

  async function docker(args: string[], input?: Buffer): Promise<string> {
    const r = await d.docker(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function put(container: string, path: string, body: Buffer, query = '') {
    return d.http('PUT', `/containers/${container}/archive?path=${q(path)}${query}`, body, { 'Content-Type': 'application/x-tar' });
  }

  async function mountsOf(id: string): Promise<string[]> {
    return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(id));
  }

  before(async () => {
    d = await startDaemon();
    work = await mkdtemp('/tmp/brig-cp-work-');
    await docker(['run', '-d', '--name', 'cpbox', 'busybox', 'sleep', '3600']);
  });
  after(async () => {
    await d?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('container → host: a file and a directory with contents, modes and mtimes; missing paths are 404', async () => {
    await sh([
      'mkdir -p /data/sub', 'printf "hello\\n" > /data/a.txt', 'chmod 640 /data/a.txt', 'touch -d @1600000000 /data/a.txt',
      'printf x > /data/sub/b', 'chmod 4755 /data/sub/b', 'touch -d @1500000000 /data/sub/b', 'ln -s /etc/passwd /data/link',
      'touch -d @1400000000 /data/sub',
    ].join(' && '));
    await docker(['cp', 'cpbox:/data/a.txt', join(work, 'a.txt')]);
    assert.equal(readFileSync(join(work, 'a.txt'), 'utf8'), 'hello\n');
    assert.equal(statSync(join(work, 'a.txt')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(work, 'a.txt')).mtimeMs, 1_600_000_000_000);

    await docker(['cp', 'cpbox:/data', join(work, 'out')]);
    assert.deepEqual(readdirSync(join(work, 'out')).sort(), ['a.txt', 'link', 'sub']);
    assert.equal(readFileSync(join(work, 'out/sub/b'), 'utf8'), 'x');
    assert.equal(statSync(join(work, 'out/sub/b')).mode & 0o7777, 0o4755);
    assert.equal(statSync(join(work, 'out/sub/b')).mtimeMs, 1_500_000_000_000);
    assert.equal(statSync(join(work, 'out/sub')).mtimeMs, 1_400_000_000_000);
    assert.equal(readlinkSync(join(work, 'out/link')), '/etc/passwd', 'a symlink is copied as a link');

    mkdirSync(join(work, 'existing'));
    await docker(['cp', 'cpbox:/data/.', join(work, 'existing')]);
    assert.deepEqual(readdirSync(join(work, 'existing')).sort(), ['a.txt', 'link', 'sub'], '/. copies the contents');
    await docker(['cp', 'cpbox:/data', join(work, 'existing')]);
    assert.ok(existsSync(join(work, 'existing/data/sub/b')), 'into an existing directory');

    const missing = await d.docker(['cp', 'cpbox:/nonexistent', join(work, 'x')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: Could not find the file \/nonexistent in container cpbox/);
    const head = await d.http('HEAD', `/containers/cpbox/archive?path=${q('/nonexistent')}`);
    assert.equal(head.status, 404);
    const noPath = await d.http('GET', '/containers/cpbox/archive');
    assert.equal(noPath.status, 400);
    assert.match(noPath.body, /Path cannot be empty/);
    const noBox = await d.docker(['cp', 'nobox:/etc/passwd', join(work, 'x')]);
    assert.match(noBox.stderr, /No such container: nobox/);

    // the stat header: Go FileMode bits, RFC 3339 nano mtime, basename
    const stat = await d.http('HEAD', `/containers/cpbox/archive?path=${q('/data/sub/')}`);
    assert.equal(stat.status, 200);
    const s = JSON.parse(Buffer.from(String(stat.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.deepEqual(s, { name: 'sub', size: s['size'], mode: 2 ** 31 + 0o755, mtime: '2014-05-13T16:53:20Z', linkTarget: '' });
    const link = await d.http('HEAD', `/containers/cpbox/archive?path=${q('/data/link')}`);
    const ls = JSON.parse(Buffer.from(String(link.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.equal(ls['mode'], 2 ** 27 + 0o777);
    assert.equal(ls['linkTarget'], '/etc/passwd');
  });

  test('host → container: file and directory, renamed to a new path, modes and mtimes kept, root-owned unless -a', async () => {
    const src = join(work, 'in');
    mkdirSync(join(src, 'dir/sub'), { recursive: true });
    writeFileSync(join(src, 'f.txt'), 'host file\n');
    chmodSync(join(src, 'f.txt'), 0o604);
    chownSync(join(src, 'f.txt'), 1234, 5678);
    utimesSync(join(src, 'f.txt'), 1_500_000_000, 1_500_000_000);
    writeFileSync(join(src, 'dir/x'), 'x');
    chmodSync(join(src, 'dir/x'), 0o755);
    writeFileSync(join(src, 'dir/sub/y'), 'y');
    utimesSync(join(src, 'dir/sub'), 1_300_000_000, 1_300_000_000);

    await docker(['cp', join(src, 'f.txt'), 'cpbox:/tmp/']);
    assert.equal(await sh('cat /tmp/f.txt'), 'host file\n');
    assert.equal((await sh('stat -c "%a %u %g %Y" /tmp/f.txt')).trim(), '604 0 0 1500000000');
    await docker(['cp', '-a', join(src, 'f.txt'), 'cpbox:/tmp/f-a.txt']);
    assert.equal((await sh('stat -c "%a %u %g %Y" /tmp/f-a.txt')).trim(), '604 1234 5678 1500000000', '-a keeps the uid/gid');

    await docker(['cp', join(src, 'dir'), 'cpbox:/tmp/newdir']);
    assert.equal(await sh('cat /tmp/newdir/x /tmp/newdir/sub/y'), 'xy');
    assert.equal((await sh('stat -c "%a %Y" /tmp/newdir/x /tmp/newdir/sub')).trim(), `755 ${Math.floor(statSync(join(src, 'dir/x')).mtimeMs / 1000)}\n755 1300000000`);
    await docker(['cp', join(src, 'dir'), 'cpbox:/tmp/']);
    assert.equal(await sh('cat /tmp/dir/sub/y'), 'y');
    await docker(['cp', join(src, 'dir/.'), 'cpbox:/tmp/newdir2']);
    assert.equal(await sh('ls /tmp/newdir2 | sort | tr "\\n" " "'), 'sub x ');

    const missing = await d.docker(['cp', join(src, 'f.txt'), 'cpbox:/nonexistent/dir/f']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: Could not find the file \/nonexistent\/dir in container cpbox/);

    await sh('touch /tmp/conflict');
    mkdirSync(join(work, 'conflict'));
    const conflict = await d.docker(['cp', join(work, 'conflict'), 'cpbox:/tmp/']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Error response from daemon: cannot overwrite non-directory "\/tmp\/conflict" with directory "\/tmp"/);

    const notDir = await put('cpbox', '/tmp/f.txt', await tarOf([{ name: 'x', body: 'x' }]));
    assert.equal(notDir.status, 400);
    assert.match(notDir.body, /extraction point is not a directory/);
  });

  test('tar on stdin and stdout with `-`', async () => {
    const out = await d.docker(['cp', 'cpbox:/data/a.txt', '-']);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(out.stdout.startsWith('a.txt\0'), 'a tar with one entry named by the basename');
    assert.match(out.stdout, /hello\n/);
    await docker(['cp', '-', 'cpbox:/tmp/'], await tarOf([{ name: 'from-stdin/z', body: 'zz', mode: 0o600 }]));
    assert.equal(await sh('cat /tmp/from-stdin/z'), 'zz');
    const gz = gzipSync(await tarOf([{ name: 'from-gzip', body: 'gz' }]));
    await docker(['cp', '-', 'cpbox:/tmp/'], gz);
    assert.equal(await sh('cat /tmp/from-gzip'), 'gz');
  });

  test('symlinks inside the container resolve inside its root (c:/link/etc/passwd is the container\'s file)', async () => {
    const marker = `container-passwd-${randomBytes(4).toString('hex')}`;
    await sh([
      `echo "root:x:0:0:${marker}:/root:/bin/sh" > /etc/passwd`, 'ln -s / /rootlink', 'mkdir -p /a/b', 'ln -s ../../.. /a/b/up',
      `ln -s ${work} /hostwork`, 'ln -s /etc/passwd /etc/pwlink',
    ].join(' && '));
    for (const path of ['/rootlink/etc/passwd', '/a/b/up/etc/passwd', '/rootlink/rootlink/a/b/up/etc/passwd', '/a/b/up/../../../etc/passwd']) {
      const r = await d.docker(['cp', `cpbox:${path}`, '-']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(marker), path);
      assert.doesNotMatch(r.stdout, /root:x:0:0:root:\/root:\/bin\/(ba)?sh/, `${path} read the host's /etc/passwd`);
    }
    await docker(['cp', '-L', 'cpbox:/etc/pwlink', join(work, 'pw')]);
    assert.match(readFileSync(join(work, 'pw'), 'utf8'), new RegExp(marker));
    assert.equal(lstatSync(join(work, 'pw')).isFile(), true);

    // a link to a host path is only a path inside the container
    writeFileSync(join(work, 'host-only'), 'host only\n');
    const host = await d.docker(['cp', 'cpbox:/hostwork/host-only', '-']);
    assert.equal(host.code, 1);
    assert.match(host.stderr, /Could not find the file \/hostwork\/host-only/);
    const name = `brig-cp-probe-${randomBytes(4).toString('hex')}`;
    writeFileSync(join(work, name), 'x');
    await docker(['cp', join(work, name), 'cpbox:/rootlink/tmp/']);
    assert.equal(await sh(`cat /tmp/${name}`), 'x');
    assert.equal(existsSync(`/tmp/${name}`), false, 'written to the host /tmp');
    const intoHost = await d.docker(['cp', join(work, name), 'cpbox:/hostwork/']);
    assert.notEqual(intoHost.code, 0);
    assert.deepEqual(readdirSync(work).filter((n) => n.startsWith('brig-cp-probe-') && n !== name), []);
  });

  test('crafted uploads: ../ and absolute names, entries through symlinks and hard links out are refused; nothing lands outside', async () => {
    const target = join(work, 'escape-target');
    mkdirSync(target);
    await sh('mkdir -p /tmp/raw/deep/er');
    const depth = '../'.repeat(12);
    const cases: [string, TarOfEntry[]][] = [
      ['dot-dot', [{ name: `${depth}${target.slice(1)}/pwned`, body: 'pwned' }]],
      ['dot-dot inside', [{ name: `deep/../../../pwned`, body: 'pwned' }]],
      ['absolute', [{ name: `${target}/pwned`, body: 'pwned' }]],
      ['absolute symlink then through it', [{ name: 'evil', type: 'symlink', linkname: target }, { name: 'evil/pwned', body: 'pwned' }]],
      ['symlink to / then through it', [{ name: 'evil2', type: 'symlink', linkname: '/' }, { name: `evil2${target}/pwned`, body: 'pwned' }]],
      ['relative symlink up then through it', [{ name: 'deep/er/up', type: 'symlink', linkname: depth }, { name: `deep/er/up${target}/pwned`, body: 'pwned' }]],
      ['hard link out', [{ name: 'h', type: 'link', linkname: `${depth}etc/shadow` }]],
      ['device', [{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 }]],
    ];
    for (const [what, entries] of cases) {
      const r = await put('cpbox', '/tmp/raw', await tarOf(entries));
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
      assert.equal(r.headers['content-type'], 'application/json');
    }
    assert.deepEqual(readdirSync(target), [], 'nothing may be written outside the container');
    // the links themselves exist, inside the container, and resolve inside it
    assert.equal((await sh('readlink /tmp/raw/evil')).trim(), target);
    assert.equal((await sh('ls /tmp/raw | sort | tr "\\n" " "')), 'deep evil evil2 ');
  });

  test('xz and bzip2 uploads are refused; a decompressor planted in the container never runs; gzip is decoded in-process', async () => {
    const hostMarker = join(work, 'decompressor-ran');
    const script = `#!/bin/sh\\ntouch /decompressor-ran-inside ${hostMarker}\\ncat\\n`;
    await sh([
      'mkdir -p /usr/bin /usr/local/bin /usr/sbin /sbin',
      ...['xz', 'unxz', 'gzip', 'gunzip', 'bzip2', 'bunzip2', 'zstd', 'unpigz', 'pigz'].flatMap((n) =>
        ['/bin', '/usr/bin', '/usr/local/bin', '/usr/sbin', '/sbin'].map((dir) => `rm -f ${dir}/${n} && printf '${script}' > ${dir}/${n} && chmod 755 ${dir}/${n}`)),
    ].join(' && '));
    const body = await tarOf([{ name: 'compressed', body: 'c' }]);
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), randomBytes(64), body]);
    const r = await put('cpbox', '/tmp', xz);
    assert.equal(r.status, 400);
    assert.match(r.body, /xz-compressed archives are not supported/);
    const viaCli = await d.docker(['cp', '-', 'cpbox:/tmp/'], { input: xz });
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.stderr, /Error response from daemon: xz-compressed archives are not supported/);
    const bz = await put('cpbox', '/tmp', Buffer.concat([Buffer.from('BZh91AY&SY'), randomBytes(64)]));
    assert.equal(bz.status, 400);
    assert.match(bz.body, /bzip2-compressed archives are not supported/);
    const gz = await put('cpbox', '/tmp', gzipSync(body));
    assert.equal(gz.status, 200, gz.body);
    assert.equal(await sh('cat /tmp/compressed'), 'c');
    assert.equal(existsSync(hostMarker), false, 'a decompressor ran on the host');
    assert.equal((await sh('ls /decompressor-ran-inside 2>/dev/null || echo absent')).trim(), 'absent', 'a decompressor ran in the container');
  });

  test('a stopped container: copies both ways mount its rootfs only for the copy', async () => {
    await docker(['run', '--name', 'stopped', 'busybox', 'sh', '-c', 'echo inside > /f']);
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'stopped'])).trim();
    // the exit's cleanup (unmount) may still be running when `docker run` returns
    for (let i = 0; i < 100 && (await mountsOf(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await mountsOf(id), [], 'exited container still mounted');
    await docker(['cp', 'stopped:/f', join(work, 'from-stopped')]);
    assert.equal(readFileSync(join(work, 'from-stopped'), 'utf8'), 'inside\n');
    assert.deepEqual(await mountsOf(id), []);
    writeFileSync(join(work, 'to-stopped'), 'outside\n');
    await docker(['cp', join(work, 'to-stopped'), 'stopped:/']);
    assert.deepEqual(await mountsOf(id), []);
    const miss = await d.docker(['cp', 'stopped:/nope', join(work, 'nope')]);
    assert.match(miss.stderr, /Could not find the file \/nope in container stopped/);
    const bad = await put('stopped', '/', await tarOf([{ name: '../x', body: 'x' }]));
    assert.equal(bad.status, 400);
    assert.deepEqual(await mountsOf(id), [], 'a failed copy left the rootfs mounted');
    const out = await d.docker(['start', '-a', 'stopped']);
    assert.equal(out.code, 0, out.stderr);
    const back = await d.docker(['cp', 'stopped:/to-stopped', '-']);
    assert.match(back.stdout, /outside\n/, 'the file copied in while stopped is in the container');
    assert.deepEqual(await mountsOf(id), []);
  });

  test('a copy out of a running container that is stopped midway is cut, and its rootfs is unmounted', async () => {
    await docker(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; touch /ready; exec sleep 3600']);
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'busy'])).trim();
    for (let i = 0; i < 100; i++) {
      if ((await d.http('HEAD', `/containers/busy/archive?path=${q('/ready')}`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // a client that reads the start of the tar, then stalls
    const { request } = await import('node:http');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request({ socketPath: d.socket, path: `/containers/busy/archive?path=${q('/big')}` }, resolve).on('error', reject).end();
    });
    assert.equal(res.statusCode, 200);
    let received = 0;
    await new Promise<void>((resolve) => res.once('data', (c: Buffer) => {
      received += c.length;
      resolve();
    }));
    res.pause();
    const t0 = Date.now();
    await docker(['stop', '-t', '0', 'busy']);
    assert.ok(Date.now() - t0 < 10_000, 'stop waited for the stalled copy');
    // the daemon cut the stream: what the client still reads ends short of the 64 MiB file
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.once('close', () => resolve());
      res.once('error', () => resolve());
      res.resume();
    });
    assert.ok(received < 64 * 1024 * 1024, `the whole file was sent (${received} bytes)`);
    for (let i = 0; i < 100 && (await mountsOf(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await mountsOf(id), [], 'the stopped container stayed mounted');
    assert.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'busy'])).trim(), 'exited');
    await docker(['rm', 'busy']);
  });

  test('a client leaving mid-file from a stopped container: the copy releases its lock and mount (the container starts again)', async () => {
    await docker(['run', '--name', 'leaver', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=32']);
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'leaver'])).trim();
    const { request } = await import('node:http');
    for (const bytes of [1, 1024 * 1024, 16 * 1024 * 1024]) {
      // each copy takes the container's lock: one left held by an abandoned copy blocks the next
      const req = request({ socketPath: d.socket, path: `/containers/leaver/archive?path=${q('/big')}` });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          req.destroy();
          reject(new Error(`copy after a client left at ${bytes} bytes: no answer in 20 s (the container's lock is still held)`));
        }, 20_000);
      });
      const copied = (async () => {
        const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject).end());
        assert.equal(res.statusCode, 200);
        await new Promise<void>((resolve) => {
          let seen = 0;
          res.on('data', (c: Buffer) => {
            seen += c.length;
            if (seen >= bytes) {
              res.destroy();
              resolve();
            }
          });
          res.on('end', () => resolve());
        });
      })();
      await Promise.race([copied, late]).finally(() => clearTimeout(timer));
    }
    for (let i = 0; i < 100 && (await mountsOf(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await mountsOf(id), [], 'the rootfs stayed mounted for a client that left');
    // the lock was released: start (which takes it) does not wait for the abandoned copy
    const start = await d.docker(['start', 'leaver'], { timeoutMs: 20_000 });
    assert.equal(start.code, 0, start.stderr);
    await docker(['rm', '-f', 'leaver']);
  });

  test('brig cp: both directions, - and a 404', async () => {
    const dir = join(work, 'brig-src');
    mkdirSync(join(dir, 'n'), { recursive: true });
    writeFileSync(join(dir, 'n/file'), 'brig\n');
    chmodSync(join(dir, 'n/file'), 0o751);
    symlinkSync('file', join(dir, 'n/rel'));
    const up = await d.brig(['cp', join(dir, 'n'), 'cpbox:/tmp/brig-n']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await sh('cat /tmp/brig-n/file; stat -c %a /tmp/brig-n/file; readlink /tmp/brig-n/rel')), 'brig\n751\nfile\n');
    const down = await d.brig(['cp', 'cpbox:/tmp/brig-n', join(work, 'brig-back')]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(join(work, 'brig-back/file'), 'utf8'), 'brig\n');
    assert.equal(statSync(join(work, 'brig-back/file')).mode & 0o7777, 0o751);
    assert.equal(readlinkSync(join(work, 'brig-back/rel')), 'file');
    const file = await d.brig(['cp', 'cpbox:/tmp/brig-n/file', join(work, 'brig-file')]);
    assert.equal(file.code, 0, file.stderr);
    assert.equal(readFileSync(join(work, 'brig-file'), 'utf8'), 'brig\n');
    const stdout = await d.brig(['cp', 'cpbox:/tmp/brig-n/file', '-']);
    assert.ok(stdout.stdout.startsWith('file\0'));
    const stdin = await d.brig(['cp', '-', 'cpbox:/tmp/'], { input: await tarOf([{ name: 'brig-stdin', body: 's' }]) });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(await sh('cat /tmp/brig-stdin'), 's');
    const miss = await d.brig(['cp', 'cpbox:/nope', join(work, 'nope')]);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /Error response from daemon: Could not find the file \/nope in container cpbox/);
  });

  test('symlink-swap race (CVE-2018-15664): a host victim is never read nor written', { timeout: 120_000 }, async (t) => {
    const bin = join(work, 'swap-exchange');
    try {
      execFileSync('gcc', ['-static', '-O2', '-o', bin, join(REPO, 'test/fixtures/swap-exchange.c')], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`building the swap helper needs gcc and a static libc (libc6-dev): ${(err as Error).message}`);
    }
    const victimDir = await mkdtemp('/tmp/brig-cp-victim-');
    t.after(() => rm(victimDir, { recursive: true, force: true }));
    const secret = `HOST-SECRET-${randomBytes(8).toString('hex')}`;
    writeFileSync(join(victimDir, 'secret'), `${secret}\n`);
    utimesSync(join(victimDir, 'secret'), 1_000_000, 1_000_000);
    const victimStat = statSync(join(victimDir, 'secret'));

    // /dir (a real directory) and /link (-> the victim directory's host path) trade places non-stop
    await docker(['run', '-d', '--name', 'race', 'busybox', 'sh', '-c',
      `mkdir /dir && echo container-data > /dir/secret && ln -s ${victimDir} /link && while [ ! -x /swap ]; do sleep 0.05; done; exec /swap /dir /link 90`]);
    await docker(['cp', bin, 'race:/swap']);
    const started = Date.now();
    for (;;) {
      const logs = await d.docker(['logs', 'race']);
      if (/swaps=[1-9]/.test(logs.stdout)) break;
      assert.ok(Date.now() - started < 10_000, `the swap loop did not start: ${logs.stdout} ${logs.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const counts = { readOk: 0, readMissing: 0, writeOk: 0, writeRefused: 0, cliRead: 0, cliWrite: 0, other: [] as string[] };
    const upload = await tarOf([{ name: 'secret', body: 'written-by-test\n' }]);
    const through = await tarOf([{ name: 'dir/secret', body: 'written-by-test\n' }, { name: 'dir/new-file', body: 'new\n' }]);
    const t0 = Date.now();
    const one = async (i: number) => {
      const get = await d.http('GET', `/containers/race/archive?path=${q(i % 2 ? '/dir/secret' : '/dir/')}`);
      assert.doesNotMatch(get.body, new RegExp(secret), 'the host victim was read');
      if (get.status === 200) counts.readOk++;
      else if (get.status === 404) counts.readMissing++;
      else counts.other.push(`GET ${get.status} ${get.body}`);
      const w = i % 2 ? await put('race', '/dir/', upload) : await put('race', '/', through);
      if (w.status === 200) counts.writeOk++;
      else if (w.status === 404 || w.status === 400) counts.writeRefused++;
      else counts.other.push(`PUT ${w.status} ${w.body}`);
    };
    for (let i = 0; i < 200; i += 4) await Promise.all([one(i), one(i + 1), one(i + 2), one(i + 3)]);
    // and through the docker CLI (HEAD + PUT, GET)
    writeFileSync(join(work, 'secret'), 'written-by-cli\n');
    for (let i = 0; i < 20; i++) {
      const out = await d.docker(['cp', 'race:/dir/secret', '-']);
      assert.doesNotMatch(out.stdout, new RegExp(secret), 'the host victim was read by docker cp');
      if (out.code === 0) counts.cliRead++;
      const inn = await d.docker(['cp', join(work, 'secret'), 'race:/dir/']);
      if (inn.code === 0) counts.cliWrite++;
    }
    const elapsed = Date.now() - t0;
    const swaps = /swaps=(\d+)/g;
    const logs = (await d.docker(['logs', 'race'])).stdout;
    const last = [...logs.matchAll(swaps)].pop()?.[1] ?? '?';
    await docker(['rm', '-f', 'race']);

    t.diagnostic(`race: ${JSON.stringify({ ...counts, other: counts.other.length })} in ${elapsed} ms, ${last} exchanges`);
    assert.deepEqual(counts.other, []);
    assert.equal(readFileSync(join(victimDir, 'secret'), 'utf8'), `${secret}\n`, 'the host victim was written');
    const now = statSync(join(victimDir, 'secret'));
    assert.equal(now.mtimeMs, victimStat.mtimeMs, 'the host victim was touched');
    assert.equal(now.mode, victimStat.mode, 'the host victim was chmod-ed');
    assert.equal(now.uid, victimStat.uid);
    assert.deepEqual(readdirSync(victimDir), ['secret'], 'a file appeared on the host');
    assert.equal(existsSync('/secret') || existsSync('/new-file') || existsSync('/dir'), false, 'a file appeared at the host root');
    assert.ok(counts.readOk > 0 && counts.readMissing > 0, `the race never bit in both states: ${JSON.stringify(counts)}`);
    assert.ok(counts.writeOk > 0 && counts.writeRefused > 0, `the race never bit in both states: ${JSON.stringify(counts)}`);
  });
});
