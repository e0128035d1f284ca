/**
 * Errors the client raises: `ApiError` for an HTTP error answer, and the connection failure.
 *
 * Both are `EngineError`s, so callers match on `code`/`category` (404 → not-found, 409 → conflict…)
 * exactly as they would inside the engine; `ApiError.status` keeps the wire status for callers that
 * must mirror the docker CLI (pull-on-404, inspect fallbacks).
 */
import { STATUS_CODES } from 'node:http';
import { EngineError, type ErrorCode } from '../errors.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'ERR_INVALID_ARGUMENT',
  401: 'ERR_UNAUTHORIZED',
  403: 'ERR_FORBIDDEN',
  404: 'ERR_NOT_FOUND',
  409: 'ERR_CONFLICT',
  501: 'ERR_NOT_IMPLEMENTED',
  503: 'ERR_UNAVAILABLE',
};

/** A daemon answer with status ≥ 400. `message` is what the docker CLI would print after "Error response from daemon: ". */
export class ApiError extends EngineError {
  readonly status: number;
  readonly method: string;
  readonly path: string;

  constructor(status: number, message: string, method: string, path: string) {
    super(CODE_BY_STATUS[status] ?? 'ERR_INTERNAL', message);
    this.name = 'ApiError';
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}

/** True for `application/json`, with or without parameters such as `; charset=utf-8`. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * The message of an error answer, following the docker CLI's `checkResponseErr`:
 * `{"message"}` from a JSON body, a non-JSON body verbatim, and Docker's texts for an empty body
 * or a JSON body without `message`.
 *
 * One deliberate difference: the docker CLI parses the body only for a Content-Type of exactly
 * `application/json` and prints `{"message":…}` raw for `application/json; charset=utf-8`. brig's
 * client accepts the parameter, since it is valid HTTP; the daemon must still send it bare for the
 * docker CLI (engine-api.md §4).
 */
export function errorMessageFromBody(status: number, contentType: string | undefined, body: string, route: string): string {
  const text = body.trim();
  if (text === '') {
    const statusText = STATUS_CODES[status] ?? '';
    return `request returned ${status} ${statusText} for API route and version ${route}, check if the server supports the requested API version`;
  }
  if (isJsonContentType(contentType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return `Error reading JSON: ${text}`;
    }
    const message = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
    if (typeof message === 'string' && message !== '') return message;
    return `API returned a ${status} (${STATUS_CODES[status] ?? 'Unknown'}) but provided no error-message`;
  }
  return text;
}

/** The daemon's socket cannot be reached (missing, refused, or not permitted). */
export function connectionError(socketPath: string, cause: NodeJS.ErrnoException): EngineError {
  const host = `unix://${socketPath}`;
  if (cause.code === 'EACCES' || cause.code === 'EPERM') {
    return new EngineError(
      'ERR_FORBIDDEN',
      `permission denied while trying to connect to the brig daemon socket at ${host}: ${cause.message}`,
      { cause },
    );
  }
  return new EngineError('ERR_UNAVAILABLE', `Cannot connect to the brig daemon at ${host}. Is the brig daemon running?`, {
    cause,
  });
}

const CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK']);

export function isConnectFailure(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | null;
  return e !== null && typeof e === 'object' && e.syscall === 'connect' && CONNECT_ERRORS.has(e.code ?? '');
}
