/** `brig restart [-s SIGNAL] [-t N] CONTAINER...` → `POST /containers/{id}/restart?signal=&t=` per container. */
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliContext, type Command } from '../command.js';
import { forEachTarget } from '../targets.js';
import { stopOptions, stopTimeout } from './stop.js';

export const restartCommand: Command = {
  name: 'restart',
  summary: 'Restart one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options: stopOptions,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(stopOptions, args);
    if (positionals.length === 0) throw new UsageError('"brig restart" requires at least 1 argument.');
    const t = await stopTimeout(ctx, values);
    return forEachTarget(ctx, positionals, (name) =>
      ctx.client().restartContainer(name, {
        ...(t !== undefined ? { timeoutSeconds: t } : {}),
        ...(values.signal !== undefined ? { stopSignal: values.signal } : {}),
      }),
    );
  },
};
