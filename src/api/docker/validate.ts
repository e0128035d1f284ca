/**
 * Field readers for Docker request bodies: each checks the JSON type and names the field in its
 * error (`json: cannot unmarshal … into HostConfig.Memory`), so bad input always gets a clear 400.
 */
import { EngineError } from '../../errors.js';

export type Json = Record<string, unknown>;

function typeError(field: string, want: string, got: unknown): EngineError {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  return new EngineError('ERR_INVALID_ARGUMENT', `invalid value for ${field}: expected ${want}, got ${kind}`);
}

export function object(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeError(field, 'an object', v);
  return v as Json;
}

export function optObject(o: Json, key: string, field: string): Json | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : object(v, field);
}

export function optString(o: Json, key: string, field: string, dflt = ''): string {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw typeError(field, 'a string', v);
  return v;
}

export function optBool(o: Json, key: string, field: string, dflt = false): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw typeError(field, 'a boolean', v);
  return v;
}

export function optInt(o: Json, key: string, field: string, dflt = 0): number {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(field, 'an integer', v);
  return v;
}

export function optIntOrNull(o: Json, key: string, field: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return optInt(o, key, field);
}

export function optStringArray(o: Json, key: string, field: string): string[] | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw typeError(field, 'an array of strings', v);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw typeError(`${field}[${i}]`, 'a string', x);
  });
  return v as string[];
}

/** Docker's StrSlice: a string or an array of strings. */
export function optStrSlice(o: Json, key: string, field: string): string[] | null {
  const v = o[key];
  if (typeof v === 'string') return [v];
  return optStringArray(o, key, field);
}

export function optStringMap(o: Json, key: string, field: string): Record<string, string> {
  const v = optObject(o, key, field);
  if (!v) return {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw typeError(`${field}.${k}`, 'a string', x);
  }
  return v as Record<string, string>;
}

/** Keys of a `{ "80/tcp": {} }`-style set. */
export function optKeySet(o: Json, key: string, field: string): string[] {
  return Object.keys(optObject(o, key, field) ?? {});
}

/** True if a value is "unset" in Docker's sense: undefined, null, empty string/array/object, 0 or false. */
export function isUnset(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}
