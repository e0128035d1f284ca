/**
 * docker's key/value files (`--env-file`, `--label-file`; docker/cli `pkg/kvfile`): one
 * `KEY[=VALUE]` a line; a UTF-8 BOM on the first line, leading whitespace, blank lines and lines
 * starting with `#` are dropped; values are taken as is (quotes and trailing spaces included, no
 * interpolation). A bare `KEY` takes the value of the client's environment variable when there is
 * a lookup (env files) and is left out otherwise.
 */
import { readFileSync } from 'node:fs';

/** Go's `unicode.IsSpace`, for trimming the start of a line. */
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/;
/** bufio.Scanner's default token limit. */
const MAX_LINE = 64 * 1024;

export type Lookup = (key: string) => string | undefined;

/** `parseKeyValueFile`: the entries of one file's content. Throws Go's messages (without the file name). */
export function parseKvContent(content: Buffer, lookup?: Lookup): string[] {
  const out: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= content.length; i++) {
    if (i === content.length || content[i] === 0x0a) {
      if (i === content.length && start === i) break; // no empty last line after a final newline
      let line = content.subarray(start, i);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > MAX_LINE) throw new Error('bufio.Scanner: token too long');
      lines.push(line);
      start = i + 1;
    }
  }
  lines.forEach((bytes, index) => {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new Error(`invalid utf8 bytes at line ${index + 1}: [${[...bytes].join(' ')}]`);
    }
    if (index === 0 && text.startsWith('\uFEFF')) text = text.slice(1);
    const line = text.replace(LEADING_SPACE, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq === -1 ? line : line.slice(0, eq);
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`variable '${key}' contains whitespaces`);
    if (eq !== -1) {
      out.push(line);
      return;
    }
    const value = lookup?.(line);
    if (value !== undefined) out.push(`${key}=${value}`);
  });
  return out;
}

/** A Node fs error in Go's words: `open /x: no such file or directory`. */
function goFsError(err: unknown, path: string): Error {
  const e = err as NodeJS.ErrnoException;
  const what = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '')?.[1];
  if (e.code === 'EISDIR') return new Error(`invalid env file (${path}): read ${path}: is a directory`);
  return new Error(what ? `${e.syscall ?? 'open'} ${path}: ${what}` : (e.message ?? String(err)));
}

export type ReadFileBytes = (path: string) => Buffer;

const defaultRead: ReadFileBytes = (p) => readFileSync(p);

/** `kvfile.Parse`: a file's entries; errors read like docker's (`invalid env file (F): …`). */
export function parseKvFile(path: string, lookup?: Lookup, readFile: ReadFileBytes = defaultRead): string[] {
  let content: Buffer;
  try {
    content = readFile(path);
  } catch (err) {
    throw goFsError(err, path);
  }
  try {
    return parseKvContent(content, lookup);
  } catch (err) {
    throw new Error(`invalid env file (${path}): ${(err as Error).message}`);
  }
}

/**
 * docker's `readKVStrings`: the entries of every file in order, then the command-line ones (which
 * thereby override the files' for the same key).
 */
export function readKvStrings(files: readonly string[], override: readonly string[], lookup?: Lookup, readFile?: ReadFileBytes): string[] {
  const out: string[] = [];
  for (const f of files) out.push(...parseKvFile(f, lookup, readFile));
  out.push(...override);
  return out;
}
