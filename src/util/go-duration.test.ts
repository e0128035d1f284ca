import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration } from './go-duration.js';

test('Go durations: units, fractions, signs, and Go\'s errors', () => {
  assert.equal(parseGoDuration('10m'), 600_000_000_000n);
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('1.5s'), 1_500_000_000n);
  assert.equal(parseGoDuration('300ms'), 300_000_000n);
  assert.equal(parseGoDuration('2us'), 2_000n);
  assert.equal(parseGoDuration('2µs'), 2_000n);
  assert.equal(parseGoDuration('-5m'), -300_000_000_000n);
  assert.equal(parseGoDuration('0'), 0n);
  assert.throws(() => parseGoDuration('10'), /missing unit in duration "10"/);
  assert.throws(() => parseGoDuration('10d'), /unknown unit "d" in duration "10d"/);
  assert.throws(() => parseGoDuration(''), /invalid duration/);
});

test('Go durations: int64 limits as in Go (no 2^53 cap here)', () => {
  assert.equal(parseGoDuration('3000h'), 3000n * 3_600_000_000_000n);
  assert.throws(() => parseGoDuration('9999999999h'), { message: 'time: invalid duration "9999999999h"' });
  assert.throws(() => parseGoDuration('1m30'), { message: 'time: missing unit in duration "1m30"' });
});
