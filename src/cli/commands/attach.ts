/**
 * `brig attach [--no-stdin] [--sig-proxy=true|false] [--detach-keys KEYS] CONTAINER`, in the docker
 * CLI's order: register the wait (daemon default `not-running`), inspect and check the state,
 * hijack `POST /containers/{id}/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=…`, inspect
 * again, then stream (raw mode and resizes for a TTY, signals proxied without one). The exit code
 * is the container's, from the wait. Typing the detach keys (TTY only) leaves the container
 * running and ends like docker 28: `read escape sequence` on stderr, exit 1.
 */
import type { ContainerInspect } from '../../client/types.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { DEFAULT_DETACH_KEYS, forwardSignals, monitorTtySize, openAttachSession, parseDetachKeys, type AttachSession } from '../attach.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {
  'detach-keys': { type: 'string', valueName: 'string', description: 'Override the key sequence for detaching a container' },
  'no-stdin': { type: 'boolean', description: 'Do not attach STDIN' },
  'sig-proxy': { type: 'boolean', description: 'Proxy all received signals to the process (default true)' },
} as const satisfies OptionSpecs;

/** What docker prints when the user detaches from `docker attach`. */
export const DETACHED_MESSAGE = 'read escape sequence';

/** Go's `strconv.ParseBool`. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/**
 * Takes `--NAME=VALUE` forms of a boolean flag out of `args` (before `--`), which `util.parseArgs`
 * cannot read; `--NAME` alone stays for the parser. Returns the last value given, if any.
 */
export function takeBoolFlag(args: string[], name: string): { args: string[]; value: boolean | undefined } {
  let value: boolean | undefined;
  const out: string[] = [];
  let ended = false;
  for (const a of args) {
    if (!ended && a === '--') ended = true;
    if (!ended && a.startsWith(`--${name}=`)) {
      const raw = a.slice(name.length + 3);
      const b = parseBool(raw);
      if (b === undefined) throw new UsageError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
      value = b;
      continue;
    }
    out.push(a);
  }
  return { args: out, value };
}

/** docker's `inspectContainerAndCheckState`: the reasons a container cannot be attached to. */
export function attachStateError(c: ContainerInspect): string | undefined {
  if (c.State?.Running !== true) return 'You cannot attach to a stopped container, start it first';
  if (c.State.Paused === true) return 'You cannot attach to a paused container, unpause it first';
  if (c.State.Restarting === true) return 'You cannot attach to a restarting container, wait until it is running';
  return undefined;
}

async function attach(ctx: CliContext, argv: string[]): Promise<number> {
  const taken = takeBoolFlag(argv, 'sig-proxy');
  const { values, positionals } = parseCommandArgs(options, taken.args);
  if (positionals.length !== 1) throw new UsageError('"brig attach" requires exactly 1 argument.');
  const name = positionals[0]!;
  const sigProxy = taken.value ?? true;
  const noStdin = values['no-stdin'] === true;
  const detachKeys = values['detach-keys'];
  const client = ctx.client();

  // registered first, as docker does, so that an exit while attaching is not missed
  const wait = await client.waitContainer(name);
  let stopForwarding = () => {};
  let stopResize = () => {};
  let session: AttachSession | undefined;
  try {
    const c = await client.inspectContainer(name);
    const stateError = attachStateError(c);
    if (stateError !== undefined) {
      await write(ctx.stderr, `${stateError}\n`);
      return 1;
    }
    const tty = c.Config?.Tty === true;
    if (tty && !noStdin && ctx.stdin.isTTY !== true) {
      await write(ctx.stderr, 'the input device is not a TTY\n');
      return 1;
    }
    const stdin = !noStdin && c.Config?.OpenStdin === true;
    if (sigProxy && !tty) stopForwarding = forwardSignals(client, c.Id, ctx.signals);
    session = await openAttachSession(client, name, {
      tty, stdin, stdout: true, stderr: true, detachKeys, input: ctx.stdin, out: ctx.stdout, err: ctx.stderr,
    });
    // the state may have changed while attaching: without this check a stopped container would block us
    const again = attachStateError(await client.inspectContainer(name));
    if (again !== undefined) {
      session.close();
      await write(ctx.stderr, `${again}\n`);
      return 1;
    }
    if (tty && ctx.stdout.isTTY === true) {
      // docker resizes to one more row and column first, so that a shell redraws its prompt
      const h = ctx.stdout.rows ?? 0;
      const w = ctx.stdout.columns ?? 0;
      if (h > 0 && w > 0) await client.resizeContainer(c.Id, h + 1, w + 1).catch(() => {});
      stopResize = monitorTtySize(client, c.Id, ctx.stdout);
    }
    const end = await session.done;
    stopResize();
    session.close();
    if (end.kind === 'detached') {
      await write(ctx.stderr, `${DETACHED_MESSAGE}\n`);
      return 1;
    }
    if (end.kind === 'error') {
      await write(ctx.stderr, `brig: ${end.error.message}\n`);
      return 1;
    }
    const status = await wait.result;
    if (status.Error !== null && status.Error.Message !== '') {
      await write(ctx.stderr, `${status.Error.Message}\n`);
      return 1;
    }
    return status.StatusCode;
  } finally {
    stopResize();
    stopForwarding();
    session?.close();
    wait.cancel();
  }
}

export const attachCommand: Command = {
  name: 'attach',
  summary: 'Attach local standard input, output, and error streams to a running container',
  usage: '[OPTIONS] CONTAINER',
  options,
  run: attach,
};
