/**
 * `--user` resolution against the image's /etc/passwd and /etc/group, with Docker's rules
 * (runc's libcontainer/user.GetExecUser): `name`, `uid`, `name:group`, `uid:gid`, or empty for root.
 */
import { EngineError } from '../errors.js';
import { readFileInRoot } from './in-root.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: every group whose member list names the user (none when a group is given). */
  additionalGids: number[];
  /** Home directory from passwd, `/` when the user has no entry; the caller sets HOME from it. */
  home: string;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

/** Parses passwd text; comments, NIS (`+`/`-`) and malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const fields of lines(text)) {
    const [name, , uid, gid, , home] = fields;
    if (!name || !isNumeric(uid) || !isNumeric(gid)) continue;
    out.push({ name, uid: Number(uid), gid: Number(gid), home: home ?? '' });
  }
  return out;
}

/** Parses group text; comments, NIS and malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const fields of lines(text)) {
    const [name, , gid, members] = fields;
    if (!name || !isNumeric(gid)) continue;
    out.push({ name, gid: Number(gid), members: (members ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

/**
 * Resolves a `--user` value against parsed passwd and group entries (pure).
 * A numeric user or group is always an id (it need not exist); a name must exist.
 * @throws EngineError ERR_INVALID_ARGUMENT with Docker's texts: `unable to find user x: no matching
 *   entries in passwd file`, `unable to find group g: no matching entries in group file`, or
 *   `uids and gids must be in range 0-2147483647`.
 */
export function resolveUserFromEntries(user: string, passwd: readonly PasswdEntry[], groups: readonly GroupEntry[]): ResolvedUser {
  const colon = user.indexOf(':');
  const userArg = colon === -1 ? user : user.slice(0, colon);
  const groupArg = colon === -1 ? '' : user.slice(colon + 1);

  const result: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  const uidArg = isNumeric(userArg) ? Number(userArg) : null;
  const entry = passwd.find((p) => (userArg === '' ? p.uid === 0 : uidArg !== null ? p.uid === uidArg : p.name === userArg));
  let matchedName = '';
  if (entry) {
    result.uid = entry.uid;
    result.gid = entry.gid;
    result.home = entry.home || '/';
    matchedName = entry.name;
  } else if (userArg !== '') {
    if (uidArg === null) throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    result.uid = checkRange(uidArg);
  }

  if (groupArg !== '') {
    const gidArg = isNumeric(groupArg) ? Number(groupArg) : null;
    const group = groups.find((g) => (gidArg !== null ? g.gid === gidArg : g.name === groupArg));
    if (group) result.gid = group.gid;
    else if (gidArg === null) throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
    else result.gid = checkRange(gidArg);
  } else if (matchedName !== '') {
    // Like initgroups(3) for the groups file (libcontainer does not add the primary gid itself).
    result.additionalGids = groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }
  checkRange(result.uid);
  checkRange(result.gid);
  return result;
}

/**
 * Resolves `user` for a container whose root filesystem is at `rootfs`, reading its /etc/passwd and
 * /etc/group with symlinks resolved inside the rootfs (never a host file). Missing files count as empty.
 */
export async function resolveUser(rootfs: string, user: string): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readFileInRoot(rootfs, '/etc/passwd'), readFileInRoot(rootfs, '/etc/group')]);
  return resolveUserFromEntries(user, parsePasswd(passwd ?? ''), parseGroup(group ?? ''));
}

function* lines(text: string): Generator<string[]> {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    yield line.split(':');
  }
}

function isNumeric(s: string | undefined): s is string {
  return s !== undefined && /^[0-9]+$/.test(s);
}

function checkRange(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) throw invalid(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

function invalid(message: string): EngineError {
  return new EngineError('ERR_INVALID_ARGUMENT', message);
}
