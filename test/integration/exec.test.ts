/**
 * `docker exec` against brig, through the real docker CLI, brig's CLI and raw HTTP: output, exit
 * codes, user/workdir/env, stdin, stderr, detached sessions, inspect, errors (404/409), the
 * container's security profile (an exec gains no capability unless privileged), events, cleanup
 * when the container goes, and `exec -it` under a pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ExecInspect } from '../../src/client/client.js';
import { dockerBinary, startDaemon, type TestDaemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A hijacked `POST /exec/{id}/start` on a raw socket: the head of the answer, then everything until the server's EOF. */
function rawExecStart(socketPath: string, id: string, body: string, stdin?: string): Promise<{ head: string; payload: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socketPath, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, sep).toString(), payload: all.subarray(sep + 4) });
      s.end();
    });
    s.write(
      `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}${stdin ?? ''}`,
    );
    if (stdin === undefined) s.end();
    else setTimeout(() => s.end(), 200);
  });
}

/** Splits Docker's multiplexed frames into [stream, text] pairs. */
function demux(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    out.push([buf[off]!, buf.subarray(off + 8, off + 8 + len).toString()]);
    off += 8 + len;
  }
  assert.equal(off, buf.length, 'frames cover the whole stream');
  return out;
}

/** Pids of live (non-zombie) processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (cmd.includes(text) && state !== 'Z') found.push(`${pid} ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}

/** The exec session directories under the daemon's run root. */
async function sessionDirs(d: TestDaemon): Promise<string[]> {
  const root = join(d.runRoot, 'exec');
  return existsSync(root) ? readdir(root) : [];
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

function capLine(status: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status);
  assert.ok(m, `${name} in ${status}`);
  return m[1]!;
}

