/**
 * What goes into a container's OCI bundle besides the root filesystem: the merge of image defaults
 * into the container's spec (Docker's rules), the process environment, the files brig bind-mounts
 * into every container (/etc/hostname, /etc/hosts) and the optional init.
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

/** Writes `hostname` and `hosts` into the container dir; returns their bind mounts. */
export async function writeEtcFiles(dir: string, hostname: string, domainname: string): Promise<OciMount[]> {
  const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
  await writeFile(join(dir, 'hostname'), `${hostname}\n`, { mode: 0o644 });
  await writeFile(
    join(dir, 'hosts'),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
      'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
      `127.0.1.1\t${fqdn === hostname ? hostname : `${fqdn} ${hostname}`}\n`,
    { mode: 0o644 },
  );
  const bind = (source: string, destination: string): OciMount => ({
    destination, type: 'bind', source, options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'],
  });
  return [bind(join(dir, 'hostname'), '/etc/hostname'), bind(join(dir, 'hosts'), '/etc/hosts')];
}

/** The read-only bind mount of the host's init binary, and the argv that runs the process under it. */
export function withInit(initBinary: string, args: string[]): { mount: OciMount; args: string[] } {
  return {
    mount: { destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: initBinary, options: ['rbind', 'ro', 'nosuid', 'nodev', 'rprivate'] },
    args: [INIT_PATH_IN_CONTAINER, '--', ...args],
  };
}
