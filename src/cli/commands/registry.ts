/**
 * Registry commands, printing what the docker CLI prints: `brig pull`, `brig push`, `brig login`,
 * `brig logout`, and the pull `run`/`create` do when the image is missing. Credentials come from
 * the docker CLI's config file (registry-auth.ts) and go to the daemon per request.
 */
import { Writable } from 'node:stream';
import { isApiError } from '../../client/api-error.js';
import type { ContainerCreateRequest, ContainerCreateResponse, JsonMessage } from '../../client/types.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';
import { registryAuthHeader, saveAuth, serverKey } from '../registry-auth.js';
import type { PullPolicy } from './container-flags.js';

/**
 * Prints a progress stream as plain lines (`abc123: Pull complete`, `Digest: …`); byte-count
 * updates (`Downloading`, `Pushing` with a bar) are left out, as the docker CLI does without a TTY.
 */
export async function printProgress(out: Writable, messages: AsyncIterable<JsonMessage>): Promise<void> {
  for await (const m of messages) {
    if (typeof m.status !== 'string' || m.progress) continue;
    await write(out, m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  }
}

/** Whether a name carries a tag or a digest (a registry port is not a tag). */
function hasTagOrDigest(name: string): boolean {
  return name.includes('@') || name.lastIndexOf(':') > name.lastIndexOf('/');
}

/** Pulls `name` (its tag or digest; `latest` when it has none) with progress on `out`. */
export async function pullWithProgress(ctx: CliContext, name: string, out: Writable, platform?: string): Promise<void> {
  const registryAuth = await registryAuthHeader(ctx.env, name);
  const messages = ctx.client().pullImage(name, { registryAuth, ...(hasTagOrDigest(name) ? {} : { tag: 'latest' }), ...(platform ? { platform } : {}) });
  await printProgress(out, messages);
}

/**
 * `POST /containers/create`, pulling a missing image first like the docker CLI: on `No such image`
 * it prints `Unable to find image 'x:latest' locally`, pulls with progress on stderr and retries.
 */
export async function createPullingImage(ctx: CliContext, body: ContainerCreateRequest, name: string | undefined,
  policy: PullPolicy = 'missing', platform?: string): Promise<ContainerCreateResponse> {
  if (policy === 'always' && typeof body.Image === 'string' && body.Image !== '') {
    await pullWithProgress(ctx, body.Image, ctx.stderr, platform);
    return ctx.client().createContainer(body, name);
  }
  try {
    return await ctx.client().createContainer(body, name);
  } catch (err) {
    const image = body.Image;
    if (policy === 'never' || !isApiError(err, 404) || !err.message.startsWith('No such image') || typeof image !== 'string' || image === '') throw err;
    const shown = hasTagOrDigest(image) ? image : `${image}:latest`;
    await write(ctx.stderr, `Unable to find image '${shown}' locally\n`);
    await pullWithProgress(ctx, image, ctx.stderr, platform);
    return ctx.client().createContainer(body, name);
  }
}

const pullOptions = {
  platform: { type: 'string', valueName: 'string', description: 'Set platform if server is multi-platform capable' },
  quiet: { type: 'boolean', short: 'q', description: 'Suppress verbose output' },
} as const satisfies OptionSpecs;

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Download an image from a registry',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  options: pullOptions,
  async run(ctx, args) {
    const { values, positionals } = parseCommandArgs(pullOptions, args);
    if (positionals.length !== 1) throw new UsageError('"brig pull" requires exactly 1 argument.');
    const name = positionals[0]!;
    if (values.quiet !== true && !hasTagOrDigest(name)) await write(ctx.stdout, 'Using default tag: latest\n');
    const sink: Writable = values.quiet === true ? nullWriter() : ctx.stdout;
    await pullWithProgress(ctx, name, sink, values.platform);
    if (values.quiet === true) await write(ctx.stdout, `${name}\n`);
    return 0;
  },
};

const pushOptions = {
  'all-tags': { type: 'boolean', short: 'a', description: 'Push all tags of an image to the repository' },
  quiet: { type: 'boolean', short: 'q', description: 'Suppress verbose output' },
} as const satisfies OptionSpecs;

export const pushCommand: Command = {
  name: 'push',
  summary: 'Upload an image to a registry',
  usage: '[OPTIONS] NAME[:TAG]',
  options: pushOptions,
  async run(ctx, args) {
    const { values, positionals } = parseCommandArgs(pushOptions, args);
    if (positionals.length !== 1) throw new UsageError('"brig push" requires exactly 1 argument.');
    const name = positionals[0]!;
    if (name.includes('@')) throw new UsageError('cannot push a digest reference');
    const colon = name.lastIndexOf(':');
    const tagged = colon > name.lastIndexOf('/');
    if (values['all-tags'] === true && tagged) throw new UsageError('tag can\'t be used with --all-tags/-a');
    const repo = tagged ? name.slice(0, colon) : name;
    const tag = values['all-tags'] === true ? '' : tagged ? name.slice(colon + 1) : 'latest';
    if (values['all-tags'] !== true && !tagged) await write(ctx.stdout, 'Using default tag: latest\n');
    const registryAuth = await registryAuthHeader(ctx.env, repo);
    await printProgress(values.quiet === true ? nullWriter() : ctx.stdout, ctx.client().pushImage(repo, { tag, registryAuth }));
    if (values.quiet === true) await write(ctx.stdout, `${name}\n`);
    return 0;
  },
};

const loginOptions = {
  username: { type: 'string', short: 'u', valueName: 'string', description: 'Username' },
  password: { type: 'string', short: 'p', valueName: 'string', description: 'Password' },
  'password-stdin': { type: 'boolean', description: 'Take the password from stdin' },
} as const satisfies OptionSpecs;

async function readAll(input: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const c of input) text += c.toString();
  return text;
}

export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry',
  usage: '[OPTIONS] [SERVER]',
  options: loginOptions,
  async run(ctx, args) {
    const { values, positionals } = parseCommandArgs(loginOptions, args);
    if (positionals.length > 1) throw new UsageError('"brig login" requires at most 1 argument.');
    const username = values.username;
    let password = values.password;
    if (values['password-stdin'] === true) {
      if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (username === undefined) throw new UsageError('Must provide --username with --password-stdin');
      password = (await readAll(ctx.stdin as AsyncIterable<Buffer>)).replace(/\r?\n$/, '');
    } else if (password !== undefined) {
      await write(ctx.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (username === undefined || password === undefined || username === '' || password === '') {
      throw new UsageError('brig login needs --username and a password (--password-stdin or --password); it does not prompt');
    }
    const server = serverKey(positionals[0]);
    const answer = await ctx.client().login({ username, password, serveraddress: server });
    await saveAuth(ctx.env, server, { username, password });
    await write(ctx.stdout, `${answer.Status || 'Login Succeeded'}\n`);
    return 0;
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Log out from a registry',
  usage: '[SERVER]',
  options: {},
  async run(ctx, args) {
    const { positionals } = parseCommandArgs({}, args);
    if (positionals.length > 1) throw new UsageError('"brig logout" requires at most 1 argument.');
    const server = serverKey(positionals[0]);
    const removed = await saveAuth(ctx.env, server, undefined);
    await write(ctx.stdout, removed ? `Removing login credentials for ${server}\n` : `Not logged in to ${server}\n`);
    return 0;
  },
};

function nullWriter(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
