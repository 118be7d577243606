/**
 * Partition keys for Firehose dynamic partitioning: which keys exist, how an event's time maps to
 * its UTC hour (or coarser) partition, and how a log group, log stream or host name becomes a
 * value that is safe inside an S3 prefix.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
 */
import { createHash } from 'node:crypto';

/** Every partition key the processor can return, in the order of a conventional S3 prefix. */
export const PARTITION_KEY_NAMES = ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'] as const;

/** A partition key's name, as used in `!{partitionKeyFromLambda:<name>}`. */
export type PartitionKeyName = (typeof PARTITION_KEY_NAMES)[number];

/** The partition keys of one output record: only the configured keys are present. */
export type PartitionKeys = Partial<Record<PartitionKeyName, string>>;

/** The time part of the keys, from the coarsest unit to the finest. */
const TIME_KEY_NAMES = ['year', 'month', 'day', 'hour'] as const;
type TimeKeyName = (typeof TIME_KEY_NAMES)[number];

/** Longest value a log group, log stream or host key can have, so that a whole prefix stays far below S3's 1,024-byte key limit. */
export const MAX_PARTITION_VALUE_LENGTH = 200;

/** Length of the SHA-256 hex digest appended to a shortened value. */
const DIGEST_LENGTH = 16;

/** Marks a shortened value. The encoding below always escapes `!`, so it cannot occur in a full value. */
const SHORTENED_MARK = '!';

/** The value written for an empty name: syslog's NILVALUE, which is what an absent host looks like on the wire. */
export const EMPTY_PARTITION_VALUE = '-';

