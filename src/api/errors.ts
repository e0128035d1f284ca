/**
 * The only place an error becomes an HTTP status. Bodies are Docker's `{"message": …}` with
 * `Content-Type: application/json` exactly (a charset makes the docker CLI print raw JSON).
 */
import type { ServerResponse } from 'node:http';
import { EngineError, type ErrorCategory } from '../errors.js';

const STATUS: Record<ErrorCategory, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  'already-exists': 409,
  conflict: 409,
  'failed-precondition': 409,
  'not-modified': 304,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof EngineError ? STATUS[err.category] : 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Writes an error response (or just ends the response if headers already went out). */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
