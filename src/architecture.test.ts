/**
 * The module boundaries of ../shared/docs/architecture.md, enforced: every relative import under
 * `src/` must point to a module this one may use. Test files are exempt (they may reach anywhere).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(process.cwd(), 'src');

/** module → the modules it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  model: [],
  util: ['errors', 'model'],
  store: ['errors', 'util', 'model', 'native'],
  image: ['errors', 'util', 'model', 'store', 'native'],
  security: ['errors', 'util', 'model'],
  spec: ['errors', 'util', 'model', 'security'],
  runtime: ['errors', 'util', 'model', 'native'],
  logs: ['errors', 'util', 'model'],
  events: ['errors', 'util', 'model'],
  network: ['errors', 'util', 'model', 'store', 'native'],
  engine: ['errors', 'util', 'model', 'store', 'image', 'security', 'spec', 'runtime', 'logs', 'events', 'network', 'native'],
  api: ['errors', 'util', 'model', 'store', 'image', 'security', 'spec', 'runtime', 'logs', 'events', 'network', 'engine', 'native'],
  client: ['errors', 'util'],
  cli: ['errors', 'util', 'client'],
  /** The addon's wrapper is a leaf: syscalls only, no brig logic. */
  native: ['errors'],
  daemon: ['errors', 'util', 'model', 'store', 'image', 'security', 'spec', 'runtime', 'logs', 'events', 'network', 'engine', 'api', 'native'],
};

function moduleOf(file: string): string {
  const rel = relative(SRC, file);
  const first = rel.split('/')[0]!;
  return first.replace(/\.(ts|js)$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('testdata/') && !f.endsWith('test-support.ts'))
    .map((f) => join(dir, f));
}

test('imports only point inward (api, cli → engine → runtime/image/… → store → model/util/errors)', () => {
  const violations: string[] = [];
  const files = sourceFiles(SRC);
  assert.ok(files.length > 20, `found only ${files.length} source files under ${SRC}: run from the repo root`);
  for (const file of files) {
    const from = moduleOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) {
      violations.push(`${relative(SRC, file)}: module "${from}" is not in the architecture table`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)) {
      const target = moduleOf(resolve(dirname(file), m[1]!));
      if (target !== from && !allowed.includes(target)) {
        violations.push(`${relative(SRC, file)} imports ${m[1]} (${from} → ${target})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
