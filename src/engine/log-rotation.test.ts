import assert from 'node:assert/strict';
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogRotator } from './log-rotation.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'brig-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes like conmon: O_APPEND at first, and `reopen()` closes, creates `<path>.tmp` and renames it over. */
class FakeConmon {
  readonly path: string;
  #fd: number;
  alive = true;
  reopens = 0;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a');
  }

  write(line: string): void {
    writeSync(this.#fd, line);
  }

  reopen(): boolean {
    if (!this.alive) return false;
    this.reopens++;
    closeSync(this.#fd);
    this.#fd = openSync(`${this.path}.tmp`, 'w');
    renameSync(`${this.path}.tmp`, this.path);
    return true;
  }

  exit(): void {
    this.alive = false;
    closeSync(this.#fd);
  }
}

const line = (i: number) => `2026-11-28T00:00:00.000000001+00:00 stdout F ${String(i).padStart(6, '0')} ${'x'.repeat(50)}\n`;
const LINE = line(0).length;

async function logFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /^ctr\.log(\.\d+)?$/.test(n)).sort();
}

/** The numbers of all lines, oldest file first. */
async function allNumbers(path: string, maxFile: number): Promise<number[]> {
  const out: number[] = [];
  for (let k = maxFile - 1; k >= 0; k--) {
    const text = await readFile(k === 0 ? path : `${path}.${k}`, 'utf8').catch(() => '');
    for (const l of text.split('\n')) if (l) out.push(Number(l.split(' ')[3]));
  }
  return out;
}

test('LogRotator: keeps max-file files of about max-size, the lines contiguous and none repeated', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  const conmon = new FakeConmon(path);
  const rotator = new LogRotator({ reopen: async () => conmon.reopen(), onError: (_id, err) => assert.fail(String(err)) });
  t.after(() => rotator.close());
  const maxSize = 20 * LINE;
  rotator.watch('c1', path, { maxSize, maxFile: 3 });
  const total = 200;
  for (let i = 0; i < total; i++) {
    conmon.write(line(i));
    await sleep(2);
  }
  await sleep(100);
  await rotator.idle();
  assert.deepEqual(await logFiles(dir), ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
  assert.ok(conmon.reopens >= 7, `${conmon.reopens} rotations`);
  // A line every ~2 ms and a check at most every 10 ms: a file overshoots by a few lines at most.
  for (const f of await logFiles(dir)) {
    const { size } = await stat(join(dir, f));
    assert.ok(size <= maxSize + 8 * LINE, `${f}: ${size} bytes > ${maxSize} + 8 lines`);
  }
  const nums = await allNumbers(path, 3);
  assert.equal(nums.at(-1), total - 1);
  assert.deepEqual(nums, Array.from({ length: nums.length }, (_, i) => total - nums.length + i));
  assert.ok(nums.length >= 2 * 20, `only ${nums.length} lines kept`);
  conmon.exit();
});

test('LogRotator: max-file=1 has conmon start an empty file; with no writer left it truncates', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  const conmon = new FakeConmon(path);
  const rotator = new LogRotator({ reopen: async () => conmon.reopen() });
  t.after(() => rotator.close());
  rotator.watch('c1', path, { maxSize: 10 * LINE, maxFile: 1 });
  for (let i = 0; i < 25; i++) {
    conmon.write(line(i));
    await sleep(3);
  }
  await sleep(50);
  await rotator.idle();
  assert.deepEqual(await logFiles(dir), ['ctr.log']);
  assert.ok(conmon.reopens >= 2);
  assert.ok((await stat(path)).size < 10 * LINE + 2 * LINE);
  // A last burst, then the task ends: finish() truncates in place (nobody writes any more).
  for (let i = 25; i < 40; i++) conmon.write(line(i));
  conmon.exit();
  await rotator.finish('c1');
  assert.equal((await stat(path)).size, 0);
});

test('LogRotator: finish() rotates a log that ended over its limit; unwatched logs are left alone', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  let reopens = 0;
  const rotator = new LogRotator({ reopen: async () => (reopens++, false), pollMs: 20 });
  t.after(() => rotator.close());
  await writeFile(path, line(1));
  rotator.watch('c1', path, { maxSize: 4 * LINE, maxFile: 2 });
  await writeFile(path, line(1) + line(2) + line(3) + line(4) + line(5));
  await rotator.finish('c1');
  assert.deepEqual(await logFiles(dir), ['ctr.log.1']);
  assert.equal(reopens, 1);
  // Not watched any more: a new big file stays as it is, even across periodic checks.
  await writeFile(path, line(6).repeat(10));
  await sleep(80);
  assert.deepEqual(await logFiles(dir), ['ctr.log', 'ctr.log.1']);
});

test('LogRotator: no size limit means no watch', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  const rotator = new LogRotator({ reopen: async () => assert.fail('reopen'), pollMs: 10 });
  t.after(() => rotator.close());
  await writeFile(path, line(1).repeat(100));
  rotator.watch('c1', path, { maxSize: 0, maxFile: 1 });
  await sleep(50);
  await rotator.idle();
  assert.equal((await stat(path)).size, 100 * LINE);
});
