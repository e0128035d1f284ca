/** Host-side helpers of the network integration tests: commands, the host's own address, curl. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs a host command; never throws (the exit code is in the result). */
export async function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, { encoding: 'utf8', timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The host's own non-loopback, non-bridge IPv4 address (traffic to it never leaves the host). */
export async function hostAddress(): Promise<string> {
  const r = await sh('ip', ['-4', '-j', 'addr']);
  const links = JSON.parse(r.stdout) as { ifname: string; addr_info: { local: string; scope: string }[] }[];
  for (const l of links) {
    if (/^(lo|bt|br-|docker|veth|brig|podman|cni)/.test(l.ifname)) continue;
    const a = l.addr_info.find((x) => x.scope === 'global');
    if (a) return a.local;
  }
  throw new Error('the host has no global IPv4 address of its own to test hairpin and --internal with');
}

export async function curl(url: string, maxSeconds = 5): Promise<{ code: number; body: string }> {
  const r = await sh('curl', ['-s', '--max-time', String(maxSeconds), url]);
  return { code: r.code, body: r.stdout };
}
