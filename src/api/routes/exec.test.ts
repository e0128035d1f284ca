import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecRecord } from '../../engine/exec.js';
import { fromDockerExecCreate, fromDockerExecStart, toDockerExecInspect } from './exec.js';

const cliBody = {
  User: '', Privileged: false, Tty: false, AttachStdin: false, AttachStderr: true, AttachStdout: true, Detach: false,
  DetachKeys: '', Env: null, WorkingDir: '', Cmd: ['ls', '/'],
};

test('fromDockerExecCreate maps the docker CLI body', () => {
  assert.deepEqual(fromDockerExecCreate(cliBody, 1.41), {
    cmd: ['ls', '/'], env: [], user: '', workingDir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true,
    privileged: false, detachKeys: '', consoleSize: null,
  });
  const full = fromDockerExecCreate({ ...cliBody, User: 'nobody', Env: ['A=1'], WorkingDir: '/tmp', Tty: true, Privileged: true, DetachKeys: 'ctrl-a', ConsoleSize: [30, 100] }, 1.43);
  assert.equal(full.user, 'nobody');
  assert.deepEqual(full.env, ['A=1']);
  assert.equal(full.tty && full.privileged, true);
  assert.deepEqual(full.consoleSize, [30, 100]);
  assert.equal(fromDockerExecCreate({ ...cliBody, ConsoleSize: [30, 100] }, 1.41).consoleSize, null, 'ConsoleSize only from API 1.42');
});

test('fromDockerExecCreate refuses what dockerd refuses', () => {
  for (const body of [{ ...cliBody, Cmd: [] }, { ...cliBody, Cmd: null }, {}, undefined]) {
    assert.throws(() => fromDockerExecCreate(body, 1.41), { code: 'ERR_INVALID_ARGUMENT', message: 'No exec command specified' });
  }
  assert.throws(() => fromDockerExecCreate({ ...cliBody, Cmd: 'ls' }, 1.41), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => fromDockerExecCreate({ ...cliBody, Tty: 'yes' }, 1.41), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => fromDockerExecCreate({ ...cliBody, DetachKeys: 'ctrl-' }, 1.41), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => fromDockerExecCreate({ ...cliBody, ConsoleSize: [1] }, 1.42), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => fromDockerExecCreate([1], 1.41), { code: 'ERR_INVALID_ARGUMENT' });
});

test('fromDockerExecStart: Detach, and ConsoleSize only with a TTY from 1.42', () => {
  assert.deepEqual(fromDockerExecStart({ Detach: true, Tty: false }, 1.41), { detach: true, consoleSize: null });
  assert.deepEqual(fromDockerExecStart(undefined, 1.41), { detach: false, consoleSize: null });
  assert.deepEqual(fromDockerExecStart({ Tty: true, ConsoleSize: [5, 6] }, 1.42), { detach: false, consoleSize: [5, 6] });
  assert.deepEqual(fromDockerExecStart({ Tty: false, ConsoleSize: [5, 6] }, 1.42), { detach: false, consoleSize: null });
});

test("toDockerExecInspect has dockerd's fields; ExitCode null until the end; user only when set", () => {
  const rec: ExecRecord = {
    id: 'e1', containerId: 'c1', user: '', status: 'created', exitCode: null, pid: 0,
    config: { ...fromDockerExecCreate(cliBody, 1.41) },
  };
  assert.deepEqual(toDockerExecInspect(rec), {
    ID: 'e1', Running: false, ExitCode: null,
    ProcessConfig: { tty: false, entrypoint: 'ls', arguments: ['/'], privileged: false },
    OpenStdin: false, OpenStderr: true, OpenStdout: true, CanRemove: false, ContainerID: 'c1', DetachKeys: '', Pid: 0,
  });
  const done = toDockerExecInspect({ ...rec, user: 'nobody', status: 'exited', exitCode: 7, pid: 42, config: { ...rec.config, detachKeys: 'ctrl-p,ctrl-q' } });
  assert.equal(done.ExitCode, 7);
  assert.equal(done.Running, false);
  assert.equal(done.ProcessConfig.user, 'nobody');
  assert.equal(done.DetachKeys, Buffer.from([16, 17]).toString('base64'));
  assert.equal(toDockerExecInspect({ ...rec, status: 'starting' }).Running, true);
});
