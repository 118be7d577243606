/**
 * Timestamp helpers shared by the formats. Every document's `@timestamp` is ISO-8601 UTC ending
 * in `Z`; these turn the many ways AWS writes a time into that one form.
 */

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Epoch milliseconds as ISO-8601 UTC, or undefined when out of the Date range. */
export function isoFromEpochMillis(millis: number): string | undefined {
  if (!Number.isFinite(millis) || Math.abs(millis) > 8.64e15) return undefined;
  return new Date(millis).toISOString();
}

/**
 * An ISO-8601 timestamp in UTC form. Text already in UTC (`...Z`) is returned as is, keeping
 * sub-millisecond digits (ALB writes microseconds); an offset is converted to UTC (milliseconds).
 *
 * @returns the UTC timestamp, or undefined when `text` is not an ISO-8601 date-time.
 */
export function toIsoUtc(text: string): string | undefined {
  if (ISO_UTC.test(text)) return Number.isNaN(Date.parse(text)) ? undefined : text;
  if (!ISO_WITH_OFFSET.test(text)) return undefined;
  return isoFromEpochMillis(Date.parse(text.replace(' ', 'T')));
}

/**
 * An ISO-8601 date-time that may lack a zone, which AWS then means as UTC (NLB access logs write
 * `2018-12-20T02:59:40`). Text with `Z` or an offset is read as {@link toIsoUtc} reads it.
 *
 * @returns the UTC timestamp, or undefined when `text` is not an ISO-8601 date-time.
 */
export function toIsoUtcAssumingUtc(text: string): string | undefined {
  return ISO_ZONELESS.test(text) ? toIsoUtc(`${text}Z`) : toIsoUtc(text);
}

const ISO_ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?$/;
const COMMON_LOG_TIME = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A Common Log Format time (`06/Feb/2019:00:00:38 +0000`, as S3 server access logs write it
 * between brackets) as ISO-8601 UTC, with the offset applied.
 *
 * @returns the UTC timestamp, or undefined when `text` is not such a time or names no real date.
 */
export function isoFromCommonLogTime(text: string): string | undefined {
  const match = COMMON_LOG_TIME.exec(text);
  if (match === null) return undefined;
  const [day, year, hour, minute, second, offsetHours, offsetMinutes] = [1, 3, 4, 5, 6, 8, 9].map((group) =>
    Number(match[group]),
  ) as [number, number, number, number, number, number, number];
  const month = MONTHS.indexOf(match[2] ?? '');
  if (month < 0 || hour > 23 || minute > 59 || second > 59 || offsetMinutes > 59) return undefined;
  const local = Date.UTC(year, month, day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March: a day that changes on the way back is not a real date.
  if (new Date(local).getUTCDate() !== day) return undefined;
  const offsetMillis = (offsetHours * 60 + offsetMinutes) * 60_000;
  return isoFromEpochMillis(match[7] === '-' ? local + offsetMillis : local - offsetMillis);
}
