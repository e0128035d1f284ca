/**
 * The netavark driver: builds netavark 1.4's JSON (Podman's internal `NetworkOptions`; pinned
 * version, see platform.md §4.2) from brig's records and runs `setup`/`teardown` on a netns file.
 * brig does IPAM, so every endpoint carries its static address.
 */
import { EngineError } from '../errors.js';
import type { EndpointState, NetworkRecord, PortBinding } from '../model/network.js';
import { execFileResult } from '../util/exec.js';

/** One network of a setup/teardown call: the record and the container's endpoint on it. */
export interface NetavarkNetwork {
  record: NetworkRecord;
  endpoint: EndpointState;
  /** `eth0`, `eth1`… inside the container. */
  interfaceName: string;
}

export interface NetavarkRequest {
  containerId: string;
  containerName: string;
  ports: readonly PortBinding[];
  networks: readonly NetavarkNetwork[];
}

/**
 * The name netavark knows a network by. Not the user's name: netavark names the network's
 * firewall chains (NETAVARK-<hash>, NETAVARK-DN-<hash>) after a hash of it, so a network called
 * `bridge` in two daemons (or `foo` in brig and in Podman) would share chains, and one's teardown
 * would flush the other's NAT and port rules. The record's ID makes them the network's own.
 */
export function netavarkName(networkId: string): string {
  return `brig-${networkId.slice(0, 12)}`;
}

/** The JSON netavark reads on stdin. */
export function buildNetavarkOptions(r: NetavarkRequest): object {
  const networks: Record<string, object> = {};
  const info: Record<string, object> = {};
  for (const n of r.networks) {
    const rec = n.record;
    const name = netavarkName(rec.id);
    networks[name] = {
      interface_name: n.interfaceName,
      static_ips: [n.endpoint.ipv4],
      // DNS names besides the container name: the user's aliases and the short id (as Docker).
      aliases: rec.dnsEnabled ? [...new Set([...n.endpoint.aliases, r.containerId.slice(0, 12)])] : [],
    };
    info[name] = {
      name,
      id: rec.id,
      driver: 'bridge',
      network_interface: rec.bridge,
      subnets: [{ subnet: rec.subnet, gateway: rec.gateway }],
      ipv6_enabled: false,
      internal: rec.internal,
      dns_enabled: rec.dnsEnabled,
      ipam_options: { driver: 'host-local' },
      // Docker isolates bridge networks from each other (its DOCKER-ISOLATION chains); netavark 1.4 does so with `isolate`.
      options: { isolate: 'true' },
    };
  }
  return {
    container_id: r.containerId,
    container_name: r.containerName,
    port_mappings: r.ports.map((p) => ({
      container_port: p.containerPort,
      host_ip: p.hostIp === '0.0.0.0' ? '' : p.hostIp,
      host_port: p.hostPort,
      protocol: p.protocol,
      range: 1,
    })),
    networks,
    network_info: info,
  };
}

/** Per network ({@link netavarkName}): the MAC address netavark gave each interface. */
export type NetavarkResult = Record<string, { interfaces: Record<string, { mac_address: string }> }>;

/** The MAC of `interfaceName` on the network with ID `networkId` in a setup result ('' if absent). */
export function macOf(result: NetavarkResult, networkId: string, interfaceName: string): string {
  return result[netavarkName(networkId)]?.interfaces?.[interfaceName]?.mac_address ?? '';
}

export interface NetavarkPaths {
  netavark: string;
  aardvark: string;
  /** netavark's --config dir (aardvark's config lives in its `aardvark-dns/`). */
  configDir: string;
}

/** Runs netavark `setup`/`teardown` for a netns file. */
export class Netavark {
  readonly #paths: NetavarkPaths;

  constructor(paths: NetavarkPaths) {
    this.#paths = paths;
  }

  async setup(netnsPath: string, r: NetavarkRequest): Promise<NetavarkResult> {
    const out = await this.#run('setup', netnsPath, r);
    try {
      return JSON.parse(out) as NetavarkResult;
    } catch (err) {
      throw new EngineError('ERR_INTERNAL', `netavark setup printed no JSON result: ${out.slice(0, 200)}`, { cause: err });
    }
  }

  async teardown(netnsPath: string, r: NetavarkRequest): Promise<void> {
    await this.#run('teardown', netnsPath, r);
  }

  async #run(cmd: 'setup' | 'teardown', netnsPath: string, r: NetavarkRequest): Promise<string> {
    const args = ['--config', this.#paths.configDir, '--rootless', 'false', '--aardvark-binary', this.#paths.aardvark, cmd, netnsPath];
    let res;
    try {
      res = await execFileResult(this.#paths.netavark, args, { input: JSON.stringify(buildNetavarkOptions(r)), timeoutMs: 60_000 });
    } catch (err) {
      throw new EngineError('ERR_UNAVAILABLE', `cannot run ${this.#paths.netavark}: ${(err as Error).message} (install netavark and aardvark-dns)`, { cause: err });
    }
    if (res.code !== 0) {
      throw new EngineError('ERR_INTERNAL', `netavark ${cmd} failed for container ${r.containerName}: ${netavarkError(res.stdout, res.stderr) || `exit ${res.code}`}`);
    }
    return res.stdout;
  }
}

/** netavark prints `{"error": "…"}` on stdout when it fails; its stderr also carries syslog noise. */
export function netavarkError(stdout: string, stderr: string): string {
  try {
    const j = JSON.parse(stdout) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: fall through to stderr
  }
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('failed to connect to syslog'))
    .join('; ');
}
