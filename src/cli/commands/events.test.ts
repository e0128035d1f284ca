import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventMessage } from '../../client/client.js';
import { FakeDaemon, runCli } from '../test-support.js';
import { eventContext, formatEventLine, makeEventTemplate } from './events.js';

process.env.TZ = 'UTC';

const ID = '0a5167a0e6ba871ead5315b87b290bbe5d226f7326fda126ceeb790b99d8b4f9';
const RAW =
  `{"status":"die","id":"${ID}","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"${ID}",` +
  '"Attributes":{"name":"ex","image":"busybox","exitCode":"3","Zed":"z"}},"scope":"local","time":1795887791,"timeNano":1795887791152822784}';

test('the wire form keeps timeNano exact (it does not fit a double)', () => {
  const e = parseEventMessage(RAW);
  assert.equal(e.timeNano, 1795887791152822784n);
  assert.equal(e.Actor.Attributes?.['exitCode'], '3');
  // a quoted "timeNano" inside a string is left alone
  const tricky = parseEventMessage('{"Type":"x","Action":"y","Actor":{"ID":"a","Attributes":{"k":"\\"timeNano\\":5"}},"timeNano":7}');
  assert.equal(tricky.Actor.Attributes?.['k'], '"timeNano":5');
  assert.equal(tricky.timeNano, 7n);
});

test("event lines: docker's `<time> <Type> <Action> <ID> (k=v, …)` with attributes sorted bytewise", () => {
  assert.equal(
    formatEventLine(parseEventMessage(RAW)),
    `2026-11-28T17:43:11.152822784Z container die ${ID} (Zed=z, exitCode=3, image=busybox, name=ex)\n`,
  );
  // no attributes: no parentheses; only `time`: zero nanoseconds
  assert.equal(
    formatEventLine({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: {} }, time: 1795887791 }),
    '2026-11-28T17:43:11.000000000Z image pull busybox:latest\n',
  );
});

test('--format templates over events.Message, `json` in the struct field order', () => {
  const e = parseEventMessage(RAW);
  const t = makeEventTemplate('{{.Type}} {{.Actor.Attributes.name}} {{.Actor.Attributes.nope}} {{.Status}}|{{.TimeNano}}');
  assert.equal(t!.execute(eventContext(e)), 'container ex <no value> die|1795887791152822784');
  const j = makeEventTemplate('json')!.execute(eventContext(e));
  assert.equal(
    j,
    `{"status":"die","id":"${ID}","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"${ID}",` +
      '"Attributes":{"Zed":"z","exitCode":"3","image":"busybox","name":"ex"}},"scope":"local","time":1795887791,"timeNano":1795887791152822784}',
  );
  assert.equal(makeEventTemplate('{{.Actor}}')!.execute(eventContext(e)), `{${ID} map[Zed:z exitCode:3 image:busybox name:ex]}`);
  assert.throws(() => makeEventTemplate('{{.Foo}}'), {
    message: 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *events.Message',
  });
  assert.equal(makeEventTemplate(''), undefined);
});

test('brig events: query as docker sends it, lines as they arrive, exit 64 for a bad template', async (t) => {
  const d = await new FakeDaemon().start();
  t.after(() => d.stop());
  d.on('GET /events', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`${RAW}\n`);
    res.end(RAW.replace('"die"', '"destroy"').replace('"Action":"die"', '"Action":"destroy"'));
  });
  const r = await runCli(d, ['events', '--since', '1700000000', '--until', '2013-01-02T13:23:37Z', '-f', 'container=ex', '--filter', 'Type=container']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').map((l) => l.split(' ')[2]), ['die', 'destroy', undefined]);
  assert.equal(
    d.log[0],
    `GET /events?filters=${encodeURIComponent('{"container":{"ex":true},"type":{"container":true}}')}&since=1700000000&until=1357133017.000000000`,
  );
  const bad = await runCli(d, ['events', '--format', '{{.Nope}}']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /^Error parsing format: template: :1:2: executing "" at <\.Nope>/);
  const since = await runCli(d, ['events', '--since', 'bogus']);
  assert.equal(since.code, 1);
  assert.equal(since.stderr, 'brig: failed to parse value as time or duration: "bogus"\n');
  assert.equal((await runCli(d, ['events', '-f', 'nokey'])).code, 2);
  assert.equal(d.log.length, 1, 'bad flags send nothing');
});
