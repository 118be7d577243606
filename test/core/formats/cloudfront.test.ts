import {
  CLOUDFRONT_DEFAULT_FIELDS,
  cloudfrontFieldName,
  cloudfrontFormat,
  cloudfrontLayout,
} from '../../../lambdas/core/formats/cloudfront';
import { corpusTimestamp } from './conformance-facts';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseRecords,
} from './format-harness';

const HEADER = ['#Version: 1.0', `#Fields: ${CLOUDFRONT_DEFAULT_FIELDS}`];

// The CloudFront documentation's first example, tab-separated, all 33 fields.
const ENTRY = [
  '2019-12-04',
  '21:02:31',
  'LAX1',
  '392',
  '192.0.2.100',
  'GET',
  'd111111abcdef8.cloudfront.net',
  '/index.html',
  '200',
  '-',
  'Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36',
  '-',
  '-',
  'Hit',
  'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
  'd111111abcdef8.cloudfront.net',
  'https',
  '23',
  '0.001',
  '-',
  'TLSv1.2',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'Hit',
  'HTTP/2.0',
  '-',
  '-',
  '11040',
  '0.001',
  'Hit',
  'text/html',
  '78',
  '-',
  '-',
].join('\t');

describe('cloudfront conformance corpus', () => {
  itHoldsEveryConformanceRow('cloudfront', cloudfrontFormat, {
    timestamp: corpusTimestamp,
    client_ip: (document) => document.fields.c_ip,
    client_port: (document) => document.fields.c_port,
    status: (document) => document.fields.sc_status,
    method: (document) => document.fields.cs_method,
    uri: (document) => document.fields.cs_uri_stem,
    user_agent: (document) => document.fields.cs_user_agent,
    bytes_sent: (document) => document.fields.sc_bytes,
  });
});

