/**
 * Running one operation per named target (`stop a b c`, `rm -f x y`) the docker way: print each
 * target that succeeded on stdout, each daemon error on stderr, carry on, and exit 1 if any failed.
 * Errors that are not the daemon's answer (the socket is gone) stop at once and reach `main`.
 */
import { isApiError } from '../client/api-error.js';
import { write, type CliContext } from './command.js';

export async function forEachTarget(
  ctx: CliContext,
  targets: readonly string[],
  operation: (target: string) => Promise<unknown>,
): Promise<number> {
  let failed = false;
  for (const target of targets) {
    try {
      await operation(target);
      await write(ctx.stdout, `${target}\n`);
    } catch (err) {
      if (!isApiError(err)) throw err;
      failed = true;
      await write(ctx.stderr, `Error response from daemon: ${err.message}\n`);
    }
  }
  return failed ? 1 : 0;
}
