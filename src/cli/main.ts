/**
 * `brig` entry point: global flags (`-H/--host`, `--version`, `--help`), command dispatch, and the
 * one place that turns errors into messages and exit codes.
 *
 * Exit codes: what the command returns (for `run`, the container's status); 2 for usage errors (125
 * for `run` and `create`, as docker); 1 for daemon errors and everything else.
 */
import { EngineClient } from '../client/client.js';
import { isApiError } from '../client/api-error.js';
import { DEFAULT_SOCKET_PATH, resolveSocketPath } from '../client/host.js';
import { CLIENT_VERSION } from '../client/version.js';
import { isEngineError } from '../errors.js';
import { formatOptions } from './args.js';
import { HelpRequested, UsageError, type CliContext, type CliIo, type Command } from './command.js';
import { attachCommand } from './commands/attach.js';
import { makeContainerCommand } from './commands/container.js';
import { cpCommand } from './commands/cp.js';
import { createCommand } from './commands/create.js';
import { diffCommand } from './commands/diff.js';
import { eventsCommand } from './commands/events.js';
import { execCommand } from './commands/exec.js';
import { exportCommand } from './commands/export.js';
import { imageCommand } from './commands/image.js';
import { historyCommand, loadCommand, rmiCommand, saveCommand, systemCommand, tagCommand } from './commands/image-local.js';
import { imagesCommand } from './commands/images.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { pauseCommand, unpauseCommand } from './commands/pause.js';
import { networkCommand } from './commands/network.js';
import { portCommand } from './commands/port.js';
import { psCommand } from './commands/ps.js';
import { loginCommand, logoutCommand, pullCommand, pushCommand } from './commands/registry.js';
import { renameCommand } from './commands/rename.js';
import { restartCommand } from './commands/restart.js';
import { rmCommand } from './commands/rm.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { statsCommand } from './commands/stats.js';
import { stopCommand } from './commands/stop.js';
import { topCommand } from './commands/top.js';
import { updateCommand } from './commands/update.js';
import { versionCommand } from './commands/version.js';
import { waitCommand } from './commands/wait.js';

/** Every command, in the order `brig --help` lists them. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  createCommand,
  execCommand,
  psCommand,
  logsCommand,
  attachCommand,
  startCommand,
  stopCommand,
  killCommand,
  restartCommand,
  pauseCommand,
  unpauseCommand,
  renameCommand,
  updateCommand,
  waitCommand,
  portCommand,
  cpCommand,
  statsCommand,
  topCommand,
  diffCommand,
  exportCommand,
  rmCommand,
  makeContainerCommand((name) => findCommand(name)),
  inspectCommand,
  imagesCommand,
  imageCommand,
  tagCommand,
  rmiCommand,
  historyCommand,
  networkCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  saveCommand,
  loadCommand,
  systemCommand,
  versionCommand,
  infoCommand,
  eventsCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return `
Usage:  brig [OPTIONS] COMMAND

A secure, Docker-compatible container engine

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Daemon:
  ${'daemon'.padEnd(width)}Run the brig daemon

Global Options:
  -H, --host string   Daemon socket to connect to (default unix://${DEFAULT_SOCKET_PATH}; env BRIG_HOST, DOCKER_HOST)
  -h, --help          Print usage
  -v, --version       Print version information and quit

Run 'brig COMMAND --help' for more information on a command.
`;
}

export function commandHelp(c: Command): string {
  const usage = `Usage:  brig ${c.name}${c.usage ? ` ${c.usage}` : ''}`;
  const opts = Object.keys(c.options).length > 0 || c.extraHelp === undefined ? `\nOptions:\n${formatOptions(c.options)}\n` : '';
  const extra = c.extraHelp ? `\n${c.extraHelp()}` : '';
  return `\n${usage}\n\n${c.summary}\n${opts}${extra}`;
}

interface GlobalFlags {
  host: string | undefined;
  version: boolean;
  help: boolean;
  rest: string[];
}

/** Global flags come before the command name; parsing stops at the first non-flag. */
export function parseGlobalFlags(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = { host: undefined, version: false, help: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '-v' || a === '--version') flags.version = true;
    else if (a === '-h' || a === '--help') flags.help = true;
    else if (a === '-H' || a === '--host') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: ${a === '-H' ? "'H' in -H" : '--host'}`);
      flags.host = v;
    } else if (a.startsWith('--host=')) flags.host = a.slice('--host='.length);
    else if (a.startsWith('-H') && a.length > 2) flags.host = a.slice(2).replace(/^=/, '');
    else throw new UsageError(`unknown flag: ${a.split('=')[0]}`);
  }
  flags.rest = argv.slice(i);
  return flags;
}

let pipeHandled = false;

/** process.stdout, set up so that a reader going away (`brig logs -f x | head -1`) ends brig like SIGPIPE ends a Go program. */
function processStdout(): NodeJS.WriteStream {
  if (!pipeHandled) {
    pipeHandled = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(128 + 13);
      throw err;
    });
  }
  return process.stdout;
}

function errorText(err: unknown): string {
  if (isApiError(err)) return `Error response from daemon: ${err.message}`;
  if (isEngineError(err)) return err.hint ? `${err.message}\n${err.hint}` : err.message;
  return `brig: ${err instanceof Error ? err.message : String(err)}`;
}

/** Runs `brig argv…` and resolves with the exit code. `io` replaces the process's streams (tests). */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? processStdout(),
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    signals: io.signals ?? process,
  };
  const print = (text: string, to: 'stdout' | 'stderr' = 'stdout') =>
    new Promise<void>((resolve) => full[to].write(text, () => resolve()));

  let globals: GlobalFlags;
  try {
    globals = parseGlobalFlags(argv);
  } catch (err) {
    await print(`brig: ${(err as Error).message}\nSee 'brig --help'.\n`, 'stderr');
    return 2;
  }
  if (globals.version) {
    await print(`brig version ${CLIENT_VERSION}\n`);
    return 0;
  }
  const [name, ...args] = globals.rest;
  if (name === undefined || globals.help) {
    await print(mainHelp());
    return 0;
  }
  if (name === 'help') {
    const target = args[0] === undefined ? undefined : findCommand(args[0]);
    if (args[0] !== undefined && target === undefined) {
      await print(`brig: unknown help topic: ${args[0]}\nSee 'brig --help'.\n`, 'stderr');
      return 2;
    }
    await print(target ? commandHelp(target) : mainHelp());
    return 0;
  }
  const command = findCommand(name);
  if (command === undefined) {
    await print(`brig: '${name}' is not a brig command.\nSee 'brig --help'\n`, 'stderr');
    return 2;
  }

  let client: EngineClient | undefined;
  const ctx: CliContext = {
    ...full,
    client() {
      if (client === undefined) client = new EngineClient({ socketPath: resolveSocketPath(globals.host, full.env) });
      return client;
    },
    now: () => Date.now(),
  };
  try {
    return await command.run(ctx, args);
  } catch (err) {
    if (err instanceof HelpRequested) {
      await print(commandHelp(command));
      return 0;
    }
    if (err instanceof UsageError) {
      await print(`brig: ${err.message}\nSee 'brig ${command.name} --help'.\n`, 'stderr');
      return command.usageExitCode ?? 2;
    }
    await print(`${errorText(err)}\n`, 'stderr');
    return 1;
  } finally {
    client?.close();
  }
}
