/**
 * Timestamp helpers shared by the formats. Every document's `@timestamp` is ISO-8601 UTC ending
 * in `Z`; these turn the many ways AWS writes a time into that one form.
 */

import type { CodeUnits } from './char-codes';
import * as charCodes from './char-codes';

// Hot per-character helpers as local bindings: where modules are compiled to CommonJS one by one
// (tsx, Jest), every use of an imported name goes through a getter, a cost per character here.
const { codeUnitAt } = charCodes;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Epoch milliseconds as ISO-8601 UTC, or undefined when out of the Date range. */
export function isoFromEpochMillis(millis: number): string | undefined {
  if (!Number.isFinite(millis) || Math.abs(millis) > 8.64e15) return undefined;
  return new Date(millis).toISOString();
}

// The day part of the last whole-second time formatted: a log file's times fall on few days.
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/**
 * Epoch seconds as ISO-8601 UTC (`2014-12-14T04:06:50.000Z`), as {@link isoFromEpochMillis} would
 * write them, several times faster for whole seconds from 1970 to 9999: VPC Flow Logs stamp every
 * record this way, and building a Date per record was a third of their parsing time.
 */
export function isoFromEpochSeconds(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 253_402_300_799)
    return isoFromEpochMillis(seconds * 1000);
  const day = Math.floor(seconds / 86_400);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    cachedDay = day;
  }
  const secondOfDay = seconds - day * 86_400;
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  return `${cachedDayPrefix}${twoDigits(hour)}:${twoDigits(minute)}:${twoDigits(secondOfDay % 60)}.000Z`;
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
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const DAY_MILLIS = 86_400_000;

/** A date and time of day as a log writes it, month 1-12, in no zone yet. */
export interface DateTimeParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/**
 * The parts read as UTC, in epoch milliseconds.
 *
 * @returns undefined when the parts name no real date or time (31 February, 24:00).
 */
export function utcMillisFromParts(parts: DateTimeParts): number | undefined {
  const { year, month, day, hour, minute, second, millisecond } = parts;
  return utcMillisOf(year, month, day, hour, minute, second, millisecond);
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

// Plain arguments, not an object: syslog calls this for every RFC 3164 line, up to nine times.
function utcMillisOf(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let millis = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  if (year >= 0 && year < 100) {
    // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear keeps them as written.
    const date = new Date(millis);
    date.setUTCFullYear(year);
    millis = date.getTime();
  }
  return Number.isFinite(millis) && Math.abs(millis) <= 8.64e15 ? millis : undefined;
}

/**
 * How far after the reference time a date without a year may lie and still belong to the
 * reference's year: the sender's local time may run up to 14 hours ahead of UTC, plus clock skew.
 */
export const INFERRED_YEAR_TOLERANCE_MILLIS = 2 * DAY_MILLIS;

/**
 * Epoch milliseconds of a date written without a year (RFC 3164 syslog's `Dec 31 23:59:59`), in
 * the latest year that does not put it after `referenceMillis` (the time the object was written)
 * by more than {@link INFERRED_YEAR_TOLERANCE_MILLIS}. So a December line in an object written in
 * January belongs to the previous year, and 29 February goes back to the last leap year.
 *
 * @returns undefined when the parts name no real date in any nearby year.
 */
export function utcMillisInferringYear(
  parts: Omit<DateTimeParts, 'year'>,
  referenceMillis: number,
): number | undefined {
  const { month, day, hour, minute, second, millisecond } = parts;
  const referenceYear = new Date(referenceMillis).getUTCFullYear();
  // Eight years back always reaches a leap year, even across 2100.
  for (let year = referenceYear + 1; year >= referenceYear - 8; year -= 1) {
    const millis = utcMillisOf(year, month, day, hour, minute, second, millisecond);
    if (millis !== undefined && millis <= referenceMillis + INFERRED_YEAR_TOLERANCE_MILLIS) return millis;
  }
  return undefined;
}

const MONTH_BY_NAME = new Map<string, number>([
  ...MONTHS.map((name, index): [string, number] => [name.toLowerCase(), index + 1]),
  ...[
    'january',
    'february',
    'march',
    'april',
    'may',
    'june',
    'july',
    'august',
    'september',
    'october',
    'november',
    'december',
  ].map((name, index): [string, number] => [name, index + 1]),
]);

/** The month (1-12) an English month name or its three-letter abbreviation names, in any case. */
export function monthFromName(name: string): number | undefined {
  return MONTH_BY_NAME.get(name.toLowerCase());
}

const EPOCH_TEXT = /^-?\d{1,20}(?:\.\d{1,9})?$/;

function epochNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'string' && EPOCH_TEXT.test(value) ? Number(value) : undefined;
}

