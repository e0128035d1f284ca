/**
 * The default bridge kept warm: what makes `docker run` on it cost little more than `--network none`.
 *
 * netavark 1.4 deletes a network's bridge and firewall chains with its last container and makes
 * them again for the next one, and each setup runs some twenty `iptables` processes (~90 ms here).
 * Two measures, both only for the default bridge (no name DNS, never removed):
 *
 * - The keeper: like Docker's docker0, the bridge stays from its first container until the daemon
 *   stops. A keeper endpoint (a namespace of brig's with one veth, on the subnet's highest usable
 *   address, which IPAM never hands out) holds it, so container setups and teardowns only add and
 *   remove their own rules and run alongside each other.
 * - The pool: a few endpoints set up ahead (namespace, veth, address, netavark's rules), handed to
 *   containers without published ports when they are created. A taken endpoint becomes the
 *   container's sandbox and is torn down with it like any other; the pool is refilled behind it.
 *   On this network and without ports, netavark's setup does not depend on the container's ID or
 *   name (no DNS entry, no port rules), so an endpoint made ahead is the one a setup would make.
 *
 * Everything lives under one directory of the run root: `keeper`, and per pool entry a namespace
 * file `<id>` and `<id>.json` (its endpoint, removed when a container takes it). A daemon that did
 * not stop cleanly leaves them; recover() tears them down at the next start.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointState, NetworkRecord } from '../model/network.js';
import { createNetns, removeNetns } from '../native/index.js';
import { newId } from '../util/ids.js';
import type { RwLock } from '../util/rw-lock.js';
import { formatIPv4, parseCidr, pickAddress } from './ipam.js';
import { macOf, type Netavark, type NetavarkRequest } from './netavark.js';

/** A pool endpoint ready to be taken. */
export interface WarmEndpoint {
  /** Namespace file: becomes the container's netns path. */
  netnsPath: string;
  endpoint: EndpointState;
}

export interface WarmBridgeOptions {
  netavark: Netavark;
  /** `<runRoot>/netns-warm`. */
  dir: string;
  /** The service's netavark lock: the keeper's setup and teardown run alone, pool setups shared. */
  lock: RwLock;
  /** The default network (its record exists before any call). */
  network: () => NetworkRecord;
  /** Addresses of the default network held by containers. */
  taken: () => Set<string>;
  /** Endpoints kept ready (default 2). */
  size?: number;
  log?: (line: string) => void;
}

const KEEPER = 'keeper';

/**
 * The address of the default network's keeper: the subnet's highest usable one. None for user
 * networks, a network with an ip-range, and subnets smaller than a /24.
 */
export function keeperAddress(rec: NetworkRecord): string | undefined {
  if (!rec.builtin || rec.ipRange) return undefined;
  const s = parseCidr(rec.subnet);
  if (s.prefix > 24) return undefined;
  const ip = formatIPv4(s.last - 1);
  return ip === rec.gateway ? undefined : ip;
}

export class WarmBridge {
  readonly #o: Required<WarmBridgeOptions>;
  /** The keeper's setup while under way; true once it is up. */
  #keeper: Promise<void> | true | undefined;
  readonly #ready: WarmEndpoint[] = [];
  /** Pool setups under way. */
  readonly #filling = new Set<Promise<void>>();
  /** Addresses of the pool (ready or being set up). */
  readonly #addresses = new Set<string>();
  #closed = false;

  constructor(o: WarmBridgeOptions) {
    this.#o = { size: 2, log: (line) => process.stderr.write(`brig: ${line}\n`), ...o };
  }

  /** Whether the keeper holds the bridge (container calls then never create or delete shared state). */
  get kept(): boolean {
    return this.#keeper === true;
  }

