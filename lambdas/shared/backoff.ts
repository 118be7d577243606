/**
 * Exponential backoff with full jitter: the n-th retry waits a random time between zero and
 * `min(max, base × 2ⁿ)`, which spreads out clients that failed together instead of having them
 * retry in lockstep.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */

/** The delay ceilings of a backoff. */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, in milliseconds. */
  readonly baseMs: number;
  /** The ceiling never grows past this. */
  readonly maxMs: number;
}

/**
 * How long to wait before retry number `retry` (0 for the first retry).
 *
 * @param random a source of numbers in [0, 1), for tests; `Math.random` by default.
 */
export function fullJitterDelayMs(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** retry));
}
