/**
 * brig's own CLI (bin/brig, a real Engine API client) for the container lifecycle commands, against
 * a real daemon and side by side with the real docker CLI: restart, pause/unpause, rename, update,
 * wait, port, events, container prune, ps filters and formats, logs --since/--until, start -a, and
 * attach on a pseudo-terminal (test/fixtures/pty-script.py).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIG, REPO, dockerBinary, runProcess, startDaemon, type RunResult, type TestDaemon } from './harness.js';

const PTY = join(REPO, 'test', 'fixtures', 'pty-script.py');

interface PtyResult {
  code: number;
  output: string;
  timedOut: boolean;
  failedStep: number | null;
}

type Step = { expect: string } | { send: string } | { sleep: number };

describe('brig CLI lifecycle commands, compared with docker', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  const ok = async (args: string[], via: 'brig' | 'docker' = 'brig'): Promise<string> => {
    const r = await (via === 'brig' ? d.brig(args) : d.docker(args));
    assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** `run …` of a command that exits with `code`. */
  const exits = async (code: number, args: string[]): Promise<void> => {
    const r = await d.brig(args);
    assert.equal(r.code, code, `brig ${args.join(' ')}: ${r.stderr}`);
  };

  /** Runs both CLIs; output that depends on the clock ("Up 1 second") is retried until it settles. */
  const same = async (args: string[], compare: (r: RunResult) => unknown = (r) => r): Promise<RunResult> => {
    let last: [unknown, unknown] = [undefined, undefined];
    for (let i = 0; i < 4; i++) {
      const [b, k] = [await d.brig(args), await d.docker(args)];
      last = [compare(b), compare(k)];
      if (JSON.stringify(last[0]) === JSON.stringify(last[1])) return b;
      await sleep(200);
    }
    assert.deepEqual(last[0], last[1], `brig and docker differ for: ${args.join(' ')}`);
    throw new Error('unreachable');
  };
  /** Everything but brig's `brig: ` prefix on its own error lines. */
  const unprefixed = (r: RunResult) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr.replace(/^brig: /gm, '') });

  const pty = async (args: string[], steps: Step[], via: 'brig' | 'docker' = 'brig'): Promise<PtyResult> => {
    const cmd = via === 'brig' ? [process.execPath, BRIG, ...args] : [dockerBinary(), ...args];
    const r = await runProcess('python3', [PTY, '--timeout', '20', '--steps', JSON.stringify(steps), '--', ...cmd], d.env(), { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `pty helper failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PtyResult;
  };

  test('restart, pause, unpause, rename: same output as docker, state changes seen by both', async () => {
    await ok(['run', '-d', '--name', 'lc-a', '-l', 'grp=lc', 'busybox', 'sleep', '1000']);
    const started1 = JSON.parse(await ok(['inspect', '--type', 'container', 'lc-a']))[0].State.StartedAt as string;

    assert.equal(await ok(['restart', '-t', '0', 'lc-a']), 'lc-a\n');
    const started2 = JSON.parse(await ok(['inspect', '--type', 'container', 'lc-a']))[0].State.StartedAt as string;
    assert.notEqual(started2, started1, 'restart started the container again');

    assert.equal(await ok(['pause', 'lc-a']), 'lc-a\n');
    await same(['ps', '--filter', 'name=lc-a', '--format', '{{.Names}} {{.State}} {{.Status}}']);
    assert.match(await ok(['ps', '--filter', 'name=lc-a', '--format', '{{.State}}'], 'docker'), /^paused$/m);
    // pausing twice: the daemon's error, exit 1, for both CLIs
    await same(['pause', 'lc-a'], unprefixed);
    assert.equal(await ok(['unpause', 'lc-a']), 'lc-a\n');
    await same(['unpause', 'lc-a'], unprefixed);

    assert.deepEqual(await d.brig(['rename', 'lc-a', 'lc-b']), { code: 0, stdout: '', stderr: '' });
    assert.equal(await ok(['ps', '-a', '--filter', 'label=grp=lc', '--format', '{{.Names}}'], 'docker'), 'lc-b\n');
    await same(['rename', 'lc-b', 'lc-b'], unprefixed);
    await same(['rename', 'nosuch', 'x2'], unprefixed);
    await same(['restart', 'nosuch'], unprefixed);
    await same(['ps', '--filter', 'name=lc-b', '--format', '{{.Names}} {{.Status}}']);
    await ok(['rm', '-f', 'lc-b']);
  });

  test('update: docker\'s body reaches the daemon; output and errors match docker', async () => {
    await ok(['run', '-d', '--name', 'up-a', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'up-b', 'busybox', 'sleep', '1000']);
    const b = await d.brig(['update', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--pids-limit', '100', '--restart', 'on-failure:2', 'up-a']);
    assert.deepEqual(b, { code: 0, stdout: 'up-a\n', stderr: '' });
    await ok(['update', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--pids-limit', '100', '--restart', 'on-failure:2', 'up-b'], 'docker');
    const hc = async (name: string) => {
      const h = JSON.parse(await ok(['inspect', name], 'docker'))[0].HostConfig;
      return [h.Memory, h.MemorySwap, h.NanoCpus, h.PidsLimit, h.RestartPolicy];
    };
    assert.deepEqual(await hc('up-a'), [67108864, 134217728, 500000000, 100, { Name: 'on-failure', MaximumRetryCount: 2 }]);
    // CpuShares, quota and period go through the same body; whatever the daemon answers, both CLIs print the same
    await same(['update', '--cpu-shares', '512', 'up-a'], unprefixed);
    await same(['update', '--cpu-quota', '50000', '--cpu-period', '100000', 'up-a'], unprefixed);
    assert.deepEqual(await hc('up-a'), await hc('up-b'), 'brig update and docker update set the same');
    await same(['update', '--memory', '1k', 'up-a'], unprefixed);
    await same(['update', '--restart', 'bogus', 'up-a'], unprefixed);
    await same(['update', '--cpus', '1', 'up-a', 'nosuch'], unprefixed);
    await ok(['rm', '-f', 'up-a', 'up-b']);
  });

  test('wait prints exit codes like docker; port prints what docker prints', async () => {
    await exits(3, ['run', '--name', 'w-3', 'busybox', 'sh', '-c', 'exit 3']);
    await ok(['run', '--name', 'w-0', 'busybox', 'true']);
    const w = await same(['wait', 'w-3', 'w-0']);
    assert.equal(w.stdout, '3\n0\n');
    const missing = await same(['wait', 'w-3', 'nosuch'], unprefixed);
    assert.equal(missing.code, 1);

    // a wait on a running container returns when it exits
    await ok(['run', '-d', '--name', 'w-bg', 'busybox', 'sh', '-c', 'sleep 1; exit 9']);
    const waited = await d.brig(['wait', 'w-bg']);
    assert.deepEqual(waited, { code: 0, stdout: '9\n', stderr: '' });

    await same(['port', 'w-3']);
    await same(['port', 'w-3', '80'], unprefixed);
    await same(['port', 'w-3', '80/udp'], unprefixed);
    await same(['port', 'w-3', 'abc'], unprefixed);
    await same(['port', 'nosuch'], unprefixed);
    await ok(['rm', '-f', 'w-3', 'w-0', 'w-bg']);
  });

  test('ps --filter, --format (custom, table, json), -n, -l, -s, -q: same output as docker', async () => {
    await ok(['run', '-d', '--name', 'ps-run', '-l', 'grp=ps', '-l', 'com.example.tier=web', 'busybox', 'sleep', '1000']);
    await exits(2, ['run', '--name', 'ps-exit', '-l', 'grp=ps', 'busybox', 'sh', '-c', 'exit 2']);
    await ok(['run', '-d', '--name', 'ps-other', 'busybox', 'sleep', '1000']);
    const cases: string[][] = [
      ['ps', '-a', '--filter', 'label=grp=ps', '--format', '{{.Names}} {{.Status}}'],
      ['ps', '-a', '-f', 'status=exited', '-f', 'label=grp=ps', '--format', '{{.Names}} {{.State}}'],
      ['ps', '-a', '-f', 'name=ps-', '--format', 'table {{.Names}}\\t{{.State}}\\t{{.Label "com.example.tier"}}\\t{{.Labels}}'],
      ['ps', '-a', '-f', 'label=grp=ps', '--format', 'json'],
      ['ps', '-a', '-f', 'label=grp=ps', '--format', '{{json .}}'],
      ['ps', '-a', '-f', 'label=grp=ps', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}} {{.Ports}} {{.Mounts}} {{.Networks}} {{.Size}}'],
      ['ps', '-a', '-f', 'label=grp=ps', '--format', 'raw'],
      ['ps', '-a', '-f', 'label=grp=ps', '-s'],
      ['ps', '-a', '-f', 'label=grp=ps', '--no-trunc', '--format', '{{.ID}} {{.Command}}'],
      ['ps', '-n', '2', '--format', '{{.Names}}'],
      ['ps', '-l', '--format', '{{.Names}}'],
      ['ps', '-a', '-q', '-f', 'label=grp=ps'],
      ['ps', '-q', '--format', '{{.Names}}', '-f', 'label=grp=ps'],
      ['ps', '-f', 'label=grp=ps'],
    ];
    for (const args of cases) await same(args, (r) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr }));
    assert.equal(await ok(['ps', '-l', '--format', '{{.Names}}']), 'ps-other\n');
    // template errors: docker's messages, exit 1, nothing listed
    await same(['ps', '--format', '{{.Foo}}'], unprefixed);
    await same(['ps', '--format', '{{foo .}}'], unprefixed);
    await same(['ps', '--format', '{{.Names}'], unprefixed);
    await ok(['rm', '-f', 'ps-run', 'ps-exit', 'ps-other']);
  });

  test('events: the same lines as docker (attributes sorted), json and templates; --since/--until forms', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 1;
    await exits(4, ['run', '--name', 'ev-a', '-l', 'z-last=1', '-l', 'a-first=2', 'busybox', 'sh', '-c', 'exit 4']);
    await ok(['rm', 'ev-a']);
    await sleep(1100);
    const t1 = Math.floor(Date.now() / 1000);
    const window = ['--since', String(t0), '--until', String(t1)];
    const lines = await same(['events', ...window, '--filter', 'container=ev-a']);
    const actions = lines.stdout.trim().split('\n').map((l) => l.split(' ')[2]);
    assert.deepEqual(actions, ['create', 'attach', 'start', 'die', 'destroy']);
    assert.match(lines.stdout, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}(Z|[+-]\d{2}:\d{2}) container die [0-9a-f]{64} \(a-first=2, exitCode=4, image=busybox, name=ev-a, z-last=1\)$/m);
    await same(['events', ...window, '--filter', 'event=die', '--filter', 'label=z-last=1', '--format', 'json']);
    await same(['events', ...window, '-f', 'container=ev-a', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.nope}} {{.Status}} {{.TimeNano}}']);
    // relative and RFC 3339 forms are converted on the client, as docker does
    const since = new Date((t0 - 1) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    await same(['events', '--since', since, '--until', '0s', '--filter', 'container=ev-a', '--format', '{{.Action}}']);
    await same(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ev-a', '--format', '{{.Action}}']);
    const bad = await d.brig(['events', '--format', '{{.Foo}}']);
    assert.equal(bad.code, 64);
    assert.equal(bad.stderr, (await d.docker(['events', '--format', '{{.Foo}}'])).stderr);
    await same(['events', '--since', '2020-13-45'], unprefixed);
  });

  test('container prune: y/N prompt like docker, -f with filters, report with IDs', async () => {
    await ok(['run', '--name', 'pr-a', '-l', 'prune=yes', 'busybox', 'true']);
    await ok(['run', '--name', 'pr-b', '-l', 'prune=yes', 'busybox', 'true']);
    await ok(['run', '--name', 'pr-keep', '-l', 'prune=no', 'busybox', 'true']);
    const PROMPT = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';
    // stdin at EOF and a "n" answer both cancel quietly, exit 0, as with docker
    const declined = await same(['container', 'prune']);
    assert.deepEqual(declined, { code: 0, stdout: PROMPT, stderr: '' });
    const no = await d.brig(['container', 'prune'], { input: 'n\n' });
    assert.deepEqual(no, await d.docker(['container', 'prune'], { input: 'n\n' }));
    const ids = (await ok(['ps', '-aq', '--no-trunc', '--filter', 'label=prune=yes'])).trim().split('\n').sort();
    assert.equal(ids.length, 2);
    const r = await d.brig(['container', 'prune', '--filter', 'label=prune=yes'], { input: 'y\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(PROMPT), r.stdout);
    const m = /^Deleted Containers:\n((?:[0-9a-f]{64}\n)+)\nTotal reclaimed space: 0B\n$/.exec(r.stdout.slice(PROMPT.length));
    assert.ok(m, r.stdout);
    assert.deepEqual(m[1]!.trim().split('\n').sort(), ids);
    assert.equal(await ok(['ps', '-a', '--filter', 'label=prune', '--format', '{{.Names}}'], 'docker'), 'pr-keep\n');
    // nothing left to prune: both print only the total
    assert.equal((await same(['container', 'prune', '-f', '--filter', 'label=prune=yes'])).stdout, 'Total reclaimed space: 0B\n');
    const keep = (await ok(['ps', '-aq', '--no-trunc', '-f', 'name=pr-keep'])).trim();
    assert.equal(await ok(['container', 'prune', '-f', '--filter', 'label=prune=no']), `Deleted Containers:\n${keep}\n\nTotal reclaimed space: 0B\n`);
  });

  test('logs --since/--until as docker sends them; start -a returns the exit code', async () => {
    await ok(['run', '--name', 'lg', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    for (const args of [['--since', '10m'], ['--until', '0s'], ['--since', '2000-01-01', '--until', '2000-01-02'], ['--since', '0'], ['--until', '1h']]) {
      await same(['logs', ...args, 'lg']);
    }
    await same(['logs', '--since', 'bogus', 'lg'], unprefixed);
    const details = await d.brig(['logs', '--details', 'lg']);
    assert.notEqual(details.code, 0);
    assert.match(details.stderr, /--details is not supported/);

    const started = await d.brig(['start', '-a', 'lg']);
    assert.deepEqual(started, { code: 0, stdout: 'out\n', stderr: 'err\n' });
    await exits(6, ['run', '--name', 'sa', 'busybox', 'sh', '-c', 'echo $((20+1)); exit 6']);
    const b = await d.brig(['start', '-a', 'sa']);
    const k = await d.docker(['start', '-a', 'sa']);
    assert.deepEqual(b, k);
    assert.deepEqual(b, { code: 6, stdout: '21\n', stderr: '' });
    const piped = await d.brig(['start', '-ai', 'sa'], { input: 'ignored\n' });
    assert.equal(piped.code, 6);
    await ok(['rm', '-f', 'lg', 'sa']);
  });

  test('attach with a TTY (pty): detach keys leave it running like docker; exit code is the container\'s', async () => {
    await ok(['run', '-dit', '--name', 'at', 'busybox', 'sh']);
    await sleep(300);
    const steps = (keys: number[]): Step[] => [
      { sleep: 0.5 },
      { send: 'echo hi-$((40+2))\r' },
      { expect: 'hi-42' },
      { send: String.fromCharCode(...keys) },
    ];
    const b = await pty(['attach', 'at'], steps([0x10, 0x11]));
    const k = await pty(['attach', 'at'], steps([0x10, 0x11]), 'docker');
    assert.equal(b.timedOut, false, b.output);
    assert.equal(b.failedStep, null, b.output);
    assert.equal(b.code, k.code);
    assert.equal(b.code, 1);
    assert.match(b.output, /hi-42\r\n/);
    assert.doesNotMatch(b.output, /\r\r\n/, 'output is not post-processed by the local terminal (docker clears OPOST)');
    assert.match(b.output, /read escape sequence\r\n$/);
    assert.match(k.output, /read escape sequence\r\n$/);
    assert.equal(await ok(['ps', '-f', 'name=at', '--format', '{{.State}}']), 'running\n');

    const custom = await pty(['attach', '--detach-keys', 'ctrl-x,x', 'at'], [{ sleep: 0.5 }, { send: '\u0018x' }]);
    assert.equal(custom.code, 1, custom.output);
    assert.equal(await ok(['ps', '-f', 'name=at', '--format', '{{.State}}']), 'running\n');

    const exit = await pty(['attach', 'at'], [{ sleep: 0.5 }, { send: 'exit 5\r' }]);
    assert.equal(exit.code, 5, exit.output);
    assert.match(await ok(['ps', '-a', '-f', 'name=at', '--format', '{{.Status}}']), /^Exited \(5\)/);

    // start -ai: the same container again, detached with the keys: exit 0, nothing printed, still running
    const st = await pty(['start', '-ai', 'at'], [{ sleep: 0.8 }, { send: '\u0010\u0011' }]);
    assert.equal(st.code, 0, st.output);
    assert.doesNotMatch(st.output, /escape/);
    assert.equal(await ok(['ps', '-f', 'name=at', '--format', '{{.State}}']), 'running\n');

    // without a terminal: refused like docker; a stopped container: refused like docker
    await same(['attach', 'at'], unprefixed);
    await ok(['stop', '-t', '0', 'at']);
    await same(['attach', 'at'], unprefixed);
    await ok(['rm', '-f', 'at']);
  });

  test('attach without a TTY: piped stdin reaches the container, exit code via wait', async () => {
    await ok(['run', '-di', '--name', 'at2', 'busybox', 'sh', '-c', 'read line; echo "got $line"; exit 3']);
    await sleep(300);
    const r = await d.brig(['attach', 'at2'], { input: 'hello\n' });
    assert.deepEqual(r, { code: 3, stdout: 'got hello\n', stderr: '' });
    await ok(['rm', '-f', 'at2']);
  });

  test('brig --help lists every command', async () => {
    const help = await ok(['--help']);
    for (const c of ['attach', 'restart', 'pause', 'unpause', 'rename', 'update', 'wait', 'port', 'events', 'container', 'ps', 'logs', 'start', 'stop', 'kill']) {
      assert.match(help, new RegExp(`^  ${c} +\\S`, 'm'), c);
    }
  });
});
