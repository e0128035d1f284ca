/**
 * A small, safe subset of Go's `text/template` for `--format` (no eval, no reflection on
 * arbitrary objects): only what a `TemplateObject` exposes can be reached.
 *
 * Supported: text; actions `{{pipeline}}` with `{{-`/`-}}` trimming and `{{/* comments *\/}}`;
 * fields and methods with arguments (`.ID`, `.Actor.Attributes.name`, `.Label "k"`); map keys;
 * `$` and variables (`{{$x := .ID}}`, `range $k, $v := …`); string, raw-string, number, bool and
 * nil literals; parentheses; pipes `|`; `if`/`else if`/`else`/`end`, `range`, `with`; docker's
 * functions (json, split, join, title, lower, upper, pad, truncate) and Go's builtins (and, or,
 * not, eq, ne, lt, le, gt, ge, len, index, print, printf, println).
 *
 * Errors read like Go's, because users compare them with docker's:
 * `template: :1: function "foo" not defined` (parse) and
 * `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type *formatter.ContainerContext`.
 */

import { goQuote } from './format.js';

/** A value that templates may read: named fields (no arguments) and methods (with arguments). */
export class TemplateObject {
  /**
   * @param typeName Go type name used in error messages (`*formatter.ContainerContext`).
   * @param members field/method name → function; a function's `length` is its number of arguments.
   * @param options.missingAsNoValue unknown names print `<no value>` instead of failing (Go maps).
   * @param options.json the value's JSON text for the `json` function.
   * @param options.print how `{{.}}` prints it (Go's `%v`).
   */
  readonly typeName: string;
  readonly members: Readonly<Record<string, (...args: never[]) => unknown>>;
  readonly options: { missingAsNoValue?: boolean; json?: () => string; print?: () => string };

  constructor(
    typeName: string,
    members: Readonly<Record<string, (...args: never[]) => unknown>>,
    options: { missingAsNoValue?: boolean; json?: () => string; print?: () => string } = {},
  ) {
    this.typeName = typeName;
    this.members = members;
    this.options = options;
  }
}

/** Go's invalid `reflect.Value`: what a missing map key evaluates to; prints as `<no value>`. */
export const NO_VALUE: unique symbol = Symbol('no value');

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// ---------------------------------------------------------------- values

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TemplateObject);
}

