/** `brig cp` argument and path handling (docker cp's rules). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePathStat } from '../../client/client.js';
import { goIsDir, goIsSymlink, splitCpArg, splitPathDirEntry } from './cp.js';

test('CONTAINER:PATH unless the argument is an explicit local path', () => {
  assert.deepEqual(splitCpArg('c:/etc/hostname'), { container: 'c', path: '/etc/hostname' });
  assert.deepEqual(splitCpArg('c:rel/x'), { container: 'c', path: 'rel/x' });
  assert.deepEqual(splitCpArg('/abs/file:name'), { container: '', path: '/abs/file:name' });
  assert.deepEqual(splitCpArg('./file:name'), { container: '', path: './file:name' });
  assert.deepEqual(splitCpArg('file'), { container: '', path: 'file' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});

test('SplitPathDirEntry keeps a trailing /.', () => {
  assert.deepEqual(splitPathDirEntry('/tmp/newdir'), { dir: '/tmp', base: 'newdir' });
  assert.deepEqual(splitPathDirEntry('/tmp/dir/'), { dir: '/tmp', base: 'dir' });
  assert.deepEqual(splitPathDirEntry('/tmp/dir/.'), { dir: '/tmp/dir', base: '.' });
  assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
  assert.deepEqual(splitPathDirEntry('file'), { dir: '.', base: 'file' });
});

test('the stat header decodes; Go FileMode type bits are read as numbers', () => {
  const header = Buffer.from('{"name":"tmp","size":4096,"mode":2147484141,"mtime":"2026-11-28T14:48:39.3934613Z","linkTarget":""}').toString('base64');
  const st = decodePathStat(header);
  assert.equal(st.name, 'tmp');
  assert.equal(goIsDir(st.mode), true);
  assert.equal(goIsSymlink(st.mode), false);
  assert.equal(goIsSymlink(2 ** 27 + 0o777), true);
  assert.equal(goIsDir(420), false);
  assert.throws(() => decodePathStat(undefined), /no X-Docker-Container-Path-Stat header/);
});
