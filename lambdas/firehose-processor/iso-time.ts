/**
 * ISO-8601 UTC timestamps for a stream of event times. `Date#toISOString` costs about a
 * microsecond, which at 100,000 events a batch is a visible share of the JSON output's time;
 * events of one batch mostly share their second, so the formatter reuses the text up to the
 * seconds and only writes the milliseconds.
 */
import { isoFromEpochMillis } from '../core/time';

/** Formats epoch milliseconds as `YYYY-MM-DDTHH:mm:ss.sssZ`, caching the current second. */
export class IsoTimeFormatter {
  private second = Number.NaN;
  private secondPrefix = '';

  /** The ISO-8601 UTC form of `millis`, which must be a valid `Date` time. */
  format(millis: number): string {
    const whole = Math.floor(millis);
    const second = Math.floor(whole / 1000);
    if (second !== this.second) {
      const iso = isoFromEpochMillis(second * 1000);
      // Years beyond 9999 have a longer, signed form; those are rare enough to format whole.
      if (iso === undefined || iso.length !== 24) return isoFromEpochMillis(whole) ?? '';
      this.second = second;
      this.secondPrefix = iso.slice(0, 20);
    }
    const fraction = whole - second * 1000;
    return `${this.secondPrefix}${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}Z`;
  }
}
