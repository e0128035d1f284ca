import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { EventBus } from './event-bus.js';
import type { EngineEvent, Subscription } from './event-bus.js';

/** Reads `n` events, or everything until the subscription ends. */
async function take(sub: Subscription, n = Infinity): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  if (n === 0) return out;
  for await (const e of sub) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

const actions = (es: readonly EngineEvent[]) => es.map((e) => e.action);

test('subscribers get every event published after they subscribed, in order, with actor and attributes', async () => {
  const bus = new EventBus();
  bus.publish('container', 'before', 'c0');
  const a = bus.subscribe();
  const b = bus.subscribe();
  bus.publish('container', 'create', 'c1', { name: 'web', image: 'busybox' });
  bus.publish('container', 'start', 'c1');
  bus.publish('volume', 'create', 'v1', { driver: 'local' });
  const got = await take(a, 3);
  assert.deepEqual(actions(got), ['create', 'start', 'create']);
  assert.deepEqual(got[0]!.actor, { id: 'c1', attributes: { name: 'web', image: 'busybox' } });
  assert.equal(got[2]!.type, 'volume');
  assert.deepEqual(actions(await take(b, 3)), ['create', 'start', 'create']);
});

test('a waiting subscriber wakes up for events published later', async () => {
  const bus = new EventBus();
  const sub = bus.subscribe();
  const pending = take(sub, 2);
  await tick();
  bus.publish('container', 'die', 'c1', { exitCode: '0' });
  await tick();
  bus.publish('container', 'destroy', 'c1');
  assert.deepEqual(actions(await pending), ['die', 'destroy']);
});

test('event times are nanoseconds near now and strictly increase in publication order', () => {
  const bus = new EventBus(100_000);
  const start = BigInt(Date.now()) * 1_000_000n;
  const deadline = Date.now() + 3; // span several milliseconds
  while (Date.now() <= deadline) bus.publish('container', 'x', 'c');
  const h = bus.history();
  assert.ok(h[0]!.timeNano >= start - 1_000_000n && h[0]!.timeNano < start + 1_000_000_000n);
  for (let i = 1; i < h.length; i++) {
    assert.ok(h[i]!.timeNano > h[i - 1]!.timeNano, `event ${i}: ${h[i]!.timeNano} after ${h[i - 1]!.timeNano}`);
  }
});

test('history keeps the last historySize events, oldest first', () => {
  const bus = new EventBus(3);
  assert.deepEqual(bus.history(), []);
  for (const a of ['a', 'b', 'c', 'd', 'e']) bus.publish('image', a, 'i');
  assert.deepEqual(actions(bus.history()), ['c', 'd', 'e']);
});

test('close ends the iteration after the events already queued', async () => {
  const bus = new EventBus();
  const sub = bus.subscribe();
  bus.publish('container', 'a', 'c');
  bus.publish('container', 'b', 'c');
  sub.close();
  bus.publish('container', 'after-close', 'c');
  assert.deepEqual(actions(await take(sub)), ['a', 'b']);
});

test('close wakes a subscriber that is waiting', async () => {
  const bus = new EventBus();
  const sub = bus.subscribe();
  const pending = take(sub);
  await tick();
  sub.close();
  assert.deepEqual(await pending, []);
});

test('a subscriber that falls maxQueue events behind is closed; the publisher never blocks', async () => {
  const bus = new EventBus(10, 5);
  const slow = bus.subscribe();
  const fast = bus.subscribe();
  const fastGot = take(fast, 20);
  for (let i = 0; i < 20; i++) {
    bus.publish('container', `e${i}`, 'c'); // synchronous: returns whatever the subscribers do
    await tick(); // the fast subscriber keeps up
  }
  assert.equal((await fastGot).length, 20);
  // The slow one got what fitted in its queue, then its iteration ends instead of growing forever.
  assert.deepEqual(actions(await take(slow)), ['e0', 'e1', 'e2', 'e3', 'e4']);
  bus.publish('container', 'later', 'c');
  assert.deepEqual(await take(slow), []);
});

test('breaking out of the loop unsubscribes', async () => {
  const bus = new EventBus(10, 3);
  const sub = bus.subscribe();
  bus.publish('container', 'a', 'c');
  assert.deepEqual(actions(await take(sub, 1)), ['a']);
  // Unsubscribed: later events are not queued for it (with maxQueue 3 they would be).
  bus.publish('container', 'b', 'c');
  assert.deepEqual(await take(sub), []);
});
