import { albFormat } from '../../../lambdas/core/formats/alb';
import { elbFacts } from './conformance-facts';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
  parseRecords,
} from './format-harness';

// The HTTP entry of the AWS documentation's examples, with every field up to conn_trace_id.
const HTTP_ENTRY =
  'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 ' +
  '0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ' +
  'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 ' +
  '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" ' +
  '"10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';

/** HTTP_ENTRY with the value at `index` (0-based, values cut at spaces outside quotes) replaced. */
function withValue(index: number, value: string): string {
  const values = HTTP_ENTRY.match(/"[^"]*"|\S+/g) ?? [];
  values[index] = value;
  return values.join(' ');
}

describe('alb conformance corpus', () => {
  itHoldsEveryConformanceRow('alb', albFormat, elbFacts('alb'));
});

describe('alb access log entries', () => {
  it('writes every documented field with its type, and the time as the event time', () => {
    // Act
    const document = documentOf(parseOne(albFormat, HTTP_ENTRY));

    // Assess
    expect(document.timestamp).toBe('2018-07-02T22:23:00.186641Z');
    expect(document.type).toBeUndefined();
    expect(document.fields).toEqual({
      type: 'http',
      elb: 'app/my-loadbalancer/50dc6c495c0c9188',
      client_ip: '192.168.131.39',
      client_port: 2817,
      target_ip: '10.0.0.1',
      target_port: 80,
      request_processing_time: 0,
      target_processing_time: 0.001,
      response_processing_time: 0,
      elb_status_code: 200,
      target_status_code: 200,
      received_bytes: 34,
      sent_bytes: 366,
      request_method: 'GET',
      request_url: 'http://www.example.com:80/',
      request_protocol: 'HTTP/1.1',
      user_agent: 'curl/7.46.0',
      target_group_arn:
        'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067',
      trace_id: 'Root=1-58337262-36d228ad5d99923122bbe354',
      matched_rule_priority: 0,
      request_creation_time: '2018-07-02T22:22:48.364000Z',
      actions_executed: 'forward',
      target_port_list: '10.0.0.1:80',
      target_status_code_list: '200',
      conn_trace_id: 'TID_1234abcd5678ef90',
    });
  });

  it('reads the 2025 transform fields after conn_trace_id', () => {
    // Prepare
    const line = `${HTTP_ENTRY} "internal.example.com" "/v2/orders?id=1" "TransformSuccess"`;

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields).toMatchObject({
      transformed_host: 'internal.example.com',
      transformed_uri: '/v2/orders?id=1',
      request_transform_status: 'TransformSuccess',
    });
    expect(fields).not.toHaveProperty('extra_fields');
  });

  it('keeps values AWS appends after the known fields, in order, in extra_fields', () => {
    // Prepare
    const line = `${HTTP_ENTRY} "-" "-" "-" "new value" 42 -`;

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields.extra_fields).toEqual(['new value', '42', '-']);
  });

  it('splits an IPv6 client with or without brackets at the last colon', () => {
    // Prepare
    const bracketed = withValue(3, '[2001:db8:85a3::8a2e:370:7334]:50599');
    const bare = withValue(3, '2001:db8:85a3::8a2e:370:7334:50599');

    // Act
    const documents = [bracketed, bare].map((line) => documentOf(parseOne(albFormat, line)).fields);

    // Assess
    for (const fields of documents) {
      expect(fields.client_ip).toBe('2001:db8:85a3::8a2e:370:7334');
      expect(fields.client_port).toBe(50599);
    }
  });

  it('leaves out every "-" and keeps the -1 timings of a request that never reached a target', () => {
    // Prepare: a Lambda target's failure, as the ALB documentation shows it (target and status "-").
    const line =
      'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - ' +
      '-1 -1 -1 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ' +
      'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 ' +
      '"Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" ' +
      '"LambdaInvalidResponse" "-" "-" "-" "-" -';

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields).not.toHaveProperty('target_ip');
    expect(fields).not.toHaveProperty('target_status_code');
    expect(fields).not.toHaveProperty('ssl_cipher');
    expect(fields).not.toHaveProperty('conn_trace_id');
    expect(fields).toMatchObject({
      request_processing_time: -1,
      target_processing_time: -1,
      response_processing_time: -1,
      elb_status_code: 502,
      error_reason: 'LambdaInvalidResponse',
    });
  });

  it('unescapes \\" inside a quoted user agent and keeps the document valid JSON', () => {
    // Prepare
    const line = withValue(13, '"Mozilla/5.0 (compatible; \\"quoted\\" bot\\\\1.0)"');

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields.user_agent).toBe('Mozilla/5.0 (compatible; "quoted" bot\\1.0)');
    expect(fields.conn_trace_id).toBe('TID_1234abcd5678ef90');
  });

  it.each([
    ['h2', 'HTTP/2.0'],
    ['grpcs', 'HTTP/2.0'],
    ['ws', 'HTTP/1.1'],
    ['wss', 'HTTP/1.1'],
  ])('reads a %s entry', (type, protocol) => {
    // Prepare
    const line = withValue(12, `"POST https://www.example.com:443/pkg.Service/Call ${protocol}"`).replace(
      /^http /,
      `${type} `,
    );

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields).toMatchObject({
      type,
      request_method: 'POST',
      request_url: 'https://www.example.com:443/pkg.Service/Call',
      request_protocol: protocol,
    });
  });

  it('keeps a URL with spaces whole, between the method and the protocol', () => {
    // Prepare: ALB logs the request line as received (the corpus has such a probe).
    const line = withValue(12, '"GET http://10.0.0.1:80/a b/c HTTP/1.1"');

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields.request_url).toBe('http://10.0.0.1:80/a b/c');
    expect(fields.request_protocol).toBe('HTTP/1.1');
  });

  it('keeps a number field that holds no number in invalid_fields instead of failing the line', () => {
    // Prepare
    const line = withValue(8, 'abc').replace(' 34 366 ', ' 34 1e5 ');

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields).not.toHaveProperty('elb_status_code');
    expect(fields).not.toHaveProperty('sent_bytes');
    expect(fields.invalid_fields).toEqual({ elb_status_code: 'abc', sent_bytes: '1e5' });
    expect(fields.received_bytes).toBe(34);
  });

  it('reports a truncated entry as an error, with the number of values it has', () => {
    // Prepare
    const truncated = HTTP_ENTRY.slice(0, HTTP_ENTRY.indexOf(' "curl'));

    // Act
    const reason = errorReasonOf(parseOne(albFormat, truncated));

    // Assess
    expect(reason).toBe('ALB access log entry: truncated: 13 values, at least 17 expected');
  });

  it('reports an entry cut inside a quoted value as an error', () => {
    // Prepare
    const cut = HTTP_ENTRY.slice(0, HTTP_ENTRY.indexOf('curl/') + 3);

    // Act
    const reason = errorReasonOf(parseOne(albFormat, cut));

    // Assess
    expect(reason).toMatch(/^ALB access log entry: unterminated quoted value at column \d+$/);
  });

  it('reports an invalid event time as an error', () => {
    // Act
    const reason = errorReasonOf(parseOne(albFormat, withValue(1, '2018-13-02T22:23:00.186641Z')));

    // Assess
    expect(reason).toBe('ALB access log entry: time "2018-13-02T22:23:00.186641Z" is not a valid time');
  });

  it('reports a line of no ELB shape as an error', () => {
    // Act
    const reason = errorReasonOf(parseOne(albFormat, 'hello world, this is not a load balancer log'));

    // Assess
    expect(reason).toBe(
      'not an ALB, NLB, Classic ELB or ALB connection log entry: starts "hello world, this is not a load balancer"',
    );
  });
});

