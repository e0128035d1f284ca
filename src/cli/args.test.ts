import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagValue, intFlag, parseCommandArgs, type OptionSpecs } from './args.js';
import { HelpRequested, UsageError } from './command.js';
import { ramInBytes } from './flag-values.js';

const opts = {
  detach: { type: 'boolean', short: 'd', description: '' },
  interactive: { type: 'boolean', short: 'i', description: '' },
  tty: { type: 'boolean', short: 't', description: '' },
  'sig-proxy': { type: 'boolean', description: '' },
  env: { type: 'string', short: 'e', multiple: true, description: '' },
  memory: { type: 'string', short: 'm', description: '' },
  'memory-swap': { type: 'string', description: '' },
  name: { type: 'string', description: '' },
} as const satisfies OptionSpecs;

test('pflag forms: --f v, --f=v, -f v, -fv, -f=v, groups with a value at the end', () => {
  const { values, positionals } = parseCommandArgs(opts, [
    '--name', 'a', '--memory=64m', '-e', 'A=1', '-eB=2', '-e=C=3', '-dit', '-im', '1g', 'img', 'x',
  ]);
  assert.deepEqual(values, { name: 'a', memory: '1g', env: ['A=1', 'B=2', 'C=3'], detach: true, interactive: true, tty: true });
  assert.deepEqual(positionals, ['img', 'x']);
});

test('a value may start with a dash (--memory-swap -1, -e -x, --name --)', () => {
  const { values } = parseCommandArgs(opts, ['--memory-swap', '-1', '-e', '-x', '--name', '--']);
  assert.deepEqual(values, { 'memory-swap': '-1', env: ['-x'], name: '--' });
});

test('booleans take an explicit Go bool after "=", the last occurrence wins', () => {
  assert.equal(parseCommandArgs(opts, ['--sig-proxy=false']).values['sig-proxy'], false);
  assert.equal(parseCommandArgs(opts, ['--sig-proxy=0', '--sig-proxy']).values['sig-proxy'], true);
  assert.equal(parseCommandArgs(opts, ['--sig-proxy', '--sig-proxy=F']).values['sig-proxy'], false);
  assert.equal(parseCommandArgs(opts, ['-d=false']).values.detach, false);
  assert.deepEqual(parseCommandArgs(opts, ['-it=false']).values, { interactive: true, tty: false });
  assert.throws(() => parseCommandArgs(opts, ['--detach=yes']), {
    message: 'invalid argument "yes" for "-d, --detach" flag: strconv.ParseBool: parsing "yes": invalid syntax',
  });
  // a bool never takes the next argument as its value
  assert.deepEqual(parseCommandArgs(opts, ['--sig-proxy', 'false']).positionals, ['false']);
});

test('interspersed flags, "--", and stopping at the first positional', () => {
  const a = parseCommandArgs(opts, ['x', '-d', 'y', '--', '-i']);
  assert.deepEqual(a.positionals, ['x', 'y', '-i']);
  assert.equal(a.values.detach, true);
  const b = parseCommandArgs(opts, ['-d', 'img', '-i', '--', 'z'], { interspersed: false });
  assert.deepEqual(b.positionals, ['img', '-i', '--', 'z']);
  assert.equal(b.values.interactive, undefined);
  assert.deepEqual(parseCommandArgs(opts, ['-', '']).positionals, ['-', '']);
});

test('errors in pflag\'s words; --help and an undefined -h ask for help', () => {
  const err = (args: string[], message: string) =>
    assert.throws(() => parseCommandArgs(opts, args), (e: unknown) => e instanceof UsageError && e.message === message, message);
  err(['--bogus'], 'unknown flag: --bogus');
  err(['--bogus=1'], 'unknown flag: --bogus');
  err(['-X'], "unknown shorthand flag: 'X' in -X");
  err(['-dX'], "unknown shorthand flag: 'X' in -X");
  err(['--name'], 'flag needs an argument: --name');
  err(['-m'], "flag needs an argument: 'm' in -m");
  err(['-dm'], "flag needs an argument: 'm' in -m");
  err(['---x'], 'bad flag syntax: ---x');
  err(['--=x'], 'bad flag syntax: --=x');
  err(['--toString'], 'unknown flag: --toString');
  assert.throws(() => parseCommandArgs(opts, ['--help']), HelpRequested);
  assert.throws(() => parseCommandArgs(opts, ['-h']), HelpRequested);
  assert.throws(() => parseCommandArgs(opts, ['--help', '--bogus']), UsageError, 'a flag error wins over --help');
  const withH = { hostname: { type: 'string', short: 'h', description: '' } } as const satisfies OptionSpecs;
  assert.equal(parseCommandArgs(withH, ['-h', 'box']).values.hostname, 'box');
});

test('flagValue and intFlag wrap parse errors like pflag, naming the shorthand', () => {
  assert.equal(flagValue(opts, 'memory', '64m', ramInBytes), 64 * 1024 * 1024);
  assert.equal(flagValue(opts, 'memory', undefined, ramInBytes), undefined);
  assert.throws(() => flagValue(opts, 'memory', '1x', ramInBytes), { message: 'invalid argument "1x" for "-m, --memory" flag: invalid suffix: \'x\'' });
  assert.throws(() => flagValue(opts, 'memory-swap', '1x', ramInBytes), { message: 'invalid argument "1x" for "--memory-swap" flag: invalid suffix: \'x\'' });
  assert.equal(intFlag('cpu-shares', '0x10', 'c'), 16);
  assert.throws(() => intFlag('cpu-shares', 'x', 'c'), {
    message: 'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "x": invalid syntax',
  });
});
