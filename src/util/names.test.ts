import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import { generateName, parseContainerName } from './names.js';

test('valid names are returned without the optional leading slash', () => {
  assert.equal(parseContainerName('web'), 'web');
  assert.equal(parseContainerName('/web'), 'web');
  assert.equal(parseContainerName('ab'), 'ab');
  assert.equal(parseContainerName('My_app.v1-2'), 'My_app.v1-2');
  assert.equal(parseContainerName('0x'), '0x');
});

test('invalid names are refused with Docker\'s message (including one-character names)', () => {
  for (const raw of ['', 'a', '/a', '/', '_ab', '.ab', '-ab', 'a b', 'a/b', '//ab', 'ab:c', 'äb', 'ab\n']) {
    assert.throws(
      () => parseContainerName(raw),
      (err: unknown) =>
        isEngineError(err, 'ERR_INVALID_NAME') &&
        err.category === 'invalid-argument' &&
        err.message === `Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      JSON.stringify(raw),
    );
  }
});

test('generated names are adjective_noun and valid container names', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = generateName();
    assert.match(n, /^[a-z]+_[a-z]+$/);
    assert.equal(parseContainerName(n), n);
    seen.add(n);
  }
  assert.ok(seen.size > 20, `only ${seen.size} distinct names in 200`);
});