describe('alb connection log entries', () => {
  it('reads each documented field, splitting the certificate validity into two times', () => {
    // Prepare
    const line =
      '2023-10-04T17:05:15.514108Z 203.0.113.5 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 ' +
      '"CN=client.example.com,O=Example,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z ' +
      'FEF257372D5C14D4 Success TID_a1b2c3d4';

    // Act
    const document = documentOf(parseOne(albFormat, line));

    // Assess
    expect(document.type).toBe('alb_connection');
    expect(document.timestamp).toBe('2023-10-04T17:05:15.514108Z');
    expect(document.fields).toEqual({
      client_ip: '203.0.113.5',
      client_port: 36280,
      listener_port: 443,
      tls_protocol: 'TLSv1.2',
      tls_cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      tls_handshake_latency: 4.036,
      leaf_client_cert_subject: 'CN=client.example.com,O=Example,C=US',
      leaf_client_cert_not_before: '2023-09-21T22:43:21Z',
      leaf_client_cert_not_after: '2026-06-17T22:43:21Z',
      leaf_client_cert_serial_number: 'FEF257372D5C14D4',
      tls_verify_status: 'Success',
      conn_trace_id: 'TID_a1b2c3d4',
    });
  });

  it('keeps a validity it cannot read in invalid_fields', () => {
    // Prepare
    const line =
      '2023-10-04T17:05:15.514108Z 203.0.113.5 36280 443 - - - "-" NotBefore=soon - Failed:Unknown';

    // Act
    const { fields } = documentOf(parseOne(albFormat, line));

    // Assess
    expect(fields.invalid_fields).toEqual({ leaf_client_cert_validity: 'NotBefore=soon' });
    expect(fields.tls_verify_status).toBe('Failed:Unknown');
  });
});

