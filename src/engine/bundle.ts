/**
 * What goes into a container's OCI bundle besides the root filesystem: the merge of image defaults
 * into the container's spec (Docker's rules), the process environment, the files brig bind-mounts
 * into every container (/etc/hostname, /etc/hosts, /etc/resolv.conf) and the optional init.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSpec } from '../model/container.js';
import type { ImageRecord } from '../model/image.js';
import type { OciMount } from '../spec/oci.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where `--init` puts the init binary inside the container (Docker's path). */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/** Merges image defaults into the spec and computes the process argv (entrypoint + cmd). */
export function mergeImageConfig(spec: ContainerSpec, image: ImageRecord): { spec: ContainerSpec; process: string[] } {
  const ic = image.config.config;
  const entrypoint = spec.entrypoint ?? ic.entrypoint ?? [];
  // An explicit entrypoint resets the image's CMD, as in Docker.
  const cmd = spec.cmd ?? (spec.entrypoint !== null ? [] : ic.cmd ?? []);
  const merged: ContainerSpec = {
    ...spec,
    env: mergeEnv(ic.env, spec.env),
    labels: { ...ic.labels, ...spec.labels },
    cmd: spec.cmd ?? (cmd.length ? cmd : null),
    entrypoint: spec.entrypoint ?? ic.entrypoint,
    workingDir: spec.workingDir || ic.workingDir,
    user: spec.user || ic.user,
    stopSignal: spec.stopSignal ?? (ic.stopSignal || null),
    exposedPorts: [...new Set([...ic.exposedPorts, ...spec.exposedPorts])],
  };
  return { spec: merged, process: [...entrypoint, ...cmd] };
}

function mergeEnv(base: string[], override: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...override]) out.set(e.split('=')[0]!, e);
  return [...out.values()];
}

/** The process environment: PATH default, HOSTNAME, TERM for a TTY, then the container's env. */
export function processEnv(spec: ContainerSpec, hostname: string): string[] {
  const env = new Map<string, string>();
  env.set('PATH', DEFAULT_PATH);
  env.set('HOSTNAME', `HOSTNAME=${hostname}`);
  if (spec.tty) env.set('TERM', 'TERM=xterm');
  for (const e of spec.env) env.set(e.split('=')[0]!, e);
  return [...env.values()];
}

/** The text of a container's /etc/hostname, /etc/hosts and /etc/resolv.conf. */
export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** The three files brig bind-mounts into every container, in the container dir. */
export const ETC_FILES = { hostname: '/etc/hostname', hosts: '/etc/hosts', 'resolv.conf': '/etc/resolv.conf' } as const;

/** Writes `hostname`, `hosts` and `resolv.conf` into the container dir; returns their bind mounts. */
export async function writeEtcFiles(dir: string, files: EtcFiles): Promise<OciMount[]> {
  await Promise.all([
    writeFile(join(dir, 'hostname'), `${files.hostname}\n`, { mode: 0o644 }),
    writeFile(join(dir, 'hosts'), files.hosts, { mode: 0o644 }),
    writeFile(join(dir, 'resolv.conf'), files.resolvConf, { mode: 0o644 }),
  ]);
  return etcMounts(dir);
}

/**
 * Bind mounts of the etc files in `dir` (a container's own, or, for `--network container:x`, the
 * other container's: they share hostname, hosts and resolv.conf as in Docker).
 */
export function etcMounts(dir: string): OciMount[] {
  return Object.entries(ETC_FILES).map(([file, destination]) => ({
    destination, type: 'bind', source: join(dir, file), options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'],
  }));
}

/**
 * Rewrites one etc file in place (same inode: the container's bind mount sees the new text), as
 * needed after the addresses are known or a network is connected.
 */
export async function rewriteEtcFile(dir: string, file: keyof typeof ETC_FILES, text: string): Promise<void> {
  await writeFile(join(dir, file), text, { flag: 'w' });
}

/** The read-only bind mount of the host's init binary, and the argv that runs the process under it. */
export function withInit(initBinary: string, args: string[]): { mount: OciMount; args: string[] } {
  return {
    mount: { destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: initBinary, options: ['rbind', 'ro', 'nosuid', 'nodev', 'rprivate'] },
    args: [INIT_PATH_IN_CONTAINER, '--', ...args],
  };
}
