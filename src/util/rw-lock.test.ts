import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RwLock } from './rw-lock.js';

test('shared holders overlap; an exclusive holder runs alone', async () => {
  const lock = new RwLock();
  const log: string[] = [];
  const reader = (n: string) => lock.shared(async () => { log.push(`${n}+`); await sleep(20); log.push(`${n}-`); });
  const a = reader('a');
  const b = reader('b');
  const w = lock.exclusive(async () => { log.push('w+'); await sleep(5); log.push('w-'); });
  const c = reader('c'); // queued behind the waiting writer
  await Promise.all([a, b, w, c]);
  assert.deepEqual(log, ['a+', 'b+', 'a-', 'b-', 'w+', 'w-', 'c+', 'c-']);
});

test('a failing holder releases the lock', async () => {
  const lock = new RwLock();
  await assert.rejects(lock.exclusive(async () => { throw new Error('boom'); }), /boom/);
  await assert.rejects(lock.shared(async () => { throw new Error('bang'); }), /bang/);
  assert.equal(await lock.exclusive(async () => 7), 7);
});
