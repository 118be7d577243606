/**
 * ISO-8601 UTC timestamps for a stream of event times. `Date#toISOString` costs about a
 * microsecond, which at 100,000 events a batch is a visible share of the JSON output's time;
 * events of one batch mostly share their minute, so the formatter reuses the text up to the
 * minutes and writes the seconds and milliseconds from tables.
 */
import { isoFromEpochMillis } from '../core/time';

const MINUTE_MILLIS = 60_000;
/** `YYYY-MM-DDTHH:mm:`. */
const MINUTE_PREFIX_LENGTH = 17;
const ZERO = 0x30;
const DOT = 0x2e;
const LETTER_Z = 0x5a;

/** The longest ISO-8601 text {@link IsoTimeFormatter.write} writes (a six-digit signed year). */
export const MAX_ISO_BYTES = 27;
const SECOND_DIGITS = Array.from({ length: 60 }, (_, second) => String(second).padStart(2, '0'));
const MILLISECOND_DIGITS = Array.from({ length: 1000 }, (_, millis) => String(millis).padStart(3, '0'));

/** Formats epoch milliseconds as `YYYY-MM-DDTHH:mm:ss.sssZ`, caching the current minute. */
export class IsoTimeFormatter {
  private minute = Number.NaN;
  private minutePrefix = '';
  private readonly minutePrefixBytes = Buffer.alloc(MINUTE_PREFIX_LENGTH);

  /** The ISO-8601 UTC form of `millis`, which must be a valid `Date` time. */
  format(millis: number): string {
    const whole = Math.floor(millis);
    const minute = Math.floor(whole / MINUTE_MILLIS);
    if (!this.cacheMinute(minute)) return isoFromEpochMillis(whole) ?? '';
    const inMinute = whole - minute * MINUTE_MILLIS;
    const second = Math.floor(inMinute / 1000);
    return `${this.minutePrefix}${SECOND_DIGITS[second]}.${MILLISECOND_DIGITS[inMinute - second * 1000]}Z`;
  }

  /**
   * Writes {@link format}`(millis)` as bytes at `at`, with room for {@link MAX_ISO_BYTES} there.
   *
   * @returns the position after it.
   */
  write(millis: number, bytes: Buffer, at: number): number {
    const whole = Math.floor(millis);
    const minute = Math.floor(whole / MINUTE_MILLIS);
    if (!this.cacheMinute(minute)) return at + bytes.write(isoFromEpochMillis(whole) ?? '', at, 'latin1');
    bytes.set(this.minutePrefixBytes, at);
    let position = at + MINUTE_PREFIX_LENGTH;
    const inMinute = whole - minute * MINUTE_MILLIS;
    const second = Math.floor(inMinute / 1000);
    const millisecond = inMinute - second * 1000;
    bytes[position++] = ZERO + Math.floor(second / 10);
    bytes[position++] = ZERO + (second % 10);
    bytes[position++] = DOT;
    bytes[position++] = ZERO + Math.floor(millisecond / 100);
    bytes[position++] = ZERO + (Math.floor(millisecond / 10) % 10);
    bytes[position++] = ZERO + (millisecond % 10);
    bytes[position++] = LETTER_Z;
    return position;
  }

  /** Makes `minute` the cached one; false when its time has no four-digit-year form. */
  private cacheMinute(minute: number): boolean {
    if (minute === this.minute) return true;
    const iso = isoFromEpochMillis(minute * MINUTE_MILLIS);
    // Years beyond 9999 have a longer, signed form; those are rare enough to format whole.
    if (iso === undefined || iso.length !== 24) return false;
    this.minute = minute;
    this.minutePrefix = iso.slice(0, MINUTE_PREFIX_LENGTH);
    this.minutePrefixBytes.write(this.minutePrefix, 'latin1');
    return true;
  }
}
