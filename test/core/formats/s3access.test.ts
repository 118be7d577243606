import { S3_ACCESS_LAYOUT, s3AccessFormat } from '../../../lambdas/core/formats/s3access';
import { corpusTimestamp } from './conformance-facts';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
} from './format-harness';

// The S3 documentation's example record (REST.PUT.OBJECT), with access point ARN and aclRequired.
const PUT_RECORD =
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 ' +
  '[06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be ' +
  '3E57427F3EXAMPLE REST.PUT.OBJECT photos/2019/cat%20photo.jpg ' +
  '"PUT /awsexamplebucket1/photos/2019/cat%20photo.jpg?x-id=PutObject HTTP/1.1" 200 - - 4406583 41754 28 ' +
  '"-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= ' +
  'SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 ' +
  'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes';

describe('s3access conformance corpus', () => {
  itHoldsEveryConformanceRow('s3access', s3AccessFormat, {
    timestamp: corpusTimestamp,
    client_ip: (document) => document.fields.remote_ip,
    status: (document) => document.fields.http_status,
    method: (document) => document.fields.request_method,
    uri: ({ fields }) =>
      fields.request_query === undefined
        ? fields.request_path
        : `${fields.request_path}?${fields.request_query}`,
    user_agent: (document) => document.fields.user_agent,
    bytes_sent: (document) => document.fields.bytes_sent,
    // A row with a note states no fact: the record must parse, which expectRowHolds asserts.
    note: () => expect.any(String),
  });
});

describe('s3 server access log records', () => {
  it('writes every documented field; the request line stays whole and is split for searching', () => {
    // Act
    const document = documentOf(parseOne(s3AccessFormat, PUT_RECORD));

    // Assess
    expect(document.timestamp).toBe('2019-02-06T00:00:38.000Z');
    expect(document.fields).toEqual({
      bucket_owner: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
      bucket: 'awsexamplebucket1',
      remote_ip: '192.0.2.3',
      requester: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
      request_id: '3E57427F3EXAMPLE',
      operation: 'REST.PUT.OBJECT',
      key: 'photos/2019/cat%20photo.jpg',
      request_uri: 'PUT /awsexamplebucket1/photos/2019/cat%20photo.jpg?x-id=PutObject HTTP/1.1',
      request_method: 'PUT',
      request_path: '/awsexamplebucket1/photos/2019/cat%20photo.jpg',
      request_query: 'x-id=PutObject',
      request_protocol: 'HTTP/1.1',
      http_status: 200,
      object_size: 4406583,
      total_time: 41754,
      turn_around_time: 28,
      user_agent: 'S3Console/0.4',
      host_id: 's9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=',
      signature_version: 'SigV4',
      cipher_suite: 'ECDHE-RSA-AES128-GCM-SHA256',
      authentication_type: 'AuthHeader',
      host_header: 'awsexamplebucket1.s3.us-west-1.amazonaws.com',
      tls_version: 'TLSV1.2',
      access_point_arn: 'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP',
      acl_required: 'Yes',
    });
  });

  it('applies the time offset', () => {
    // Act
    const document = documentOf(parseOne(s3AccessFormat, PUT_RECORD.replace('+0000]', '+0200]')));

    // Assess
    expect(document.timestamp).toBe('2019-02-05T22:00:38.000Z');
  });

  it('reads a lifecycle record whose request, status and TLS fields are all "-"', () => {
    // Prepare
    const record =
      'b854390a51155554b82ce2759564a1135bce83133d004f4d2001f157e13985d7 logs-bucket [25/Mar/2025:19:28:02 +0000] ' +
      '- AmazonS3 366DB3C4B325AB11 S3.EXPIRE.OBJECT old/file.sst "-" - - - 317 - - "-" "-" - ' +
      'DMlPb9al4CvVBck150CgpEIIYgtSI3HC - - - - - - -';

    // Act
    const { fields } = documentOf(parseOne(s3AccessFormat, record));

    // Assess
    expect(fields).toEqual({
      bucket_owner: 'b854390a51155554b82ce2759564a1135bce83133d004f4d2001f157e13985d7',
      bucket: 'logs-bucket',
      requester: 'AmazonS3',
      request_id: '366DB3C4B325AB11',
      operation: 'S3.EXPIRE.OBJECT',
      key: 'old/file.sst',
      object_size: 317,
      host_id: 'DMlPb9al4CvVBck150CgpEIIYgtSI3HC',
    });
  });

  it('keeps fields S3 appends after aclRequired in extra_fields', () => {
    // Act
    const { fields } = documentOf(parseOne(s3AccessFormat, `${PUT_RECORD} us-west-1 -`));

    // Assess
    expect(fields.extra_fields).toEqual(['us-west-1', '-']);
    expect(S3_ACCESS_LAYOUT.fields.at(-1)?.name).toBe('acl_required');
  });

  it('reports a truncated record, an unterminated time and a time that is no time as errors', () => {
    // Prepare
    const truncated = PUT_RECORD.slice(0, PUT_RECORD.indexOf(' 200 - -'));
    const openBracket = PUT_RECORD.slice(0, PUT_RECORD.indexOf(' +0000]'));
    const badTime = PUT_RECORD.replace('06/Feb/2019', '31/Feb/2019');

    // Act
    const reasons = [truncated, openBracket, badTime].map((record) =>
      errorReasonOf(parseOne(s3AccessFormat, record)),
    );

    // Assess
    expect(reasons).toEqual([
      'S3 server access log record: truncated: 9 values, at least 17 expected',
      'S3 server access log record: unterminated bracketed value at column 84',
      'S3 server access log record: time "31/Feb/2019:00:00:38 +0000" is not a valid time',
    ]);
  });
});

describe('s3access detection', () => {
  itMatchesKeys(s3AccessFormat, {
    claimed: [
      'logs/2019-02-06-00-00-38-0123456789ABCDEF',
      's3-access/123456789012/us-west-1/awsexamplebucket1/2019/02/06/2019-02-06-00-00-38-0123456789ABCDEF',
    ],
    left: ['logs/2019-02-06-00-00-38-0123456789abcdeg', 'cf/E2K2LNL5N3WR51.2024-07-13-15.a1b2c3d4.gz'],
  });
  // Owner, bucket and the bracketed time: an Apache access line has the time third too, but no owner.
  itMatchesContent(s3AccessFormat, {
    claimed: [PUT_RECORD],
    left: ['127.0.0.1 - - [06/Feb/2019:00:00:38 +0000] "GET / HTTP/1.1" 200 5'],
  });
});
