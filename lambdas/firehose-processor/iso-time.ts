/**
 * ISO-8601 UTC timestamps for a stream of event times. `Date#toISOString` costs about a
 * microsecond, which at 100,000 events a batch is a visible share of the JSON output's time;
 * events of one batch mostly share their minute, so the formatter reuses the text up to the
 * minutes and writes the seconds and milliseconds from tables.
 */
import { isoFromEpochMillis } from '../core/time';

const MINUTE_MILLIS = 60_000;
const SECOND_DIGITS = Array.from({ length: 60 }, (_, second) => String(second).padStart(2, '0'));
const MILLISECOND_DIGITS = Array.from({ length: 1000 }, (_, millis) => String(millis).padStart(3, '0'));

/** Formats epoch milliseconds as `YYYY-MM-DDTHH:mm:ss.sssZ`, caching the current minute. */
export class IsoTimeFormatter {
  private minute = Number.NaN;
  private minutePrefix = '';

  /** The ISO-8601 UTC form of `millis`, which must be a valid `Date` time. */
  format(millis: number): string {
    const whole = Math.floor(millis);
    const minute = Math.floor(whole / MINUTE_MILLIS);
    if (minute !== this.minute) {
      const iso = isoFromEpochMillis(minute * MINUTE_MILLIS);
      // Years beyond 9999 have a longer, signed form; those are rare enough to format whole.
      if (iso === undefined || iso.length !== 24) return isoFromEpochMillis(whole) ?? '';
      this.minute = minute;
      this.minutePrefix = iso.slice(0, 17);
    }
    const inMinute = whole - minute * MINUTE_MILLIS;
    const second = Math.floor(inMinute / 1000);
    return `${this.minutePrefix}${SECOND_DIGITS[second]}.${MILLISECOND_DIGITS[inMinute - second * 1000]}Z`;
  }
}
