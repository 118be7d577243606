/**
 * Amazon S3 server access logs.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 */
import { compileTimestampFormat } from '../time';
import type { LogFormat } from '../types';
import { type DelimitedField, type DelimitedLayout, DelimitedRecordWriter } from './delimited';

const string = (name: string): DelimitedField => ({ name, kind: 'string' });
const number = (name: string): DelimitedField => ({ name, kind: 'number' });

/**
 * S3 server access log records, named as the issue's contract says (snake_case of the AWS names).
 *
 * - The bracketed time becomes the event time, its offset applied.
 * - `request_uri` keeps the request line as S3 writes it (`GET /bucket/key?acl HTTP/1.1`), and is
 *   also split for searching: `request_method`, `request_path` (the URI up to `?`),
 *   `request_query` (after `?`, absent without one) and `request_protocol`. A search for a path
 *   should not have to know the query string or the protocol version.
 * - `key` and `request_path` are kept URL-encoded as S3 writes them: S3's encoding differs between
 *   operations, so a decoded name could be wrong.
 * - `http_status`, `bytes_sent`, `object_size`, `total_time` and `turn_around_time` (milliseconds)
 *   are numbers.
 */
export const S3_ACCESS_LAYOUT: DelimitedLayout = {
  description: 'S3 server access log record',
  syntax: { separator: 'space', quotes: true, brackets: true },
  // Records older than the signature and TLS fields end after version_id.
  minimumValues: 17,
  fields: [
    string('bucket_owner'),
    string('bucket'),
    { name: 'time', kind: 'event-time', parse: compileTimestampFormat('dd/MMM/yyyy:HH:mm:ss Z') },
    string('remote_ip'),
    string('requester'),
    string('request_id'),
    string('operation'),
    string('key'),
    {
      name: 'request_uri',
      kind: 'request',
      parts: {
        whole: 'request_uri',
        method: 'request_method',
        target: 'request_path',
        query: 'request_query',
        protocol: 'request_protocol',
      },
    },
    number('http_status'),
    string('error_code'),
    number('bytes_sent'),
    number('object_size'),
    number('total_time'),
    number('turn_around_time'),
    string('referer'),
    string('user_agent'),
    string('version_id'),
    string('host_id'),
    string('signature_version'),
    string('cipher_suite'),
    string('authentication_type'),
    string('host_header'),
    string('tls_version'),
    string('access_point_arn'),
    string('acl_required'),
  ],
};

// `<prefix>YYYY-MM-DD-HH-MM-SS-<unique>`, flat or below the date-partitioned
// `<account>/<region>/<bucket>/YYYY/MM/DD/` folders.
const S3_ACCESS_KEY = /\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/;
// Bucket owner (a canonical user id), bucket, then the bracketed time.
const S3_ACCESS_FIRST_LINE =
  /^(?:[0-9a-f]{64}|-) \S+ \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] /;

/** S3 server access logs: one event per record, fields as in {@link S3_ACCESS_LAYOUT}. */
export const s3AccessFormat: LogFormat = {
  name: 's3access',
  framing: 'lines',
  matchesKey: (key) => S3_ACCESS_KEY.test(key),
  matchesContent: (firstLine) => S3_ACCESS_FIRST_LINE.test(firstLine),
  createParser: () => {
    const writer = new DelimitedRecordWriter(S3_ACCESS_LAYOUT);
    return { parse: (line) => writer.write(line) };
  },
};
