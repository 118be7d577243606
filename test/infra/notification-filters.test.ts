/**
 * S3 refuses overlapping notification filters for one event type, so sources become a set of
 * pairwise non-overlapping filters that still cover every source's keys.
 */
import type { LogSource } from '../../lambdas/core/log-sources';
import { filtersOverlap, type KeyFilter, notificationFiltersFor } from '../../lib/notification-filters';

function keyMatches(filter: KeyFilter, key: string): boolean {
  return key.startsWith(filter.prefix) && key.endsWith(filter.suffix);
}

function expectPairwiseDisjoint(filters: readonly KeyFilter[]): void {
  filters.forEach((first, i) => {
    for (const second of filters.slice(i + 1)) expect(filtersOverlap(first, second)).toBe(false);
  });
}

describe('filtersOverlap', () => {
  it.each([
    [{ prefix: 'a/', suffix: '' }, { prefix: 'a/b/', suffix: '.gz' }, true],
    [{ prefix: 'a/', suffix: '.gz' }, { prefix: 'a/', suffix: '.log' }, false],
    [{ prefix: 'a/', suffix: '.gz' }, { prefix: 'b/', suffix: '.gz' }, false],
    [{ prefix: '', suffix: '.log.gz' }, { prefix: 'x/', suffix: '.gz' }, true],
  ])('%j and %j overlap: %s', (first, second, expected) => {
    expect(filtersOverlap(first, second)).toBe(expected);
  });
});

describe('notificationFiltersFor', () => {
  it('keeps disjoint sources as they are', () => {
    const sources: LogSource[] = [
      { prefix: 'alb/', format: 'alb' },
      { prefix: 'cloudfront/', suffix: '.gz', format: 'cloudfront' },
      { prefix: 'waf/', suffix: '.gz', format: 'waf' },
    ];

    expect(notificationFiltersFor(sources)).toEqual([
      { prefix: 'alb/', suffix: '' },
      { prefix: 'cloudfront/', suffix: '.gz' },
      { prefix: 'waf/', suffix: '.gz' },
    ]);
  });

  it('merges sources that differ only by key pattern into one filter', () => {
    const sources: LogSource[] = [
      { prefix: 'AWSLogs/', keyPattern: '/elasticloadbalancing/', format: 'alb' },
      { prefix: 'AWSLogs/', keyPattern: '/vpcflowlogs/', format: 'vpcflow' },
    ];

    expect(notificationFiltersFor(sources)).toEqual([{ prefix: 'AWSLogs/', suffix: '' }]);
  });

  it('widens a chain of partial overlaps until none is left, covering every source key', () => {
    // Prepare: a/ + .gz overlaps a/b/ (any suffix); their cover a/ then overlaps a/c/ + .log
    const sources: LogSource[] = [
      { prefix: 'a/', suffix: '.gz', format: 'alb' },
      { prefix: 'b/', suffix: '.log', format: 'syslog' },
      { prefix: 'a/b/', format: 'json' },
      { prefix: 'a/c/', suffix: '.log', format: 'syslog' },
      { prefix: 'c/', suffix: '.json', format: 'json' },
    ];
    const sampleKeys = ['a/x.gz', 'a/b/y.txt', 'a/c/z.log', 'b/q.log', 'c/d.json'];

    // Act
    const filters = notificationFiltersFor(sources);

    // Assess
    expectPairwiseDisjoint(filters);
    for (const key of sampleKeys) expect(filters.some((filter) => keyMatches(filter, key))).toBe(true);
    expect(filters).toEqual([
      { prefix: 'a/', suffix: '' },
      { prefix: 'b/', suffix: '.log' },
      { prefix: 'c/', suffix: '.json' },
    ]);
  });

  it('announces every key when a source has only a key pattern', () => {
    const sources: LogSource[] = [
      { prefix: 'alb/', format: 'alb' },
      { keyPattern: '\\.syslog$', format: 'syslog' },
    ];

    expect(notificationFiltersFor(sources)).toEqual([{ prefix: '', suffix: '' }]);
  });
});
