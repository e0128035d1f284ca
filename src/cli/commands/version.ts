/** `brig version`: the client's version, then the server's from `GET /version` (docker's layout). */
import type { VersionResponse } from '../../client/types.js';
import { CLIENT_VERSION, DEFAULT_API_VERSION } from '../../client/version.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { write, type CliContext, type Command } from '../command.js';
import { formatKeyValues, type KeyValueLine } from '../output/key-value.js';

const options = {} as const satisfies OptionSpecs;

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function formatClientVersion(apiVersion: string | null): string {
  return formatKeyValues([
    'Client:',
    [' Version:', CLIENT_VERSION],
    [' API version:', apiVersion ?? DEFAULT_API_VERSION],
    [' Node version:', process.version],
    [' OS/Arch:', `${process.platform}/${GOARCH[process.arch] ?? process.arch}`],
  ]);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** docker's `reformatDate`: an RFC 3339 build time shown in Go's ANSIC layout (`Thu May  7 21:09:36 2026`, UTC). */
export function reformatDate(value: string): string {
  const t = new Date(value);
  if (value === '' || Number.isNaN(t.getTime())) return value;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[t.getUTCDay()]} ${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')} ${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} ${t.getUTCFullYear()}`;
}

/** The server part of `docker version`: the Engine component's details, then every other component's. */
export function formatServerVersion(v: VersionResponse): string {
  const components = v.Components && v.Components.length > 0
    ? v.Components
    : [{ Name: 'Engine', Version: v.Version ?? '', Details: {
        ApiVersion: v.ApiVersion ?? '', MinAPIVersion: v.MinAPIVersion ?? '', GoVersion: v.GoVersion ?? '', GitCommit: v.GitCommit ?? '',
        BuildTime: v.BuildTime ?? '', Os: v.Os ?? '', Arch: v.Arch ?? '', Experimental: String(v.Experimental ?? false),
      } }];
  const lines: KeyValueLine[] = [`Server:${v.Platform?.Name ? ` ${v.Platform.Name}` : ''}`];
  for (const c of components) {
    const d = c.Details ?? {};
    lines.push(` ${c.Name}:`);
    if (c.Name === 'Engine') {
      lines.push(
        ['  Version:', c.Version],
        ['  API version:', `${d['ApiVersion'] ?? ''} (minimum version ${d['MinAPIVersion'] ?? ''})`],
        ['  Go version:', d['GoVersion'] ?? ''],
        ['  Git commit:', d['GitCommit'] ?? ''],
        ['  Built:', reformatDate(d['BuildTime'] ?? '')],
        ['  OS/Arch:', `${d['Os'] ?? ''}/${d['Arch'] ?? ''}`],
        ['  Experimental:', d['Experimental'] ?? ''],
      );
    } else {
      lines.push(['  Version:', c.Version]);
      for (const key of Object.keys(d).sort()) lines.push([`  ${key}:`, d[key] ?? '']);
    }
  }
  return formatKeyValues(lines);
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Show the brig version information',
  usage: '',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    parseCommandArgs(options, args);
    const client = ctx.client();
    await write(ctx.stdout, `${formatClientVersion(client.apiVersion)}\n`);
    // the client part is printed even when the daemon cannot be reached; main reports that error
    await write(ctx.stdout, formatServerVersion(await client.version()));
    return 0;
  },
};
