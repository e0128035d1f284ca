import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { queryBool, queryFilters, queryInt } from './respond.js';

const q = (s: string) => new URLSearchParams(s);

function assertError(fn: () => unknown, code: ErrorCode, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isEngineError(err, code), String(err));
    assert.equal(err.category, 'invalid-argument'); // → 400
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('queryBool: docker CLI and Python-style booleans', () => {
  for (const v of ['1', 'true', 'True', 'TRUE']) assert.equal(queryBool(q(`all=${v}`), 'all'), true, v);
  for (const v of ['0', 'false', 'False', 'FALSE']) assert.equal(queryBool(q(`all=${v}`), 'all', true), false, v);
});

test('queryBool: absent or empty is the default', () => {
  assert.equal(queryBool(q(''), 'all'), false);
  assert.equal(queryBool(q(''), 'all', true), true);
  assert.equal(queryBool(q('all='), 'all'), false);
  assert.equal(queryBool(q('all='), 'all', true), true);
});

test('queryBool: anything else is a 400 naming the parameter', () => {
  for (const v of ['yes', '2', 'on', 'truthy', ' 1']) {
    assertError(() => queryBool(q(`force=${encodeURIComponent(v)}`), 'force'), 'ERR_INVALID_ARGUMENT', /force/);
  }
});

test('queryInt: integers, absent and empty', () => {
  assert.equal(queryInt(q('t=10'), 't'), 10);
  assert.equal(queryInt(q('limit=-1'), 'limit'), -1);
  assert.equal(queryInt(q('t=0'), 't'), 0);
  assert.equal(queryInt(q(''), 't'), undefined);
  assert.equal(queryInt(q('t='), 't'), undefined);
});

test('queryInt: non-integers are a 400 naming the parameter', () => {
  for (const v of ['1.5', 'abc', '0x10', '1e3', '--1', '5s']) {
    assertError(() => queryInt(q(`t=${v}`), 't'), 'ERR_INVALID_ARGUMENT', `invalid integer value for t: ${v}`);
  }
});

const PS = ['status', 'label', 'name', 'id'];
const filters = (json: string, allowed = PS) => queryFilters(q(`filters=${encodeURIComponent(json)}`), allowed);

test('queryFilters: map form (docker CLI)', () => {
  assert.deepEqual(filters('{"status":{"exited":true}}'), new Map([['status', ['exited']]]));
  assert.deepEqual(
    filters('{"status":{"exited":true,"created":true},"label":{"a=b":true}}'),
    new Map([['status', ['exited', 'created']], ['label', ['a=b']]]),
  );
});

test('queryFilters: list form (compose v1, docker-py)', () => {
  assert.deepEqual(
    filters('{"label":["com.docker.compose.project=x","com.docker.compose.oneoff=False"]}'),
    new Map([['label', ['com.docker.compose.project=x', 'com.docker.compose.oneoff=False']]]),
  );
  assert.deepEqual(filters('{"name":[]}'), new Map([['name', []]]));
});

test('queryFilters: absent, empty and {} mean no filters', () => {
  assert.deepEqual(queryFilters(q(''), PS), new Map());
  assert.deepEqual(queryFilters(q('filters='), PS), new Map());
  assert.deepEqual(filters('{}'), new Map());
});

test('queryFilters: an unknown key is Docker\'s "Invalid filter" 400', () => {
  assertError(() => filters('{"bogus":{"x":true}}'), 'ERR_INVALID_FILTER', "Invalid filter 'bogus'");
  assertError(() => filters('{"status":{"exited":true},"bogus":["x"]}'), 'ERR_INVALID_FILTER', "Invalid filter 'bogus'");
});

test('queryFilters: bad JSON and wrong shapes are 400s, never silently ignored', () => {
  for (const bad of ['{bad', '[]', '"status"', '1', 'null', '{"name":"web"}', '{"name":true}', '{"name":[1]}', '{"name":[["a"]]}']) {
    assertError(() => filters(bad), 'ERR_INVALID_FILTER', /^invalid filters: /);
  }
});
