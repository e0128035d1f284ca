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
  'able', 'agile', 'alert', 'amber', 'ample', 'apt', 'azure', 'blithe', 'bold', 'brave', 'breezy', 'bright',
  'brisk', 'calm', 'candid', 'careful', 'cheery', 'civil', 'clean', 'clear', 'clever', 'cosy', 'crisp', 'curious',
  'daring', 'dapper', 'deft', 'devoted', 'eager', 'earnest', 'easy', 'elated', 'epic', 'even', 'exact', 'fair',
  'faithful', 'fancy', 'fearless', 'fervent', 'festive', 'fine', 'firm', 'fleet', 'fond', 'frank', 'free', 'fresh',
  'friendly', 'gallant', 'gentle', 'genial', 'gifted', 'glad', 'golden', 'grand', 'grateful', 'great', 'hardy',
  'happy', 'hearty', 'helpful', 'honest', 'humble', 'jolly', 'jovial', 'joyful', 'just', 'keen', 'kind', 'lively',
  'loyal', 'lucid', 'lucky', 'mellow', 'merry', 'mighty', 'modest', 'neat', 'nimble', 'noble', 'patient', 'placid',
  'plucky', 'polite', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'robust', 'rosy', 'serene', 'sharp', 'shiny',
  'silent', 'sincere', 'sleek', 'smart', 'snug', 'solid', 'spry', 'steady', 'stout', 'sturdy', 'sunny', 'swift',
  'tidy', 'trusty', 'upbeat', 'valiant', 'vivid', 'warm', 'wise', 'witty', 'zesty',
];
const NOUNS = [
  'anchor', 'astrolabe', 'ballast', 'barge', 'beacon', 'berth', 'bilge', 'binnacle', 'bollard', 'bosun', 'bow',
  'bowline', 'brigantine', 'bulwark', 'buoy', 'cabin', 'capstan', 'cargo', 'catamaran', 'chart', 'clipper',
  'coracle', 'corvette', 'cove', 'crow', 'cutter', 'davit', 'deck', 'dhow', 'dinghy', 'dock', 'dory', 'ensign',
  'fathom', 'ferry', 'fleet', 'frigate', 'galleon', 'galley', 'gangway', 'gig', 'gunwale', 'halyard', 'harbor',
  'hatch', 'hawser', 'helm', 'hull', 'jetty', 'jib', 'junk', 'kayak', 'keel', 'ketch', 'knot', 'lagoon', 'lantern',
  'launch', 'lighthouse', 'log', 'longboat', 'mainsail', 'marina', 'mast', 'mooring', 'oar', 'pennant', 'pier',
  'pilot', 'pinnace', 'port', 'prow', 'punt', 'quay', 'raft', 'reef', 'rigging', 'rudder', 'sail', 'schooner',
  'sextant', 'shoal', 'skiff', 'sloop', 'spar', 'spinnaker', 'starboard', 'steamer', 'stern', 'tack', 'tender',
  'tide', 'tiller', 'trawler', 'trireme', 'tug', 'wake', 'wharf', 'winch', 'yacht', 'yard', 'yawl',
];

/** A random readable name; the caller retries on collision. */
export function generateName(): string {
  const a = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
  const n = NOUNS[randomInt(NOUNS.length)]!;
  return `${a}_${n}`;
}
