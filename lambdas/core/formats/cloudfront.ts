/**
 * CloudFront standard logs (legacy and v2 in W3C form): tab-separated values whose names come from
 * the file's own `#Fields:` header line.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 */
import { unreservedFieldName } from '../json';
import { isoFromEpochMillis } from '../time';
import type { LogFormat, RecordParser, RecordResult } from '../types';
import { type DelimitedField, type DelimitedLayout, DelimitedRecordWriter, decimalJson } from './delimited';

/** The documented field list, for a file that starts without its header (a part of a file). */
export const CLOUDFRONT_DEFAULT_FIELDS =
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) ' +
  'cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol ' +
  'cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type ' +
  'cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte ' +
  'x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';

/** Fields holding counts, sizes, ports, codes and durations (v2 adds `asn`, header counts and origin latencies). */
const NUMERIC_FIELDS = new Set([
  'sc_bytes',
  'sc_status',
  'cs_bytes',
  'time_taken',
  'c_port',
  'time_to_first_byte',
  'sc_content_len',
  'sc_range_start',
  'sc_range_end',
  'asn',
  'cs_headers_count',
  'origin_fbl',
  'origin_lbl',
]);

/**
 * Fields CloudFront URL-encodes to keep them free of tabs and spaces: request headers (user agent,
 * referer, cookie) and the query string. They are decoded once, so `%20` reads as a space; a value
 * with a malformed escape is kept as written. `cs_uri_stem` is kept as written: it is the path as
 * requested, where an escape such as `%2F` means something else than the character it encodes.
 */
const URL_ENCODED_FIELDS = new Set(['cs_referer', 'cs_user_agent', 'cs_uri_query', 'cs_cookie']);

/** Header names beyond this many are not learned; their values land in `extra_fields`. */
const MAX_HEADER_FIELDS = 256;

/** `cs(User-Agent)` → `cs_user_agent`, `x-edge-location` → `x_edge_location`, `timestamp(ms)` → `timestamp_ms`. */
export function cloudfrontFieldName(headerName: string): string {
  return headerName
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Epoch seconds with a fraction (v2 `timestamp`) as ISO-8601 UTC. */
function isoFromEpochSecondsText(text: string): string | undefined {
  const json = decimalJson(text, 0, text.length);
  return json === undefined ? undefined : isoFromEpochMillis(Math.round(Number(json) * 1000));
}

/** Epoch milliseconds (v2 `timestamp(ms)`) as ISO-8601 UTC. */
function isoFromEpochMillisText(text: string): string | undefined {
  const json = decimalJson(text, 0, text.length);
  return json === undefined ? undefined : isoFromEpochMillis(Number(json));
}

function fieldFor(name: string): DelimitedField {
  if (name === 'date') return { name, kind: 'event-date' };
  if (name === 'time') return { name, kind: 'event-clock' };
  if (name === 'timestamp') return { name, kind: 'event-time', parse: isoFromEpochSecondsText };
  if (name === 'timestamp_ms') return { name, kind: 'event-time', parse: isoFromEpochMillisText };
  if (NUMERIC_FIELDS.has(name)) return { name, kind: 'number' };
  if (URL_ENCODED_FIELDS.has(name)) return { name, kind: 'url-encoded' };
  return { name, kind: 'string' };
}

/**
 * The layout a `#Fields:` list describes. Names are made safe for documents: reserved names are
 * renamed as `unreservedFieldName` does (`log` → `log_original`; `@timestamp` already lost its
 * `@`), an empty name becomes `field_<position>`, and a repeated name gets a `_2`, `_3`… suffix so
 * no document has a key twice.
 */
export function cloudfrontLayout(fieldList: string): DelimitedLayout {
  const used = new Set<string>(['extra_fields', 'invalid_fields']);
  const isUsed = (name: string): boolean => used.has(name);
  const fields = fieldList
    .split(/\s+/)
    .filter((name) => name !== '')
    .slice(0, MAX_HEADER_FIELDS)
    .map((headerName, index) => {
      const name = unreservedFieldName(cloudfrontFieldName(headerName) || `field_${index + 1}`, isUsed);
      let unique = name;
      for (let suffix = 2; used.has(unique); suffix++) unique = `${name}_${suffix}`;
      used.add(unique);
      return fieldFor(unique);
    });
  const lastTimeField = fields.findLastIndex((field) => field.kind.startsWith('event-'));
  return {
    description: 'CloudFront standard log entry',
    syntax: { separator: 'tab', quotes: false, brackets: false },
    minimumValues: Math.max(1, lastTimeField + 1),
    fields,
  };
}

const FIELDS_DIRECTIVE = '#Fields:';

/** One parser a file: it learns the field list from each `#Fields:` line it meets. */
function createCloudfrontParser(): RecordParser {
  let writer = new DelimitedRecordWriter(cloudfrontLayout(CLOUDFRONT_DEFAULT_FIELDS));
  return {
    parse(line: string): RecordResult {
      if (line.startsWith('#')) {
        if (line.startsWith(FIELDS_DIRECTIVE)) {
          writer = new DelimitedRecordWriter(cloudfrontLayout(line.slice(FIELDS_DIRECTIVE.length)));
        }
        return { kind: 'skip' };
      }
      return writer.write(line);
    },
  };
}

// `<prefix>/<distribution-id>.YYYY-MM-DD-HH.<unique>.gz`.
const CLOUDFRONT_KEY = /(?:^|\/)[A-Z0-9]{8,}\.\d{4}-\d{2}-\d{2}-\d{2}\.[0-9A-Za-z]+(?:\.gz)?$/;
const CLOUDFRONT_FIRST_LINE =
  /^(?:#Version:|#Fields: date\ttime|#Fields: date time |\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\t)/;

/**
 * CloudFront standard logs: one event per line, named by the header (see {@link cloudfrontLayout}),
 * `date` and `time` becoming the event time; `#` lines are skipped. A line shorter than the
 * header simply lacks the missing fields.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 */
export const cloudfrontFormat: LogFormat = {
  name: 'cloudfront',
  framing: 'lines',
  matchesKey: (key) => CLOUDFRONT_KEY.test(key),
  matchesContent: (firstLine) => CLOUDFRONT_FIRST_LINE.test(firstLine),
  createParser: createCloudfrontParser,
};
