#!/usr/bin/env node
// Runs brig's tests with node:test: unit tests (beside the code, in parallel), then the integration
// tests (real daemon, runc, docker CLI; one file at a time), then the host leak check, which
// compares what exists on the host now with a snapshot taken before the integration tests.
//   node scripts/test.mjs            all tiers
//   node scripts/test.mjs --unit     unit tests only
//   node scripts/test.mjs FILE...    only these compiled test files
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { snapshotHost } from '../dist/test/leaks.js';

const dist = new URL('../dist/', import.meta.url).pathname;
const args = process.argv.slice(2);

function list(dir) {
  try {
    return readdirSync(join(dist, dir), { recursive: true })
      .filter((f) => String(f).endsWith('.test.js'))
      .map((f) => join(dist, dir, String(f)))
      .sort();
  } catch {
    return [];
  }
}

async function tier(name, files, concurrency) {
  if (files.length === 0) return true;
  process.stderr.write(`\n== ${name}: ${files.length} file(s)\n`);
  let failed = false;
  const stream = run({ files, concurrency, timeout: 15 * 60 * 1000 });
  stream.on('test:fail', (e) => {
    if (e.details?.type !== 'suite') failed = true;
  });
  stream.compose(spec).pipe(process.stdout);
  await new Promise((resolve) => stream.once('end', resolve));
  return !failed;
}

let ok = true;
const explicit = args.filter((a) => !a.startsWith('--'));
if (explicit.length) {
  ok = await tier('selected', explicit, 1);
} else {
  // Unit tests: beside the code (src, bench), plus the test helpers' own (dist/test/*.test.js, not recursive).
  const helperTests = readdirSync(join(dist, 'test')).filter((f) => f.endsWith('.test.js')).map((f) => join(dist, 'test', f));
  ok = (await tier('unit', [...list('src'), ...list('bench'), ...helperTests.sort()], true)) && ok;
  if (!args.includes('--unit')) {
    const snapDir = mkdtempSync(join(tmpdir(), 'brig-leaks-'));
    const snap = join(snapDir, 'before.json');
    writeFileSync(snap, JSON.stringify(await snapshotHost()));
    ok = (await tier('integration', list('test/integration'), 1)) && ok;
    process.env.BRIG_LEAK_SNAPSHOT = snap;
    ok = (await tier('leak check', list('test/leak'), 1)) && ok;
  }
}
process.exitCode = ok ? 0 : 1;
