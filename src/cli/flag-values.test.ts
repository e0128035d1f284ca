import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memSwapBytes, parseCpus, parseGoBool, parseGoDuration, parseGoInt, parseRestartPolicy, ramInBytes } from './flag-values.js';

const S = 1_000_000_000;

test('parseGoDuration: Go time.ParseDuration values, in nanoseconds', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['1s', S],
    ['500ms', 500_000_000],
    ['1m30s', 90 * S],
    ['1h', 3600 * S],
    ['1.5h', 5400 * S],
    ['2h45m10.5s', (2 * 3600 + 45 * 60 + 10.5) * S],
    ['.5s', 0.5 * S],
    ['1.s', S],
    ['100us', 100_000],
    ['100µs', 100_000],
    ['100μs', 100_000],
    ['7ns', 7],
    ['1ms1ns', 1_000_001],
    ['-1.5s', -1.5 * S],
    ['0s', 0],
    ['0.000000001s', 1],
    ['1.0000000001s', S], // beyond nanosecond precision: truncated, as Go does
  ];
  for (const [input, ns] of cases) assert.equal(parseGoDuration(input), ns, input);
});

test('parseGoDuration: Go\'s error messages', () => {
  assert.throws(() => parseGoDuration('1'), { message: 'time: missing unit in duration "1"' });
  assert.throws(() => parseGoDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseGoDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.throws(() => parseGoDuration('1S'), { message: 'time: unknown unit "S" in duration "1S"' });
  assert.throws(() => parseGoDuration('1m30'), { message: 'time: missing unit in duration "1m30"' });
  for (const bad of ['', 'x', 's', '.s', '-', '-.s', '1s x', ' 1s', '1..5s']) {
    assert.throws(() => parseGoDuration(bad), (e: Error) => /^time: (invalid duration|unknown unit|missing unit)/.test(e.message), bad);
  }
  assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
  assert.throws(() => parseGoDuration('9999999999h'), { message: 'time: invalid duration "9999999999h"' }, 'int64 overflow');
  assert.throws(() => parseGoDuration('3000h'), /longer than brig can send/, 'beyond 2^53 ns');
  assert.equal(parseGoDuration('2500h'), 2500 * 3600 * S);
});

test('ramInBytes: go-units RAMInBytes (binary multiples, any case, optional b/ib, a space)', () => {
  const cases: [string, number][] = [
    ['64m', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['64mb', 64 * 1024 ** 2],
    ['64MiB', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['512k', 512 * 1024],
    ['32 MB', 32 * 1024 ** 2],
    ['1024', 1024],
    ['1024b', 1024],
    ['2t', 2 * 1024 ** 4],
    ['0', 0],
    ['1.9', 1],
  ];
  for (const [input, n] of cases) assert.equal(ramInBytes(input), n, input);
  assert.throws(() => ramInBytes('1x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('1mm'), { message: "invalid suffix: 'mm'" });
  assert.throws(() => ramInBytes('1kib2'), (e: Error) => /strconv.ParseFloat/.test(e.message));
  assert.throws(() => ramInBytes('m'), { message: "invalid size: 'm'" });
  assert.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" });
  assert.throws(() => ramInBytes('1bb'), { message: "invalid suffix: 'bb'" });
  assert.equal(memSwapBytes('-1'), -1);
  assert.equal(memSwapBytes('128m'), 128 * 1024 ** 2);
  assert.throws(() => memSwapBytes('-2'), { message: "invalid size: '-2'" });
});

test('parseCpus: docker ParseCPUs, exact', () => {
  assert.equal(parseCpus('0.5'), 500_000_000);
  assert.equal(parseCpus('1.5'), 1_500_000_000);
  assert.equal(parseCpus('2'), 2_000_000_000);
  assert.equal(parseCpus('3/2'), 1_500_000_000);
  assert.equal(parseCpus('2e-1'), 200_000_000);
  assert.equal(parseCpus('.25'), 250_000_000);
  assert.equal(parseCpus('0.000000001'), 1);
  assert.throws(() => parseCpus('0.0000000001'), { message: 'value is too precise' });
  assert.throws(() => parseCpus('abc'), { message: 'failed to parse abc as a rational number' });
  assert.throws(() => parseCpus('1/0'), { message: 'failed to parse 1/0 as a rational number' });
});

test('parseRestartPolicy: NAME[:MAX]; the daemon checks the name', () => {
  assert.deepEqual(parseRestartPolicy('no'), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy('on-failure:'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy(''), { Name: '', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('on-failure:x'), { message: 'invalid restart policy format: maximum retry count must be an integer' });
  assert.throws(() => parseRestartPolicy(':3'), { message: 'invalid restart policy format: no policy provided before colon' });
});

test('parseGoInt: strconv.ParseInt(s, 0, 64) as pflag uses it', () => {
  const cases: [string, number][] = [
    ['42', 42], ['-1', -1], ['+7', 7], ['0', 0], ['0x10', 16], ['0X1f', 31], ['0o17', 15], ['017', 15], ['0b101', 5],
    ['1_000', 1000], ['0_10', 8], ['-0x10', -16],
  ];
  for (const [input, n] of cases) assert.equal(parseGoInt(input), n, input);
  for (const bad of ['', 'x', '1.5', '08', '0x', '1_', '_1', '1__0', ' 1', '1e3', '--1']) {
    assert.throws(() => parseGoInt(bad), { message: `strconv.ParseInt: parsing ${JSON.stringify(bad)}: invalid syntax` }, bad);
  }
  assert.throws(() => parseGoInt('9223372036854775808'), { message: 'strconv.ParseInt: parsing "9223372036854775808": value out of range' });
  assert.doesNotThrow(() => parseGoInt('-9223372036854775808'));
  assert.throws(() => parseGoInt('128', 8), /value out of range/);
});

test('parseGoBool: strconv.ParseBool', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false, f);
  assert.throws(() => parseGoBool('yes'), { message: 'strconv.ParseBool: parsing "yes": invalid syntax' });
  assert.throws(() => parseGoBool('tRUE'), /invalid syntax/);
});
