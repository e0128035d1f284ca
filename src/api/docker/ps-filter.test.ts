import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUntil } from './ps-filter.js';

test('until of prune filters: Unix seconds, RFC 3339, or any Go duration before now', () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);
  assert.equal(parseUntil('1795867200', now), 1795867200_000);
  assert.equal(parseUntil('1795867200.5', now), 1795867200_500);
  assert.equal(parseUntil('2026-11-28T10:00:00Z', now), Date.UTC(2026, 10, 28, 10, 0, 0));
  assert.equal(parseUntil('10m', now), now - 600_000);
  assert.equal(parseUntil('1h30m', now), now - 5_400_000);
  assert.equal(parseUntil('1.5h', now), now - 5_400_000);
  assert.equal(parseUntil('-1m', now), now + 60_000, 'a negative duration is in the future');
  assert.throws(() => parseUntil('yesterday', now), { message: 'invalid until filter: yesterday' });
});