/** The Go type name of a value, for error messages. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]string';
  if (v instanceof TemplateObject) return v.typeName;
  return 'map[string]string';
}

/** Go's `fmt.Sprint` of a value (`%v`): maps sorted by key, slices in brackets. */
export function goPrint(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (v instanceof TemplateObject) return v.options.print ? v.options.print() : `{${v.typeName}}`;
  if (isPlainMap(v)) {
    return `map[${Object.keys(v).sort(compareBytes).map((k) => `${k}:${goPrint(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

function compareBytes(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** A JSON string as Go's encoder writes it (`escapeHTML` as `json.Marshal`; the `json` template function does not). */
export function goJsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x2028 || c === 0x2029 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&'))) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Go's JSON encoding of a template value: maps with sorted keys, bigints exact. */
export function goJson(v: unknown, escapeHTML = false): string {
  if (v === null || v === undefined || v === NO_VALUE) return 'null';
  if (typeof v === 'string') return goJsonString(v, escapeHTML);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => goJson(x, escapeHTML)).join(',')}]`;
  if (v instanceof TemplateObject) return v.options.json ? v.options.json() : '{}';
  const m = v as Record<string, unknown>;
  return `{${Object.keys(m).sort(compareBytes).map((k) => `${goJsonString(k, escapeHTML)}:${goJson(m[k], escapeHTML)}`).join(',')}}`;
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
function truth(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainMap(v)) return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------- functions

type Kind = 'string' | 'int' | 'any' | 'strings';

interface TemplateFunction {
  /** Parameter kinds; `variadic` takes any number of `any` after them. */
  params: Kind[];
  variadic?: boolean;
  call(...args: unknown[]): unknown;
}

function checkKind(v: unknown, kind: Kind): void {
  const ok =
    kind === 'any' ||
    (kind === 'string' && typeof v === 'string') ||
    (kind === 'int' && typeof v === 'number' && Number.isInteger(v)) ||
    (kind === 'strings' && Array.isArray(v));
  if (!ok) {
    const want = kind === 'strings' ? '[]string' : kind;
    throw new TemplateError(`wrong type for value; expected ${want}; got ${goTypeName(v)}`);
  }
}

function compareValues(name: string, a: unknown, b: unknown): number {
  const num = (x: unknown) => typeof x === 'number' || typeof x === 'bigint';
  if (num(a) && num(b)) return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (name === 'eq' || name === 'ne')) return a === b ? 0 : 1;
  if (name === 'eq' || name === 'ne') {
    if ((a === null || a === NO_VALUE) && (b === null || b === NO_VALUE)) return 0;
    throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
  }
  throw new TemplateError(`error calling ${name}: invalid type for comparison`);
}

/** `printf` for the verbs templates use: %s %v %d %q %t %%, with width and `-`. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let i = 0;
  return format.replace(/%([-0]?)([0-9]*)([svdqt%])/g, (_m, flag: string, width: string, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    let s: string;
    if (verb === 'q') s = typeof a === 'string' ? goQuote(a) : goPrint(a);
    else if (verb === 'd') s = typeof a === 'number' || typeof a === 'bigint' ? String(a) : `%!d(${goTypeName(a)}=${goPrint(a)})`;
    else s = goPrint(a);
    const w = width === '' ? 0 : Number(width);
    if ([...s].length >= w) return s;
    const pad = (flag === '0' ? '0' : ' ').repeat(w - [...s].length);
    return flag === '-' ? s + ' '.repeat(w - [...s].length) : pad + s;
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map((a) => `${goTypeName(a)}=${goPrint(a)}`).join(', ')})` : '');
}

/** docker's `templates.basicFunctions` plus Go's builtins. */
export const BASIC_FUNCTIONS: Readonly<Record<string, TemplateFunction>> = {
  json: { params: ['any'], call: (v) => goJson(v, false) },
  split: { params: ['string', 'string'], call: (s, sep) => (sep === '' ? [...(s as string)] : (s as string).split(sep as string)) },
  join: { params: ['strings', 'string'], call: (a, sep) => (a as unknown[]).map(goPrint).join(sep as string) },
  title: { params: ['string'], call: (s) => (s as string).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()) },
  lower: { params: ['string'], call: (s) => (s as string).toLowerCase() },
  upper: { params: ['string'], call: (s) => (s as string).toUpperCase() },
  pad: { params: ['string', 'int', 'int'], call: (s, p, q) => (s === '' ? '' : ' '.repeat(p as number) + (s as string) + ' '.repeat(q as number)) },
  truncate: {
    params: ['string', 'int'],
    call: (s, n) => {
      const b = Buffer.from(s as string);
      return b.length < (n as number) ? s : b.subarray(0, Math.max(0, n as number)).toString('utf8');
    },
  },
  and: { params: ['any'], variadic: true, call: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1] },
  or: { params: ['any'], variadic: true, call: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1] },
  not: { params: ['any'], call: (v) => !truth(v) },
  eq: { params: ['any', 'any'], variadic: true, call: (a, ...bs) => bs.some((b) => compareValues('eq', a, b) === 0) },
  ne: { params: ['any', 'any'], call: (a, b) => compareValues('ne', a, b) !== 0 },
  lt: { params: ['any', 'any'], call: (a, b) => compareValues('lt', a, b) < 0 },
  le: { params: ['any', 'any'], call: (a, b) => compareValues('le', a, b) <= 0 },
  gt: { params: ['any', 'any'], call: (a, b) => compareValues('gt', a, b) > 0 },
  ge: { params: ['any', 'any'], call: (a, b) => compareValues('ge', a, b) >= 0 },
  len: {
    params: ['any'],
    call: (v) => {
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isPlainMap(v)) return Object.keys(v).length;
      throw new TemplateError(`error calling len: len of type ${goTypeName(v)}`);
    },
  },
  index: {
    params: ['any'],
    variadic: true,
    call: (v, ...keys) => {
      let cur = v;
      for (const k of keys) {
        if (Array.isArray(cur) && typeof k === 'number') {
          if (k < 0 || k >= cur.length) throw new TemplateError(`error calling index: index out of range: ${k}`);
          cur = cur[k];
        } else if (isPlainMap(cur) && typeof k === 'string') {
          cur = Object.hasOwn(cur, k) ? cur[k] : '';
        } else if (cur === NO_VALUE || cur === null) {
          throw new TemplateError('error calling index: index of untyped nil');
        } else {
          throw new TemplateError(`error calling index: cannot index slice/array with type ${goTypeName(k)}`);
        }
      }
      return cur;
    },
  },
  print: { params: [], variadic: true, call: (...a) => goSprint(a) },
  println: { params: [], variadic: true, call: (...a) => `${a.map(goPrint).join(' ')}\n` },
  printf: { params: ['string'], variadic: true, call: (f, ...a) => goSprintf(f as string, a) },
};

