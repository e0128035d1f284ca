import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAM_STDERR, STREAM_STDOUT, encodeFrame } from '../../client/stdcopy.js';
import { HelpRequested, UsageError } from '../command.js';
import { CaptureStream, FakeDaemon, FakeStdin, UPGRADED_101, runCli, sendJson } from '../test-support.js';
import { buildCreateBody, compactJson, parseRunArgs, parseSecurityOpts, startErrorExitCode } from './run.js';

// ---------- argument parsing ----------

test('run: flags stop at IMAGE; everything after it is the container command, flags included', () => {
  const f = parseRunArgs(['-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo hi', '-e', 'X=1', '--rm']);
  assert.equal(f.image, 'busybox');
  assert.deepEqual(f.cmd, ['sh', '-c', 'echo hi', '-e', 'X=1', '--rm']);
  assert.equal(f.detach, true);
  assert.equal(f.rm, false, '--rm after the image belongs to the container');
  assert.equal(f.name, 'web');
  assert.deepEqual(f.env, []);
});

test('run: "--" ends the flags; a "--" after IMAGE stays in the command', () => {
  const a = parseRunArgs(['--rm', '--', 'busybox', 'ls', '-l']);
  assert.equal(a.image, 'busybox');
  assert.deepEqual(a.cmd, ['ls', '-l']);
  assert.equal(a.rm, true);
  const b = parseRunArgs(['busybox', '--', 'echo', '--x']);
  assert.deepEqual(b.cmd, ['--', 'echo', '--x']);
  const c = parseRunArgs(['--', '--weird-image-name']);
  assert.equal(c.image, '--weird-image-name');
});

test('run: repeated -e/--env in every spelling; a bare KEY takes the client value or stays bare', () => {
  const f = parseRunArgs(['-e', 'A=1', '--env', 'B=2', '-eC=3', '--env=D=4=4', '-e', 'FROM_HOST', '-e', 'UNSET', 'img'], {
    FROM_HOST: 'host value',
  });
  assert.deepEqual(f.env, ['A=1', 'B=2', 'C=3', 'D=4=4', 'FROM_HOST=host value', 'UNSET']);
  assert.throws(() => parseRunArgs(['-e', '=x', 'img']), { message: 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x' });
});

test('run: grouped short flags -it, -dit, -ti and a value-taking flag at the end of a group', () => {
  for (const g of ['-it', '-ti']) {
    const f = parseRunArgs([g, 'busybox', 'sh']);
    assert.equal(f.interactive, true, g);
    assert.equal(f.tty, true, g);
    assert.equal(f.detach, false, g);
  }
  const d = parseRunArgs(['-dit', 'busybox']);
  assert.deepEqual([d.detach, d.interactive, d.tty], [true, true, true]);
  const w = parseRunArgs(['-iw', '/tmp', 'busybox']);
  assert.equal(w.workdir, '/tmp');
  assert.equal(w.interactive, true);
});

test('run: all supported flags land in the create body', () => {
  const f = parseRunArgs([
    '--rm', '-u', '1000:1000', '-w', '/work', '--entrypoint', '/bin/sh', '--cap-add', 'NET_ADMIN', '--cap-add=SYS_TIME',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--security-opt', 'apparmor:unconfined', '--privileged',
    '--pids-limit', '64', '--network', 'host', '-l', 'a=b', '--label', 'flag', '--stop-timeout', '7', '--stop-signal', 'SIGUSR1',
    'busybox:1.36', 'echo', 'hi',
  ]);
  const body = buildCreateBody(f);
  assert.equal(body.Image, 'busybox:1.36');
  assert.deepEqual(body.Cmd, ['echo', 'hi']);
  assert.equal(body.User, '1000:1000');
  assert.equal(body.WorkingDir, '/work');
  assert.deepEqual(body.Entrypoint, ['/bin/sh']);
  assert.deepEqual(body.Labels, { a: 'b', flag: '' });
  assert.equal(body.StopTimeout, 7);
  assert.equal(body.StopSignal, 'SIGUSR1');
  const h = body.HostConfig!;
  assert.equal(h.AutoRemove, true);
  assert.deepEqual(h.CapAdd, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges', 'apparmor:unconfined']);
  assert.equal(h.Privileged, true);
  assert.equal(h.PidsLimit, 64);
  assert.equal(h.NetworkMode, 'host');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { host: {} } });
});

test('run: defaults match what the docker CLI sends for a plain attached run', () => {
  const body = buildCreateBody(parseRunArgs(['busybox']));
  assert.equal(body.Cmd, null);
  assert.equal(body.Env, null);
  assert.equal(body.Entrypoint, null);
  assert.deepEqual([body.AttachStdin, body.AttachStdout, body.AttachStderr], [false, true, true]);
  assert.deepEqual([body.Tty, body.OpenStdin, body.StdinOnce], [false, false, false]);
  assert.equal(body.HostConfig!.NetworkMode, 'default');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { default: {} } });
  assert.deepEqual(body.HostConfig!.ConsoleSize, [0, 0]);
  assert.deepEqual(body.HostConfig!.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(body.HostConfig!.PidsLimit, 0, 'docker sends 0 for "not set"');
  assert.equal(body.HostConfig!.AutoRemove, false);

  const it = buildCreateBody(parseRunArgs(['-it', 'busybox', 'sh']), { consoleSize: [40, 120] });
  assert.deepEqual([it.AttachStdin, it.Tty, it.OpenStdin, it.StdinOnce], [true, true, true, true]);
  assert.deepEqual(it.HostConfig!.ConsoleSize, [40, 120]);

  const d = buildCreateBody(parseRunArgs(['-d', '-i', 'busybox']));
  assert.deepEqual([d.AttachStdin, d.AttachStdout, d.AttachStderr, d.OpenStdin, d.StdinOnce], [false, false, false, true, false]);

  assert.deepEqual(buildCreateBody(parseRunArgs(['--entrypoint', '', 'busybox'])).Entrypoint, ['']);
  assert.deepEqual(buildCreateBody(parseRunArgs(['--entrypoint=', 'busybox'])).Entrypoint, ['']);
});

