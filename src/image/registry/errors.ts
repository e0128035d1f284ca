/**
 * Registry failures as EngineErrors. A distribution registry answers errors as
 * `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":…}]}`; the message
 * brig shows is the one Docker shows (`manifest unknown: manifest unknown`).
 */
import type { IncomingMessage } from 'node:http';
import { EngineError, type ErrorCode } from '../../errors.js';

export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** An error answered by a registry (or its token server), with the HTTP status and error codes. */
export class RegistryError extends EngineError {
  readonly status: number;
  readonly entries: RegistryErrorEntry[];

  constructor(code: ErrorCode, message: string, status: number, entries: RegistryErrorEntry[]) {
    super(code, message);
    this.status = status;
    this.entries = entries;
  }

  /** The first registry error code (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `UNAUTHORIZED`, `DENIED`, …), if any. */
  get registryCode(): string | undefined {
    return this.entries[0]?.code;
  }
}

const MAX_ERROR_BODY = 64 * 1024;

/** Parses a registry error body; unknown shapes give no entries. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const list = (doc as { errors?: unknown; details?: unknown }).errors;
  if (!Array.isArray(list)) {
    const details = (doc as { details?: unknown }).details;
    return typeof details === 'string' ? [{ code: 'UNAUTHORIZED', message: details }] : [];
  }
  const out: RegistryErrorEntry[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const code = (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    out.push({ code: typeof code === 'string' ? code : 'UNKNOWN', message: typeof message === 'string' ? message : '' });
  }
  return out;
}

/** `MANIFEST_UNKNOWN` + `manifest unknown` → `manifest unknown: manifest unknown` (Docker's errcode format). */
export function formatEntry(e: RegistryErrorEntry): string {
  const code = e.code.toLowerCase().replace(/_/g, ' ');
  return e.message ? `${code}: ${e.message}` : code;
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'ERR_UNAUTHORIZED';
  if (status === 403) return 'ERR_FORBIDDEN';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 400 || status === 405 || status === 416) return 'ERR_INVALID_ARGUMENT';
  return 'ERR_UNAVAILABLE';
}

/** Reads (at most 64 KiB of) an error response and turns it into a RegistryError. */
export async function registryErrorFrom(res: IncomingMessage, what: string): Promise<RegistryError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of res as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_ERROR_BODY) break;
      chunks.push(c);
    }
  } catch {
    /* the body is only for the message */
  } finally {
    res.destroy();
  }
  const status = res.statusCode ?? 0;
  const entries = parseErrorBody(Buffer.concat(chunks).toString('utf8'));
  const message = entries.length > 0
    ? entries.map(formatEntry).join('; ')
    : `${what}: unexpected status ${status} ${res.statusMessage ?? ''}`.trim();
  return new RegistryError(codeForStatus(status), message, status, entries);
}
