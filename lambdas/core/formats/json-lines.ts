/**
 * JSON lines: one JSON object per line, its keys kept as the document's fields (reserved names
 * such as `@timestamp` and `log` renamed to `@timestamp_original` and `log_original`, see
 * {@link unreservedFieldName}). The event time comes from `options.timestampField` read with
 * `options.timestampFormat`, or else from `@timestamp`, `timestamp` or `time` when one of them
 * holds a recognisable time.
 *
 * Configured timestamps are strict, defaults lenient: a record whose configured field holds a
 * value the format cannot read is an error (the configuration and the data disagree, which someone
 * should hear about), while a record without the field, or a default field holding something that
 * is not a time, is an event stamped with the object's LastModified.
 *
 * @see https://jsonlines.org/
 */
import { isJsonObject, jsonObjectFields, parseUntrustedJson, quoteJson } from '../json';
import { compileTimestampFormat, isoFromAnyTimestamp, type TimestampReader } from '../time';
import type { LogFormat, ParserContext, RecordParser, RecordResult } from '../types';

/**
 * Parses a record that must be one JSON object (the JSON formats' shared first step).
 *
 * @returns the object, or an Error saying why the text is not one.
 */
export function parseJsonObjectRecord(record: string): Record<string, unknown> | Error {
  const value = parseUntrustedJson(record);
  if (value instanceof Error || isJsonObject(value)) return value;
  return new Error(`expected a JSON object, found ${jsonTypeOf(value)}`);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** A member of a parsed JSON object, read without ever reaching `Object.prototype`. */
export function ownMember(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/** The value at `path`: a top-level key as written, else dot-separated keys into nested objects. */
function valueAtPath(object: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(object, path) || !path.includes('.')) return ownMember(object, path);
  let value: unknown = object;
  for (const name of path.split('.')) {
    if (!isJsonObject(value)) return undefined;
    value = ownMember(value, name);
  }
  return value;
}

const DEFAULT_TIMESTAMP_FIELDS = ['@timestamp', 'timestamp', 'time'];

/**
 * Reads a time field's value with `timestampFormat` (epoch or ISO-8601 when undefined).
 *
 * @returns the timestamp; undefined when the value is not a time and `strict` is false; an Error
 *   naming the field and the value when it is not a time and `strict` is true.
 */
export type TimeFieldReader = (field: string, value: unknown) => string | undefined | Error;

/** A {@link TimeFieldReader}; `referenceMillis` supplies the year to patterns without one. */
export function timeFieldReader(
  timestampFormat: string | undefined,
  strict: boolean,
  referenceMillis: number | undefined,
): TimeFieldReader {
  const read: TimestampReader =
    timestampFormat === undefined ? isoFromAnyTimestamp : compileTimestampFormat(timestampFormat);
  const expected = timestampFormat ?? 'epoch or ISO-8601';
  return (field, value) => {
    const timestamp = read(value, referenceMillis);
    if (timestamp !== undefined || !strict) return timestamp;
    return new Error(
      `${field} ${quoteJson((typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 100))} is not a time in the format ${expected}`,
    );
  };
}

/** The record's time: from the first candidate field that is present (see the module comment). */
function recordTime(
  object: Record<string, unknown>,
  candidates: readonly string[],
  readTime: TimeFieldReader,
): string | undefined | Error {
  for (const field of candidates) {
    const value = valueAtPath(object, field);
    if (value === undefined || value === null) continue;
    const timestamp = readTime(field, value);
    if (timestamp !== undefined) return timestamp;
  }
  return undefined;
}

function createJsonLinesParser(context: ParserContext): RecordParser {
  const { timestampField, timestampFormat } = context.options;
  const candidates = timestampField === undefined ? DEFAULT_TIMESTAMP_FIELDS : [timestampField];
  const configured = timestampField !== undefined || timestampFormat !== undefined;
  const readTime = timeFieldReader(timestampFormat, configured, context.object.lastModified);
  return {
    parse(record: string): RecordResult {
      const object = parseJsonObjectRecord(record);
      if (object instanceof Error) return { kind: 'error', reason: object.message };
      const timestamp = recordTime(object, candidates, readTime);
      if (timestamp instanceof Error) return { kind: 'error', reason: timestamp.message };
      return {
        kind: 'event',
        ...(timestamp === undefined ? {} : { timestamp }),
        fields: jsonObjectFields(object),
      };
    },
  };
}

/** JSON lines (`json`): any JSON object per line. */
export const jsonLinesFormat: LogFormat = {
  name: 'json',
  framing: 'lines',
  // No AWS service writes generic JSON lines under a key of its own.
  matchesKey: () => false,
  matchesContent: (firstLine) => {
    const line = firstLine.trim();
    return line.startsWith('{') && line.endsWith('}') && isJsonObject(parseUntrustedJson(line));
  },
  createParser: createJsonLinesParser,
};
