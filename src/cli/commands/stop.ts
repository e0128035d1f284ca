/**
 * `brig stop [-s SIGNAL] [-t N] CONTAINER...`: 304 (already stopped) counts as success, as in
 * docker. `--time` is docker's deprecated spelling of `--timeout`, still accepted with its warning.
 */
import { intFlag, parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';

/** The flags `stop` and `restart` share. */
export const stopOptions = {
  signal: { type: 'string', short: 's', valueName: 'string', description: 'Signal to send to the container' },
  timeout: { type: 'string', short: 't', valueName: 'int', description: 'Seconds to wait before killing the container' },
  time: { type: 'string', valueName: 'int', description: 'Seconds to wait before killing the container (deprecated: use --timeout)' },
} as const satisfies OptionSpecs;

/** `-t`/`--timeout` (or the deprecated `--time`, with docker's warning); undefined when not given. */
export async function stopTimeout(
  ctx: CliContext,
  values: { timeout?: string; time?: string },
): Promise<number | undefined> {
  if (values.timeout !== undefined && values.time !== undefined) {
    throw new UsageError('conflicting options: cannot specify both --timeout and --time');
  }
  if (values.time !== undefined) {
    await write(ctx.stderr, 'Flag --time has been deprecated, use --timeout instead\n');
    return intFlag('time', values.time);
  }
  return intFlag('timeout', values.timeout);
}

export const stopCommand: Command = {
  name: 'stop',
  summary: 'Stop one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options: stopOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(stopOptions, args);
    if (positionals.length === 0) throw new UsageError('"brig stop" requires at least 1 argument.');
    const t = await stopTimeout(ctx, values);
    const stopSignal = values.signal;
    return forEachTarget(ctx, positionals, (name) =>
      ctx.client().stopContainer(name, t, stopSignal !== undefined ? { stopSignal } : {}),
    );
  },
};