test('run: --security-opt seccomp=FILE sends the compacted profile; unconfined/builtin pass through', () => {
  const profile = '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [ { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "x": 1.0, "s": "a b\\" c" } ]\n}\n';
  const files: Record<string, string> = { '/p.json': profile, '/bad.json': '{nope' };
  const read = (p: string) => {
    const c = files[p];
    if (c === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return c;
  };
  assert.deepEqual(parseSecurityOpts(['seccomp=/p.json', 'seccomp=unconfined', 'seccomp:builtin', 'label=disable'], read), [
    'seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW","args":[],"x":1.0,"s":"a b\\" c"}]}',
    'seccomp=unconfined',
    'seccomp:builtin',
    'label=disable',
  ]);
  assert.throws(() => parseSecurityOpts(['seccomp=/missing.json'], read), /opening seccomp profile \(\/missing.json\) failed/);
  assert.throws(() => parseSecurityOpts(['seccomp=/bad.json'], read), /compacting json for seccomp profile \(\/bad.json\) failed/);
  assert.throws(() => parseSecurityOpts(['bogus'], read), { message: 'Invalid --security-opt: "bogus"' });
  assert.equal(compactJson('{ "b": 1, "a": [ 1 , 2 ] , "10": "x y" }'), '{"b":1,"a":[1,2],"10":"x y"}');
});

test('run: usage errors read like docker\'s', () => {
  assert.throws(() => parseRunArgs([]), { message: '"brig run" requires at least 1 argument.' });
  assert.throws(() => parseRunArgs(['-d']), { message: '"brig run" requires at least 1 argument.' });
  assert.throws(() => parseRunArgs(['--bogus', 'img']), (e: unknown) => e instanceof UsageError && e.message === 'unknown flag: --bogus');
  assert.throws(() => parseRunArgs(['-X', 'img']), { message: "unknown shorthand flag: 'X' in -X" });
  assert.doesNotThrow(() => parseRunArgs(['img', '--name']), 'after IMAGE a flag belongs to the container');
  assert.throws(() => parseRunArgs(['--name']), { message: 'flag needs an argument: --name' });
  assert.throws(() => parseRunArgs(['--rm=yes', 'img']), {
    message: 'invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax',
  });
  assert.throws(() => parseRunArgs(['--pids-limit', 'many', 'img']), /invalid argument "many" for "--pids-limit" flag/);
  assert.throws(() => parseRunArgs(['--help']), HelpRequested);
  assert.doesNotThrow(() => parseRunArgs(['img', '--help']), 'a --help after IMAGE is the container\'s');
});

test('startErrorExitCode maps start failures like docker\'s toStatusError', () => {
  assert.equal(startErrorExitCode('exec: "nonexistentcmd": executable file not found in $PATH: unknown'), 127);
  assert.equal(startErrorExitCode('open /x: no such file or directory'), 127);
  assert.equal(startErrorExitCode('exec: "/etc": permission denied'), 126);
  assert.equal(startErrorExitCode('exec /etc: is a directory'), 126);
  assert.equal(startErrorExitCode('something else'), 125);
});

// ---------- request flow against a fake daemon ----------

const ID = 'c0ffee'.padEnd(64, '0');

interface Scenario {
  daemon: FakeDaemon;
  /** Resolves the pending wait with this status (the container "exits"). */
  exit(code: number): void;
  waitRes: ServerResponse | undefined;
  attachSocket: Duplex | undefined;
  stdinFromClient: Buffer[];
  clientHalfClosed: boolean;
  waitHeadersAt: number;
  waitClosed: boolean;
}

/**
 * A daemon that plays a container: output frames after start; it exits (wait body) once the attach
 * stream is done, or on its own for -d.
 */
async function scenario(
  t: TestContext,
  behaviour: {
    output?: Buffer[];
    exitCode?: number;
    tty?: boolean;
    holdWaitHeadersMs?: number;
    startError?: { status: number; message: string };
    /** ms between the start failure and the removal (wait body) */
    removeDelayMs?: number;
    echoStdin?: boolean;
    keepRunning?: boolean;
  } = {},
): Promise<Scenario> {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  const s: Scenario = {
    daemon,
    exit: () => {},
    waitRes: undefined,
    attachSocket: undefined,
    stdinFromClient: [],
    clientHalfClosed: false,
    waitHeadersAt: -1,
    waitClosed: false,
  };
  let started = false;
  let exitCode = behaviour.exitCode ?? 0;
  const finishAttach = () => {
    if (!s.attachSocket) return;
    const sock = s.attachSocket;
    const out = behaviour.output ?? [];
    for (const o of out) sock.write(o);
    if (behaviour.echoStdin) {
      const text = Buffer.concat(s.stdinFromClient).toString();
      sock.write(behaviour.tty ? `echo:${text}` : encodeFrame(STREAM_STDOUT, `echo:${text}`));
    }
    if (!behaviour.keepRunning) setTimeout(() => sock.end(), 5);
  };
  s.exit = (code: number) => {
    exitCode = code;
    s.waitRes?.end(`${JSON.stringify({ Error: null, StatusCode: code })}\n`);
  };
  daemon.on('POST /containers/create', (_req, res) => sendJson(res, 201, { Id: ID, Warnings: [] }));
  daemon.on('GET /containers/', (_req, res) => sendJson(res, 200, { Id: ID, Config: { Tty: behaviour.tty === true } }));
  daemon.onUpgrade('POST /containers/', (_req, socket) => {
    s.attachSocket = socket;
    socket.write(UPGRADED_101);
    socket.on('data', (c: Buffer) => s.stdinFromClient.push(c));
    socket.on('end', () => {
      s.clientHalfClosed = true;
      if (behaviour.echoStdin && started) finishAttach();
    });
    socket.on('close', () => {
      if (started && !behaviour.keepRunning) setTimeout(() => s.exit(exitCode), 20);
    });
  });
  daemon.on(`POST /containers/${ID}/wait`, (_req, res) => {
    s.waitRes = res;
    res.on('close', () => (s.waitClosed = true));
    const send = () => {
      s.waitHeadersAt = Date.now();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    };
    if (behaviour.holdWaitHeadersMs) setTimeout(send, behaviour.holdWaitHeadersMs);
    else send();
  });
  daemon.on(`POST /containers/${ID}/start`, (_req, res) => {
    if (behaviour.startError) {
      sendJson(res, behaviour.startError.status, { message: behaviour.startError.message });
      s.attachSocket?.end();
      setTimeout(() => s.exit(127), behaviour.removeDelayMs ?? 0);
      return;
    }
    started = true;
    res.writeHead(204);
    res.end();
    if (s.attachSocket && !(behaviour.echoStdin && !s.clientHalfClosed)) setTimeout(finishAttach, 5);
    if (!s.attachSocket && !behaviour.keepRunning) setTimeout(() => s.exit(exitCode), 20);
  });
  daemon.on(`POST /containers/${ID}/kill`, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  daemon.on(`POST /containers/${ID}/resize`, (_req, res) => {
    res.writeHead(200);
    res.end();
  });
  return s;
}

test('run --rm: create → attach (101) → wait?condition=removed (headers back) → start; output demuxed; exit code = StatusCode', async (t) => {
  const s = await scenario(t, {
    output: [encodeFrame(STREAM_STDOUT, 'hi\n'), encodeFrame(STREAM_STDERR, 'oops\n')],
    exitCode: 3,
  });
  const r = await runCli(s.daemon, ['run', '--rm', '--name', 'web1', 'busybox', 'echo', 'hi']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.stderr, 'oops\n');
  assert.deepEqual(s.daemon.log, [
    'POST /containers/create?name=web1',
    `POST /containers/${ID}/attach?stderr=1&stdout=1&stream=1`,
    `POST /containers/${ID}/wait?condition=removed`,
    `POST /containers/${ID}/start`,
  ]);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.equal(create.HostConfig.AutoRemove, true);
  assert.deepEqual(create.Cmd, ['echo', 'hi']);
  assert.equal(s.clientHalfClosed, true, 'without -i the client half-closes the attach stream');
});

test('run: start is sent only after the wait headers came back', async (t) => {
  const s = await scenario(t, { output: [encodeFrame(STREAM_STDOUT, 'x\n')], holdWaitHeadersMs: 150 });
  const r = await runCli(s.daemon, ['run', 'busybox']);
  assert.equal(r.code, 0);
  const start = s.daemon.seen.find((q) => q.url.endsWith('/start'))!;
  const wait = s.daemon.seen.find((q) => q.url.includes('/wait'))!;
  assert.equal(wait.url, `/containers/${ID}/wait?condition=next-exit`);
  assert.ok(start.at - wait.at >= 140, `start came ${start.at - wait.at} ms after the wait request`);
  assert.ok(s.waitHeadersAt > 0);
});

test('run -d: no attach, wait?condition=next-exit still precedes start, prints the ID, drops the wait', async (t) => {
  const s = await scenario(t, { keepRunning: true });
  const r = await runCli(s.daemon, ['run', '-d', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${ID}\n`);
  assert.deepEqual(s.daemon.log, ['POST /containers/create', `POST /containers/${ID}/wait?condition=next-exit`, `POST /containers/${ID}/start`]);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual([create.AttachStdout, create.AttachStderr, create.AttachStdin], [false, false, false]);
  await sleep(20);
  assert.equal(s.waitClosed, true, 'the client dropped the wait connection');
});

test('run -i: piped stdin goes up raw, its EOF half-closes, output still arrives', async (t) => {
  const s = await scenario(t, { echoStdin: true, exitCode: 2 });
  const stdin = new FakeStdin(false);
  stdin.end('line1\nline2\n');
  const r = await runCli(s.daemon, ['run', '-i', '--rm', 'busybox', 'cat'], { stdin });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, 'echo:line1\nline2\n');
  assert.equal(s.daemon.log[1], `POST /containers/${ID}/attach?stderr=1&stdin=1&stdout=1&stream=1`);
  assert.equal(s.clientHalfClosed, true);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual([create.AttachStdin, create.OpenStdin, create.StdinOnce], [true, true, true]);
});

test('run -it: raw mode on a terminal, ConsoleSize and resize after start, raw output, ctrl-p ctrl-q detaches', async (t) => {
  const s = await scenario(t, { tty: true, output: [Buffer.from('prompt$ ')], keepRunning: true });
  const stdin = new FakeStdin(true);
  const stdout = new CaptureStream({ rows: 40, columns: 120 });
  const run = runCli(s.daemon, ['run', '-it', 'busybox', 'sh'], { stdin, stdout });
  await sleep(100);
  stdin.write('ls\r');
  await sleep(30);
  stdin.write(Buffer.from([0x10]));
  stdin.write(Buffer.from([0x11]));
  const r = await run;
  assert.equal(r.code, 0, 'detaching exits 0');
  assert.equal(r.stdout, 'prompt$ ');
  assert.deepEqual(stdin.rawModes, [true, false], 'raw mode was set and restored');
  assert.equal(Buffer.concat(s.stdinFromClient).toString(), 'ls\r', 'the detach keys are not sent');
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual(create.HostConfig.ConsoleSize, [40, 120]);
  assert.equal(create.Tty, true);
  const log = s.daemon.log;
  assert.ok(log.indexOf(`POST /containers/${ID}/resize?h=40&w=120`) > log.indexOf(`POST /containers/${ID}/start`));
  assert.ok(!log.some((l) => l.includes('/kill')), 'detach leaves the container running');
});

test('run -it without a terminal on stdin fails like docker', async (t) => {
  const s = await scenario(t);
  const r = await runCli(s.daemon, ['run', '-it', 'busybox'], { stdin: new FakeStdin(false) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the input device is not a TTY/);
  assert.deepEqual(s.daemon.log, []);
});

test('run: SIGTERM while attached becomes POST /kill?signal=TERM and run keeps going until the exit', async (t) => {
  const s = await scenario(t, { keepRunning: true });
  const signals = new EventEmitter();
  const run = runCli(s.daemon, ['run', 'busybox', 'sleep', '100'], { signals });
  await sleep(100);
  signals.emit('SIGTERM');
  signals.emit('SIGINT');
  await sleep(50);
  assert.ok(s.daemon.log.includes(`POST /containers/${ID}/kill?signal=TERM`));
  assert.ok(s.daemon.log.includes(`POST /containers/${ID}/kill?signal=INT`));
  s.attachSocket!.end();
  s.exit(143);
  const r = await run;
  assert.equal(r.code, 143);
  assert.equal(signals.listenerCount('SIGTERM'), 0, 'handlers are removed afterwards');
});

test('run --rm with a start failure: waits for the removal, prints the daemon error, exits 127', async (t) => {
  const message = 'failed to create shim task: OCI runtime create failed: exec: "nonexistentcmd": executable file not found in $PATH: unknown';
  const s = await scenario(t, { startError: { status: 400, message }, removeDelayMs: 120 });
  const began = Date.now();
  const r = await runCli(s.daemon, ['run', '--rm', 'busybox', 'nonexistentcmd']);
  assert.equal(r.code, 127);
  assert.ok(Date.now() - began >= 110, 'run returned only after the wait (removal) completed');
  assert.equal(r.stderr, `brig: Error response from daemon: ${message}\n\nRun 'brig run --help' for more information\n`);
});

test('run: a missing image is pulled first; a failed pull prints the daemon error and exits 125; a permission-denied start exits 126', async (t) => {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  daemon.on('POST /containers/create', (_req, res) => sendJson(res, 404, { message: 'No such image: nope:latest' }));
  const denied = "pull access denied for nope, repository does not exist or may require 'docker login'";
  daemon.on('POST /images/create', (_req, res) => sendJson(res, 404, { message: denied }));
  const r = await runCli(daemon, ['run', 'nope']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, `Unable to find image 'nope:latest' locally\nbrig: Error response from daemon: ${denied}\n\nRun 'brig run --help' for more information\n`);

  const s = await scenario(t, { startError: { status: 400, message: 'exec: "/etc": permission denied' } });
  assert.equal((await runCli(s.daemon, ['run', 'busybox', '/etc'])).code, 126);
});

test('run --pull never does not pull; --pull always pulls first; a bad policy is a usage error', async (t) => {
  const daemon = await new FakeDaemon().start();
  t.after(() => daemon.stop());
  let pulls = 0;
  daemon.on('POST /containers/create', (_req, res) => sendJson(res, 404, { message: 'No such image: nope:latest' }));
  daemon.on('POST /images/create', (_req, res) => {
    pulls++;
    sendJson(res, 404, { message: 'manifest unknown' });
  });
  const never = await runCli(daemon, ['run', '--pull', 'never', 'nope']);
  assert.equal(never.code, 125);
  assert.equal(never.stderr, "brig: Error response from daemon: No such image: nope:latest\n\nRun 'brig run --help' for more information\n");
  assert.equal(pulls, 0);
  const always = await runCli(daemon, ['run', '--pull=always', 'nope']);
  assert.equal(always.code, 125);
  assert.equal(pulls, 1);
  const bad = await runCli(null, ['run', '--pull', 'sometimes', 'busybox']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid pull option: 'sometimes'/);
});

test('run: flag errors exit 125 with a pointer to --help; no daemon is needed', async () => {
  const r = await runCli(null, ['run', '--bogus', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "brig: unknown flag: --bogus\nSee 'brig run --help'.\n");
});

test('run: an unreachable daemon exits 125 with docker\'s wording', async () => {
  const r = await runCli(null, ['run', 'busybox'], { env: { BRIG_HOST: 'unix:///nonexistent/brig.sock' } });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^brig: Cannot connect to the brig daemon at unix:\/\/\/nonexistent\/brig.sock\. Is the brig daemon running\?/);
});

// ---------- -a, --sig-proxy, --detach-keys ----------

test('run -a stdout: attaches stdout only (query and create body); stderr frames are not printed', async (t) => {
  const s = await scenario(t, { output: [encodeFrame(STREAM_STDOUT, 'out\n'), encodeFrame(STREAM_STDERR, 'err\n')] });
  const r = await runCli(s.daemon, ['run', '-a', 'stdout', 'busybox']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, '');
  assert.equal(s.daemon.log[1], `POST /containers/${ID}/attach?stdout=1&stream=1`);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual([create.AttachStdin, create.AttachStdout, create.AttachStderr], [false, true, false]);
});

test('run -a stderr -a stdin: stdin goes up without -i; the detached path is not taken', async (t) => {
  const s = await scenario(t, { echoStdin: true, output: [encodeFrame(STREAM_STDERR, 'e\n')] });
  const stdin = new FakeStdin(false);
  stdin.end('typed');
  const r = await runCli(s.daemon, ['run', '-a', 'stderr', '-a', 'STDIN', 'busybox'], { stdin });
  assert.equal(r.code, 0);
  assert.equal(s.daemon.log[1], `POST /containers/${ID}/attach?stderr=1&stdin=1&stream=1`);
  assert.equal(Buffer.concat(s.stdinFromClient).toString(), 'typed');
  assert.equal(r.stderr, 'e\n');
  assert.equal(r.stdout, '', 'the echo arrives on stdout, which is not attached');
});

test('run -d -a: conflicting options, a plain error (exit 1) before any request', async (t) => {
  const s = await scenario(t);
  const r = await runCli(s.daemon, ['run', '-d', '-a', 'stdout', 'busybox']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'brig: conflicting options: cannot specify both --attach and --detach\n');
  assert.deepEqual(s.daemon.log, []);
});

test('run --sig-proxy=false: signals are not forwarded', async (t) => {
  const s = await scenario(t, { keepRunning: true });
  const signals = new EventEmitter();
  const run = runCli(s.daemon, ['run', '--sig-proxy=false', 'busybox', 'sleep', '100'], { signals });
  await sleep(100);
  assert.equal(signals.listenerCount('SIGTERM'), 0);
  signals.emit('SIGTERM');
  await sleep(30);
  assert.ok(!s.daemon.log.some((l) => l.includes('/kill')));
  s.attachSocket!.end();
  s.exit(0);
  assert.equal((await run).code, 0);
});

test('run --detach-keys: sent with the attach and used to detach from a terminal', async (t) => {
  const s = await scenario(t, { tty: true, keepRunning: true });
  const stdin = new FakeStdin(true);
  const run = runCli(s.daemon, ['run', '-it', '--detach-keys', 'ctrl-x,x', 'busybox', 'sh'], {
    stdin, stdout: new CaptureStream({ rows: 10, columns: 20 }),
  });
  await sleep(100);
  stdin.write(Buffer.from([0x10, 0x11])); // the default keys are just input now
  await sleep(30);
  stdin.write(Buffer.from([0x18]));
  stdin.write('x');
  const r = await run;
  assert.equal(r.code, 0);
  assert.equal(s.daemon.log[1], `POST /containers/${ID}/attach?detachKeys=ctrl-x%2Cx&stderr=1&stdin=1&stdout=1&stream=1`);
  assert.deepEqual([...Buffer.concat(s.stdinFromClient)], [0x10, 0x11]);
});

test('run: ConsoleSize is the terminal\'s whenever stdout is one (docker sends it without -t too)', async (t) => {
  const s = await scenario(t, { output: [] });
  const r = await runCli(s.daemon, ['run', 'busybox'], { stdout: new CaptureStream({ rows: 33, columns: 99 }) });
  assert.equal(r.code, 0);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual(create.HostConfig.ConsoleSize, [33, 99]);
  assert.ok(!s.daemon.log.some((l) => l.includes('/resize')), 'no resize without -t');
});

test('run: the new flags reach the daemon in the create body', async (t) => {
  const s = await scenario(t, { keepRunning: true });
  const r = await runCli(s.daemon, [
    'run', '-d', '--restart', 'on-failure:3', '--init', '--health-cmd', 'true', '--health-interval', '1m30s', '-m', '64m',
    '--cpus', '0.5', '-h', 'box', '--read-only', '--log-opt', 'max-size=1m', 'busybox',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const create = JSON.parse(s.daemon.seen[0]!.body.toString());
  assert.deepEqual(create.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(create.HostConfig.Init, true);
  assert.deepEqual(create.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 90_000_000_000 });
  assert.equal(create.HostConfig.Memory, 67108864);
  assert.equal(create.HostConfig.NanoCpus, 500000000);
  assert.equal(create.Hostname, 'box');
  assert.equal(create.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(create.HostConfig.LogConfig, { Type: '', Config: { 'max-size': '1m' } });
});
