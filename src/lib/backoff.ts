/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads retries of
 * many workers so they do not hit a recovering broker in lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1; the share of the delay that is randomised. 1 = full jitter. */
  jitter?: number;
}

export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = options.jitter ?? 1;
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}
