/**
 * `brig inspect NAME...`: a container, else an image, printed as one JSON array indented by four
 * spaces (docker's format). Names that are neither print `Error: No such object: NAME` and exit 1.
 */
import { isApiError } from '../../client/api-error.js';
import { parseCommandArgs, type OptionSpecs } from '../args.js';
import { UsageError, write, type CliContext, type Command } from '../command.js';

const options = {
  type: { type: 'string', valueName: 'string', description: 'Only inspect objects of the given type (container or image)' },
} as const satisfies OptionSpecs;

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Return low-level information on brig objects',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  options,
  async run(ctx: CliContext, args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(options, args);
    if (positionals.length === 0) throw new UsageError('"brig inspect" requires at least 1 argument.');
    const type = values.type;
    if (type !== undefined && type !== 'container' && type !== 'image') throw new UsageError(`"${type}" is not a valid value for --type`);
    const client = ctx.client();
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of positionals) {
      const lookups = [
        ...(type !== 'image' ? [() => client.inspectContainer(name)] : []),
        ...(type !== 'container' ? [() => client.inspectImage(name)] : []),
      ];
      let result: unknown;
      for (const lookup of lookups) {
        try {
          result = await lookup();
          break;
        } catch (err) {
          if (!isApiError(err, 404)) throw err;
        }
      }
      if (result === undefined) missing.push(name);
      else found.push(result);
    }
    await write(ctx.stdout, `${JSON.stringify(found, null, 4)}\n`);
    for (const name of missing) await write(ctx.stderr, `Error: No such ${type ?? 'object'}: ${name}\n`);
    return missing.length > 0 ? 1 : 0;
  },
};
