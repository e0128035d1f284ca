import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isEngineError } from '../errors.js';
import type { Digest } from '../model/image.js';
import { chainIds, digestHex, isDigest, isHex64, parseDigest, sha256 } from './digest.js';

const H = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; // sha256('')

test('sha256 of strings and bytes', () => {
  assert.equal(sha256(''), `sha256:${H}`);
  assert.equal(sha256('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256(new Uint8Array([0x61, 0x62, 0x63])), sha256('abc'));
});

test('isDigest / parseDigest accept only sha256: and 64 lower-case hex digits', () => {
  assert.equal(isDigest(`sha256:${H}`), true);
  assert.equal(parseDigest(`sha256:${H}`), `sha256:${H}`);
  for (const bad of [H, `sha256:${H.toUpperCase()}`, `sha256:${H.slice(1)}`, `sha256:${H}0`, `sha512:${H}`,
    `sha256:${H}\n`, `sha256:../../${H.slice(6)}`, '', null, 42, undefined]) {
    assert.equal(isDigest(bad), false, String(bad));
    assert.throws(
      () => parseDigest(bad, 'layer digest'),
      (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && err.message === `invalid layer digest: ${String(bad)}`,
    );
  }
});

test('isHex64 and digestHex', () => {
  assert.equal(isHex64(H), true);
  assert.equal(isHex64(H.toUpperCase()), false);
  assert.equal(isHex64(H.slice(2)), false);
  assert.equal(digestHex(`sha256:${H}` as Digest), H);
});

test('chainIds follows the OCI definition', () => {
  // ChainID(L0) = DiffID(L0); ChainID(L0|…|Ln) = SHA256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)),
  // computed here independently with node:crypto.
  const diffs = ['a', 'b', 'c'].map((s) => sha256(s));
  const hash = (s: string) => `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`;
  const c0 = diffs[0]!;
  const c1 = hash(`${c0} ${diffs[1]}`);
  const c2 = hash(`${c1} ${diffs[2]}`);
  assert.deepEqual(chainIds(diffs), [c0, c1, c2]);
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds([diffs[1]!]), [diffs[1]]);
  // Order matters: the same layers stacked differently are a different chain.
  assert.notEqual(chainIds([diffs[1]!, diffs[0]!])[1], c1);
});