/** Go's `fmt.Sprint`: spaces only between operands when neither is a string. */
function goSprint(a: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < a.length; i++) {
    if (i > 0 && typeof a[i] !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
    out += goPrint(a[i]);
  }
  return out;
}

/** docker's `templates.HeaderFunctions`: table headers keep the column name through these. */
export const HEADER_FUNCTIONS: Readonly<Record<string, TemplateFunction>> = {
  ...BASIC_FUNCTIONS,
  json: { params: ['any'], call: (v) => v },
  split: { params: ['any', 'any'], call: (v) => v },
  join: { params: ['any', 'any'], call: (v) => v },
  title: { params: ['any'], call: (v) => v },
  lower: { params: ['any'], call: (v) => v },
  upper: { params: ['any'], call: (v) => v },
  truncate: { params: ['any', 'any'], call: (v) => v },
};

// ---------------------------------------------------------------- lexer

type TokenKind =
  | 'text' | 'left' | 'right' | 'space' | 'field' | 'dot' | 'variable' | 'identifier' | 'keyword'
  | 'string' | 'number' | 'bool' | 'nil' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';

interface Token {
  kind: TokenKind;
  value: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function parseError(line: number, message: string): TemplateError {
  return new TemplateError(`template: :${line}: ${message}`);
}

function unquote(raw: string, line: number): string {
  if (raw.startsWith('`')) return raw.slice(1, -1);
  const body = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    const hex = (n: number) => {
      const h = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw parseError(line, `invalid syntax: ${raw}`);
      i += n;
      return parseInt(h, 16);
    };
    if (e === 'x') out += String.fromCharCode(hex(2));
    else if (e === 'u') out += String.fromCodePoint(hex(4));
    else if (e === 'U') out += String.fromCodePoint(hex(8));
    else throw parseError(line, `invalid syntax: ${raw}`);
  }
  return out;
}

