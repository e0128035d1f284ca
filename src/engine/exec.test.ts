import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OciProcess } from '../spec/oci.js';
import { buildExecProcess, commandText, execFailureCode, mergeExecEnv } from './exec.js';

const container: OciProcess = {
  terminal: true,
  consoleSize: { height: 10, width: 20 },
  user: { uid: 0, gid: 0 },
  args: ['sh', '-c', 'sleep 1000'],
  env: ['PATH=/bin', 'HOSTNAME=abc'],
  cwd: '/srv',
  capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] },
  rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
  noNewPrivileges: true,
  oomScoreAdj: 5,
};

const input = {
  base: container, args: ['ls', '/'], env: ['PATH=/bin', 'X=1'], cwd: '', user: undefined, terminal: false, consoleSize: null,
  privilegedCapabilities: null,
};

test("buildExecProcess keeps the container's security profile and uses the exec's command", () => {
  const p = buildExecProcess(input);
  assert.deepEqual(p.args, ['ls', '/']);
  assert.deepEqual(p.env, ['PATH=/bin', 'X=1']);
  assert.equal(p.cwd, '/srv');
  assert.deepEqual(p.user, { uid: 0, gid: 0 });
  assert.equal(p.terminal, false);
  assert.equal(p.consoleSize, undefined, "a non-TTY exec does not inherit the container's console");
  assert.deepEqual(p.capabilities, container.capabilities);
  assert.deepEqual(p.rlimits, container.rlimits);
  assert.equal(p.noNewPrivileges, true);
  assert.equal(p.oomScoreAdj, 5);
  assert.deepEqual(container.args, ['sh', '-c', 'sleep 1000'], 'the container spec is not modified');
});

test('buildExecProcess: user, cwd, terminal size, privileged capabilities', () => {
  const p = buildExecProcess({
    ...input, cwd: '/tmp', user: { uid: 65534, gid: 65534, additionalGids: [10], home: '/' }, terminal: true, consoleSize: [30, 100],
    privilegedCapabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
  });
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 65534, gid: 65534, additionalGids: [10] });
  assert.deepEqual(p.consoleSize, { height: 30, width: 100 });
  assert.deepEqual(p.capabilities, { bounding: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], effective: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], permitted: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] });
  assert.equal(p.noNewPrivileges, true, 'a privileged exec keeps no-new-privileges');
  assert.equal(buildExecProcess({ ...input, terminal: true, consoleSize: [0, 0] }).consoleSize, undefined);
  assert.equal(buildExecProcess({ ...input, base: { ...container, cwd: '' } }).cwd, '/');
});

test('mergeExecEnv: replace, append, and a bare name removes (Docker ReplaceOrAppendEnvValues)', () => {
  assert.deepEqual(mergeExecEnv(['PATH=/bin', 'A=1', 'B=2'], ['A=9', 'C=3', 'B']), ['PATH=/bin', 'A=9', 'C=3']);
  assert.deepEqual(mergeExecEnv(['A=1'], ['X=a=b']), ['A=1', 'X=a=b']);
});

test("commandText is dockerd's: entrypoint, space, arguments", () => {
  assert.equal(commandText(['sh', '-c', 'exit 3']), 'sh -c exit 3');
  assert.equal(commandText(['ls']), 'ls ');
});

test('execFailureCode maps runtime errors like dockerd', () => {
  assert.equal(execFailureCode('exec: "x": executable file not found in $PATH'), 127);
  assert.equal(execFailureCode('chdir to cwd ("/nope") set in config.json failed: no such file or directory'), 127);
  assert.equal(execFailureCode('exec: "/etc": is a directory'), 126);
  assert.equal(execFailureCode('exec: "/etc/passwd": permission denied'), 126);
  assert.equal(execFailureCode('something else'), 128);
});
