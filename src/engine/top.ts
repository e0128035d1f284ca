/**
 * `docker top`: the processes of a container's cgroup, listed by the host's `ps`.
 *
 * As dockerd does, `ps <ps_args> -q <pids>` runs first (only the container's processes); options
 * that cannot be combined with `-q` (forest listings, other selections) make it fail, and then
 * `ps <ps_args>` runs and its lines are filtered by PID. `ps_args` never reaches a shell: it is
 * split on whitespace and every word must be a known `ps` option or the value of one
 * (`validatePsArgs`), so the argv cannot smuggle anything `ps` would not accept anyway.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import { execFileResult } from '../util/exec.js';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** UNIX-style options without a value (`-e`, clustered as in `-ef`). */
const UNIX_FLAGS = new Set('AadefFHjlLMmNTwxycZ');
/** UNIX-style options that take a value, attached (`-opid`) or as the next word (`-o pid`). */
const UNIX_WITH_VALUE = new Set('CGgOopqstUu');
/** BSD-style options (no dash, clustered as in `aux`). */
const BSD_FLAGS = new Set('acefjlmnrsSTuvxXwZH');
/** BSD options that take the next word as value; they must end their cluster (`axo pid,comm`). */
const BSD_WITH_VALUE = new Set('OopqtUk');
/** GNU long options without a value. */
const LONG_FLAGS = new Set(['--forest', '--headers', '--cumulative', '--deselect', '--context']);
/** GNU long options with a value (`--sort=-pcpu` or `--sort -pcpu`). */
const LONG_WITH_VALUE = new Set([
  '--format', '--sort', '--cols', '--columns', '--width', '--lines', '--rows', '--pid', '--ppid', '--quick-pid',
  '--sid', '--tty', '--user', '--User', '--group', '--Group', '--cgroup',
]);
/** What an option value (format, sort key, list) may contain. */
const VALUE = /^[A-Za-z0-9_,:.=%+\-/@]{1,512}$/;

const invalid = (message: string) => new EngineError('ERR_INVALID_ARGUMENT', message);

/**
 * Splits `ps_args` into argv words (default `-ef`) and checks every word. Throws
 * ERR_INVALID_ARGUMENT naming the first word that is not a `ps` option (or an option that would
 * break the listing, such as `--no-headers`), and, like dockerd, a column renamed to `PID…` unless
 * it is the pid column itself.
 */
