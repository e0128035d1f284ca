import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord, HealthState } from '../model/container.js';
import { effectiveHealthcheck, HealthMonitor, nextHealth, probeArgv, type ProbeRunner } from './health.js';

const entry = (exitCode: number, output = '') => ({ start: 's', end: 'e', exitCode, output });
const starting: HealthState = { status: 'starting', failingStreak: 0, log: [] };

test('one success makes a container healthy; `retries` failures in a row make it unhealthy', () => {
  let h = nextHealth(starting, entry(0), 3, false);
  assert.equal(h.status, 'healthy');
  h = nextHealth(h, entry(1), 3, false);
  h = nextHealth(h, entry(1), 3, false);
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 2]);
  h = nextHealth(h, entry(1), 3, false);
  assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 3]);
  h = nextHealth(h, entry(0), 3, false);
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 0]);
});

test('failures in the start period do not count until the first success', () => {
  let h = nextHealth(starting, entry(1), 1, true);
  assert.deepEqual([h.status, h.failingStreak], ['starting', 0]);
  h = nextHealth(h, entry(0), 1, true);
  h = nextHealth(h, entry(1), 1, true);
  assert.equal(h.status, 'unhealthy', 'after a success, start-period failures count');
  const late = nextHealth(starting, entry(1), 1, false);
  assert.equal(late.status, 'unhealthy');
});

test('the log keeps the last 5 results with at most 4 KiB of output', () => {
  let h = starting;
  for (let i = 0; i < 8; i++) h = nextHealth(h, entry(i % 2, 'x'.repeat(5000)), 3, false);
  assert.equal(h.log.length, 5);
  assert.equal(h.log[0]!.output.length, 4096);
});

test('the container\'s check overrides the image\'s field by field; NONE disables', () => {
  const image = { test: ['CMD', 'true'], intervalNs: 5e9, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 7 };
  const mine = { test: [], intervalNs: 1e9, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 0 };
  const e = effectiveHealthcheck(mine, image)!;
  assert.deepEqual(e.test, ['CMD', 'true']);
  assert.equal(e.intervalNs, 1e9);
  assert.equal(e.timeoutNs, 30e9);
  assert.equal(e.retries, 7);
  assert.equal(effectiveHealthcheck({ ...mine, test: ['NONE'] }, image), null);
  assert.equal(effectiveHealthcheck(null, null), null);
  assert.deepEqual(probeArgv(['CMD-SHELL', 'curl -f x || exit 1']), ['/bin/sh', '-c', 'curl -f x || exit 1']);
  assert.deepEqual(probeArgv(['CMD', 'a', 'b']), ['a', 'b']);
});

test('the monitor probes, records, announces changes and stops with the container', async () => {
  const results = [1, 0, 1, 1];
  const calls: string[][] = [];
  const runner: ProbeRunner = {
    async run(_c, argv) {
      calls.push(argv);
      return { exitCode: results.shift() ?? 0, output: 'out', timedOut: false };
    },
  };
  const saved: HealthState[] = [];
  const announced: string[] = [];
  const c = {
    id: 'c1', state: { status: 'running' }, spec: {
      healthcheck: { test: ['CMD', 'probe'], intervalNs: 20e6, timeoutNs: 1e9, startPeriodNs: 0, startIntervalNs: 0, retries: 2 },
    },
  } as unknown as ContainerRecord;
  const monitor = new HealthMonitor(runner, {
    current: () => c,
    saveHealth: (_id, h) => saved.push(h),
    announce: (_c, s) => announced.push(s),
    imageHealthcheck: () => null,
  });
  monitor.started(c);
  await new Promise((r) => setTimeout(r, 200));
  monitor.stopped('c1');
  const n = calls.length;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(calls.length, n, 'no probe after stop');
  assert.deepEqual(calls[0], ['probe']);
  assert.equal(saved[0]!.status, 'starting');
  assert.deepEqual(announced.slice(0, 2), ['healthy', 'unhealthy']);
});
