import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEngineError } from '../errors.js';
import type { ImageRunConfig } from '../model/image.js';
import { applyChanges } from './changes.js';
import { emptyRunConfig } from './config-format.js';

const apply = (...changes: string[]) => applyChanges(emptyRunConfig(), changes);

function assertRejects(changes: string[], match?: RegExp): void {
  assert.throws(
    () => applyChanges(emptyRunConfig(), changes),
    (err: unknown) => isEngineError(err, 'ERR_INVALID_ARGUMENT') && (match === undefined || match.test(err.message)),
    JSON.stringify(changes),
  );
}

test('CMD and ENTRYPOINT: JSON (exec) form and shell form', () => {
  assert.deepEqual(apply('CMD ["/bin/sh", "-c", "echo hi"]').cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(apply('CMD echo "hi there"').cmd, ['/bin/sh', '-c', 'echo "hi there"']);
  assert.deepEqual(apply('ENTRYPOINT ["/entry"]').entrypoint, ['/entry']);
  assert.deepEqual(apply('ENTRYPOINT /entry --flag').entrypoint, ['/bin/sh', '-c', '/entry --flag']);
  assert.deepEqual(apply('CMD []').cmd, []);
});

test('instructions are case-insensitive, blank changes are skipped, the last one wins', () => {
  const c = apply('cmd ["a"]', '   ', 'Cmd ["b"]');
  assert.deepEqual(c.cmd, ['b']);
});

test('CMD and ENTRYPOINT: bad JSON, non-strings and missing arguments are errors', () => {
  assertRejects(['CMD ["a", 1]'], /CMD/);
  assertRejects(['CMD ["unterminated'], /CMD/);
  assertRejects(['ENTRYPOINT ["a"'], /ENTRYPOINT/);
  assertRejects(['CMD'], /CMD requires at least one argument/);
});

test('ENV: key=value pairs with quotes and escapes', () => {
  const c = apply('ENV A=1 B="two words" C=\'single quoted\' D="say \\"hi\\"" E=');
  assert.deepEqual(c.env, ['A=1', 'B=two words', 'C=single quoted', 'D=say "hi"', 'E=']);
});

test('ENV: the legacy form takes the rest of the line as the value, even with = in it', () => {
  assert.deepEqual(apply('ENV GREETING hello big world').env, ['GREETING=hello big world']);
  assert.deepEqual(apply('ENV JAVA_OPTS -Dfile.encoding=UTF-8 -Xmx1g').env, ['JAVA_OPTS=-Dfile.encoding=UTF-8 -Xmx1g']);
});

test('ENV: setting a variable again replaces it, other variables keep their order', () => {
  const base: ImageRunConfig = { ...emptyRunConfig(), env: ['PATH=/bin', 'A=old', 'AB=keep'] };
  const c = applyChanges(base, ['ENV A=new']);
  assert.deepEqual(c.env, ['PATH=/bin', 'AB=keep', 'A=new']);
});

test('ENV and LABEL: words that are not name=value pairs are errors, not skipped', () => {
  assertRejects(['ENV A=1 junk'], /ENV/);
  assertRejects(['ENV A=1 =2'], /ENV/);
  assertRejects(['LABEL a=b c'], /LABEL/);
  assertRejects(['ENV LONELY'], /ENV requires a key and a value/);
});

test('LABEL: both forms, merged into existing labels', () => {
  const base: ImageRunConfig = { ...emptyRunConfig(), labels: { keep: 'me', over: 'old' } };
  const c = applyChanges(base, ['LABEL over=new version="1.0 beta"', 'LABEL maintainer Jane Doe']);
  assert.deepEqual(c.labels, { keep: 'me', over: 'new', version: '1.0 beta', maintainer: 'Jane Doe' });
});

test('EXPOSE: default tcp, protocols lowercased, no duplicates', () => {
  assert.deepEqual(apply('EXPOSE 80 53/UDP 80/tcp 132/sctp', 'EXPOSE 80').exposedPorts, ['80/tcp', '53/udp', '132/sctp']);
  assert.deepEqual(apply('EXPOSE 65535').exposedPorts, ['65535/tcp']);
});

test('EXPOSE: bad ports are errors', () => {
  for (const p of ['http', '80/icmp', '99999', '65536', '-1', '80/']) assertRejects([`EXPOSE ${p}`], /invalid EXPOSE port/);
});

test('WORKDIR: absolute as given; relative joined to the current one and cleaned (Docker)', () => {
  assert.equal(apply('WORKDIR /app').workingDir, '/app');
  assert.equal(apply('WORKDIR app').workingDir, '/app');
  assert.equal(apply('WORKDIR /app', 'WORKDIR sub').workingDir, '/app/sub');
  assert.equal(apply('WORKDIR /app/', 'WORKDIR sub/').workingDir, '/app/sub');
  assert.equal(apply('WORKDIR /app', 'WORKDIR ./x/../y').workingDir, '/app/y');
  assert.equal(apply('WORKDIR /app', 'WORKDIR ../../..').workingDir, '/');
  assertRejects(['WORKDIR'], /WORKDIR/);
});

test('USER, VOLUME (both forms) and STOPSIGNAL', () => {
  const c = apply('USER 1000:1000', 'VOLUME /data /cache', 'VOLUME ["/data", "/logs"]', 'STOPSIGNAL SIGQUIT');
  assert.equal(c.user, '1000:1000');
  assert.deepEqual(c.volumes, ['/data', '/cache', '/logs']);
  assert.equal(c.stopSignal, 'SIGQUIT');
  assert.equal(apply('STOPSIGNAL 9').stopSignal, '9');
});

test('STOPSIGNAL: a name that is not a signal is refused (docker stop would fail forever)', () => {
  assertRejects(['STOPSIGNAL SIGBOGUS'], /Invalid signal/);
});

test('instructions that do not only touch the config are refused, naming them', () => {
  assertRejects(['RUN echo hi'], /^RUN is not a valid change command$/);
  assertRejects(['FROM busybox'], /FROM/);
  assertRejects(['ADD . /'], /ADD/);
});

test('the base config is not modified', () => {
  const base: ImageRunConfig = { ...emptyRunConfig(), env: ['A=1'], labels: { a: 'b' }, exposedPorts: ['80/tcp'] };
  const before = structuredClone(base);
  applyChanges(base, ['ENV A=2', 'LABEL a=c', 'EXPOSE 81', 'VOLUME /v']);
  assert.deepEqual(base, before);
});
