import { elbFormat } from '../../../lambdas/core/formats/elb';
import { elbFacts } from './conformance-facts';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
} from './format-harness';

// The Classic Load Balancer documentation's HTTP example.
const HTTP_ENTRY =
  '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 ' +
  '200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -';

describe('elb conformance corpus', () => {
  itHoldsEveryConformanceRow('elb', elbFormat, elbFacts('elb'));
});

describe('classic elb access log entries', () => {
  it('writes the backend_* fields where ALB has target_*', () => {
    // Act
    const document = documentOf(parseOne(elbFormat, HTTP_ENTRY));

    // Assess
    expect(document.timestamp).toBe('2015-05-13T23:39:43.945958Z');
    expect(document.fields).toEqual({
      elb: 'my-loadbalancer',
      client_ip: '192.168.131.39',
      client_port: 2817,
      backend_ip: '10.0.0.1',
      backend_port: 80,
      request_processing_time: 0.000073,
      backend_processing_time: 0.001048,
      response_processing_time: 0.000057,
      elb_status_code: 200,
      backend_status_code: 200,
      received_bytes: 0,
      sent_bytes: 29,
      request_method: 'GET',
      request_url: 'http://www.example.com:80/',
      request_protocol: 'HTTP/1.1',
      user_agent: 'curl/7.38.0',
    });
  });

  it('writes no request fields for a TCP listener\'s "- - - " request', () => {
    // Prepare
    const entry =
      '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 ' +
      '0.000041 - - 82 305 "- - - " "-" - -';

    // Act
    const { fields } = documentOf(parseOne(elbFormat, entry));

    // Assess
    expect(fields).toEqual({
      elb: 'my-loadbalancer',
      client_ip: '192.168.131.39',
      client_port: 2817,
      backend_ip: '10.0.0.1',
      backend_port: 80,
      request_processing_time: 0.001069,
      backend_processing_time: 0.000028,
      response_processing_time: 0.000041,
      received_bytes: 82,
      sent_bytes: 305,
    });
  });

  it('reads an SSL listener entry with its cipher and protocol', () => {
    // Prepare
    const entry =
      '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001065 0.000015 ' +
      '0.000023 - - 57 502 "- - - " "-" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2';

    // Act
    const { fields } = documentOf(parseOne(elbFormat, entry));

    // Assess
    expect(fields.ssl_cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(fields.ssl_protocol).toBe('TLSv1.2');
  });

  it('reads an entry written before user_agent and the TLS fields existed', () => {
    // Act
    const { fields } = documentOf(parseOne(elbFormat, HTTP_ENTRY.replace(' "curl/7.38.0" - -', '')));

    // Assess
    expect(fields.request_url).toBe('http://www.example.com:80/');
    expect(fields).not.toHaveProperty('user_agent');
  });

  it('reports a truncated entry as an error', () => {
    // Act
    const reason = errorReasonOf(parseOne(elbFormat, HTTP_ENTRY.slice(0, HTTP_ENTRY.indexOf(' 0 29 '))));

    // Assess
    expect(reason).toBe('Classic ELB access log entry: truncated: 9 values, at least 12 expected');
  });
});

describe('elb detection', () => {
  // Classic names never start with app. or net.
  itMatchesKeys(elbFormat, {
    claimed: [
      'AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log',
    ],
    left: [
      'AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_app.my-lb.50dc6c495c0c9188_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz',
    ],
  });
  itMatchesContent(elbFormat, {
    claimed: [HTTP_ENTRY],
    left: [
      '2024-11-29T13:45:24.599544Z 172.31.43.26 58206 80 - - - "-" - - -',
      // An application's own log that merely starts with an ISO time.
      '2024-05-01T10:00:00Z api-server started on port 8080',
      '2024-05-01T10:00:00Z worker-7 job:42 queue:default took 12 ms to run "report" for - -',
    ],
  });
});