/**
 * An epoch number of unknown unit as ISO-8601 UTC, the unit guessed from its magnitude: below
 * 1e11 seconds (up to the year 5138), below 1e14 milliseconds (from 1973), below 1e17
 * microseconds, else nanoseconds.
 */
function isoFromEpochOfAnyUnit(epoch: number): string | undefined {
  const magnitude = Math.abs(epoch);
  if (magnitude < 1e11) return isoFromEpochMillis(epoch * 1000);
  if (magnitude < 1e14) return isoFromEpochMillis(epoch);
  return isoFromEpochMillis(magnitude < 1e17 ? epoch / 1000 : epoch / 1e6);
}

const ISO_DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_ZONELESS_WITH_SPACE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?$/;

/**
 * ISO-8601 text in the forms logs use: with `Z` or an offset, without a zone (read as UTC), with
 * a space instead of `T`, or a date alone (midnight UTC).
 *
 * @returns the UTC timestamp, or undefined when `text` is none of these.
 */
export function isoFromIso8601(text: string): string | undefined {
  if (ISO_DATE_ONLY.test(text)) return toIsoUtc(`${text}T00:00:00Z`);
  return toIsoUtcAssumingUtc(ISO_ZONELESS_WITH_SPACE.test(text) ? text.replace(' ', 'T') : text);
}

/**
 * A record's time in whatever common form it has: an epoch number or numeric string (unit guessed
 * from the magnitude, see {@link isoFromEpochOfAnyUnit}) or ISO-8601 text ({@link isoFromIso8601}).
 *
 * @returns the UTC timestamp, or undefined when `value` is not recognisably a time.
 */
export function isoFromAnyTimestamp(value: unknown): string | undefined {
  const epoch = epochNumber(value);
  if (epoch !== undefined) return isoFromEpochOfAnyUnit(epoch);
  return typeof value === 'string' ? isoFromIso8601(value) : undefined;
}

/**
 * Reads one record's time value as ISO-8601 UTC. `referenceMillis` (when the object was written)
 * supplies the year for patterns without one.
 *
 * @returns the UTC timestamp, or undefined when the value does not match the format.
 */
export type TimestampReader = (value: unknown, referenceMillis?: number) => string | undefined;

/**
 * Compiles a `timestampFormat` option once per object.
 *
 * - `epoch_millis`, `epoch_seconds`: a number, or a numeric string, fractions allowed.
 * - `iso8601`: see {@link isoFromIso8601}.
 * - otherwise a pattern in a subset of the Java/Joda letters: `yyyy` year, `yy` year 2000-2099,
 *   `MMMM` month name, `MMM` month abbreviation (any case), `MM`/`M` month number, `dd`/`d` day,
 *   `HH`/`H` hour 0-23, `hh`/`h` hour 1-12 with `a` for AM/PM, `mm` minute, `ss` second, `S`…
 *   (1 to 9 letters) that many fraction digits, `EEE`/`EEEE` a day name (checked loosely,
 *   ignored), `Z`/`ZZ`/`X`/`XX`/`XXX` a zone (`Z`, `+0100`, `+01:00`, `+01`). Any other letter is
 *   an error; `'text'` quotes literal letters (`''` is a quote); other characters stand for
 *   themselves. A time without a zone is UTC; a pattern without a year takes it from the
 *   reference time as {@link utcMillisInferringYear} does. Examples: `yyyy-MM-dd HH:mm:ss.SSS`,
 *   `dd/MMM/yyyy:HH:mm:ss Z`, `EEE MMM d HH:mm:ss yyyy`.
 *
 * @throws Error when the format is not one of these (a configuration error, reported once).
 */
