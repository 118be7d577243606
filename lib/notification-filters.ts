/**
 * S3 event notification filters from log sources. S3 rejects a notification configuration in which
 * two filters for the same event overlap ("Configurations overlap"), so overlapping sources are
 * merged into one broader filter; the indexer still resolves each key to its exact source.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html
 */
import type { LogSource } from '../lambdas/core/log-sources';

/** One S3 notification key filter; an empty string filters nothing on that side. */
export interface KeyFilter {
  readonly prefix: string;
  readonly suffix: string;
}

function onePrefixesTheOther(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

function oneSuffixesTheOther(a: string, b: string): boolean {
  return a.endsWith(b) || b.endsWith(a);
}

/** True when some key matches both filters: S3 calls such filters overlapping. */
export function filtersOverlap(a: KeyFilter, b: KeyFilter): boolean {
  return onePrefixesTheOther(a.prefix, b.prefix) && oneSuffixesTheOther(a.suffix, b.suffix);
}

/** The narrowest filter that matches every key either overlapping filter matches. */
function coverOf(a: KeyFilter, b: KeyFilter): KeyFilter {
  return {
    prefix: a.prefix.length <= b.prefix.length ? a.prefix : b.prefix,
    suffix: a.suffix.length <= b.suffix.length ? a.suffix : b.suffix,
  };
}

/**
 * The notification filters that announce every object of every source, pairwise non-overlapping.
 * A source with only a `keyPattern` cannot be expressed as a filter, so it widens to every key.
 */
export function notificationFiltersFor(sources: readonly LogSource[]): KeyFilter[] {
  const filters: KeyFilter[] = sources.map((source) => ({
    prefix: source.prefix ?? '',
    suffix: source.suffix ?? '',
  }));
  // Merging only widens filters, and each merge removes one, so this ends after at most n merges.
  let merged = true;
  while (merged) {
    merged = false;
    search: for (let i = 0; i < filters.length; i++) {
      for (let j = i + 1; j < filters.length; j++) {
        const first = filters[i];
        const second = filters[j];
        if (first === undefined || second === undefined || !filtersOverlap(first, second)) continue;
        filters.splice(j, 1);
        filters[i] = coverOf(first, second);
        merged = true;
        break search;
      }
    }
  }
  return filters;
}
