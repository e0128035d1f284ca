import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEngineError } from '../errors.js';
import { parsePsOutput, validatePsArgs } from './top.js';

const bad = (args: string, match?: RegExp) =>
  assert.throws(() => validatePsArgs(args), (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && (match === undefined || match.test(err.message)), args);

test('ps_args: default -ef; UNIX, BSD and GNU options with their values become separate argv words', () => {
  assert.deepEqual(validatePsArgs(undefined), ['-ef']);
  assert.deepEqual(validatePsArgs(''), ['-ef']);
  assert.deepEqual(validatePsArgs('aux'), ['aux']);
  assert.deepEqual(validatePsArgs('-o pid,comm'), ['-o', 'pid,comm']);
  assert.deepEqual(validatePsArgs('-opid,user:20,args'), ['-opid,user:20,args']);
  assert.deepEqual(validatePsArgs('axo  pid,ppid,%cpu --sort=-%cpu'), ['axo', 'pid,ppid,%cpu', '--sort=-%cpu']);
  assert.deepEqual(validatePsArgs('-eLf'), ['-eLf']);
  assert.deepEqual(validatePsArgs('-ef --forest'), ['-ef', '--forest']);
  assert.deepEqual(validatePsArgs('-o pid=PID,comm=COMMAND'), ['-o', 'pid=PID,comm=COMMAND']);
});

test('ps_args: anything that is not a ps option (or would break the listing) is refused', () => {
  bad('--bogus', /--bogus/);
  bad('-ef; rm -rf /', /;|rm/);
  bad('$(id)');
  bad('-e `id`');
  bad('-K');
  bad('--no-headers');
  bad('h');
  bad('-V');
  bad('--help');
  bad('-o', /needs a value/);
  bad('-o pid;id');
  bad('axo', /needs a value/);
  bad('ox pid', /must end its group/);
  bad('-e\u00e9');
  bad('-o\tpid\n');
});

test('ps_args: another column renamed to PID is refused, as dockerd does', () => {
  bad('-o comm=PID', /comm=PID/);
  bad('-o pid,user= PID', /user=PID/);
});

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 16:01 ?        00:00:33 /process_api --firecracker-init
root        3313    3299  0 17:45 ?        00:00:00 sleep 1000
root        3324    3313 24 17:45 ?        00:01:34 yes
root        9999       1  0 17:45 ?        00:00:00 other  spaced   args
`;

test('ps output: titles, rows of the wanted pids only, the command column keeps the rest', () => {
  const r = parsePsOutput(PS_EF, new Set([3313, 3324, 9999]));
  assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.processes, [
    ['root', '3313', '3299', '0', '17:45', '?', '00:00:00', 'sleep 1000'],
    ['root', '3324', '3313', '24', '17:45', '?', '00:01:34', 'yes'],
    ['root', '9999', '1', '0', '17:45', '?', '00:00:00', 'other spaced args'],
  ]);
  assert.deepEqual(parsePsOutput(PS_EF, new Set([42])).processes, []);
});

test('ps output: thread lines ("-" PID) follow a kept process only', () => {
  const out = `  PID   LWP CMD\n   10     - a\n    -    11 -\n   20     - b\n    -    21 -\n`;
  assert.deepEqual(parsePsOutput(out, new Set([10])).processes, [['10', '-', 'a'], ['-', '11', '-']]);
});

test('ps output without a PID column is an internal error', () => {
  assert.throws(() => parsePsOutput('USER CMD\nroot x\n', new Set([1])), (err: unknown) => isEngineError(err, 'ERR_INTERNAL'));
});
