/**
 * Running one operation per named target (`stop a b c`, `rm -f x y`) the docker way: print each
 * target that succeeded on stdout, carry on after daemon errors and print them on stderr at the end
 * (docker joins them), and exit 1 if any failed. Errors that are not the daemon's answer (the
 * socket is gone) stop at once and reach `main`.
 */
import { isApiError } from '../client/api-error.js';
import { write, type CliContext } from './command.js';

export async function forEachTarget(
  ctx: CliContext,
  targets: readonly string[],
  operation: (target: string) => Promise<unknown>,
): Promise<number> {
  const errors: string[] = [];
  for (const target of targets) {
    try {
      await operation(target);
      await write(ctx.stdout, `${target}\n`);
    } catch (err) {
      if (!isApiError(err)) throw err;
      errors.push(`Error response from daemon: ${err.message}\n`);
    }
  }
  for (const e of errors) await write(ctx.stderr, e);
  return errors.length > 0 ? 1 : 0;
}
