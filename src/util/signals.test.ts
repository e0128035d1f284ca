import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import { parseSignal } from './signals.js';

test('names with or without SIG, any case, and surrounding spaces', () => {
  for (const s of ['TERM', 'SIGTERM', 'sigterm', 'term', 'SigTerm', ' TERM ']) assert.equal(parseSignal(s), 15, s);
  assert.equal(parseSignal('sigkill'), 9);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('HUP'), 1);
  assert.equal(parseSignal('INT'), 2);
  assert.equal(parseSignal('QUIT'), 3);
  assert.equal(parseSignal('USR1'), 10);
  assert.equal(parseSignal('USR2'), 12);
  assert.equal(parseSignal('CONT'), 18);
  assert.equal(parseSignal('STOP'), 19);
  assert.equal(parseSignal('WINCH'), 28);
  assert.equal(parseSignal('SIGPWR'), 30);
});

test('numbers from 1 to 64', () => {
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('1'), 1);
  assert.equal(parseSignal('64'), 64);
  assert.equal(parseSignal('015'), 15);
});

test('real-time signals (Linux numbering, as in moby/sys/signal)', () => {
  assert.equal(parseSignal('SIGRTMIN'), 34);
  assert.equal(parseSignal('RTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('rtmin+15'), 49);
  assert.equal(parseSignal('SIGRTMAX'), 64);
  assert.equal(parseSignal('SIGRTMAX-1'), 63);
  assert.equal(parseSignal('RTMAX-14'), 50);
});

test('anything else is ERR_INVALID_ARGUMENT with Docker\'s message', () => {
  for (const s of ['', '0', '65', '-9', '9x', 'TERMX', 'SIG', 'SIGRTMIN+31', 'SIGRTMAX-31', 'SIGRTMIN-1', 'RTMAX+1', '1.5', '__proto__', 'constructor']) {
    assert.throws(
      () => parseSignal(s),
      (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && err.message === `Invalid signal: ${s}`,
      JSON.stringify(s),
    );
  }
});