function isSpaceChar(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const push = (kind: TokenKind, value: string, pos: number, atLine = line) => tokens.push({ kind, value, pos, line: atLine });
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let textEnd = open === -1 ? src.length : open;
    let trimLeft = false;
    if (open !== -1 && src[open + 2] === '-' && isSpaceChar(src[open + 3])) trimLeft = true;
    let text = src.slice(i, textEnd);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text !== '') push('text', text, i);
    line += (src.slice(i, textEnd).match(/\n/g) ?? []).length;
    if (open === -1) break;
    i = open + 2 + (trimLeft ? 2 : 0);
    push('left', '{{', open);
    // comment
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw parseError(line, 'unclosed comment');
      line += (src.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 2;
      let trimRight = false;
      if (src.startsWith(' -}}', i)) {
        trimRight = true;
        i += 4;
      } else if (src.startsWith('}}', i)) i += 2;
      else throw parseError(line, 'comment ends before closing delimiter');
      tokens.pop(); // comments leave no action
      if (trimRight) {
        const m = /^[ \t\r\n]*/.exec(src.slice(i))![0];
        line += (m.match(/\n/g) ?? []).length;
        i += m.length;
      }
      continue;
    }
    // inside an action
    let closed = false;
    let parenDepth = 0;
    while (i < src.length) {
      const c = src[i]!;
      const start = i;
      if (c === ' ' && src.startsWith(' -}}', i)) {
        push('right', '}}', i);
        i += 4;
        const m = /^[ \t\r\n]*/.exec(src.slice(i))![0];
        line += (m.match(/\n/g) ?? []).length;
        i += m.length;
        closed = true;
        break;
      }
      if (src.startsWith('}}', i)) {
        if (parenDepth > 0) throw parseError(line, 'unclosed left paren');
        push('right', '}}', i);
        i += 2;
        closed = true;
        break;
      }
      if (isSpaceChar(c)) {
        while (i < src.length && isSpaceChar(src[i]) && !src.startsWith(' -}}', i)) {
          if (src[i] === '\n') line++;
          i++;
        }
        push('space', ' ', start);
        continue;
      }
      if (c === '|') {
        push('pipe', c, i++);
        continue;
      }
      if (c === '(') {
        parenDepth++;
        push('lparen', c, i++);
        continue;
      }
      if (c === ')') {
        if (parenDepth === 0) throw parseError(line, `unexpected right paren U+0029 ')'`);
        parenDepth--;
        push('rparen', c, i++);
        continue;
      }
      if (c === ',') {
        push('comma', c, i++);
        continue;
      }
      if (src.startsWith(':=', i)) {
        push('declare', ':=', i);
        i += 2;
        continue;
      }
      if (c === '=') {
        push('assign', c, i++);
        continue;
      }
      if (c === '"') {
        let j = i + 1;
        while (j < src.length && src[j] !== '"') {
          if (src[j] === '\\') j++;
          if (src[j] === '\n') throw parseError(line, 'unterminated quoted string');
          j++;
        }
        if (j >= src.length) throw parseError(line, 'unterminated quoted string');
        push('string', unquote(src.slice(i, j + 1), line), i);
        i = j + 1;
        continue;
      }
      if (c === '`') {
        const j = src.indexOf('`', i + 1);
        if (j === -1) throw parseError(line, 'unterminated raw quoted string');
        push('string', src.slice(i + 1, j), i);
        line += (src.slice(i, j).match(/\n/g) ?? []).length;
        i = j + 1;
        continue;
      }
      if (c === '$') {
        const m = /^\$[\p{L}_0-9]*/u.exec(src.slice(i))![0];
        push('variable', m, i);
        i += m.length;
        continue;
      }
      if (c === '.') {
        const m = /^\.[\p{L}_][\p{L}_0-9]*/u.exec(src.slice(i));
        if (m) {
          push('field', m[0].slice(1), i);
          i += m[0].length;
          continue;
        }
        if (!/[0-9]/.test(src[i + 1] ?? '')) {
          push('dot', '.', i++);
          continue;
        }
      }
      const num = /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?)/.exec(src.slice(i));
      if (num && (c !== '+' && c !== '-' ? true : /[0-9.]/.test(src[i + 1] ?? ''))) {
        push('number', num[0], i);
        i += num[0].length;
        if (/^[\p{L}_]/u.test(src.slice(i))) throw parseError(line, `bad number syntax: "${num[0]}${src[i]}"`);
        continue;
      }
      const word = /^[\p{L}_][\p{L}_0-9]*/u.exec(src.slice(i));
      if (word) {
        const w = word[0];
        if (KEYWORDS.has(w)) push('keyword', w, i);
        else if (w === 'true' || w === 'false') push('bool', w, i);
        else if (w === 'nil') push('nil', w, i);
        else push('identifier', w, i);
        i += w.length;
        continue;
      }
      const cp = src.codePointAt(i)!;
      throw parseError(line, `bad character U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`);
    }
    if (!closed) throw parseError(line, 'unclosed action');
  }
  push('eof', '', src.length);
  return tokens;
}

// ---------------------------------------------------------------- tree

