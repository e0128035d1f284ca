import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, displayPorts, ellipsis, goFormatG, goQuote, humanDuration, humanSize, shortImageId, timeAgo } from './format.js';
import { formatTable } from './table.js';
import { formatKeyValues } from './key-value.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('humanDuration matches go-units (seconds and minutes truncate, hours round)', () => {
  const cases: [number, string][] = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * S, '1 second'],
    [1999, '1 second'],
    [2 * S, '2 seconds'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [120 * S, '2 minutes'],
    [59 * M + 59 * S, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [91 * M, '2 hours'],
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [13 * D, '13 days'],
    [14 * D, '2 weeks'],
    [59 * D, '8 weeks'],
    [60 * D, '2 months'],
    [729 * D, '24 months'],
    [730 * D, '2 years'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
  assert.equal(timeAgo(1_000, 1_000_000 + 2 * M), '2 minutes ago');
});

test('goFormatG behaves like Go %g with a precision', () => {
  assert.equal(goFormatG(4.26123, 3), '4.26');
  assert.equal(goFormatG(4, 3), '4');
  assert.equal(goFormatG(4.2, 3), '4.2');
  assert.equal(goFormatG(123, 3), '123');
  assert.equal(goFormatG(999.999, 3), '1e+03');
  assert.equal(goFormatG(0.5, 3), '0.5');
  assert.equal(goFormatG(0.00001234, 3), '1.23e-05');
  assert.equal(goFormatG(7.6312, 4), '7.631');
  assert.equal(goFormatG(0, 3), '0');
});

test('humanSize (docker images, precision 3, decimal units) and bytesSize (binary, precision 4)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(123), '123B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(4_261_234), '4.26MB');
  assert.equal(humanSize(2_130_944), '2.13MB');
  assert.equal(humanSize(1_240_000), '1.24MB');
  assert.equal(humanSize(77_800_000), '77.8MB');
  assert.equal(humanSize(187_000_000), '187MB');
  assert.equal(humanSize(1_330_000_000), '1.33GB');
  assert.equal(humanSize(999_999), '1e+03kB'); // go-units' own quirk, kept for identical output
  assert.equal(bytesSize(8_193_998_848), '7.631GiB');
  assert.equal(bytesSize(1024), '1KiB');
});

test('ellipsis and goQuote shape the COMMAND column', () => {
  assert.equal(ellipsis('echo hi', 20), 'echo hi');
  assert.equal(ellipsis('12345678901234567890', 20), '12345678901234567890');
  assert.equal(ellipsis("sh -c 'while true; do sleep 1; done'", 20), "sh -c 'while true; …");
  assert.equal([...ellipsis('ü'.repeat(30), 20)].length, 20);
  assert.equal(goQuote('busybox httpd -f -p 80'), '"busybox httpd -f -p 80"');
  assert.equal(goQuote('sh -c "echo \\\\ x"\n\t\x01'), '"sh -c \\"echo \\\\\\\\ x\\"\\n\\t\\x01"');
  assert.equal(goQuote('…'), '"…"');
});

test('shortImageId shortens only sha256 IDs', () => {
  assert.equal(shortImageId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
  assert.equal(shortImageId('busybox:latest'), 'busybox:latest');
});

test('displayPorts follows docker: ranges for same-number ports, single mappings after', () => {
  assert.equal(displayPorts(null), '');
  assert.equal(
    displayPorts([
      { IP: '::', PrivatePort: 80, PublicPort: 18081, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 18081, Type: 'tcp' },
    ]),
    '0.0.0.0:18081->80/tcp, [::]:18081->80/tcp',
  );
  assert.equal(displayPorts([{ PrivatePort: 80, Type: 'tcp' }]), '80/tcp');
  assert.equal(
    displayPorts([
      { PrivatePort: 8001, Type: 'tcp' },
      { PrivatePort: 8000, Type: 'tcp' },
      { PrivatePort: 9000, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
    ]),
    // docker's order: a range closed by a gap is emitted at once, open ranges at the end in creation order
    '8000-8001/tcp, 53/udp, 9000/tcp',
  );
  assert.equal(
    displayPorts([
      { IP: '0.0.0.0', PrivatePort: 8000, PublicPort: 8000, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 8001, PublicPort: 8001, Type: 'tcp' },
    ]),
    '0.0.0.0:8000-8001->8000-8001/tcp',
  );
});

test('formatTable pads like tabwriter(minwidth 10, padding 3) and leaves the last column unpadded', () => {
  const out = formatTable(['CONTAINER ID', 'IMAGE', 'NAMES'], [['0123456789ab', 'busybox', 'x'], ['cd', 'a-very-long-image-name', 'yy']]);
  assert.equal(
    out,
    'CONTAINER ID   IMAGE                    NAMES\n' +
      '0123456789ab   busybox                  x\n' +
      'cd             a-very-long-image-name   yy\n',
  );
  assert.equal(formatTable(['A', 'B'], []), 'A         B\n');
  // characters, not bytes
  assert.equal(formatTable(['X', 'Y'], [['…', 'z']]), 'X         Y\n…         z\n');
});

test('formatKeyValues aligns values at column 20 or wider', () => {
  assert.equal(formatKeyValues(['Client:', [' Version:', '1']]), 'Client:\n Version:           1\n');
});
