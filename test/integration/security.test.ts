/**
 * brig's security defaults, observed from inside real containers: capabilities, no-new-privileges,
 * seccomp (EPERM for dangerous calls, ENOSYS for unknown ones, 32-bit ABI refused), masked and
 * read-only paths, the pids limit against a fork bomb, the opt-outs (`--cap-*`, `--security-opt`,
 * `--privileged`), Docker's capability set under `--compat docker`, and private data/run roots.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { BRIG_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, capabilityMask, readHostBoundingSet } from '../../src/security/capabilities.js';
import { REPO, startDaemon, type TestDaemon } from './harness.js';

/** Builds the static syscall probe and imports it as the image `probe:latest` (just `/probe`). */
async function importProbe(d: TestDaemon): Promise<void> {
  const dir = await mkdtemp('/tmp/brig-probe-');
  try {
    const bin = join(dir, 'probe');
    try {
      execFileSync('gcc', ['-static', '-O2', '-o', bin, join(REPO, 'test/fixtures/syscall-probe.c')], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`building the syscall probe needs gcc and a static libc (libc6-dev): ${(err as Error).message}`);
    }
    const pack = tar.pack();
    pack.entry({ name: 'probe', mode: 0o755, uid: 0, gid: 0 }, readFileSync(bin));
    pack.entry({ name: 'tmp', type: 'directory', mode: 0o1777 });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as Readable) chunks.push(c as Buffer);
    const r = await d.docker(['import', '-', 'probe:latest'], { input: Buffer.concat(chunks) });
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function statusField(status: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(\\S+)$`, 'm').exec(status);
  assert.ok(m, `${field} not in /proc/self/status:\n${status}`);
  return m[1]!;
}

describe('security defaults (brig mode)', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importProbe(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('capabilities are Docker\'s 14 minus NET_RAW, MKNOD, AUDIT_WRITE; inheritable and ambient empty; NoNewPrivs; seccomp filter', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    const want = capabilityMask(BRIG_DEFAULT_CAPS);
    assert.equal(want, '00000000800405fb');
    assert.equal(statusField(r.stdout, 'CapEff'), want);
    assert.equal(statusField(r.stdout, 'CapPrm'), want);
    assert.equal(statusField(r.stdout, 'CapBnd'), want);
    assert.equal(statusField(r.stdout, 'CapInh'), '0000000000000000');
    assert.equal(statusField(r.stdout, 'CapAmb'), '0000000000000000');
    assert.equal(statusField(r.stdout, 'NoNewPrivs'), '1');
    assert.equal(statusField(r.stdout, 'Seccomp'), '2');
  });

  test('a non-root user has no effective capabilities', async () => {
    const r = await d.docker(['run', '--rm', '-u', '1000:1000', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(statusField(r.stdout, 'CapEff'), '0000000000000000');
    assert.equal(statusField(r.stdout, 'CapPrm'), '0000000000000000');
  });

  test('keyctl, unshare and mount fail with EPERM; unknown syscalls get ENOSYS; AF_ALG and AF_VSOCK are refused', async () => {
    const r = await d.docker(['run', '--rm', 'probe', '/probe', 'keyctl', 'add_key', 'unshare', 'unshare_user', 'mount', 'bpf',
      'io_uring_setup', 'userfaultfd', 'ptrace', 'socket_alg', 'socket_vsock', 'socket_inet', 'cachestat', 'getpid']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      'keyctl EPERM', 'add_key EPERM', 'unshare EPERM', 'unshare_user EPERM', 'mount EPERM', 'bpf EPERM',
      'io_uring_setup EPERM', 'userfaultfd EPERM', 'ptrace EPERM', 'socket_alg EPERM', 'socket_vsock EPERM',
      'socket_inet ok', 'cachestat ENOSYS', 'getpid ok', '',
    ].join('\n'));
    const bb = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'unshare -u true; echo "unshare=$?"; mount -t tmpfs none /tmp; echo "mount=$?"']);
    assert.match(bb.stderr, /unshare.*Operation not permitted/);
    assert.match(bb.stderr, /mount.*(Operation not permitted|permission denied)/i);
    assert.match(bb.stdout, /unshare=1/);
    assert.match(bb.stdout, /mount=(1|255)/);
  });

  test('the 32-bit syscall ABI is refused (the process is killed with SIGSYS)', async () => {
    const r = await d.docker(['run', '--rm', 'probe', '/probe', 'getpid', 'int80']);
    assert.equal(r.stdout, 'getpid ok\n');
    assert.equal(r.code, 128 + 31);
  });

  test('masked paths are empty and /proc/sys and /sys are read-only', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', [
      'for f in /proc/timer_list /proc/sched_debug /proc/keys /proc/interrupts /proc/latency_stats; do [ -e $f ] && echo "$f $(wc -c < $f)"; done',
      'echo "firmware $(ls -A /sys/firmware | wc -l)"',
      'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo sys-writable || echo sys-ro',
      'echo 1 > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-ro',
      'touch /sys/kernel/brig 2>/dev/null && echo sysfs-writable || echo sysfs-ro',
    ].join('; ')]);
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('/proc/'))) {
      assert.match(line, / 0$/, `masked file is not empty: ${line}`);
    }
    assert.match(r.stdout, /^\/proc\/timer_list 0$/m);
    assert.match(r.stdout, /^firmware 0$/m);
    assert.match(r.stdout, /^sys-ro$/m);
    assert.match(r.stdout, /^sysrq-ro$/m);
    assert.match(r.stdout, /^sysfs-ro$/m);
  });

  test('the default pids limit is 2048 and a fork bomb is stopped without hurting the host', async () => {
    const limit = await d.docker(['run', '--rm', 'busybox', 'cat', '/sys/fs/cgroup/pids/pids.max']);
    assert.equal(limit.stdout.trim(), '2048');
    // The loop runs in a child shell (ash exits when it cannot fork) and records its count in a file.
    const loop = (n: number) => `sh -c 'i=0; while [ $i -lt ${n} ]; do sleep 60 & i=$((i+1)); echo $i > /tmp/n; done' 2>/dev/null; read n < /tmp/n; echo "started=$n"; kill -9 -1`;
    const bomb = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', loop(3000)], { timeoutMs: 120_000 });
    const started = Number(/started=(\d+)/.exec(bomb.stdout)?.[1]);
    assert.ok(started > 100 && started < 2048, `the fork loop started ${started} processes (stdout ${bomb.stdout}, stderr ${bomb.stderr.slice(0, 200)})`);
    assert.equal(execFileSync('/bin/sh', ['-c', 'echo host-ok']).toString(), 'host-ok\n', 'the host can still fork');
    const small = await d.docker(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', loop(50)]);
    const n = Number(/started=(\d+)/.exec(small.stdout)?.[1]);
    assert.ok(n < 20, `--pids-limit 20 let ${n} processes start`);
  });

  test('--cap-drop ALL, --cap-add, no-new-privileges=false, seccomp=unconfined', async () => {
    const none = await d.docker(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(statusField(none.stdout, 'CapEff'), '0000000000000000');
    const raw = await d.docker(['run', '--rm', '--cap-add', 'NET_RAW', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(statusField(raw.stdout, 'CapEff'), capabilityMask([...BRIG_DEFAULT_CAPS, 'CAP_NET_RAW']));
    const nnp = await d.docker(['run', '--rm', '--security-opt', 'no-new-privileges=false', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(statusField(nnp.stdout, 'NoNewPrivs'), '0');
    const unconfined = await d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'probe', '/probe', 'keyctl', 'cachestat']);
    assert.equal(unconfined.stdout, 'keyctl ok\ncachestat EBADF\n');
    const bad = await d.docker(['run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unknown capability/);
  });

  test('--security-opt seccomp=FILE applies a custom profile', async () => {
    const dir = await mkdtemp('/tmp/brig-seccomp-');
    try {
      const file = join(dir, 'profile.json');
      await writeFile(file, JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      }));
      const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x && echo made || echo refused']);
      assert.equal(r.stdout, 'refused\n');
      assert.match(r.stderr, /Operation not permitted/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--privileged gets the host\'s bounding set, no seccomp, and may mount', async () => {
    const host = capabilityMask(await readHostBoundingSet());
    const r = await d.docker(['run', '--rm', '--privileged', 'busybox', 'sh', '-c',
      'grep -E "^(CapEff|Seccomp):" /proc/self/status; mount -t tmpfs none /tmp && echo mounted']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^CapEff:\\s+${host}$`, 'm'));
    assert.match(r.stdout, /^Seccomp:\s+0$/m);
    assert.match(r.stdout, /^mounted$/m);
  });

  test('data root and run root belong to root and are not traversable by others', () => {
    for (const dir of [d.dataRoot, d.runRoot, join(d.dataRoot, 'containers'), join(d.dataRoot, 'layers')]) {
      const st = statSync(dir);
      assert.equal(st.uid, 0, dir);
      assert.equal(st.mode & 0o007, 0, `${dir} is accessible to other users (mode ${(st.mode & 0o777).toString(8)})`);
    }
  });
});

describe('security defaults with --compat docker', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon({ compat: 'docker' });
  });
  after(async () => {
    await d?.stop();
  });

  test('containers get Docker\'s 14 default capabilities', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(statusField(r.stdout, 'CapEff'), capabilityMask(DOCKER_DEFAULT_CAPS));
    assert.equal(capabilityMask(DOCKER_DEFAULT_CAPS), '00000000a80425fb');
    assert.equal(statusField(r.stdout, 'NoNewPrivs'), '1');
  });
});
