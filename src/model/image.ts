/**
 * Image domain types, in the shape of the OCI image spec (camelCase inside brig).
 */

/** `sha256:` followed by 64 lower-case hex digits; always validated before use (see util/digest). */
export type Digest = string & { readonly __digest: unique symbol };

/** The runtime part of an image config (OCI `config` object). */
import type { HealthcheckSpec } from './container.js';

export interface ImageRunConfig {
  user: string;
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string;
  labels: Record<string, string>;
  stopSignal: string;
  exposedPorts: string[];
  volumes: string[];
  healthcheck?: HealthcheckSpec | null;
}

export interface ImageHistoryEntry {
  created: string;
  createdBy: string;
  comment: string;
  emptyLayer: boolean;
}

/** The whole image configuration; `id` is the digest of the canonical config JSON blob. */
export interface ImageConfig {
  architecture: string;
  os: string;
  created: string;
  author: string;
  config: ImageRunConfig;
  rootfs: { type: 'layers'; diffIds: Digest[] };
  history: ImageHistoryEntry[];
}

export interface ImageRecord {
  id: Digest;
  config: ImageConfig;
  /** Chain IDs of the unpacked layers, bottom first. */
  chainIds: Digest[];
  /** Sum of the unpacked layer sizes in bytes. */
  size: number;
  created: string;
  /** Tags pointing at this image, fully qualified (`docker.io/library/busybox:latest`); shown in familiar form. */
  repoTags: string[];
  repoDigests: string[];
  comment: string;
}

export interface LayerRecord {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  size: number;
}

/** A stored or remote blob of a layer: what push, cross-repository mount and save need to find it. */
export interface LayerBlob {
  diffId: Digest;
  /** Digest of the blob as stored or transferred (compressed, or equal to diffId when not). */
  digest: Digest;
  /** OCI/Docker layer media type (`application/vnd.oci.image.layer.v1.tar+gzip`, …). */
  mediaType: string;
  size: number;
  /** Fully qualified repository the blob is known to exist in (`127.0.0.1:5000/test/hello`); '' = in the local content store. */
  repo: string;
}
