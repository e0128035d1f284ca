/**
 * Decoder for Docker's JSON message streams (pull, push, load, import, build progress): a
 * concatenation of JSON objects, usually one per line but not necessarily (clients use a streaming
 * decoder, so the client must not rely on newlines or on chunk boundaries).
 */
import { EngineError } from '../errors.js';
import type { JsonMessage } from './types.js';

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Yields each top-level JSON object of `source` as soon as its closing brace arrives, parsed by
 * `parse` (default `JSON.parse`; a caller may rewrite the text first, e.g. to keep 64-bit integers).
 * Throws ERR_INVALID_JSON for text between objects or for a stream ending inside an object.
 */
export async function* decodeJsonObjects(
  source: AsyncIterable<Buffer | string>,
  parse: (text: string) => unknown = JSON.parse,
): AsyncGenerator<unknown> {
  let pending: Buffer[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (depth === 0) {
        if (isSpace(b)) {
          start = i + 1;
          continue;
        }
        if (b !== OPEN) {
          throw new EngineError('ERR_INVALID_JSON', `invalid character ${JSON.stringify(String.fromCharCode(b))} in JSON message stream`);
        }
      }
      if (b === QUOTE) inString = true;
      else if (b === OPEN) depth++;
      else if (b === CLOSE) {
        depth--;
        if (depth === 0) {
          pending.push(chunk.subarray(start, i + 1));
          const text = Buffer.concat(pending).toString('utf8');
          pending = [];
          start = i + 1;
          try {
            yield parse(text);
          } catch (err) {
            if (err instanceof SyntaxError) throw new EngineError('ERR_INVALID_JSON', `invalid JSON message: ${err.message}`);
            throw err;
          }
        }
      }
    }
    if (depth > 0 || inString) pending.push(chunk.subarray(start));
  }
  if (depth > 0 || inString) throw new EngineError('ERR_INVALID_JSON', 'JSON message stream ended inside a message');
}

/** A progress stream's in-band failure (`{"errorDetail":{"message"},"error"}`). */
export class ProgressError extends EngineError {
  /** `errorDetail.code` when the daemon set one (a failed build step's exit code). */
  readonly detailCode: number | undefined;

  constructor(message: string, detailCode: number | undefined) {
    super('ERR_INTERNAL', message);
    this.name = 'ProgressError';
    this.detailCode = detailCode;
  }
}

/**
 * Yields the messages of a progress stream and throws `ProgressError` at the first error message.
 * Like the docker CLI, `errorDetail` decides; the deprecated `error` string is a fallback.
 */
export async function* jsonMessages(source: AsyncIterable<Buffer | string>): AsyncGenerator<JsonMessage> {
  for await (const value of decodeJsonObjects(source)) {
    const msg = value as JsonMessage;
    if (msg.errorDetail !== undefined && msg.errorDetail !== null) {
      throw new ProgressError(msg.errorDetail.message ?? msg.error ?? 'unknown error', msg.errorDetail.code);
    }
    if (typeof msg.error === 'string' && msg.error !== '') throw new ProgressError(msg.error, undefined);
    yield msg;
  }
}