// What java.net.URLEncoder (and therefore Athena's url_encode) leaves unescaped.
const UNESCAPED = /^[A-Za-z0-9._*-]+$/;
// What encodeURIComponent leaves unescaped but URLEncoder escapes.
const ESCAPED_BY_URL_ENCODER_ONLY = /[!~'()]/g;
const ONLY_DOTS = /^\.+$/;

/**
 * Makes a log group, log stream or host name safe as one S3 prefix segment, reversibly.
 *
 * The mapping is form URL encoding, exactly as `java.net.URLEncoder` and Athena's `url_encode`
 * write it: ASCII letters, digits and `. - * _` stay as they are; a space becomes `+`; every other
 * character becomes the `%XX` escapes of its UTF-8 bytes (upper-case hex). So `/` becomes `%2F`
 * (`/aws/lambda/orders` → `%2Faws%2Flambda%2Forders`), control characters become `%00`–`%1F`, and
 * the value never contains a `/`, a control character or a byte outside printable ASCII. Athena's
 * `url_decode(logGroup)` (or Python's `urllib.parse.unquote_plus`) gives the original name back,
 * and `WHERE logGroup = url_encode('/aws/lambda/orders')` finds it. A lone UTF-16 surrogate,
 * which no valid name holds, is written as U+FFFD first.
 *
 * Two exceptions keep every segment usable: an empty name becomes {@link EMPTY_PARTITION_VALUE}
 * (`-`), and a name made only of dots has its dots escaped (`%2E`), so no segment reads as `.` or
 * `..`. A value longer than {@link MAX_PARTITION_VALUE_LENGTH} characters after encoding is cut
 * there: its first characters (never half an escape) are kept, followed by `!` and the first 16
 * hex digits of the SHA-256 of the original name, so two long names that share a beginning still
 * land in different partitions and the `!` tells a reader that the value was shortened.
 */
export function safePartitionValue(name: string): string {
  // A batch repeats a few log groups and streams many times over.
  const cached = safeValues.get(name);
  if (cached !== undefined) return cached;
  const value = computeSafeValue(name);
  if (safeValues.size >= MAX_CACHED_VALUES) safeValues.clear();
  safeValues.set(name, value);
  return value;
}

const MAX_CACHED_VALUES = 1000;
const safeValues = new Map<string, string>();

function computeSafeValue(name: string): string {
  if (name === '') return EMPTY_PARTITION_VALUE;
  const encoded = UNESCAPED.test(name) ? name : formUrlEncode(name);
  const safe = ONLY_DOTS.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
  return safe.length <= MAX_PARTITION_VALUE_LENGTH ? safe : shorten(name);
}

// A high surrogate without its low half, or a low one without its high half.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function formUrlEncode(name: string): string {
  // encodeURIComponent throws on a lone surrogate; String#toWellFormed is not in the ES2023 lib.
  return encodeURIComponent(name.replace(LONE_SURROGATE, '\ufffd'))
    .replace(
      ESCAPED_BY_URL_ENCODER_ONLY,
      (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
    )
    .replaceAll('%20', '+');
}

function shorten(name: string): string {
  const room = MAX_PARTITION_VALUE_LENGTH - SHORTENED_MARK.length - DIGEST_LENGTH;
  // Whole characters only: never half a `%XX` escape, nor part of a multi-byte character's escapes.
  let kept = '';
  for (const character of name) {
    const piece = UNESCAPED.test(character) ? character : formUrlEncode(character);
    if (kept.length + piece.length > room) break;
    kept += piece;
  }
  const digest = createHash('sha256').update(name).digest('hex').slice(0, DIGEST_LENGTH);
  return `${kept}${SHORTENED_MARK}${digest}`;
}

/** A span of time that maps to one set of time partition keys: `[start, end)` in epoch milliseconds. */
export interface TimeBucket {
  readonly start: number;
  readonly end: number;
  /** The configured time keys of this bucket (`year`, `month`, `day`, `hour`), in UTC. */
  readonly keys: PartitionKeys;
}

const HOUR_MILLIS = 3_600_000;
const DAY_MILLIS = 24 * HOUR_MILLIS;

/** The first instant `Date` (and therefore ISO-8601 output) can represent, epoch milliseconds. */
export const MIN_EVENT_TIME = -8.64e15;
/** The last instant `Date` can represent, epoch milliseconds. */
export const MAX_EVENT_TIME = 8.64e15;

/** True when `millis` is an epoch-millisecond time a `Date` (and so a partition) can represent. */
export function isPartitionableTime(millis: number): boolean {
  return Number.isFinite(millis) && millis >= MIN_EVENT_TIME && millis <= MAX_EVENT_TIME;
}

/**
 * Maps an event time to its time partition, with the finest configured unit as the bucket width:
 * with `hour` configured every UTC hour is its own bucket; without it, every day; and so on.
 * Values use the digits of Firehose's own `yyyy/MM/dd/HH` prefix: a four-digit year and two-digit
 * month, day and hour.
 */
export class TimePartitioner {
  private readonly timeKeys: readonly TimeKeyName[];
  private readonly finest: TimeKeyName | undefined;
  private last: TimeBucket | undefined;

  constructor(keys: readonly PartitionKeyName[]) {
    this.timeKeys = TIME_KEY_NAMES.filter((name) => keys.includes(name));
    this.finest = this.timeKeys.at(-1);
  }

  /** The bucket holding `millis`, which must pass {@link isPartitionableTime}. */
  bucketOf(millis: number): TimeBucket {
    const last = this.last;
    // Events arrive mostly in time order, so the previous bucket almost always answers.
    if (last !== undefined && millis >= last.start && millis < last.end) return last;
    const bucket = this.computeBucket(millis);
    this.last = bucket;
    return bucket;
  }

  private computeBucket(millis: number): TimeBucket {
    const date = new Date(millis);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth();
    const day = date.getUTCDate();
    const hour = date.getUTCHours();
    let start: number;
    let end: number;
    switch (this.finest) {
      case undefined:
        return { start: MIN_EVENT_TIME, end: MAX_EVENT_TIME + 1, keys: {} };
      case 'hour':
        start = Math.floor(millis / HOUR_MILLIS) * HOUR_MILLIS;
        end = start + HOUR_MILLIS;
        break;
      case 'day':
        start = Math.floor(millis / DAY_MILLIS) * DAY_MILLIS;
        end = start + DAY_MILLIS;
        break;
      case 'month':
        start = utcMonthStart(year, month);
        end = utcMonthStart(year, month + 1);
        break;
      case 'year':
        start = utcMonthStart(year, 0);
        end = utcMonthStart(year + 1, 0);
        break;
    }
    const values: Record<TimeKeyName, string> = {
      year: padded(year, 4),
      month: padded(month + 1, 2),
      day: padded(day, 2),
      hour: padded(hour, 2),
    };
    const keys: PartitionKeys = {};
    for (const name of this.timeKeys) keys[name] = values[name];
    return { start, end, keys };
  }
}

// Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear takes the year as given.
function utcMonthStart(year: number, month: number): number {
  return new Date(0).setUTCFullYear(year, month, 1);
}

function padded(value: number, digits: number): string {
  const text = String(Math.abs(value)).padStart(digits, '0');
  return value < 0 ? `-${text}` : text;
}
