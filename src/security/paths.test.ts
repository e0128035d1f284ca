import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DEVICES, defaultDeviceCgroupRules, privilegedDeviceCgroupRules } from './devices.js';
import { MASKED_PATHS, READONLY_PATHS, findThermalThrottlePaths, maskedPaths } from './paths.js';

test("masked paths: Docker's list with the side-channel additions, plus thermal_throttle per CPU", () => {
  for (const p of ['/proc/interrupts', '/sys/devices/virtual/powercap', '/proc/kcore', '/proc/keys', '/sys/firmware']) {
    assert.ok(MASKED_PATHS.includes(p), p);
  }
  const t = ['/sys/devices/system/cpu/cpu0/thermal_throttle', '/sys/devices/system/cpu/cpu1/thermal_throttle'];
  assert.deepEqual(maskedPaths(t), [...MASKED_PATHS, ...t]);
  assert.deepEqual(maskedPaths([]), [...MASKED_PATHS]);
  assert.deepEqual(READONLY_PATHS, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
});

test('findThermalThrottlePaths lists only CPUs that have the directory, in CPU order', async (t) => {
  const sys = await mkdtemp(join(tmpdir(), 'brig-sys-'));
  t.after(() => rm(sys, { recursive: true, force: true }));
  const cpu = join(sys, 'devices/system/cpu');
  for (const n of [0, 1, 2, 10]) await mkdir(join(cpu, `cpu${n}`), { recursive: true });
  for (const n of [10, 0, 2]) await mkdir(join(cpu, `cpu${n}`, 'thermal_throttle'));
  await mkdir(join(cpu, 'cpufreq'));
  await writeFile(join(cpu, 'possible'), '0-10\n');
  assert.deepEqual(await findThermalThrottlePaths(sys), [
    '/sys/devices/system/cpu/cpu0/thermal_throttle',
    '/sys/devices/system/cpu/cpu2/thermal_throttle',
    '/sys/devices/system/cpu/cpu10/thermal_throttle',
  ]);
  assert.deepEqual(await findThermalThrottlePaths(join(sys, 'nope')), []);
});

test("device cgroup: Docker's deny-all, six allows and the explicit fuse deny", () => {
  const rules = defaultDeviceCgroupRules();
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.deepEqual(
    rules.slice(1, 7).map((r) => [r.allow, r.type, r.major, r.minor, r.access]),
    [[true, 'c', 1, 5, 'rwm'], [true, 'c', 1, 3, 'rwm'], [true, 'c', 1, 9, 'rwm'], [true, 'c', 1, 8, 'rwm'], [true, 'c', 5, 0, 'rwm'], [true, 'c', 5, 1, 'rwm']],
  );
  assert.deepEqual(rules[7], { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.deepEqual(privilegedDeviceCgroupRules(), [{ allow: true, access: 'rwm' }]);
  // Fresh arrays: callers may mutate their copy.
  assert.notEqual(defaultDeviceCgroupRules(), defaultDeviceCgroupRules());
});

test('default device nodes are the ones the cgroup rules (plus runc built-ins) allow', () => {
  assert.deepEqual(DEFAULT_DEVICES.map((d) => d.path), ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
  const allowed = defaultDeviceCgroupRules().filter((r) => r.allow).map((r) => `${r.major}:${r.minor}`);
  for (const d of DEFAULT_DEVICES) {
    if (d.path !== '/dev/full') assert.ok(allowed.includes(`${d.major}:${d.minor}`), d.path); // runc allows 1:7 itself
  }
});
