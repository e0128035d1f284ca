/**
 * Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`) with Docker's back-off:
 * the delay starts at 100 ms and doubles at every restart up to one minute, and falls back to
 * 100 ms once a run lasted at least 10 seconds.
 */
import type { RestartPolicy } from '../model/container.js';

export const INITIAL_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 60_000;
/** A run at least this long resets the back-off. */
export const BACKOFF_RESET_RUN_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  /** Restarts so far (RestartCount). */
  restartCount: number;
  manuallyStopped: boolean;
  /** How long the run that just ended lasted. */
  ranMs: number;
  /** The daemon is shutting down: nothing is restarted. */
  shuttingDown: boolean;
}

/** Whether the policy restarts a container that just exited. */
export function shouldRestart(policy: RestartPolicy, f: ExitFacts): boolean {
  if (f.manuallyStopped || f.shuttingDown) return false;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return f.exitCode !== 0 && (policy.maximumRetryCount === 0 || f.restartCount < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** The next delay, given the previous one (0 = none yet) and how long the last run lasted. */
export function nextBackoff(previousMs: number, ranMs: number): number {
  if (previousMs === 0 || ranMs >= BACKOFF_RESET_RUN_MS) return INITIAL_BACKOFF_MS;
  return Math.min(previousMs * 2, MAX_BACKOFF_MS);
}
