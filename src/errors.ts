/**
 * The one error type of brig and its catalog.
 *
 * Every failure that can reach a user is an `EngineError` with a stable `code` and a `category`.
 * Categories follow containerd's errdefs; only `api/errors.ts` turns a category into an HTTP status,
 * and only the CLI decides how to print one. Callers match on `code`, never on `instanceof` chains.
 */

export type ErrorCategory =
  | 'not-found'
  | 'invalid-argument'
  | 'already-exists'
  | 'conflict'
  | 'failed-precondition'
  | 'not-modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'internal';

/** Catalog: each code declared once with its category. Messages are written at the throw site. */
export const ERROR_CODES = {
  ERR_NO_SUCH_CONTAINER: 'not-found',
  ERR_NO_SUCH_IMAGE: 'not-found',
  ERR_NO_SUCH_EXEC: 'not-found',
  ERR_NO_SUCH_OBJECT: 'not-found',
  ERR_NO_SUCH_NETWORK: 'not-found',
  ERR_NOT_FOUND: 'not-found',
  ERR_INVALID_ARGUMENT: 'invalid-argument',
  ERR_INVALID_JSON: 'invalid-argument',
  ERR_INVALID_NAME: 'invalid-argument',
  ERR_INVALID_REFERENCE: 'invalid-argument',
  ERR_INVALID_FILTER: 'invalid-argument',
  ERR_API_VERSION: 'invalid-argument',
  ERR_NAME_IN_USE: 'already-exists',
  ERR_CONFLICT: 'conflict',
  ERR_CONTAINER_RUNNING: 'conflict',
  ERR_CONTAINER_NOT_RUNNING: 'conflict',
  ERR_IMAGE_IN_USE: 'conflict',
  ERR_NETWORK_IN_USE: 'conflict',
  ERR_PORT_ALLOCATED: 'conflict',
  ERR_NOT_MODIFIED: 'not-modified',
  ERR_START_FAILED: 'invalid-argument',
  ERR_FORBIDDEN: 'forbidden',
  ERR_UNAUTHORIZED: 'unauthorized',
  ERR_UNAVAILABLE: 'unavailable',
  ERR_NOT_IMPLEMENTED: 'not-implemented',
  ERR_LIMIT_EXCEEDED: 'invalid-argument',
  ERR_UNSAFE_ARCHIVE: 'invalid-argument',
  ERR_RUNTIME: 'internal',
  ERR_INTERNAL: 'internal',
} as const satisfies Record<string, ErrorCategory>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface EngineErrorOptions {
  cause?: unknown;
  /** Extra text for a human, printed by the CLI after the message. */
  hint?: string;
}

export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.category = ERROR_CODES[code];
    this.hint = options.hint;
  }
}

export function isEngineError(err: unknown, code?: ErrorCode): err is EngineError {
  return err instanceof EngineError && (code === undefined || err.code === code);
}

/** Shorthands for the errors thrown most often. */
export const errors = {
  noSuchContainer: (ref: string) => new EngineError('ERR_NO_SUCH_CONTAINER', `No such container: ${ref}`),
  noSuchImage: (ref: string) => new EngineError('ERR_NO_SUCH_IMAGE', `No such image: ${ref}`),
  invalid: (message: string, cause?: unknown) => new EngineError('ERR_INVALID_ARGUMENT', message, { cause }),
  conflict: (message: string) => new EngineError('ERR_CONFLICT', message),
  notImplemented: (what: string) =>
    new EngineError('ERR_NOT_IMPLEMENTED', `${what} is not implemented by brig yet`),
  internal: (message: string, cause?: unknown) => new EngineError('ERR_INTERNAL', message, { cause }),
};
