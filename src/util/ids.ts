/** Container and exec identifiers: 64 random hex digits, like Docker's. */
import { randomBytes } from 'node:crypto';

export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // Docker never hands out an all-digit short ID, so it cannot be mistaken for a number.
    if (!/^[0-9]{12}/.test(id)) return id;
  }
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
