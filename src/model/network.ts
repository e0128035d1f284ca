/**
 * Network domain types (issue 5): network records, port and endpoint requests, and the state of a
 * container's attachment. brig owns IPAM and records; netavark only applies them to the host.
 */

/** A network record (brig owns IPAM and records; netavark only applies them). */
export interface NetworkRecord {
  /** 64 hex. */
  id: string;
  name: string;
  driver: 'bridge';
  /** Linux bridge interface name (`brig0` for the default network, `br-<12 hex>` for user networks, or `com.docker.network.bridge.name`). */
  bridge: string;
  /** IPv4 CIDR, e.g. `172.18.0.0/16`. */
  subnet: string;
  gateway: string;
  /** Sub-range containers get addresses from (`--ip-range`), '' = the whole subnet. */
  ipRange: string;
  internal: boolean;
  /** Name resolution through aardvark-dns: true on user networks, false on the default `bridge` (as Docker). */
  dnsEnabled: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  created: string;
  /** The built-in `bridge` network: cannot be removed (403), created at daemon start. */
  builtin: boolean;
}

/** `-p [ip:]host:container[/proto]` as asked (validated at the edge). hostPort 0 = ephemeral. */
export interface PortRequest {
  hostIp: string;        // '' = daemon default publish address (127.0.0.1 in brig mode, 0.0.0.0 with --compat docker)
  hostPortStart: number; // 0 = ephemeral
  hostPortEnd: number;   // = start unless a range
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** One published port as actually bound. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** Per-network part of a container's network intent (`--network`, `--ip`, `--alias`, `network connect`). */
export interface EndpointRequest {
  network: string;   // name or id as given; resolved at start
  aliases: string[];
  ipv4: string;      // '' = allocate
}

/**
 * What `NetworkSpec` (src/model/container.ts) grows into: replace `{ mode: string }` by this.
 * mode: 'none' | 'host' | 'bridge' (default network) | 'container' (join `container`) | 'user' (user networks in `endpoints`)
 */
export interface NetworkSpecV2 {
  mode: 'none' | 'host' | 'bridge' | 'container' | 'user';
  /** As the user wrote it, shown by inspect HostConfig.NetworkMode (`default`, `bridge`, `none`, `host`, `container:x`, `mynet`). */
  modeName: string;
  /** For mode 'container': the other container's id. */
  container?: string;
  endpoints: EndpointRequest[];
  ports: PortRequest[];
  publishAll: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** `name:ip` entries; ip may be `host-gateway`. */
  extraHosts: string[];
  macAddress: string;
}

/** One network a running container is attached to. */
export interface EndpointState {
  networkId: string;
  networkName: string;
  endpointId: string;   // 64 hex
  ipv4: string;         // without prefix
  prefixLen: number;
  gateway: string;
  mac: string;
  aliases: string[];
  /** Interface inside the container (`eth0`, `eth1`…); set by the network service. */
  interfaceName?: string;
}

/** Network state of a running container, kept in ContainerState.network (persisted, for recovery). */
export interface NetworkAttachment {
  /** Path of the network namespace the container joins (a bind-mounted nsfs file under the run root), '' for host mode. */
  netnsPath: string;
  endpoints: EndpointState[];
  ports: PortBinding[];
}

/**
 * The persisted network side of one container (table `network_sandboxes` + `network_endpoints`):
 * written before netavark setup and deleted only after teardown, so the addresses and ports it
 * holds stay allocated across a daemon crash and a restarted daemon can finish the teardown.
 */
export interface SandboxRecord {
  containerId: string;
  /** Container name at attach time (DNS name for aardvark). */
  name: string;
  netnsPath: string;
  ports: PortBinding[];
  endpoints: EndpointState[];
}
