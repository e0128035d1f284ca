/**
 * `brig start [-a] [-i] [--detach-keys KEYS] CONTAINER...`.
 *
 * Without `-a`/`-i`: starts each container (304, already running, counts as success), prints the
 * names that started, and after any failure `Error: failed to start containers: …`, exit 1.
 * With them (one container only), in docker's order: inspect, attach, wait (`next-exit`, or
 * `removed` for `--rm` containers), start; then the output streams until the container ends and
 * the exit code is the container's. The detach keys (TTY) end it with exit 0, container running.
 */
import { isApiError } from '../../client/api-error.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import type { ContainerWait } from '../../client/client.js';
import { awaitAttached, forwardSignals, openAttachSession } from '../attach.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {
  attach: { type: 'boolean', short: 'a', description: 'Attach STDOUT/STDERR and forward signals' },
  'detach-keys': { type: 'string', valueName: 'string', description: 'Override the key sequence for detaching a container' },
  interactive: { type: 'boolean', short: 'i', description: "Attach container's STDIN" },
} as const satisfies OptionSpecs;

async function startAttached(ctx: CliContext, name: string, interactive: boolean, detachKeys: string | undefined): Promise<number> {
  const client = ctx.client();
  const c = await client.inspectContainer(name);
  const tty = c.Config?.Tty === true;
  const stdin = interactive && c.Config?.OpenStdin === true;
  const stopForwarding = tty ? () => {} : forwardSignals(client, c.Id, ctx.signals);
  try {
    const session = await openAttachSession(client, c.Id, {
      tty, stdin, stdout: true, stderr: true, detachKeys, input: ctx.stdin, out: ctx.stdout, err: ctx.stderr,
    });
    const autoRemove = c.HostConfig?.AutoRemove === true;
    let wait: ContainerWait;
    try {
      wait = await client.waitContainer(c.Id, autoRemove ? 'removed' : 'next-exit');
    } catch (err) {
      session.close();
      throw err;
    }
    try {
      await client.startContainer(c.Id);
    } catch (err) {
      session.close();
      if (autoRemove) await wait.result.catch(() => undefined);
      else wait.cancel();
      throw err;
    }
    return await awaitAttached(client, c.Id, session, wait, tty, ctx.stdout, ctx.stderr);
  } finally {
    stopForwarding();
  }
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Start one or more stopped containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig start" requires at least 1 argument.');
    if (values.attach === true || values.interactive === true) {
      if (positionals.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
      return startAttached(ctx, positionals[0]!, values.interactive === true, values['detach-keys']);
    }
    const failed: string[] = [];
    for (const name of positionals) {
      try {
        await ctx.client().startContainer(name);
        await write(ctx.stdout, `${name}\n`);
      } catch (err) {
        if (!isApiError(err)) throw err;
        failed.push(name);
        await write(ctx.stderr, `Error response from daemon: ${err.message}\n`);
      }
    }
    if (failed.length > 0) await write(ctx.stderr, `Error: failed to start containers: ${failed.join(', ')}\n`);
    return failed.length > 0 ? 1 : 0;
  },
};
