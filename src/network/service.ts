/**
 * The network service contract: records, IPAM, netns files, netavark setup/teardown, published
 * ports and the /etc/hosts and /etc/resolv.conf texts of containers. The engine calls it; the
 * implementation is `BridgeNetworkService` (./bridge-service.ts).
 */
import type { EndpointRequest, EndpointState, NetworkAttachment, NetworkRecord, NetworkSpecV2 } from '../model/network.js';

export interface CreateNetworkOptions {
  name: string;
  driver?: string;          // only 'bridge' (else 400/501 with a clear message)
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;   // com.docker.network.bridge.name supported; others refused or recorded
  checkDuplicate?: boolean;
}

export interface NetworkService {
  /** Creates the default `bridge` network record if missing; reconciles host state with records (stale netns, bridges, aardvark entries of containers that are not running) — called at daemon start with the running containers' attachments. */
  init(running: { containerId: string; attachment: NetworkAttachment }[]): Promise<void>;
  create(o: CreateNetworkOptions): Promise<NetworkRecord>;   // 409 duplicate name; 409/400 overlapping subnet naming the other network; 400 invalid CIDR/gateway outside subnet/ip-range outside subnet
  list(): NetworkRecord[];
  /** By full id, unique id prefix or name; ERR_NO_SUCH_NETWORK (404) otherwise. */
  get(ref: string): NetworkRecord;
  /** 403 for the builtin network; 409 while any container (running or not, like Docker: endpoints of running ones) uses it. */
  remove(ref: string): Promise<void>;
  /** Containers attached to a network now (for inspect `Containers` and `rm` conflicts). */
  endpointsOf(networkId: string): { containerId: string; endpoint: EndpointState }[];

  /**
   * Start of a container: makes its netns, allocates addresses (honouring requested --ip), reserves
   * host ports (port in use → a clear error; ephemeral ports chosen here), runs netavark setup.
   * On any failure everything made is undone before it throws. `name` is the container name for DNS.
   * Not called for mode none/host/container (N2 handles those: none = runc's own netns, host = no netns, container = the other's netnsPath).
   */
  attach(c: { id: string; name: string; spec: NetworkSpecV2; exposedPorts: string[] }): Promise<NetworkAttachment>;
  /**
   * The fast path of start, used instead of attach(): resolves as soon as the netns file exists (it
   * is created by the native addon, no process spawned), with `ready` settling when addresses,
   * ports and netavark setup are done. The engine runs `runc create` (joining netnsPath) in
   * parallel with `ready`, and awaits both before `runc start`. If either fails the engine calls
   * detach(); `ready` must not be left unhandled.
   */
  prepare(c: { id: string; name: string; spec: NetworkSpecV2; exposedPorts: string[] }): Promise<{ netnsPath: string; ready: Promise<NetworkAttachment> }>;
  /**
   * Exit/stop/failed start: netavark teardown, port reservations closed, addresses released, netns
   * removed. Idempotent; never throws for already-gone parts. The engine may report the container
   * exited/removed before this settles (teardown takes ~100+ ms); addresses stay allocated until
   * it is done, and init() finishes any teardown a crash interrupted.
   */
  detach(containerId: string, a: NetworkAttachment): Promise<void>;
  /**
   * Closes the container's host port reservations at once (idempotent), before its exit is
   * reported: as with Docker, a port is free again when `docker stop`/`run --rm` returns, while the
   * slower netavark teardown of detach() continues.
   */
  releasePorts(containerId: string): Promise<void>;
  /** `docker network connect` of a running container (adds one endpoint to its live netns). 409 if already connected. */
  connect(containerId: string, name: string, a: NetworkAttachment, req: EndpointRequest): Promise<NetworkAttachment>;
  disconnect(containerId: string, a: NetworkAttachment, network: string): Promise<NetworkAttachment>;

  /** Contents for the container's /etc/hosts, /etc/resolv.conf (brig writes and bind-mounts them). */
  hostsFile(c: { hostname: string; domainname: string; extraHosts: string[] }, a: NetworkAttachment | null): string;
  resolvConf(spec: NetworkSpecV2, a: NetworkAttachment | null): string;

  /**
   * Validates a container's network intent against the records (create time and start): unknown
   * network 404, `--ip`/`--alias` on the default bridge 400, `--ip` outside the subnet 400, the same
   * network twice 400. Returns the records in endpoint order.
   */
  checkSpec(spec: NetworkSpecV2): NetworkRecord[];
  /** Daemon stop: closes the held port sockets (containers keep running; init() re-holds them), removes the default bridge's keeper and drops the icc rule if no container uses the default bridge. */
  close(): Promise<void>;
}

/** An address pool (`--default-address-pool base=CIDR,size=N`): subnets of prefix `size` carved from `base`. */
export interface AddressPool {
  base: string;
  size: number;
}

/** How the daemon builds its network service (daemon flags). */
export interface NetworkServiceOptions {
  /** The daemon's run root; netns files live in `<runRoot>/netns`, netavark state in `<runRoot>/netavark`. */
  runRoot: string;
  /** Linux bridge of the built-in `bridge` network (`--bridge-name`, default `brig0`). */
  bridgeName: string;
  /** Pools for the default bridge and user networks without `--subnet` (first = preferred). */
  addressPools: AddressPool[];
  /** Publish address when `-p` gives none: `127.0.0.1` (brig mode) or `0.0.0.0` (`--compat docker`). */
  defaultHostIp: string;
  /** `--icc=false`: drop container↔container traffic on the default bridge. Default true. */
  icc: boolean;
  /** Paths of the binaries (defaults /usr/lib/podman/netavark and /usr/lib/podman/aardvark-dns). */
  netavarkPath?: string;
  aardvarkPath?: string;
}