type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: Pipeline }
  | { type: 'if' | 'with'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { type: 'range'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined };

interface Pipeline {
  decl: string[];
  cmds: Operand[][];
  pos: number;
  line: number;
}

type Operand =
  | { type: 'field'; names: string[]; pos: number; line: number; text: string }
  | { type: 'variable'; name: string; names: string[]; pos: number; line: number; text: string }
  | { type: 'dot'; pos: number; line: number; text: string }
  | { type: 'function'; name: string; pos: number; line: number; text: string }
  | { type: 'literal'; value: unknown; pos: number; line: number; text: string }
  | { type: 'pipe'; pipe: Pipeline; names: string[]; pos: number; line: number; text: string };

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];

  private readonly tokens: Token[];
  private readonly funcs: Readonly<Record<string, TemplateFunction>>;

  constructor(tokens: Token[], funcs: Readonly<Record<string, TemplateFunction>>) {
    this.tokens = tokens;
    this.funcs = funcs;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private peekNonSpace(): Token {
    let j = this.i;
    while (this.tokens[j]!.kind === 'space') j++;
    return this.tokens[j]!;
  }

  private skipSpace(): void {
    while (this.peek().kind === 'space') this.i++;
  }

  private unexpected(t: Token, context: string): TemplateError {
    const shown = t.kind === 'eof' ? 'EOF' : t.kind === 'right' ? '"}}"' : `<${t.value}>`;
    return parseError(t.line, `unexpected ${shown} in ${context}`);
  }

  parseTemplate(): Node[] {
    const { list, end } = this.parseList();
    if (end !== 'eof') throw parseError(this.tokens[this.i - 1]!.line, `unexpected {{${end}}}`);
    return list;
  }

  /** Parses nodes until `{{end}}`, `{{else}}` or EOF; returns which one stopped it. */
  private parseList(): { list: Node[]; end: 'eof' | 'end' | 'else' } {
    const list: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') return { list, end: 'eof' };
      if (t.kind === 'text') {
        list.push({ type: 'text', text: t.value });
        continue;
      }
      // t is `{{`
      const k = this.peekNonSpace();
      if (k.kind === 'keyword') {
        this.skipSpace();
        this.next();
        switch (k.value) {
          case 'end':
            this.expectRight('end');
            return { list, end: 'end' };
          case 'else':
            return { list, end: 'else' };
          case 'if':
          case 'with':
          case 'range':
            list.push(this.parseControl(k.value));
            continue;
          default:
            throw parseError(k.line, `{{${k.value}}} is not supported by brig's template engine`);
        }
      }
      const pipe = this.parsePipeline('command', true);
      if (pipe.cmds.length === 0) throw parseError(t.line, 'missing value for command');
      list.push({ type: 'action', pipe });
    }
  }

  private expectRight(context: string): void {
    this.skipSpace();
    const t = this.next();
    if (t.kind !== 'right') throw this.unexpected(t, context);
  }

  private parseControl(kind: 'if' | 'with' | 'range'): Node {
    this.vars.push([]);
    const pipe = this.parsePipeline(kind, kind === 'range');
    if (pipe.cmds.length === 0) throw parseError(pipe.line, `missing value for ${kind}`);
    const body = this.parseList();
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      // `{{else if …}}` / `{{else with …}}` nest a new control in the else branch
      const n = this.peekNonSpace();
      if (n.kind === 'keyword' && (n.value === 'if' || n.value === 'with') && kind !== 'range') {
        this.skipSpace();
        this.next();
        elseList = [this.parseControl(n.value)];
        this.vars.pop();
        return { type: kind, pipe, list: body.list, elseList };
      }
      this.expectRight('else');
      const rest = this.parseList();
      if (rest.end !== 'end') throw parseError(this.tokens[this.i - 1]!.line, rest.end === 'eof' ? 'unexpected EOF' : 'expected end; found {{else}}');
      elseList = rest.list;
    } else if (body.end === 'eof') {
      throw parseError(this.tokens[this.i - 1]!.line, 'unexpected EOF');
    }
    this.vars.pop();
    return { type: kind, pipe, list: body.list, elseList };
  }

  private declared(name: string): boolean {
    return this.vars.some((scope) => scope.includes(name));
  }

  private parsePipeline(context: string, allowDecl: boolean): Pipeline {
    this.skipSpace();
    const start = this.peek();
    const decl: string[] = [];
    // `$x :=`, `$k, $v :=`
    if (start.kind === 'variable') {
      const save = this.i;
      const names: string[] = [];
      for (;;) {
        this.skipSpace();
        const v = this.peek();
        if (v.kind !== 'variable') break;
        this.next();
        names.push(v.value);
        this.skipSpace();
        const sep = this.peek();
        if (sep.kind === 'comma' && allowDecl && context === 'range' && names.length === 1) {
          this.next();
          continue;
        }
        if (sep.kind === 'declare' || sep.kind === 'assign') {
          this.next();
          decl.push(...names);
        }
        break;
      }
      if (decl.length === 0) this.i = save;
    }
    const cmds: Operand[][] = [];
    for (;;) {
      this.skipSpace();
      const t = this.peek();
      if (t.kind === 'right' || t.kind === 'rparen') {
        if (t.kind === 'right') this.next();
        break;
      }
      if (t.kind === 'eof') throw this.unexpected(t, context);
      const cmd = this.parseCommand(context);
      cmds.push(cmd);
      this.skipSpace();
      const sep = this.peek();
      if (sep.kind === 'pipe') {
        this.next();
        this.skipSpace();
        const after = this.peek();
        if (after.kind === 'right' || after.kind === 'rparen') throw parseError(after.line, 'missing value for command');
        continue;
      }
      if (sep.kind === 'right' || sep.kind === 'rparen') continue;
      throw this.unexpected(sep, 'operand');
    }
    const scope = this.vars[this.vars.length - 1]!;
    scope.push(...decl);
    return { decl, cmds, pos: start.pos, line: start.line };
  }

  private parseCommand(context: string): Operand[] {
    const ops: Operand[] = [];
    for (;;) {
      this.skipSpace();
      const t = this.peek();
      if (t.kind === 'right' || t.kind === 'rparen' || t.kind === 'pipe') break;
      if (t.kind === 'eof') throw this.unexpected(t, context);
      ops.push(this.parseOperand());
      const after = this.peek();
      if (after.kind !== 'space' && after.kind !== 'right' && after.kind !== 'rparen' && after.kind !== 'pipe') {
        throw this.unexpected(after, 'operand');
      }
    }
    if (ops.length === 0) throw parseError(this.peek().line, 'empty command');
    return ops;
  }

  private parseOperand(): Operand {
    const t = this.next();
    const chain = (): string[] => {
      const names: string[] = [];
      while (this.peek().kind === 'field') names.push(this.next().value);
      return names;
    };
    switch (t.kind) {
      case 'field': {
        const names = [t.value, ...chain()];
        return { type: 'field', names, pos: t.pos, line: t.line, text: `.${names.join('.')}` };
      }
      case 'dot':
        if (this.peek().kind === 'field') throw parseError(t.line, 'unexpected . after term "."');
        return { type: 'dot', pos: t.pos, line: t.line, text: '.' };
      case 'variable': {
        if (!this.declared(t.value)) throw parseError(t.line, `undefined variable "${t.value}"`);
        const names = chain();
        return { type: 'variable', name: t.value, names, pos: t.pos, line: t.line, text: [t.value, ...names].join('.') };
      }
      case 'identifier':
        if (!Object.hasOwn(this.funcs, t.value)) throw parseError(t.line, `function "${t.value}" not defined`);
        return { type: 'function', name: t.value, pos: t.pos, line: t.line, text: t.value };
      case 'string':
        return { type: 'literal', value: t.value, pos: t.pos, line: t.line, text: JSON.stringify(t.value) };
      case 'bool':
        return { type: 'literal', value: t.value === 'true', pos: t.pos, line: t.line, text: t.value };
      case 'nil':
        return { type: 'literal', value: null, pos: t.pos, line: t.line, text: 'nil' };
      case 'number': {
        const clean = t.value.replace(/_/g, '');
        const n = /^[+-]?0[xX]/.test(clean) ? parseInt(clean, 16) : Number(clean);
        if (Number.isNaN(n)) throw parseError(t.line, `bad number syntax: "${t.value}"`);
        return { type: 'literal', value: n, pos: t.pos, line: t.line, text: t.value };
      }
      case 'lparen': {
        const pipe = this.parsePipeline('parenthesized pipeline', false);
        const close = this.next();
        if (close.kind !== 'rparen') throw this.unexpected(close, 'parenthesized pipeline');
        const names = chain();
        return { type: 'pipe', pipe, names, pos: t.pos, line: t.line, text: '(…)' };
      }
      default:
        throw this.unexpected(t, 'operand');
    }
  }
}

