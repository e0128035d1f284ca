/** Container names: validation (Docker's rule) and generated `adjective_noun` names. */
import { randomInt } from 'node:crypto';
import { EngineError } from '../errors.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validates a user-given container name and strips the optional leading slash. */
export function parseContainerName(raw: string): string {
  if (!NAME_RE.test(raw)) {
    throw new EngineError(
      'ERR_INVALID_NAME',
      `Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  return raw.replace(/^\//, '');
}

const ADJECTIVES = [
  'brave', 'calm', 'clever', 'eager', 'fair', 'gentle', 'happy', 'keen', 'lucid', 'merry',
  'nimble', 'plucky', 'quiet', 'rapid', 'steady', 'sturdy', 'swift', 'tidy', 'vivid', 'wise',
  'bold', 'bright', 'crisp', 'daring', 'deft', 'frank', 'grand', 'hardy', 'jolly', 'lively',
];
const NOUNS = [
  'anchor', 'bosun', 'capstan', 'compass', 'cutter', 'dinghy', 'ensign', 'frigate', 'galley', 'harbor',
  'helm', 'hull', 'keel', 'ketch', 'lantern', 'mast', 'pilot', 'quay', 'rudder', 'schooner',
  'sextant', 'sloop', 'spar', 'tiller', 'wharf', 'yawl', 'bowline', 'buoy', 'cove', 'tide',
];

/** A random readable name; the caller retries on collision. */
export function generateName(): string {
  const a = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
  const n = NOUNS[randomInt(NOUNS.length)]!;
  return `${a}_${n}`;
}
