/**
 * `brig wait CONTAINER...`: one `POST /containers/{id}/wait` (daemon default condition,
 * `not-running`) after the other, printing each exit code; failures go to stderr, exit 1.
 */
import { isApiError } from '../../client/api-error.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

export const waitCommand: Command = {
  name: 'wait',
  summary: 'Block until one or more containers stop, then print their exit codes',
  usage: 'CONTAINER [CONTAINER...]',
  options: {},
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { positionals } = parseCommandArgs({}, args);
    if (positionals.length === 0) throw new UsageError('"brig wait" requires at least 1 argument.');
    const client = ctx.client();
    const errors: string[] = [];
    for (const name of positionals) {
      try {
        const wait = await client.waitContainer(name);
        const result = await wait.result;
        await write(ctx.stdout, `${result.StatusCode}\n`);
      } catch (err) {
        if (!isApiError(err)) throw err;
        errors.push(`Error response from daemon: ${err.message}`);
      }
    }
    // docker joins the errors and prints them at the end
    for (const e of errors) await write(ctx.stderr, `${e}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};
