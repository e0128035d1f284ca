/**
 * Flag parsing for `brig` commands on top of `util.parseArgs`, with Docker's conventions: flags may
 * come after positionals except where the command stops at its first positional (`run IMAGE CMD…`,
 * whose command line belongs to the container), `--` ends the flags, repeatable flags collect
 * values, and errors read like the docker CLI's (`unknown flag: --foo`).
 */
import { parseArgs } from 'node:util';
import { HelpRequested, UsageError } from './command.js';

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

/** Rewrites `util.parseArgs` errors in the docker CLI's words. */
function usageError(err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  const quoted = /'([^']+)'/.exec(msg)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      if (/^-[^-]/.test(quoted)) return new UsageError(`unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`);
      return new UsageError(`unknown flag: ${quoted.split('=')[0]}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      if (/does not take an argument/.test(msg)) return new UsageError(`flag ${flag} does not take a value`);
      return new UsageError(`flag needs an argument: ${flag}`);
    }
    default:
      return new UsageError(msg);
  }
}

/** Index in `args` where the flags end: the first positional or the `--` terminator. */
function flagsEnd(args: string[], options: OptionSpecs): { end: number; terminator: boolean } {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional') return { end: t.index, terminator: false };
    if (t.kind === 'option-terminator') return { end: t.index, terminator: true };
  }
  return { end: args.length, terminator: false };
}

/**
 * Parses `args` against `options` (plus `--help`). Throws `HelpRequested` for `--help`, and
 * `UsageError` for unknown flags, missing values and unexpected positionals (`maxPositionals`).
 */
export function parseCommandArgs<const O extends OptionSpecs>(
  options: O,
  args: string[],
  parse: ParseOptions = {},
): ParsedArgs<O> {
  const all: OptionSpecs = { ...options, help: HELP };
  let flagArgs = args;
  let rest: string[] = [];
  if (parse.interspersed === false) {
    const { end, terminator } = flagsEnd(args, all);
    flagArgs = args.slice(0, end);
    rest = args.slice(terminator ? end + 1 : end);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: flagArgs, options: all, strict: true, allowPositionals: true });
  } catch (err) {
    throw usageError(err);
  }
  if (parsed.values['help'] === true) throw new HelpRequested();
  return { values: parsed.values as ParsedValues<O>, positionals: [...parsed.positionals, ...rest] };
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

/** Parses an integer flag value; UsageError in Docker's words otherwise. */
export function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(value.trim())) {
    throw new UsageError(`invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  }
  return Number(value);
}
