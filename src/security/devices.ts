/**
 * Device access: the device-cgroup rules Docker writes and the device nodes every container gets.
 */

/** One `linux.resources.devices` entry of the OCI spec. A missing type/major/minor means "any". */
export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

/** One `linux.devices` entry of the OCI spec: a node the runtime creates in the container's /dev. */
export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

const allowChar = (major: number, minor: number): OciDeviceCgroup => ({ allow: true, type: 'c', major, minor, access: 'rwm' });

/**
 * Docker's rules, in order: deny everything, allow /dev/zero, null, urandom, random, tty and
 * console, and deny /dev/fuse (10:229) explicitly. runc appends its own fixed list after these
 * (`c *:* m`, `b *:* m`, /dev/full, ptmx, pts, tun); brig cannot remove those.
 */
export function defaultDeviceCgroupRules(): OciDeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    allowChar(1, 5),
    allowChar(1, 3),
    allowChar(1, 9),
    allowChar(1, 8),
    allowChar(5, 0),
    allowChar(5, 1),
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ];
}

/** `--privileged`: every device, read, write and mknod. */
export function privilegedDeviceCgroupRules(): OciDeviceCgroup[] {
  return [{ allow: true, access: 'rwm' }];
}

/**
 * The nodes every container's /dev holds. runc (and crun) create these themselves whatever
 * `linux.devices` says, so brig, like Docker, does not list them in the spec; the list documents
 * what a container gets, and matches the cgroup rules above plus runc's built-ins (/dev/full).
 * /dev/ptmx is a symlink to pts/ptmx, and /dev/console is bound to the pty when there is a terminal.
 */
export const DEFAULT_DEVICES: readonly OciDevice[] = Object.freeze([
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
]);
