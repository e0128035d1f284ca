/**
 * `brig create [OPTIONS] IMAGE [COMMAND] [ARG...]`: `POST /containers/create` with the body `run`
 * would send (same flag parsing, container-flags.ts), then prints the new container's ID, as
 * `docker create` does. Like docker, `create` has every container flag of `run` (`-a`, `-i` and
 * `--rm` included: they are stored with the container for a later `start`) but not `run`'s own
 * `-d`, `--detach-keys` and `--sig-proxy`. Flag errors exit 125; daemon errors print
 * `Error response from daemon: …` and exit 1; warnings go to stderr.
 */
import { write, type CliContext, type Command } from '../command.js';
import { createPullingImage } from './registry.js';
import { buildCreateBody, containerOptions, parseContainerArgs } from './container-flags.js';
import { terminalSize } from './run.js';

async function createContainer(ctx: CliContext, args: string[]): Promise<number> {
  const f = parseContainerArgs('create', args, { env: ctx.env });
  const body = buildCreateBody(f, { consoleSize: terminalSize(ctx.stdout) });
  const created = await createPullingImage(ctx, body, f.name, f.pull);
  for (const w of created.Warnings ?? []) await write(ctx.stderr, `WARNING: ${w}\n`);
  await write(ctx.stdout, `${created.Id}\n`);
  return 0;
}

export const createCommand: Command = {
  name: 'create',
  summary: 'Create a new container',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  options: containerOptions,
  usageExitCode: 125,
  run: createContainer,
};