describe('docker exec against brig', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    const r = await d.docker(['run', '-d', '--name', 'ex', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.stop();
  });

  test('docker exec prints the output of the command', async () => {
    const r = await d.docker(['exec', 'ex', 'ls', '/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const dir of ['bin', 'etc', 'proc', 'tmp']) assert.match(r.stdout, new RegExp(`^${dir}$`, 'm'));
  });

  test("the command's exit code is docker exec's exit code", async () => {
    assert.equal((await d.docker(['exec', 'ex', 'sh', '-c', 'exit 7'])).code, 7);
    assert.equal((await d.docker(['exec', 'ex', 'true'])).code, 0);
    assert.equal((await d.docker(['exec', 'ex', 'false'])).code, 1);
  });

  test('-u, -w and -e reach the process; without them it runs as the container', async () => {
    const r = await d.docker(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'FOO=bar', 'ex', 'sh', '-c', 'id; pwd; echo $FOO']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'uid=65534(nobody) gid=65534(nogroup)\n/tmp\nbar\n');
    const plain = await d.docker(['exec', 'ex', 'sh', '-c', 'id -u; pwd; echo "${FOO:-unset}"; echo $HOSTNAME']);
    assert.equal(plain.stdout, `0\n/\nunset\n${(await d.docker(['inspect', '-f', '{{.Id}}', 'ex'])).stdout.slice(0, 12)}\n`);
  });

  test('an unknown user is refused at create (400, nothing runs)', async () => {
    const r = await d.docker(['exec', '-u', 'nosuchuser', 'ex', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unable to find user nosuchuser/);
  });

  test('piped stdin with -i reaches the command and its EOF ends it', async () => {
    const r = await d.docker(['exec', '-i', 'ex', 'cat'], { input: 'a\nb\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nb\n');
    const wc = await d.docker(['exec', '-i', 'ex', 'sh', '-c', 'wc -l; exit 3'], { input: 'x\ny\nz\n' });
    assert.equal(wc.stdout.trim(), '3');
    assert.equal(wc.code, 3);
  });

  test('stdout and stderr stay separate', async () => {
    const r = await d.docker(['exec', 'ex', 'sh', '-c', 'echo out; echo err >&2; echo out2']);
    assert.equal(r.stdout, 'out\nout2\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('a command that cannot be found: the runtime error on the stream, exit 127', async () => {
    const r = await d.docker(['exec', 'ex', 'nonexistent-cmd']);
    assert.equal(r.code, 127);
    assert.match(r.stdout, /executable file not found/);
  });

  test('docker exec -d leaves the process running (seen by a second exec)', async () => {
    const r = await d.docker(['exec', '-d', 'ex', 'sleep', '4242']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const ps = await d.docker(['exec', 'ex', 'ps']);
    assert.match(ps.stdout, /sleep 4242/);
    await d.docker(['exec', 'ex', 'pkill', '-f', 'sleep 4242']);
  });

  test('brig exec: output, stderr, exit code, stdin', async () => {
    const r = await d.brig(['exec', 'ex', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 3);
    const cat = await d.brig(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' });
    assert.equal(cat.stdout, 'piped\n');
    assert.equal((await d.brig(['exec', '-d', 'ex', 'true'])).code, 0);
  });

  test('exec inspect: before start, while running (ExecIDs), after the end; raw hijack with the JSON body', async () => {
    const cid = (await d.docker(['inspect', '-f', '{{.Id}}', 'ex'])).stdout.trim();
    const created = await d.http('POST', '/v1.41/containers/ex/exec', {
      AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo framed; echo e >&2; exit 6'], User: 'nobody', DetachKeys: 'ctrl-x,x',
    });
    assert.equal(created.status, 201, created.body);
    const id = (created.json() as { Id: string }).Id;
    assert.match(id, /^[0-9a-f]{64}$/);

    const before = (await d.http('GET', `/v1.41/exec/${id}/json`)).json() as ExecInspect;
    assert.deepEqual(before, {
      ID: id, Running: false, ExitCode: null,
      ProcessConfig: { tty: false, entrypoint: 'sh', arguments: ['-c', 'echo framed; echo e >&2; exit 6'], privileged: false, user: 'nobody' },
      OpenStdin: false, OpenStderr: true, OpenStdout: true, CanRemove: false, ContainerID: cid,
      DetachKeys: Buffer.from([0x18, 0x78]).toString('base64'), Pid: 0,
    });
    const ci = (await d.http('GET', '/v1.41/containers/ex/json')).json() as { ExecIDs: string[] | null };
    assert.ok(ci.ExecIDs?.includes(id), 'a created exec is listed in ExecIDs');

    const { head, payload } = await rawExecStart(d.socket, id, '{"Detach":false,"Tty":false}');
    // the exit code is recorded before the stream ends: inspect right after EOF sees it
    const afterEnd = (await d.http('GET', `/v1.41/exec/${id}/json`)).json() as ExecInspect;
    assert.match(head, /^HTTP\/1.1 101 UPGRADED\r\n/);
    assert.match(head, /Content-Type: application\/vnd.docker.raw-stream/);
    assert.deepEqual(demux(payload), [[1, 'framed\n'], [2, 'e\n']]);
    assert.equal(afterEnd.Running, false);
    assert.equal(afterEnd.ExitCode, 6);
    assert.ok(afterEnd.Pid > 0);
    const ci2 = (await d.http('GET', '/v1.41/containers/ex/json')).json() as { ExecIDs: string[] | null };
    assert.ok(!(ci2.ExecIDs ?? []).includes(id), 'an ended exec leaves ExecIDs');

    const again = await d.http('POST', `/v1.41/exec/${id}/start`, { Detach: true });
    assert.equal(again.status, 409);
  });

  test('raw hijack with stdin after the JSON body; detached start answers 200 with no body', async () => {
    const created = await d.http('POST', '/v1.41/containers/ex/exec', { AttachStdin: true, AttachStdout: true, Cmd: ['cat'] });
    const id = (created.json() as { Id: string }).Id;
    const { payload } = await rawExecStart(d.socket, id, '{"Detach":false,"Tty":false}', 'in the same packet\n');
    assert.deepEqual(demux(payload), [[1, 'in the same packet\n']]);

    const c2 = await d.http('POST', '/v1.41/containers/ex/exec', { Cmd: ['true'] });
    const id2 = (c2.json() as { Id: string }).Id;
    const started = await d.http('POST', `/v1.41/exec/${id2}/start`, { Detach: true, Tty: false });
    assert.equal(started.status, 200);
    assert.equal(started.headers['content-length'], '0');
    assert.ok(await eventually(async () => ((await d.http('GET', `/v1.41/exec/${id2}/json`)).json() as ExecInspect).ExitCode === 0));
  });

  test('the old 200 raw-stream form (no Upgrade) streams until the server closes', async () => {
    const created = await d.http('POST', '/v1.41/containers/ex/exec', { AttachStdin: true, AttachStdout: true, Cmd: ['sh', '-c', 'cat; echo old-form'] });
    const id = (created.json() as { Id: string }).Id;
    const r = await d.http('POST', `/v1.41/exec/${id}/start`, { Detach: false, Tty: false });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.deepEqual(demux(Buffer.from(r.body, 'latin1')), [[1, 'old-form\n']]);
    assert.equal(((await d.http('GET', `/v1.41/exec/${id}/json`)).json() as ExecInspect).ExitCode, 0);
  });

  test('errors: 404 for an unknown container or exec, 400 without a command, 409 on a stopped container', async () => {
    const nc = await d.http('POST', '/v1.41/containers/nosuch/exec', { Cmd: ['true'] });
    assert.equal(nc.status, 404);
    assert.deepEqual(nc.json(), { message: 'No such container: nosuch' });
    for (const [method, path] of [['GET', '/v1.41/exec/nosuch/json'], ['POST', '/v1.41/exec/nosuch/start'], ['POST', '/v1.41/exec/nosuch/resize?h=1&w=1']] as const) {
      const r = await d.http(method, path, method === 'POST' && path.endsWith('start') ? { Detach: false } : undefined);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.deepEqual(r.json(), { message: 'No such exec instance: nosuch' });
    }
    const empty = await d.http('POST', '/v1.41/containers/ex/exec', { Cmd: [] });
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.json(), { message: 'No exec command specified' });

    const run = await d.docker(['run', '-d', '--name', 'stopped-ex', 'busybox', 'true']);
    const sid = run.stdout.trim();
    await d.docker(['wait', 'stopped-ex']);
    const r = await d.http('POST', '/v1.41/containers/stopped-ex/exec', { Cmd: ['true'] });
    assert.equal(r.status, 409);
    assert.deepEqual(r.json(), { message: `Container ${sid} is not running` });
    const cli = await d.docker(['exec', 'stopped-ex', 'true']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, new RegExp(`Container ${sid} is not running`));
    await d.docker(['rm', 'stopped-ex']);

    assert.equal((await d.docker(['pause', 'ex'])).code, 0);
    try {
      const p = await d.http('POST', '/v1.41/containers/ex/exec', { Cmd: ['true'] });
      assert.equal(p.status, 409);
      assert.match((p.json() as { message: string }).message, /is paused, unpause the container before exec/);
    } finally {
      assert.equal((await d.docker(['unpause', 'ex'])).code, 0);
    }
  });

  test("an exec gets exactly the container's capabilities, seccomp and no-new-privileges", async () => {
    const init = (await d.docker(['exec', 'ex', 'cat', '/proc/1/status'])).stdout;
    const self = (await d.docker(['exec', 'ex', 'cat', '/proc/self/status'])).stdout;
    for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'CapAmb', 'NoNewPrivs', 'Seccomp']) {
      assert.equal(capLine(self, k), capLine(init, k), k);
    }
    assert.equal(capLine(self, 'NoNewPrivs'), '1');
    assert.equal(capLine(self, 'Seccomp'), '2');
    // a non-root exec user has no effective capabilities at all
    assert.equal(capLine((await d.docker(['exec', '-u', 'nobody', 'ex', 'cat', '/proc/self/status'])).stdout, 'CapEff'), '0000000000000000');
  });

  test('--privileged: the daemon bounding set as capabilities, still inside the container seccomp filter', async () => {
    const hostBnd = capLine(await readFile('/proc/self/status', 'utf8'), 'CapBnd');
    const init = (await d.docker(['exec', 'ex', 'cat', '/proc/1/status'])).stdout;
    const priv = (await d.docker(['exec', '--privileged', 'ex', 'cat', '/proc/self/status'])).stdout;
    assert.equal(capLine(priv, 'CapEff'), hostBnd);
    assert.equal(capLine(priv, 'CapBnd'), hostBnd);
    assert.notEqual(capLine(priv, 'CapEff'), capLine(init, 'CapEff'));
    assert.equal(capLine(priv, 'Seccomp'), '2', "the container's seccomp filter still applies");
    // the container's filter still refuses what it refuses: unshare needs CAP_SYS_ADMIN, which the exec now has
    const un = await d.docker(['exec', '--privileged', 'ex', 'unshare', '-u', 'true']);
    assert.notEqual(un.code, 0);
    assert.match(un.stderr, /Operation not permitted/);
    const insp = await d.http('POST', '/v1.41/containers/ex/exec', { Cmd: ['true'], Privileged: true });
    const pid = (insp.json() as { Id: string }).Id;
    assert.equal(((await d.http('GET', `/v1.41/exec/${pid}/json`)).json() as ExecInspect).ProcessConfig.privileged, true);
  });

  test('events: exec_create, exec_start and exec_die with the command and exit code', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // a token of its own: other tests' execs within the same second must not be taken for this one
    const token = `evt${process.hrtime.bigint() % 1_000_000n}`;
    assert.equal((await d.docker(['exec', 'ex', 'sh', '-c', 'exit 3', token])).code, 3);
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'container=ex']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const create = lines.find((l) => l.includes(`container exec_create: sh -c exit 3 ${token} `));
    assert.ok(create, r.stdout);
    const execId = /execID=([0-9a-f]{64})/.exec(create)![1]!;
    const start = lines.find((l) => l.includes(`container exec_start: sh -c exit 3 ${token} `));
    assert.ok(start?.includes(`execID=${execId}`), r.stdout);
    assert.ok(lines.some((l) => l.includes('container exec_die ') && l.includes('exitCode=3') && l.includes(`execID=${execId}`)), r.stdout);
    assert.match(create, /image=busybox, name=ex\)$/);
    // dockerd's prefix match for event=exec_create
    const f = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'event=exec_create']);
    assert.ok(f.stdout.trim().split('\n').every((l) => l.includes('exec_create: ')), f.stdout);
    assert.ok(f.stdout.includes(execId));
  });

  test('docker exec -it under a pseudo-terminal: echo, resize, exit code 4', async () => {
    // the pty gets a size first, so the CLI's POST /exec/{id}/resize after the 101 carries 30x100
    const child = spawn('script', ['-qec', `stty rows 30 cols 100; ${dockerBinary()} exec -it ex sh`, '/dev/null'], {
      env: { ...d.env(), TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await sleep(300);
    // `hel""lo` echoes as typed and prints as hello: proof the shell ran it
    child.stdin.write('stty size; echo hel""lo-tty; exit 4\r');
    const rc = await code; // stdin stays open until the session is over (script ends the pty on stdin EOF)
    clearTimeout(timer);
    child.stdin.destroy();
    assert.match(out, /echo hel""lo-tty/, out);
    assert.match(out, /\r\nhello-tty\r\n/, out);
    assert.match(out, /\r\n30 100\r\n/, out);
    assert.equal(rc, 4, out);
  });

  test('a stopped container takes its running execs along; removal drops records, dirs and conmons', async () => {
    const run = await d.docker(['run', '-d', '--name', 'gone', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const created = await d.http('POST', '/v1.41/containers/gone/exec', { Cmd: ['sleep', '1000'] });
    const id = (created.json() as { Id: string }).Id;
    assert.equal((await d.http('POST', `/v1.41/exec/${id}/start`, { Detach: true })).status, 200);
    assert.ok((await sessionDirs(d)).includes(id.slice(0, 16)), 'a running exec has its session dir');

    // attached too: a client still connected when the container stops gets EOF
    const attached = d.docker(['exec', 'gone', 'sleep', '1000']);
    await sleep(300);
    assert.equal((await d.docker(['stop', '-t', '1', 'gone'])).code, 0);
    const r = await attached;
    assert.equal(r.code, 137);
    assert.ok(await eventually(async () => ((await d.http('GET', `/v1.41/exec/${id}/json`)).json() as ExecInspect).Running === false));
    const ended = (await d.http('GET', `/v1.41/exec/${id}/json`)).json() as ExecInspect;
    assert.equal(ended.ExitCode, 137);

    assert.equal((await d.docker(['rm', 'gone'])).code, 0);
    assert.equal((await d.http('GET', `/v1.41/exec/${id}/json`)).status, 404);
    assert.ok(await eventually(async () => !(await sessionDirs(d)).includes(id.slice(0, 16))), (await sessionDirs(d)).join(', '));
    assert.ok(await eventually(async () => (await processesMentioning(id.slice(0, 16))).length === 0), (await processesMentioning(id.slice(0, 16))).join('\n'));
  });

  test('docker rm -f with an exec running: no leftover exec dir, record or conmon process', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'rmf', 'busybox', 'sleep', '1000'])).code, 0);
    const id = ((await d.http('POST', '/v1.41/containers/rmf/exec', { Cmd: ['sleep', '999'] })).json() as { Id: string }).Id;
    assert.equal((await d.http('POST', `/v1.41/exec/${id}/start`, { Detach: true })).status, 200);
    assert.ok((await sessionDirs(d)).includes(id.slice(0, 16)));
    assert.equal((await processesMentioning(id.slice(0, 16))).length, 1, 'one conmon for the session');
    assert.equal((await d.docker(['rm', '-f', 'rmf'])).code, 0);
    assert.equal((await d.http('GET', `/v1.41/exec/${id}/json`)).status, 404);
    assert.ok(await eventually(async () => !(await sessionDirs(d)).includes(id.slice(0, 16))), (await sessionDirs(d)).join(', '));
    assert.ok(await eventually(async () => (await processesMentioning(id.slice(0, 16))).length === 0), (await processesMentioning(id.slice(0, 16))).join('\n'));
  });

  test('latency: docker exec x true, median of 20', async (t) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await d.docker(['exec', 'ex', 'true']);
      times.push(performance.now() - t0);
      assert.equal(r.code, 0, r.stderr);
    }
    times.sort((a, b) => a - b);
    const median = (times[9]! + times[10]!) / 2;
    t.diagnostic(`docker exec ex true: median ${median.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms`);
    assert.ok(median < 2000, `median ${median} ms`);
  });
});
