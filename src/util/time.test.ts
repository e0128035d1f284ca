import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, unixSeconds, ZERO_TIME } from './time.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('humanDuration: seconds truncate', () => {
  assert.equal(humanDuration(-5 * S), 'Less than a second');
  assert.equal(humanDuration(0), 'Less than a second');
  assert.equal(humanDuration(999), 'Less than a second');
  assert.equal(humanDuration(S), '1 second');
  assert.equal(humanDuration(2 * S - 1), '1 second');
  assert.equal(humanDuration(2 * S), '2 seconds');
  assert.equal(humanDuration(59 * S + 999), '59 seconds');
});

test('humanDuration: minutes truncate', () => {
  assert.equal(humanDuration(M), 'About a minute');
  assert.equal(humanDuration(2 * M - 1), 'About a minute');
  assert.equal(humanDuration(2 * M), '2 minutes');
  assert.equal(humanDuration(59 * M + 59 * S), '59 minutes');
});

test('humanDuration: hours round (go-units adds half an hour)', () => {
  assert.equal(humanDuration(60 * M), 'About an hour');
  assert.equal(humanDuration(90 * M - 1), 'About an hour');
  assert.equal(humanDuration(90 * M), '2 hours');
  assert.equal(humanDuration(47 * H + 29 * M), '47 hours');
  assert.equal(humanDuration(47 * H + 30 * M), '2 days');
});

test('humanDuration: days, weeks, months and years', () => {
  assert.equal(humanDuration(3 * D), '3 days');
  assert.equal(humanDuration(13 * D + 23 * H), '13 days');
  assert.equal(humanDuration(14 * D), '2 weeks');
  assert.equal(humanDuration(59 * D), '8 weeks');
  assert.equal(humanDuration(60 * D), '2 months');
  assert.equal(humanDuration(729 * D), '24 months');
  assert.equal(humanDuration(730 * D), '2 years');
  assert.equal(humanDuration(3 * 365 * D + 100 * D), '3 years');
});

test('unixSeconds: ISO to seconds; empty and zero time are 0', () => {
  assert.equal(unixSeconds('2026-11-28T14:45:41.999Z'), Math.floor(Date.parse('2026-11-28T14:45:41Z') / 1000));
  assert.equal(unixSeconds(''), 0);
  assert.equal(unixSeconds(ZERO_TIME), 0);
});
