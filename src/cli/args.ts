/**
 * Flag parsing for `brig` commands, following pflag (the docker CLI's flag library): flags may come
 * after positionals except where the command stops at its first positional (`run IMAGE CMD…`,
 * whose command line belongs to the container), `--` ends the flags, repeatable flags collect
 * values, and errors read like the docker CLI's (`unknown flag: --foo`).
 */
import { HelpRequested, UsageError } from './command.js';
import { parseGoBool, parseGoInt } from './flag-values.js';

export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown after the flag in help: `string`, `list`, `int`… (string flags only). */
  valueName?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? S['multiple'] extends true
    ? boolean[]
    : boolean
  : S['multiple'] extends true
    ? string[]
    : string;

export type ParsedValues<O extends OptionSpecs> = { -readonly [K in keyof O]?: ValueOf<O[K]> } & { help?: boolean };

export interface ParsedArgs<O extends OptionSpecs> {
  values: ParsedValues<O>;
  positionals: string[];
}

export interface ParseOptions {
  /**
   * false: parsing stops at the first positional, which is returned with everything after it
   * untouched (Docker's `SetInterspersed(false)` for `run`).
   */
  interspersed?: boolean;
}

const HELP: OptionSpec = { type: 'boolean', description: 'Print usage' };

/** pflag's name for a flag in its messages: `--name`, or `-n, --name` when it has a shorthand. */
export function flagLabel(name: string, spec: OptionSpec | undefined): string {
  return spec?.short ? `-${spec.short}, --${name}` : `--${name}`;
}

/** pflag's error for a value its flag refuses: `invalid argument "x" for "-m, --memory" flag: …`. */
export function invalidArgument(label: string, value: string, reason: string): UsageError {
  return new UsageError(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(label)} flag: ${reason}`);
}

/**
 * Parses `args` against `options` (plus `--help`) the way pflag does, so flags behave as in the
 * docker CLI: `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `-f=value`, grouped shorthands
 * (`-dit`), a value that starts with a dash (`--memory-swap -1`), booleans with an explicit value
 * (`--sig-proxy=false`, `-d=false`, Go's ParseBool), repeatable flags collecting their values, and
 * `--` ending the flags. An undefined `-h` asks for help, as in cobra.
 *
 * Throws `HelpRequested` for `--help` (once everything parsed), and `UsageError` in pflag's words
 * for unknown flags, missing values and bad boolean values.
 */
export function parseCommandArgs<const O extends OptionSpecs>(
  options: O,
  args: string[],
  parse: ParseOptions = {},
): ParsedArgs<O> {
  const specs: OptionSpecs = { ...options, help: HELP };
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const values: Record<string, boolean | string | (boolean | string)[]> = {};
  const positionals: string[] = [];

  const set = (name: string, value: string, explicit: boolean) => {
    const spec = specs[name]!;
    let v: boolean | string = value;
    if (spec.type === 'boolean') {
      try {
        v = explicit ? parseGoBool(value) : true;
      } catch (err) {
        throw invalidArgument(flagLabel(name, spec), value, (err as Error).message);
      }
    }
    if (spec.multiple) ((values[name] ??= []) as (boolean | string)[]).push(v);
    else values[name] = v;
  };

  let i = 0;
  while (i < args.length) {
    const a = args[i++]!;
    if (a.length < 2 || a[0] !== '-') {
      positionals.push(a);
      if (parse.interspersed === false) {
        positionals.push(...args.slice(i));
        break;
      }
      continue;
    }
    if (a === '--') {
      positionals.push(...args.slice(i));
      break;
    }
    if (a[1] === '-') {
      const body = a.slice(2);
      if (body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${a}`);
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (spec === undefined) throw new UsageError(`unknown flag: --${name}`);
      if (eq !== -1) set(name, body.slice(eq + 1), true);
      else if (spec.type === 'boolean') set(name, 'true', false);
      else if (i < args.length) set(name, args[i++]!, true);
      else throw new UsageError(`flag needs an argument: ${a}`);
      continue;
    }
    let shorts = a.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0]!;
      const name = byShort.get(c);
      if (name === undefined) {
        if (c === 'h') throw new HelpRequested();
        throw new UsageError(`unknown shorthand flag: '${c}' in -${shorts}`);
      }
      const spec = specs[name]!;
      if (shorts.length > 2 && shorts[1] === '=') {
        set(name, shorts.slice(2), true);
        shorts = '';
      } else if (spec.type === 'boolean') {
        set(name, 'true', false);
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        set(name, shorts.slice(1), true);
        shorts = '';
      } else if (i < args.length) {
        set(name, args[i++]!, true);
        shorts = '';
      } else {
        throw new UsageError(`flag needs an argument: '${c}' in -${shorts}`);
      }
    }
  }
  if (values['help'] === true) throw new HelpRequested();
  return { values: values as ParsedValues<O>, positionals };
}

/**
 * Converts a string flag's value with `parse` (one of flag-values.ts); a parse error becomes
 * pflag's `invalid argument "V" for "-m, --memory" flag: <reason>`.
 */
export function flagValue<T>(options: OptionSpecs, name: string, value: string | undefined, parse: (v: string) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw invalidArgument(flagLabel(name, options[name]), value, (err as Error).message);
  }
}

/** The `Options:` block of a command's help, like cobra prints it. */
export function formatOptions(options: OptionSpecs): string {
  const entries = Object.entries({ ...options, help: HELP }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = entries.map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const value = spec.type === 'string' ? ` ${spec.valueName ?? (spec.multiple ? 'list' : 'string')}` : '';
    return [`  ${short}--${name}${value}`, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 3;
  return rows.map(([flag, desc]) => `${flag.padEnd(width)}${desc}`).join('\n');
}

/**
 * Parses an integer flag value as pflag does (Go's `strconv.ParseInt(s, 0, 64)`: `-1`, `0x10`);
 * UsageError in Docker's words otherwise. `short` is the flag's shorthand, for the message.
 */
export function intFlag(name: string, value: string | undefined, short?: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseGoInt(value);
  } catch (err) {
    throw invalidArgument(short ? `-${short}, --${name}` : `--${name}`, value, (err as Error).message);
  }
}
