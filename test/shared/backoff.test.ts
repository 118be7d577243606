import { fullJitterDelayMs } from '../../lambdas/shared/backoff';

describe('fullJitterDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('doubles the ceiling per retry up to the maximum', () => {
    // Prepare: the largest random number, so the delay is the ceiling (floored).
    const top = () => 0.999_999;

    // Act
    const delays = [0, 1, 2, 3, 4, 10].map((retry) => fullJitterDelayMs(retry, policy, top));

    // Assess
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('spreads delays from zero to the ceiling', () => {
    expect(fullJitterDelayMs(3, policy, () => 0)).toBe(0);
    expect(fullJitterDelayMs(3, policy, () => 0.5)).toBe(400);
  });
});
