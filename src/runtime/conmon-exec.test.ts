import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conmonExecArgs, execDir, parseConmonMessage } from './conmon-exec.js';

test('parseConmonMessage reads pid, exit and failure lines as conmon 2.1.6 writes them', () => {
  assert.deepEqual(parseConmonMessage('{"data": 32464}'), { data: 32464 });
  assert.deepEqual(parseConmonMessage('{"data": 0}'), { data: 0 });
  const failure = '{"data": -1, "message": "time=\\"2026\\" level=error msg=\\"exec failed: \\\\\\"x\\\\\\": not found\\"\\n"}';
  const m = parseConmonMessage(failure);
  assert.equal(m?.data, -1);
  assert.match(m!.message!, /exec failed/);
  for (const bad of ['', 'nope', '{"data": "1"}', '{"data": 1.5}', '{}', '[1]']) assert.equal(parseConmonMessage(bad), undefined, bad);
});

test('execDir is short: the attach socket of a default run root fits sun_path with room to spare', () => {
  const id = 'a'.repeat(64);
  const dir = execDir('/run/brig/exec', id);
  assert.equal(dir, `/run/brig/exec/${'a'.repeat(16)}`);
  assert.ok(`${dir}/attach`.length < 108);
});

test('conmonExecArgs: exec with attach, a private exit dir, full attach path, -t xor -i', () => {
  const base = { runc: '/usr/sbin/runc', runcRoot: '/run/brig/runc' };
  const t = { containerId: 'c'.repeat(64), execId: 'e'.repeat(64), terminal: false, stdin: true };
  const args = conmonExecArgs(base, t, '/run/brig/exec/eeee');
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(after('-c'), t.containerId);
  assert.equal(after('-u'), t.execId);
  assert.equal(after('-b'), '/run/brig/exec/eeee');
  assert.equal(after('--exit-dir'), '/run/brig/exec/eeee');
  assert.equal(after('--exec-process-spec'), '/run/brig/exec/eeee/process.json');
  assert.equal(after('-l'), 'k8s-file:/run/brig/exec/eeee/exec.log');
  assert.deepEqual(args.slice(args.indexOf('--runtime-arg'), args.indexOf('--runtime-arg') + 4), ['--runtime-arg', '--root', '--runtime-arg', '/run/brig/runc']);
  for (const f of ['-e', '--exec-attach', '--full-attach', '--log-size-max']) assert.ok(args.includes(f), f);
  assert.ok(args.includes('-i') && !args.includes('-t'));
  const tty = conmonExecArgs(base, { ...t, terminal: true }, '/d');
  assert.ok(tty.includes('-t') && !tty.includes('-i'));
  const none = conmonExecArgs(base, { ...t, stdin: false }, '/d');
  assert.ok(!none.includes('-t') && !none.includes('-i'));
});
