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