  /** Endpoints ready to be taken. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Addresses no container may get: the keeper's and the pool's. */
  reserved(): Set<string> {
    const out = new Set(this.#addresses);
    const k = keeperAddress(this.#o.network());
    if (k) out.add(k);
    return out;
  }

  /** Sets the keeper up (once; a failure is reported and the runs go on without it). */
  async keep(): Promise<void> {
    if (this.#keeper === true || this.#closed) return;
    this.#keeper ??= this.#o.lock.exclusive(async () => {
      const req = this.#keeperRequest();
      if (!req) return;
      const path = join(this.#o.dir, KEEPER);
      try {
        mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
        createNetns(path);
        await this.#o.netavark.setup(path, req);
        this.#keeper = true;
      } catch (err) {
        this.#o.log(`the default bridge is made and removed with each container (cannot set up its keeper: ${(err as Error).message})`);
        await this.#o.netavark.teardown(path, req).catch(() => undefined);
        removeQuietly(path);
        this.#keeper = undefined;
      }
    });
    await this.#keeper;
  }

  /**
   * A ready endpoint for a container without published ports, or none. The caller records it as
   * the container's (its address then counts as taken) before it calls refill().
   */
  take(): WarmEndpoint | undefined {
    const e = this.#ready.shift();
    if (e) {
      rmSync(`${e.netnsPath}.json`, { force: true }); // from now on the container's sandbox record owns it
      this.#addresses.delete(e.endpoint.ipv4);
    }
    return e;
  }

  /** Starts setups until the pool is full (only while the keeper is up). */
  refill(): void {
    while (this.kept && !this.#closed && this.#ready.length + this.#filling.size < this.#o.size) {
      const p = this.#fillOne().finally(() => this.#filling.delete(p));
      this.#filling.add(p);
    }
  }

  async #fillOne(): Promise<void> {
    const rec = this.#o.network();
    let ipv4: string;
    try {
      ipv4 = pickAddress(rec, new Set([...this.#o.taken(), ...this.reserved()]), rec.name);
    } catch {
      return; // the network is full: containers get the addresses
    }
    this.#addresses.add(ipv4);
    const id = newId();
    const netnsPath = join(this.#o.dir, id);
    const endpoint: EndpointState = {
      networkId: rec.id, networkName: rec.name, endpointId: newId(), ipv4, prefixLen: parseCidr(rec.subnet).prefix,
      gateway: rec.gateway, mac: '', aliases: [], interfaceName: 'eth0',
    };
    const req = this.#request(id, endpoint);
    try {
      writeFileSync(`${netnsPath}.json`, JSON.stringify(endpoint), { mode: 0o600 });
      createNetns(netnsPath);
      const result = await this.#o.lock.shared(() => this.#o.netavark.setup(netnsPath, req));
      const ready = { netnsPath, endpoint: { ...endpoint, mac: macOf(result, rec.id, 'eth0') } };
      if (this.#closed) await this.drop(ready);
      else this.#ready.push(ready);
    } catch (err) {
      this.#o.log(`cannot set up a pool endpoint on the default bridge: ${(err as Error).message}`);
      await this.drop({ netnsPath, endpoint });
    }
  }

  /** Tears one pool endpoint down (best effort) and forgets it; also for a taken one no container could adopt. */
  async drop(e: WarmEndpoint): Promise<void> {
    const id = e.netnsPath.slice(this.#o.dir.length + 1);
    await this.#o.lock.shared(() => this.#o.netavark.teardown(e.netnsPath, this.#request(id, e.endpoint))).catch((err: unknown) => {
      this.#o.log(`teardown of pool endpoint ${id}: ${(err as Error).message}`);
    });
    removeQuietly(e.netnsPath);
    rmSync(`${e.netnsPath}.json`, { force: true });
    this.#addresses.delete(e.endpoint.ipv4);
  }

  /**
   * Daemon start: tears down the keeper and pool a previous daemon left (namespaces in `inUse`
   * belong to running containers and stay).
   */
  async recover(inUse: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.#o.dir);
    } catch {
      return;
    }
    const leftovers: WarmEndpoint[] = [];
    for (const f of names.filter((n) => n.endsWith('.json'))) {
      const netnsPath = join(this.#o.dir, f.slice(0, -'.json'.length));
      try {
        leftovers.push({ netnsPath, endpoint: JSON.parse(readFileSync(join(this.#o.dir, f), 'utf8')) as EndpointState });
      } catch {
        rmSync(join(this.#o.dir, f), { force: true });
      }
    }
    // Its endpoints first, so that the keeper's teardown is the network's last (netavark removes the bridge then).
    for (const e of leftovers) await this.drop(e);
    if (names.includes(KEEPER)) await this.#dropKeeper();
    for (const f of readdirSync(this.#o.dir)) {
      const path = join(this.#o.dir, f);
      if (!inUse.has(path)) removeQuietly(path);
    }
  }

  /** Daemon stop: the pool and then the keeper are torn down (the bridge goes unless containers still use it). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#filling]);
    for (const e of this.#ready.splice(0)) await this.drop(e);
    if (this.#keeper instanceof Promise) await this.#keeper;
    if (this.#keeper === true) await this.#dropKeeper();
  }

  async #dropKeeper(): Promise<void> {
    const path = join(this.#o.dir, KEEPER);
    await this.#o.lock.exclusive(async () => {
      const req = this.#keeperRequest();
      if (req) {
        await this.#o.netavark.teardown(path, req).catch((err: unknown) => {
          this.#o.log(`teardown of the default bridge's keeper: ${(err as Error).message}`);
        });
      }
      removeQuietly(path);
      this.#keeper = undefined;
    });
  }

  #keeperRequest(): NetavarkRequest | undefined {
    const rec = this.#o.network();
    const ipv4 = keeperAddress(rec);
    if (!ipv4) return undefined;
    return this.#request(`keeper-${rec.id}`, {
      networkId: rec.id, networkName: rec.name, endpointId: KEEPER, ipv4, prefixLen: parseCidr(rec.subnet).prefix,
      gateway: rec.gateway, mac: '', aliases: [], interfaceName: 'eth0',
    });
  }

  #request(id: string, endpoint: EndpointState): NetavarkRequest {
    return { containerId: id, containerName: `brig-${id.slice(0, 12)}`, ports: [], networks: [{ record: this.#o.network(), endpoint, interfaceName: 'eth0' }] };
  }
}

function removeQuietly(path: string): void {
  try {
    removeNetns(path);
  } catch {
    rmSync(path, { force: true });
  }
}
