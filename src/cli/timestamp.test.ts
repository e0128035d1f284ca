import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from './filters.js';
import { formatRfc3339NanoFixed, getTimestamp, goTimeString } from './timestamp.js';

process.env.TZ = 'UTC';

const NOW = Date.UTC(2026, 10, 28, 17, 0, 0); // 1795885200

test('--since/--until: durations become Unix seconds before now, as docker sends them', () => {
  assert.equal(getTimestamp('10m', NOW), String(1795885200 - 600));
  assert.equal(getTimestamp('1h30m', NOW), String(1795885200 - 5400));
  assert.equal(getTimestamp('0s', NOW), '1795885200');
  assert.equal(getTimestamp('-1m', NOW), String(1795885200 + 60), 'a negative duration is in the future');
});

test('--since/--until: RFC 3339 forms become seconds.nanoseconds; local forms use the local zone', () => {
  assert.equal(getTimestamp('2013-01-02T13:23:37Z', NOW), '1357133017.000000000');
  assert.equal(getTimestamp('2013-01-02T13:23:37.5+01:00', NOW), '1357129417.500000000');
  assert.equal(getTimestamp('2013-01-02T13:23:37.123456789Z', NOW), '1357133017.123456789');
  assert.equal(getTimestamp('2013-01-02T13:23:37', NOW), '1357133017.000000000');
  assert.equal(getTimestamp('2013-01-02T13:23', NOW), '1357132980.000000000');
  assert.equal(getTimestamp('2013-01-02T13', NOW), '1357131600.000000000');
  assert.equal(getTimestamp('2013-01-02', NOW), '1357084800.000000000');
  assert.equal(getTimestamp('2013-01-02Z', NOW), '1357084800.000000000');
  process.env.TZ = 'Asia/Kolkata';
  try {
    assert.equal(getTimestamp('2013-01-02T13:23:37', NOW), String(1357133017 - 19800) + '.000000000');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('--since/--until: Unix seconds pass through; everything else fails with moby\'s message', () => {
  assert.equal(getTimestamp('1700000000', NOW), '1700000000');
  assert.equal(getTimestamp('1700000000.25', NOW), '1700000000.25');
  assert.equal(getTimestamp('0', NOW), '0', '"0" is a timestamp, not a duration');
  assert.throws(() => getTimestamp('bogus', NOW), { message: 'failed to parse value as time or duration: "bogus"' });
  assert.throws(() => getTimestamp('2020-13-45', NOW), { message: 'parsing time "2020-13-45": month out of range' });
  assert.throws(() => getTimestamp('2020-02-30', NOW), { message: 'parsing time "2020-02-30": day out of range' });
  assert.throws(() => getTimestamp('2020-1-1', NOW), /parsing time "2020-1-1" as "2006-01-02"/);
  assert.throws(() => getTimestamp('12.', NOW), /failed to parse value as time or duration/);
});

test('event times and CreatedAt in Go layouts, local zone', () => {
  assert.equal(formatRfc3339NanoFixed(1795887790973557373n), '2026-11-28T17:43:10.973557373Z');
  assert.equal(formatRfc3339NanoFixed(1795887790000000005n), '2026-11-28T17:43:10.000000005Z');
  assert.equal(goTimeString(1795887790), '2026-11-28 17:43:10 +0000 UTC');
  process.env.TZ = 'Asia/Kolkata';
  try {
    assert.equal(formatRfc3339NanoFixed(1795887790973557373n), '2026-11-28T23:13:10.973557373+05:30');
    // Go prints tzdata's abbreviation (IST); ICU has none for this zone in en-US, so brig prints the offset
    assert.equal(goTimeString(1795887790), '2026-11-28 23:13:10 +0530 +0530');
    process.env.TZ = 'America/New_York';
    assert.equal(goTimeString(1795887790), '2026-11-28 12:43:10 -0500 EST');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('--filter flags: key lower-cased and trimmed, repeated keys merged, JSON map form with sorted keys', () => {
  assert.equal(parseFilters(undefined), undefined);
  assert.equal(parseFilters(['']), undefined);
  assert.deepEqual(parseFilters(['status=exited', ' Name = web ', 'status=created']), {
    name: { web: true },
    status: { created: true, exited: true },
  });
  assert.equal(JSON.stringify(parseFilters(['label=b=1', 'label=a'])), '{"label":{"a":true,"b=1":true}}');
  assert.throws(() => parseFilters(['bad']), {
    message: 'invalid argument "bad" for "-f, --filter" flag: bad format of filter (expected name=value)',
  });
});