describe('alb files that mix flavours', () => {
  it('parses each line with the layout of its shape and types the lines of other flavours', () => {
    // Prepare
    const nlbLine =
      'tls 2.0 2020-04-01T08:51:42 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 ' +
      '10.0.0.1:80 5 2 98 246 - - - ECDHE-RSA-AES128-SHA tlsv12 - - h2 h2 "h2","http/1.1" 2020-04-01T08:51:20';
    const classicLine =
      '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 ' +
      '0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -';

    // Act
    const results = parseRecords(albFormat, [HTTP_ENTRY, nlbLine, classicLine]);

    // Assess
    const [alb, nlb, classic] = results.map(documentOf);
    expect(alb?.type).toBeUndefined();
    expect(nlb?.type).toBe('nlb');
    expect(nlb?.fields.destination_port).toBe(80);
    expect(classic?.type).toBe('elb');
    expect(classic?.fields.backend_ip).toBe('10.0.0.1');
  });
});

describe('alb detection', () => {
  itMatchesKeys(albFormat, {
    claimed: [
      'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-lb.50dc6c495c0c9188_20240501T0005Z_192.0.2.1_2et2e1mx.log.gz',
      'prefix/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/conn_log.123456789012_elasticloadbalancing_eu-west-1_app.my-lb.50dc6c495c0c9188_20240501T0005Z_192.0.2.1_2et2e1mx.log.gz',
    ],
    left: [
      'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/123456789012_elasticloadbalancing_us-east-2_net.my-nlb.c6e77e28c25b2234_20240501T0005Z_2et2e1mx.log.gz',
      'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/123456789012_elasticloadbalancing_us-east-2_my-classic_20240501T0005Z_192.0.2.1_2et2e1mx.log',
      'logs/app.my-lb.log.gz',
    ],
  });
  itMatchesContent(albFormat, {
    claimed: [HTTP_ENTRY, '2024-11-29T13:45:24.599544Z 172.31.43.26 58206 80 - - - "-" - - -'],
    left: [
      '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 -',
      'tls 2.0 2020-04-01T08:51:42 net/my-nlb/c6e77e28c25b2234',
      '{"eventVersion":"1.08"}',
      // An application's own log whose second value is an address, like a connection log entry's.
      '2024-05-01T10:00:00Z 10.0.0.1 GET /index.html 200',
    ],
  });
});