// ---------------------------------------------------------------- execution

class ExecError extends Error {}

class Executor {
  private readonly out: string[] = [];
  private vars: [string, unknown][] = [];
  private node: Operand | undefined;

  private readonly src: string;
  private readonly funcs: Readonly<Record<string, TemplateFunction>>;

  constructor(src: string, funcs: Readonly<Record<string, TemplateFunction>>) {
    this.src = src;
    this.funcs = funcs;
  }

  fail(message: string): never {
    const n = this.node;
    if (n === undefined) throw new TemplateError(`template: :1:0: executing "" at <>: ${message}`);
    const before = this.src.slice(0, n.pos);
    const nl = before.lastIndexOf('\n');
    const col = nl === -1 ? n.pos : n.pos - (nl + 1);
    throw new ExecError(`template: :${n.line}:${col}: executing "" at <${n.text}>: ${message}`);
  }

  run(list: Node[], root: unknown): string {
    this.vars = [['$', root]];
    try {
      this.walk(list, root);
    } catch (err) {
      if (err instanceof ExecError) throw new TemplateError(err.message);
      throw err;
    }
    return this.out.join('');
  }

  private walk(list: Node[], dot: unknown): void {
    for (const n of list) {
      switch (n.type) {
        case 'text':
          this.out.push(n.text);
          break;
        case 'action': {
          const v = this.pipeline(n.pipe, dot);
          if (n.pipe.decl.length === 0) this.out.push(goPrint(v));
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipeline(n.pipe, dot);
          if (truth(v)) this.walk(n.list, n.type === 'with' ? v : dot);
          else if (n.elseList) this.walk(n.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case 'range': {
          const mark = this.vars.length;
          const v = this.pipeline({ ...n.pipe, decl: [] }, dot);
          const items: [unknown, unknown][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : isPlainMap(v)
              ? Object.keys(v).sort(compareBytes).map((k) => [k, v[k]])
              : typeof v === 'number' && Number.isInteger(v)
                ? Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i])
                : v === null || v === NO_VALUE
                  ? []
                  : this.fail(`range can't iterate over ${goPrint(v)}`);
          for (const [k, x] of items) {
            const inner = this.vars.length;
            const d = n.pipe.decl;
            if (d.length === 1) this.vars.push([d[0]!, x]);
            if (d.length === 2) this.vars.push([d[0]!, k], [d[1]!, x]);
            this.walk(n.list, x);
            this.vars.length = inner;
          }
          if (items.length === 0 && n.elseList) this.walk(n.elseList, dot);
          this.vars.length = mark;
          break;
        }
      }
    }
  }

  private pipeline(p: Pipeline, dot: unknown): unknown {
    let value: unknown;
    let has = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, has ? [value] : []);
      has = true;
    }
    for (const name of p.decl) this.vars.push([name, value]);
    return value;
  }

  private variable(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]![0] === name) return this.vars[i]![1];
    return this.fail(`undefined variable: ${name}`);
  }

  private command(cmd: Operand[], dot: unknown, final: unknown[]): unknown {
    const [first, ...rest] = cmd as [Operand, ...Operand[]];
    const args = () => [...rest.map((o) => this.arg(o, dot)), ...final];
    this.node = first;
    switch (first.type) {
      case 'field': {
        const a = args();
        this.node = first;
        return this.chain(dot, first.names, a);
      }
      case 'variable': {
        const a = args();
        this.node = first;
        return this.chain(this.variable(first.name), first.names, a);
      }
      case 'pipe': {
        if (rest.length > 0 || (final.length > 0 && first.names.length === 0)) this.fail(`can't give argument to non-function ${first.text}`);
        const v = this.pipeline(first.pipe, dot);
        this.node = first;
        return first.names.length ? this.chain(v, first.names, args()) : v;
      }
      case 'function': {
        const a = args();
        this.node = first;
        return this.call(first.name, a);
      }
      case 'dot':
      case 'literal':
        if (rest.length > 0 || final.length > 0) this.fail(`can't give argument to non-function ${first.text}`);
        return first.type === 'dot' ? dot : first.value;
    }
  }

  private arg(o: Operand, dot: unknown): unknown {
    this.node = o;
    switch (o.type) {
      case 'dot':
        return dot;
      case 'literal':
        return o.value;
      case 'field':
        return this.chain(dot, o.names, []);
      case 'variable':
        return this.chain(this.variable(o.name), o.names, []);
      case 'pipe': {
        const v = this.pipeline(o.pipe, dot);
        this.node = o;
        return o.names.length ? this.chain(v, o.names, []) : v;
      }
      case 'function':
        return this.call(o.name, []);
    }
  }

  private call(name: string, args: unknown[]): unknown {
    const f = this.funcs[name]!;
    const fixed = f.params.length;
    if (f.variadic ? args.length < fixed : args.length !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${fixed} got ${args.length}`);
    }
    f.params.forEach((kind, i) => {
      try {
        checkKind(args[i], kind);
      } catch (err) {
        this.fail((err as Error).message);
      }
    });
    try {
      return f.call(...args);
    } catch (err) {
      const msg = (err as Error).message;
      return this.fail(msg.startsWith('error calling') ? msg : `error calling ${name}: ${msg}`);
    }
  }

  private chain(receiver: unknown, names: string[], args: unknown[]): unknown {
    let v = receiver;
    names.forEach((name, i) => {
      v = this.field(v, name, i === names.length - 1 ? args : []);
    });
    if (names.length === 0 && args.length > 0) this.fail(`can't give argument to non-function ${goPrint(receiver)}`);
    return v;
  }

  private field(receiver: unknown, name: string, args: unknown[]): unknown {
    if (receiver instanceof TemplateObject) {
      const m = Object.hasOwn(receiver.members, name) ? receiver.members[name] : undefined;
      if (m === undefined) {
        if (receiver.options.missingAsNoValue) return NO_VALUE;
        return this.fail(`can't evaluate field ${name} in type ${receiver.typeName}`);
      }
      if (args.length !== m.length) {
        if (m.length === 0) return this.fail(`${name} is not a method but has arguments`);
        return this.fail(`wrong number of args for ${name}: want ${m.length} got ${args.length}`);
      }
      for (const a of args) {
        try {
          checkKind(a, 'string');
        } catch (err) {
          this.fail((err as Error).message);
        }
      }
      return (m as (...a: unknown[]) => unknown)(...args);
    }
    if (isPlainMap(receiver)) {
      if (args.length > 0) return this.fail(`${name} is not a method but has arguments`);
      return Object.hasOwn(receiver, name) ? receiver[name] : NO_VALUE;
    }
    if (receiver === NO_VALUE || receiver === null || receiver === undefined) {
      return this.fail(`nil pointer evaluating interface {}.${name}`);
    }
    return this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }
}

/** A parsed template; `execute` may be called any number of times. */
export class Template {
  private readonly src: string;
  private readonly tree: Node[];

  private constructor(src: string, tree: Node[]) {
    this.src = src;
    this.tree = tree;
  }

  /** Parses `src`; throws TemplateError (`template: :LINE: …`) on syntax errors or unknown functions. */
  static parse(src: string): Template {
    const tokens = lex(src);
    return new Template(src, new Parser(tokens, BASIC_FUNCTIONS).parseTemplate());
  }

  /** Runs the template on `data`; `funcs` replaces the function set (docker's table headers). */
  execute(data: unknown, funcs: Readonly<Record<string, TemplateFunction>> = BASIC_FUNCTIONS): string {
    return new Executor(this.src, funcs).run(this.tree, data);
  }
}
