/**
 * `brig run`: create → (attach) → wait → start, in exactly the docker CLI's order.
 *
 * The wait is registered (its response headers are back) before `start` is sent, so a container
 * that exits at once cannot lose its exit status; with `--rm` the wait is `condition=removed`, so
 * `run` returns only once the daemon has removed the container. Exit codes follow docker: the
 * container's status, 125 when brig or the daemon fails, 126/127 when the command cannot be
 * invoked or found.
 */
import { readFileSync } from 'node:fs';
import { isApiError } from '../../client/api-error.js';
import type { ContainerWait } from '../../client/client.js';
import type { ContainerCreateRequest } from '../../client/types.js';
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { AttachSession, forwardSignals, monitorTtySize } from '../attach.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

export const runOptions = {
  detach: { type: 'boolean', short: 'd', description: 'Run container in background and print container ID' },
  entrypoint: { type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  env: { type: 'string', short: 'e', multiple: true, description: 'Set environment variables' },
  interactive: { type: 'boolean', short: 'i', description: 'Keep STDIN open even if not attached' },
  label: { type: 'string', short: 'l', multiple: true, description: 'Set meta data on a container' },
  name: { type: 'string', description: 'Assign a name to the container' },
  network: { type: 'string', valueName: 'network', description: 'Connect a container to a network' },
  'pids-limit': { type: 'string', valueName: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  privileged: { type: 'boolean', description: 'Give extended privileges to this container' },
  rm: { type: 'boolean', description: 'Automatically remove the container when it exits' },
  'cap-add': { type: 'string', multiple: true, description: 'Add Linux capabilities' },
  'cap-drop': { type: 'string', multiple: true, description: 'Drop Linux capabilities' },
  'security-opt': { type: 'string', multiple: true, description: 'Security Options (seccomp=FILE reads the profile from FILE)' },
  'stop-signal': { type: 'string', description: 'Signal to stop the container' },
  'stop-timeout': { type: 'string', valueName: 'int', description: 'Timeout (in seconds) to stop a container' },
  tty: { type: 'boolean', short: 't', description: 'Allocate a pseudo-TTY' },
  user: { type: 'string', short: 'u', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  workdir: { type: 'string', short: 'w', description: 'Working directory inside the container' },
} as const satisfies OptionSpecs;

/** Everything `run` needs from its command line, before talking to the daemon. */
export interface RunFlags {
  image: string;
  /** The container command: everything after IMAGE, untouched (flags included). */
  cmd: string[];
  name: string | undefined;
  detach: boolean;
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  env: string[];
  labels: Record<string, string>;
  entrypoint: string | undefined;
  workdir: string | undefined;
  user: string | undefined;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  privileged: boolean;
  pidsLimit: number | undefined;
  network: string | undefined;
  stopSignal: string | undefined;
  stopTimeout: number | undefined;
}

/** docker `ValidateEnv`: `KEY=VALUE` as is; a bare `KEY` takes the client's value when it has one. */
export function resolveEnv(entry: string, env: NodeJS.ProcessEnv): string {
  const eq = entry.indexOf('=');
  const key = eq === -1 ? entry : entry.slice(0, eq);
  if (key === '') throw new UsageError(`invalid environment variable: ${entry}`);
  if (eq !== -1) return entry;
  const value = env[key];
  return value === undefined ? entry : `${key}=${value}`;
}

/**
 * Parses `brig run` arguments. Flags end at IMAGE (or at `--`); everything after IMAGE is the
 * container's command line. Throws UsageError (exit 125, as docker) or HelpRequested.
 */
export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv = {}): RunFlags {
  const { values: v, positionals } = parseCommandArgs(runOptions, args, { interspersed: false });
  const [image, ...cmd] = positionals;
  if (image === undefined || image === '') throw new UsageError('"brig run" requires at least 1 argument.');
  const labels: Record<string, string> = {};
  for (const l of v.label ?? []) {
    const eq = l.indexOf('=');
    labels[eq === -1 ? l : l.slice(0, eq)] = eq === -1 ? '' : l.slice(eq + 1);
  }
  const pidsLimit = intFlag('pids-limit', v['pids-limit']);
  return {
    image,
    cmd,
    name: v.name,
    detach: v.detach === true,
    rm: v.rm === true,
    interactive: v.interactive === true,
    tty: v.tty === true,
    env: (v.env ?? []).map((e) => resolveEnv(e, env)),
    labels,
    entrypoint: v.entrypoint,
    workdir: v.workdir,
    user: v.user,
    capAdd: v['cap-add'] ?? [],
    capDrop: v['cap-drop'] ?? [],
    securityOpt: v['security-opt'] ?? [],
    privileged: v.privileged === true,
    pidsLimit,
    network: v.network,
    stopSignal: v['stop-signal'],
    stopTimeout: intFlag('stop-timeout', v['stop-timeout']),
  };
}

/** Go's `json.Compact`: removes insignificant whitespace, keeps everything else byte for byte. */
export function compactJson(text: string): string {
  JSON.parse(text); // validate first, like json.Compact does
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      out += c;
    }
  }
  return out;
}

/**
 * docker's `parseSecurityOpts`: `key=value` or `key:value`; `seccomp=FILE` (other than
 * `unconfined`/`builtin`) is replaced by `seccomp=<the file's JSON, compacted>`.
 */
