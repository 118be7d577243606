/**
 * Amazon S3 server access logs.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 */
import { compileTimestampFormat } from '../time';
import type { LogFormat } from '../types';
import {
  type DelimitedLayout,
  DelimitedRecordWriter,
  eventTimeField,
  numberField,
  stringField,
} from './delimited';

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
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 */
export const S3_ACCESS_LAYOUT: DelimitedLayout = {
  description: 'S3 server access log record',
  syntax: { separator: 'space', quotes: true, brackets: true },
  // Records older than the signature and TLS fields end after version_id.
  minimumValues: 17,
  fields: [
    stringField('bucket_owner'),
    stringField('bucket'),
    eventTimeField('time', compileTimestampFormat('dd/MMM/yyyy:HH:mm:ss Z')),
    stringField('remote_ip'),
    stringField('requester'),
    stringField('request_id'),
    stringField('operation'),
    stringField('key'),
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
    numberField('http_status'),
    stringField('error_code'),
    numberField('bytes_sent'),
    numberField('object_size'),
    numberField('total_time'),
    numberField('turn_around_time'),
    stringField('referer'),
    stringField('user_agent'),
    stringField('version_id'),
    stringField('host_id'),
    stringField('signature_version'),
    stringField('cipher_suite'),
    stringField('authentication_type'),
    stringField('host_header'),
    stringField('tls_version'),
    stringField('access_point_arn'),
    stringField('acl_required'),
  ],
};

// `<prefix>YYYY-MM-DD-HH-MM-SS-<unique>`, flat or below the date-partitioned
// `<account>/<region>/<bucket>/YYYY/MM/DD/` folders.
const S3_ACCESS_KEY = /\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/;
// Bucket owner (a canonical user id), bucket, then the bracketed time.
const S3_ACCESS_FIRST_LINE =
  /^(?:[0-9a-f]{64}|-) \S+ \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] /;

/** S3 server access logs: one event per record, fields as in {@link S3_ACCESS_LAYOUT}. *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 */
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