export function validatePsArgs(psArgs: string | null | undefined): string[] {
  const raw = psArgs === null || psArgs === undefined || psArgs.trim() === '' ? '-ef' : psArgs;
  if (/[^\x20-\x7e\t]/.test(raw)) throw invalid('ps_args may only contain printable ASCII characters');
  // dockerd's check: `-o comm=PID` would make another column look like the PID column.
  for (const m of ` ${raw}`.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw invalid(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
  const words = raw.split(/\s+/).filter((w) => w !== '');
  if (words.length > 64) throw invalid('too many ps_args');
  let needValue: string | undefined;
  for (const w of words) {
    if (needValue !== undefined) {
      if (!VALUE.test(w)) throw invalid(`invalid value for ps option ${needValue}: ${JSON.stringify(w)}`);
      needValue = undefined;
      continue;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (LONG_FLAGS.has(name) && eq < 0) continue;
      if (!LONG_WITH_VALUE.has(name)) throw invalid(`unknown or unsupported ps option: ${JSON.stringify(w)}`);
      if (eq < 0) needValue = name;
      else if (!VALUE.test(w.slice(eq + 1))) throw invalid(`invalid value for ps option ${name}: ${JSON.stringify(w.slice(eq + 1))}`);
      continue;
    }
    const unix = w.startsWith('-');
    const letters = unix ? w.slice(1) : w;
    if (letters === '') throw invalid(`unknown or unsupported ps option: ${JSON.stringify(w)}`);
    for (let i = 0; i < letters.length; i++) {
      const ch = letters[i]!;
      if ((unix ? UNIX_FLAGS : BSD_FLAGS).has(ch)) continue;
      if (!(unix ? UNIX_WITH_VALUE : BSD_WITH_VALUE).has(ch)) {
        throw invalid(`unknown or unsupported ps option: ${JSON.stringify(w)} (${unix ? '-' : ''}${ch})`);
      }
      const rest = letters.slice(i + 1);
      if (rest === '') needValue = `${unix ? '-' : ''}${ch}`;
      else if (!unix) throw invalid(`ps option ${ch} takes a value and must end its group: ${JSON.stringify(w)}`);
      else if (!VALUE.test(rest)) throw invalid(`invalid value for ps option -${ch}: ${JSON.stringify(rest)}`);
      break;
    }
  }
  if (needValue !== undefined) throw invalid(`ps option ${needValue} needs a value`);
  return words;
}

/** Go's strings.Fields over ASCII whitespace (what dockerd splits ps output with). */
function fields(line: string): string[] {
  return line.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

/**
 * Parses `ps` output the way dockerd does: titles from the first line, the PID column found by
 * name, each line split on whitespace with the last column (the command) taking the rest; only
 * lines of `pids` are kept (and, with thread listings, the `-` lines that follow a kept process).
 */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new EngineError('ERR_INTERNAL', "Couldn't find PID field in ps output");
  const processes: string[][] = [];
  let keptPrevious = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    if (f.length < titles.length) continue;
    const row = [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
    if (f[pidIndex] === '-') {
      if (keptPrevious) processes.push(row);
      continue;
    }
    const pid = Number(f[pidIndex]);
    if (!Number.isInteger(pid)) throw new EngineError('ERR_INTERNAL', `Unexpected pid '${f[pidIndex]}' in ps output`);
    keptPrevious = pids.has(pid);
    if (keptPrevious) processes.push(row);
  }
  return { titles, processes };
}

/** The PIDs in `cgroup.procs` of a cgroup directory and of every cgroup below it. */
export async function cgroupPids(dir: string): Promise<number[]> {
  const out: number[] = [];
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
  for (const l of text.split('\n')) if (/^[0-9]+$/.test(l.trim())) out.push(Number(l.trim()));
  const subdirs = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const d of subdirs) {
    if (d.isDirectory()) out.push(...(await cgroupPids(join(dir, d.name)).catch(() => [])));
  }
  return out;
}

export interface TopOptions {
  cgroupRoot?: string;
  cgroupVersion: 1 | 2;
  /** The `ps` program (default: `ps` on PATH). */
  ps?: string;
  signal?: AbortSignal;
}

/**
 * Lists the processes of a running container. Throws ERR_CONTAINER_NOT_RUNNING when its cgroup is
 * gone, ERR_INVALID_ARGUMENT for bad `psArgs`, ERR_INTERNAL when `ps` fails (its first stderr line).
 */
export async function top(c: ContainerRecord, cgroupPath: string, psArgs: string | null | undefined, options: TopOptions): Promise<TopResult> {
  const args = validatePsArgs(psArgs);
  const root = options.cgroupRoot ?? '/sys/fs/cgroup';
  let pids: number[] | undefined;
  // v1: the pids controller (any other mounted controller has the same membership).
  const dirs = options.cgroupVersion === 2 ? [join(root, cgroupPath)] : ['pids', 'memory', 'cpu', 'freezer'].map((ctl) => join(root, ctl, cgroupPath));
  for (const dir of dirs) {
    try {
      pids = await cgroupPids(dir);
      break;
    } catch {
      /* controller not mounted here: try the next */
    }
  }
  if (pids === undefined) throw new EngineError('ERR_CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
  const ps = options.ps ?? 'ps';
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  const exec = (argv: string[]) => execFileResult(ps, argv, { env, timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) });
  let r = pids.length > 0 ? await exec([...args, '-q', pids.join(',')]) : undefined;
  if (r === undefined || r.code !== 0) {
    // some options (forest listings, other selections) cannot be combined with -q: list all, filter below
    r = await exec(args);
    if (r.code !== 0) {
      const first = r.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit status ${r.code}`;
      throw new EngineError('ERR_INTERNAL', `ps: ${first.trim()}`);
    }
  }
  return parsePsOutput(r.stdout, new Set(pids));
}