export function compileTimestampFormat(format: string): TimestampReader {
  switch (format) {
    case 'epoch_millis':
      return (value) => {
        const epoch = epochNumber(value);
        return epoch === undefined ? undefined : isoFromEpochMillis(epoch);
      };
    case 'epoch_seconds':
      return (value) => {
        const epoch = epochNumber(value);
        return epoch === undefined ? undefined : isoFromEpochMillis(epoch * 1000);
      };
    case 'iso8601':
      return (value) => (typeof value === 'string' ? isoFromIso8601(value) : undefined);
    default:
      return compileTimestampPattern(format);
  }
}

type PartName =
  | 'year'
  | 'twoDigitYear'
  | 'month'
  | 'day'
  | 'hour'
  | 'twelveHour'
  | 'minute'
  | 'second'
  | 'fraction'
  | 'meridiem'
  | 'zone';

interface PatternToken {
  readonly regex: string;
  readonly part?: PartName;
}

const ZONE_REGEX = '(Z|[+-]\\d{2}(?::?\\d{2})?)';

function patternToken(letter: string, count: number): PatternToken | undefined {
  const exact = (digits: number): string => `(\\d{${digits}})`;
  switch (letter) {
    case 'y':
      if (count === 4) return { regex: exact(4), part: 'year' };
      return count === 2 ? { regex: exact(2), part: 'twoDigitYear' } : undefined;
    case 'M':
      if (count >= 3) return { regex: count === 3 ? '([A-Za-z]{3})' : '([A-Za-z]{3,9})', part: 'month' };
      return { regex: count === 2 ? exact(2) : '(\\d{1,2})', part: 'month' };
    case 'd':
    case 'H':
    case 'h':
    case 'm':
    case 's': {
      if (count > 2) return undefined;
      const part = ({ d: 'day', H: 'hour', h: 'twelveHour', m: 'minute', s: 'second' } as const)[letter];
      return { regex: count === 2 ? exact(2) : '(\\d{1,2})', part };
    }
    case 'S':
      return count <= 9 ? { regex: exact(count), part: 'fraction' } : undefined;
    case 'a':
      return count === 1 ? { regex: '([AaPp][Mm])', part: 'meridiem' } : undefined;
    case 'E':
      return count >= 3 ? { regex: '[A-Za-z]{3,9}' } : undefined;
    case 'Z':
    case 'X':
      return count <= 3 ? { regex: ZONE_REGEX, part: 'zone' } : undefined;
    default:
      return undefined;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function tokenizeTimestampPattern(pattern: string): { readonly regex: string; readonly parts: PartName[] } {
  let regex = '';
  const parts: PartName[] = [];
  let index = 0;
  while (index < pattern.length) {
    const char = pattern.charAt(index);
    if (char === "'") {
      const end = pattern.indexOf("'", index + 1);
      if (end < 0) throw new Error(`timestamp pattern "${pattern}": unclosed quote`);
      regex += end === index + 1 ? "'" : escapeRegex(pattern.slice(index + 1, end));
      index = end + 1;
    } else if (/[A-Za-z]/.test(char)) {
      let end = index + 1;
      while (pattern.charAt(end) === char) end += 1;
      const token = patternToken(char, end - index);
      if (token === undefined)
        throw new Error(
          `timestamp pattern "${pattern}": unsupported "${pattern.slice(index, end)}" (quote literal letters with '...')`,
        );
      if (token.part !== undefined) {
        if (parts.includes(token.part))
          throw new Error(`timestamp pattern "${pattern}": ${token.part} appears twice`);
        parts.push(token.part);
      }
      regex += token.regex;
      index = end;
    } else {
      regex += escapeRegex(char);
      index += 1;
    }
  }
  return { regex, parts };
}

function zoneOffsetMillis(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0');
  return (zone.startsWith('-') ? -minutes : minutes) * 60_000;
}

function compileTimestampPattern(pattern: string): TimestampReader {
  const { regex, parts } = tokenizeTimestampPattern(pattern);
  const has = (part: PartName): boolean => parts.includes(part);
  if (!has('month') || !has('day')) throw new Error(`timestamp pattern "${pattern}" needs a month and a day`);
  if (has('meridiem') !== has('twelveHour'))
    throw new Error(`timestamp pattern "${pattern}": 12-hour "h" and AM/PM "a" go together`);
  if ((has('hour') && has('twelveHour')) || (has('year') && has('twoDigitYear')))
    throw new Error(`timestamp pattern "${pattern}" names the hour or the year twice`);
  const matcher = new RegExp(`^${regex}$`);
  return (value, referenceMillis) => {
    if (typeof value !== 'string') return undefined;
    const match = matcher.exec(value);
    if (match === null) return undefined;
    const read = (part: PartName): string | undefined => {
      const index = parts.indexOf(part);
      return index < 0 ? undefined : match[index + 1];
    };
    const monthText = read('month') ?? '';
    const month = /^\d+$/.test(monthText) ? Number(monthText) : monthFromName(monthText);
    if (month === undefined) return undefined;
    const meridiem = read('meridiem')?.toLowerCase();
    const twelveHour = Number(read('twelveHour') ?? '12');
    if (meridiem !== undefined && (twelveHour < 1 || twelveHour > 12)) return undefined;
    const timeOfYear = {
      month,
      day: Number(read('day')),
      hour:
        meridiem === undefined
          ? Number(read('hour') ?? '0')
          : (twelveHour % 12) + (meridiem === 'pm' ? 12 : 0),
      minute: Number(read('minute') ?? '0'),
      second: Number(read('second') ?? '0'),
      millisecond: Number((read('fraction') ?? '').padEnd(3, '0').slice(0, 3)),
    };
    const fullYear = read('year');
    const shortYear = read('twoDigitYear');
    let millis: number | undefined;
    if (fullYear !== undefined || shortYear !== undefined) {
      const year = fullYear === undefined ? 2000 + Number(shortYear) : Number(fullYear);
      millis = utcMillisFromParts({ ...timeOfYear, year });
    } else if (referenceMillis !== undefined) {
      millis = utcMillisInferringYear(timeOfYear, referenceMillis);
    }
    if (millis === undefined) return undefined;
    const zone = read('zone');
    return isoFromEpochMillis(zone === undefined ? millis : millis - zoneOffsetMillis(zone));
  };
}

const ZERO_CODE = 48;
// Position and character code of each separator of `YYYY-MM-DDTHH:MM:SS`: `-` 45, `T` 84, `:` 58.
const ISO_SEPARATORS = [4, 45, 7, 45, 10, 84, 13, 58, 16, 58];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const LETTER_Z = 90;
const DOT_CODE = 46;

/** The number written by the `count` ASCII digits at `index`, or -1 when one is not a digit. */
function digitsAt(text: CodeUnits, index: number, count: number): number {
  let value = 0;
  for (let position = index; position < index + count; position++) {
    const digit = codeUnitAt(text, position) - ZERO_CODE;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Whether `[start, end)` of `text` has exactly the shape `YYYY-MM-DDTHH:MM:SS[.fraction]` followed
 * by `Z` (`zoned`) or by nothing, whatever its numbers; the fraction has 1 to 9 digits.
 */
function hasCanonicalIsoShape(text: CodeUnits, start: number, end: number, zoned: boolean): boolean {
  const length = end - start - (zoned ? 1 : 0);
  if (length < 19 || length === 20 || length > 29) return false;
  if (zoned && codeUnitAt(text, end - 1) !== LETTER_Z) return false;
  for (let index = 0; index < ISO_SEPARATORS.length; index += 2) {
    if (codeUnitAt(text, start + (ISO_SEPARATORS[index] as number)) !== ISO_SEPARATORS[index + 1])
      return false;
  }
  return (
    length === 19 ||
    (codeUnitAt(text, start + 19) === DOT_CODE && digitsAt(text, start + 20, length - 20) >= 0)
  );
}

/** Whether canonically shaped text at `start` names a real date and time of day (no 29 February 2023, no 24:00). */
function namesRealDateTime(text: CodeUnits, start: number): boolean {
  const year = digitsAt(text, start, 4);
  const month = digitsAt(text, start + 5, 2);
  const day = digitsAt(text, start + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  const hour = digitsAt(text, start + 11, 2);
  const minute = digitsAt(text, start + 14, 2);
  const second = digitsAt(text, start + 17, 2);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

/**
 * Whether `[start, end)` of `text` (a string, or UTF-8 bytes) is a real date and time written
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or, with `zoned` false, the same without the `Z` (which AWS
 * means as UTC: see {@link toIsoUtcAssumingUtc}). Text that passes is its own ISO-8601 UTC form
 * (with a `Z` appended when zoneless): the byte encoders copy it as it is, and
 * {@link toIsoUtcFast} returns it as it is, so both agree.
 */
export function isCanonicalIsoAt(text: CodeUnits, start: number, end: number, zoned: boolean): boolean {
  return hasCanonicalIsoShape(text, start, end, zoned) && namesRealDateTime(text, start);
}

/** The number written by the `count` ASCII digits of `bytes` at `index`, or -1 when one is not a digit. */
function digitBytesAt(bytes: Uint8Array, index: number, count: number): number {
  let value = 0;
  for (let position = index; position < index + count; position++) {
    const digit = (bytes[position] as number) - ZERO_CODE;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * {@link isCanonicalIsoAt} for UTF-8 bytes only, which the byte engines call for every time they
 * copy: a function that reads one kind of array compiles to plain loads, where the shared
 * string-or-bytes reader pays a type check per character. The same rules, in the same order.
 */
export function isCanonicalIsoBytes(bytes: Uint8Array, start: number, end: number, zoned: boolean): boolean {
  if (start < 0 || end > bytes.length) return false;
  const length = end - start - (zoned ? 1 : 0);
  if (length < 19 || length === 20 || length > 29) return false;
  if (zoned && bytes[end - 1] !== LETTER_Z) return false;
  for (let index = 0; index < ISO_SEPARATORS.length; index += 2) {
    if (bytes[start + (ISO_SEPARATORS[index] as number)] !== ISO_SEPARATORS[index + 1]) return false;
  }
  if (length > 19 && (bytes[start + 19] !== DOT_CODE || digitBytesAt(bytes, start + 20, length - 20) < 0))
    return false;
  const year = digitBytesAt(bytes, start, 4);
  const month = digitBytesAt(bytes, start + 5, 2);
  const day = digitBytesAt(bytes, start + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  const hour = digitBytesAt(bytes, start + 11, 2);
  const minute = digitBytesAt(bytes, start + 14, 2);
  const second = digitBytesAt(bytes, start + 17, 2);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

/**
 * {@link toIsoUtc} with a fast path for text in canonical UTC form (`2018-07-02T22:23:00.186641Z`,
 * returned as is): the ELB family writes two such times on every line of files that run to
 * hundreds of megabytes, and a character check costs a fraction of a regular expression plus
 * `Date.parse`. Canonical text that names no real time (29 February of a common year, `24:00`) is
 * refused, where `Date.parse` would roll it over; other text takes the {@link toIsoUtc} path.
 */
export function toIsoUtcFast(text: string): string | undefined {
  if (!hasCanonicalIsoShape(text, 0, text.length, true)) return toIsoUtc(text);
  return namesRealDateTime(text, 0) ? text : undefined;
}
