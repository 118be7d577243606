/**
 * A limit on how many tasks run at once, for the indexer's messages: Powertools' batch processor
 * runs either one record at a time or all of them at once, and neither is what a batch of small
 * objects wants (one at a time leaves the function waiting on S3 and OpenSearch round trips; all
 * ten at once multiplies memory and cluster load by ten).
 */

/** Runs `task` when fewer than the limit are running; resolves or rejects as the task does. */
export type ConcurrencyLimiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A limiter that runs at most `limit` tasks at once, starting waiting tasks in the order they came.
 *
 * @throws RangeError when `limit` is not an integer ≥ 1.
 */
export function boundedConcurrency(limit: number): ConcurrencyLimiter {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError('the concurrency limit must be an integer ≥ 1');
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < limit) running++;
    // The slot is handed over by `release` without being freed, so no later caller can take it first.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}