describe('cloudfront standard log entries', () => {
  it('skips the header lines and names the fields after #Fields, date and time becoming the event time', () => {
    // Act
    const results = parseRecords(cloudfrontFormat, [...HEADER, ENTRY]);

    // Assess
    expect(results.slice(0, 2)).toEqual([{ kind: 'skip' }, { kind: 'skip' }]);
    const document = documentOf(results[2]);
    expect(document.timestamp).toBe('2019-12-04T21:02:31Z');
    expect(document.fields).toEqual({
      x_edge_location: 'LAX1',
      sc_bytes: 392,
      c_ip: '192.0.2.100',
      cs_method: 'GET',
      cs_host: 'd111111abcdef8.cloudfront.net',
      cs_uri_stem: '/index.html',
      sc_status: 200,
      cs_user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
      x_edge_result_type: 'Hit',
      x_edge_request_id: 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
      x_host_header: 'd111111abcdef8.cloudfront.net',
      cs_protocol: 'https',
      cs_bytes: 23,
      time_taken: 0.001,
      ssl_protocol: 'TLSv1.2',
      ssl_cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      x_edge_response_result_type: 'Hit',
      cs_protocol_version: 'HTTP/2.0',
      c_port: 11040,
      time_to_first_byte: 0.001,
      x_edge_detailed_result_type: 'Hit',
      sc_content_type: 'text/html',
      sc_content_len: 78,
    });
  });

  it('follows a header with its own field order (standard logging v2 lets users choose fields)', () => {
    // Prepare
    const records = [
      '#Fields: time date c-ip cs(Referer) sc-status',
      '01:42:39\t2019-06-30\t192.0.2.1\t-\t304',
    ];

    // Act
    const document = documentOf(parseRecords(cloudfrontFormat, records)[1]);

    // Assess
    expect(document.timestamp).toBe('2019-06-30T01:42:39Z');
    expect(document.fields).toEqual({ c_ip: '192.0.2.1', sc_status: 304 });
  });

  it('falls back to the documented field list for a file that starts without its header', () => {
    // Act
    const document = documentOf(parseRecords(cloudfrontFormat, [ENTRY])[0]);

    // Assess
    expect(document.fields.x_edge_location).toBe('LAX1');
    expect(document.fields.sc_content_len).toBe(78);
  });

  it('parses a line shorter than the header, the missing fields being absent', () => {
    // Prepare
    const short = ENTRY.split('\t').slice(0, 9).join('\t');

    // Act
    const { fields } = documentOf(parseRecords(cloudfrontFormat, [...HEADER, short])[2]);

    // Assess
    expect(fields.sc_status).toBe(200);
    expect(fields).not.toHaveProperty('cs_user_agent');
  });

  it('keeps values beyond the header in extra_fields', () => {
    // Act
    const { fields } = documentOf(parseRecords(cloudfrontFormat, [...HEADER, `${ENTRY}\tUS\t-`])[2]);

    // Assess
    expect(fields.extra_fields).toEqual(['US', '-']);
  });

  it('decodes the referer, cookie and query string, keeps a malformed escape as written, and the path as is', () => {
    // Prepare
    const values = ENTRY.split('\t');
    values[7] = '/a%2Fb/index.html';
    values[9] = 'https://example.com/search%3Fq%3Dx';
    values[10] = 'bad%ZZagent%20';
    values[11] = 'q=caf%C3%A9';
    values[12] = 'session%3Dabc';

    // Act
    const { fields } = documentOf(parseRecords(cloudfrontFormat, [...HEADER, values.join('\t')])[2]);

    // Assess
    expect(fields).toMatchObject({
      cs_uri_stem: '/a%2Fb/index.html',
      cs_referer: 'https://example.com/search?q=x',
      cs_user_agent: 'bad%ZZagent%20',
      cs_uri_query: 'q=café',
      cs_cookie: 'session=abc',
    });
  });

  it('writes status 000 as 0 and keeps a non-numeric byte count in invalid_fields', () => {
    // Prepare
    const values = ENTRY.split('\t');
    values[8] = '000';
    values[3] = 'lots';

    // Act
    const { fields } = documentOf(parseRecords(cloudfrontFormat, [...HEADER, values.join('\t')])[2]);

    // Assess
    expect(fields.sc_status).toBe(0);
    expect(fields.invalid_fields).toEqual({ sc_bytes: 'lots' });
  });

  it('reads the epoch-seconds timestamp of standard logging v2 as the event time', () => {
    // Prepare
    const records = ['#Fields: timestamp c-ip sc-status', '1719926385.123\t192.0.2.1\t200'];

    // Act
    const document = documentOf(parseRecords(cloudfrontFormat, records)[1]);

    // Assess
    expect(document.timestamp).toBe('2024-07-02T13:19:45.123Z');
    expect(document.fields).toEqual({ c_ip: '192.0.2.1', sc_status: 200 });
  });

  it('reports a line without a valid date and time as an error', () => {
    // Act
    const reason = errorReasonOf(parseRecords(cloudfrontFormat, ['not a cloudfront line'])[0]);

    // Assess
    expect(reason).toBe('CloudFront standard log entry: truncated: 1 values, at least 2 expected');
    expect(errorReasonOf(parseRecords(cloudfrontFormat, ['2019-02-30\t25:00:00\tLAX1'])[0])).toBe(
      'CloudFront standard log entry: date "2019-02-30" and time "25:00:00" are not a valid time',
    );
  });
});

describe('cloudfront field names', () => {
  it.each([
    ['cs(User-Agent)', 'cs_user_agent'],
    ['x-edge-location', 'x_edge_location'],
    ['timestamp(ms)', 'timestamp_ms'],
    ['c-ip', 'c_ip'],
  ])('names %s %s', (header, name) => {
    expect(cloudfrontFieldName(header)).toBe(name);
  });

  it('never writes a reserved or repeated name', () => {
    // Act
    const names = cloudfrontLayout('date time log c-ip c-ip @timestamp ()').fields.map((field) => field.name);

    // Assess
    expect(names).toEqual(['date', 'time', 'log_original', 'c_ip', 'c_ip_2', 'timestamp', 'field_7']);
  });
});

describe('cloudfront detection', () => {
  itMatchesKeys(cloudfrontFormat, {
    claimed: [
      'cf-logs/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz',
      'E2K2LNL5N3WR51.2024-07-13-15.a1b2c3d4.gz',
    ],
    left: ['logs/2019-11-14-20-00-00-0123456789ABCDEF'],
  });
  itMatchesContent(cloudfrontFormat, {
    claimed: ['#Version: 1.0', ENTRY],
    left: ['2019-12-04 21:02:31 LAX1 392'],
  });
});
