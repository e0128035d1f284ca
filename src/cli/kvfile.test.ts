import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKvContent, parseKvFile, readKvStrings } from './kvfile.js';

const env: Record<string, string> = { FROM_HOST: 'host value', EMPTY_ON_HOST: '' };
const lookup = (k: string) => env[k];

test('env file: comments, blank lines, leading blanks, BOM, CRLF; values kept as written', () => {
  const content = Buffer.from(
    '\uFEFF# a comment\n' +
      'A=1\n' +
      '\n' +
      '   \t\n' +
      '  B=two words  \n' +
      '\t# indented comment\n' +
      'C="quoted"\n' +
      "D='single'\r\n" +
      'E=\n' +
      'F=a=b=c\n' +
      'G=$HOME # not a comment\n' +
      'H',
  );
  assert.deepEqual(parseKvContent(content), ['A=1', 'B=two words  ', 'C="quoted"', "D='single'", 'E=', 'F=a=b=c', 'G=$HOME # not a comment']);
});

test('env file: a bare KEY takes the client\'s value (even empty), and is dropped when the client has none', () => {
  const content = Buffer.from('FROM_HOST\nNOT_ON_HOST\nEMPTY_ON_HOST\nX=1\n');
  assert.deepEqual(parseKvContent(content, lookup), ['FROM_HOST=host value', 'EMPTY_ON_HOST=', 'X=1']);
  // label files have no lookup: bare keys are left out
  assert.deepEqual(parseKvContent(content), ['X=1']);
});

test('env file: errors as docker words them', () => {
  assert.throws(() => parseKvContent(Buffer.from('=x\n')), { message: "no variable name on line '=x'" });
  assert.throws(() => parseKvContent(Buffer.from('MY VAR=1\n')), { message: "variable 'MY VAR' contains whitespaces" });
  assert.throws(() => parseKvContent(Buffer.from('MY\tVAR\n'), lookup), { message: "variable 'MY\tVAR' contains whitespaces" });
  assert.throws(() => parseKvContent(Buffer.from([0x41, 0x3d, 0xff, 0x0a])), { message: 'invalid utf8 bytes at line 1: [65 61 255]' });
  assert.throws(() => parseKvContent(Buffer.from(`A=${'x'.repeat(70_000)}\n`)), { message: 'bufio.Scanner: token too long' });
});

test('parseKvFile / readKvStrings: files in order, then the command line; Go-style file errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'brig-kvfile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const one = join(dir, 'one.env');
  const two = join(dir, 'two.env');
  await writeFile(one, 'A=1\nB=1\nFROM_HOST\n');
  await writeFile(two, '# second\nB=2\n');
  assert.deepEqual(readKvStrings([one, two], ['A=cli'], lookup), ['A=1', 'B=1', 'FROM_HOST=host value', 'B=2', 'A=cli']);
  assert.throws(() => parseKvFile(join(dir, 'missing')), { message: `open ${join(dir, 'missing')}: no such file or directory` });
  assert.throws(() => parseKvFile(dir), { message: `invalid env file (${dir}): read ${dir}: is a directory` });
  await writeFile(one, 'BAD KEY=1\n');
  assert.throws(() => parseKvFile(one), { message: `invalid env file (${one}): variable 'BAD KEY' contains whitespaces` });
});
