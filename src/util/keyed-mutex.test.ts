import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from './keyed-mutex.js';

/** A step that records when it starts and ends, and can be let go from outside. */
function step(log: string[], name: string): { fn: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    fn: async () => {
      log.push(`${name}:start`);
      await gate;
      log.push(`${name}:end`);
      return name;
    },
    release,
  };
}

test('operations on one key run one at a time, in call order', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const a = step(log, 'a');
  const b = step(log, 'b');
  const c = step(log, 'c');
  const pa = m.run('k', a.fn);
  const pb = m.run('k', b.fn);
  const pc = m.run('k', c.fn);
  await sleep(5);
  assert.deepEqual(log, ['a:start']);
  c.release();
  b.release();
  await sleep(5);
  assert.deepEqual(log, ['a:start']); // b and c wait for a even though they could finish
  a.release();
  assert.deepEqual(await Promise.all([pa, pb, pc]), ['a', 'b', 'c']);
  assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
});

test('different keys run in parallel', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const a = step(log, 'a');
  const b = step(log, 'b');
  const pa = m.run('k1', a.fn);
  const pb = m.run('k2', b.fn);
  await sleep(5);
  assert.deepEqual(log.sort(), ['a:start', 'b:start']);
  b.release();
  assert.equal(await pb, 'b'); // k2 finishes while k1 is still busy
  a.release();
  assert.equal(await pa, 'a');
});

test('a failing operation rejects its caller only and does not poison the key', async () => {
  const m = new KeyedMutex();
  const order: string[] = [];
  const p1 = m.run('k', async () => {
    await sleep(2);
    order.push('fails');
    throw new Error('boom');
  });
  const p2 = m.run('k', async () => {
    order.push('next');
    return 42;
  });
  const p3 = m.run('k', () => {
    throw new Error('sync throw');
  });
  await assert.rejects(p1, /boom/);
  assert.equal(await p2, 42);
  await assert.rejects(p3, /sync throw/);
  assert.equal(await m.run('k', async () => 'still works'), 'still works');
  assert.deepEqual(order, ['fails', 'next']);
});

test('idle() waits for running and queued operations, including ones queued meanwhile', async () => {
  const m = new KeyedMutex();
  await m.idle(); // nothing to wait for
  const done: string[] = [];
  void m.run('a', async () => {
    await sleep(10);
    done.push('a1');
    void m.run('b', async () => {
      await sleep(10);
      done.push('b');
    });
  });
  void m.run('a', async () => {
    done.push('a2');
  });
  await m.idle();
  assert.deepEqual(done, ['a1', 'a2', 'b']);
});

test('idle() is not blocked by a failed operation', async () => {
  const m = new KeyedMutex();
  const p = m.run('k', async () => {
    throw new Error('x');
  });
  await assert.rejects(p);
  await m.idle();
});
