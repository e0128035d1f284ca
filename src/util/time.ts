/** Time formatting the Docker way: RFC 3339 with nanoseconds, and "About a minute"-style durations. */

/** Docker's zero time, used for FinishedAt/StartedAt that never happened. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * go-units `HumanDuration`: seconds and minutes truncate, hours round
 * ("Less than a second", "About a minute", "3 hours", "2 weeks"…).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** Parses an ISO timestamp to Unix seconds (0 for empty or zero time). */
export function unixSeconds(iso: string): number {
  if (!iso || iso.startsWith('0001-')) return 0;
  return Math.floor(Date.parse(iso) / 1000);
}