export function parseSecurityOpts(opts: readonly string[], readFile: (path: string) => string): string[] {
  return opts.map((opt) => {
    let eq = opt.indexOf('=');
    if (eq === -1 && opt !== 'no-new-privileges') eq = opt.indexOf(':');
    if (eq === -1) {
      if (opt === 'no-new-privileges') return opt;
      throw new UsageError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
    const key = opt.slice(0, eq);
    const value = opt.slice(eq + 1);
    if (key !== 'seccomp' || value === 'unconfined' || value === 'builtin') return opt;
    let content: string;
    try {
      content = readFile(value);
    } catch (err) {
      throw new UsageError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
    try {
      return `seccomp=${compactJson(content)}`;
    } catch (err) {
      throw new UsageError(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
  });
}

export interface CreateBodyOptions {
  /** `[height, width]` of the local terminal for `-t`; `[0, 0]` otherwise. */
  consoleSize?: [number, number];
  readFile?: (path: string) => string;
}

/** The `POST /containers/create` body, shaped like the one the docker CLI sends. */
export function buildCreateBody(f: RunFlags, options: CreateBodyOptions = {}): ContainerCreateRequest {
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const attach = !f.detach;
  let entrypoint: string[] | null = null;
  if (f.entrypoint !== undefined) entrypoint = [f.entrypoint]; // `--entrypoint ""` resets it: [""]
  const networkMode = f.network ?? 'default';
  const body: ContainerCreateRequest = {
    Hostname: '',
    Domainname: '',
    User: f.user ?? '',
    AttachStdin: attach && f.interactive,
    AttachStdout: attach,
    AttachStderr: attach,
    Tty: f.tty,
    OpenStdin: f.interactive,
    StdinOnce: attach && f.interactive,
    Env: f.env.length > 0 ? f.env : null,
    Cmd: f.cmd.length > 0 ? f.cmd : null,
    Image: f.image,
    Volumes: {},
    WorkingDir: f.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: f.labels,
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: '', Config: {} },
      NetworkMode: networkMode,
      PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: f.rm,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: options.consoleSize ?? [0, 0],
      CapAdd: f.capAdd.length > 0 ? f.capAdd : null,
      CapDrop: f.capDrop.length > 0 ? f.capDrop : null,
      CgroupnsMode: '',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: f.privileged,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: f.securityOpt.length > 0 ? parseSecurityOpts(f.securityOpt, readFile) : null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      PidsLimit: f.pidsLimit ?? null,
      MemorySwappiness: -1,
    },
    NetworkingConfig: { EndpointsConfig: { [networkMode]: {} } },
  };
  if (f.stopSignal !== undefined) body.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) body.StopTimeout = f.stopTimeout;
  return body;
}

/** docker's `toStatusError`: the exit code for a failed start. */
export function startErrorExitCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

async function runError(ctx: CliContext, err: unknown): Promise<void> {
  const text = isApiError(err) ? `Error response from daemon: ${err.message}` : (err as Error).message;
  await write(ctx.stderr, `brig: ${text}\n\nRun 'brig run --help' for more information\n`);
}

async function runContainer(ctx: CliContext, args: string[]): Promise<number> {
  const f = parseRunArgs(args, ctx.env);
  const client = ctx.client();
  const attach = !f.detach;
  if (attach && f.interactive && f.tty && ctx.stdin.isTTY !== true) {
    await write(ctx.stderr, 'brig: the input device is not a TTY\n');
    return 1;
  }
  const useTerminalSize = f.tty && ctx.stdout.isTTY === true;
  const body = buildCreateBody(f, {
    consoleSize: useTerminalSize ? [ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0] : [0, 0],
  });

  let id: string;
  try {
    const created = await client.createContainer(body, f.name);
    id = created.Id;
    for (const w of created.Warnings ?? []) await write(ctx.stderr, `WARNING: ${w}\n`);
  } catch (err) {
    await runError(ctx, err);
    return 125;
  }

  let session: AttachSession | undefined;
  let wait: ContainerWait;
  try {
    if (attach) {
      const socket = await client.attachContainer(id, { stream: true, stdin: f.interactive, stdout: true, stderr: true });
      session = new AttachSession({ socket, tty: f.tty, stdin: f.interactive, input: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
    }
    wait = await client.waitContainer(id, f.rm ? 'removed' : 'next-exit');
  } catch (err) {
    session?.close();
    await runError(ctx, err);
    return 125;
  }

  const stopForwarding = attach ? forwardSignals(client, id, ctx.signals) : () => {};
  try {
    try {
      await client.startContainer(id);
    } catch (err) {
      session?.close();
      // with --rm the daemon removes the container after a failed start; docker waits for that
      if (f.rm) await wait.result.catch(() => undefined);
      else wait.cancel();
      await runError(ctx, err);
      return isApiError(err) ? startErrorExitCode(err.message) : 125;
    }

    if (!attach || session === undefined) {
      wait.cancel();
      await write(ctx.stdout, `${id}\n`);
      return 0;
    }

    const stopResize = useTerminalSize ? monitorTtySize(client, id, ctx.stdout) : () => {};
    const end = await session.done;
    stopResize();
    session.close();
    if (end.kind === 'detached') {
      wait.cancel();
      return 0;
    }
    if (end.kind === 'error') {
      wait.cancel();
      await write(ctx.stderr, `brig: ${end.error.message}\n`);
      return 1;
    }
    const status = await wait.result;
    if (status.Error !== null && status.Error.Message !== '') {
      await write(ctx.stderr, `brig: Error waiting for container: ${status.Error.Message}\n`);
      return 125;
    }
    return status.StatusCode;
  } finally {
    stopForwarding();
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Create and run a new container from an image',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  options: runOptions,
  usageExitCode: 125,
  run: runContainer,
};
