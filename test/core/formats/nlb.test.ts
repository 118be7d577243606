import { nlbFormat } from '../../../lambdas/core/formats/nlb';
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

// The AWS documentation's NLB example, version 2.0 with the ALPN fields.
const TLS_ENTRY =
  'tls 2.0 2020-04-01T08:51:42 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd ' +
  '72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - ' +
  'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ' +
  'ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com ' +
  'h2 h2 "h2","http/1.1" 2020-04-01T08:51:20';

describe('nlb conformance corpus', () => {
  itHoldsEveryConformanceRow('nlb', nlbFormat, elbFacts('nlb'));
});

describe('nlb access log entries', () => {
  it('writes every documented field; zone-less times are UTC', () => {
    // Act
    const document = documentOf(parseOne(nlbFormat, TLS_ENTRY));

    // Assess
    expect(document.timestamp).toBe('2020-04-01T08:51:42Z');
    expect(document.type).toBeUndefined();
    expect(document.fields).toEqual({
      type: 'tls',
      version: '2.0',
      elb: 'net/my-network-loadbalancer/c6e77e28c25b2234',
      listener: 'g3d4b5e8bb8464cd',
      client_ip: '72.21.218.154',
      client_port: 51341,
      destination_ip: '172.100.100.185',
      destination_port: 443,
      connection_time: 5,
      tls_handshake_time: 2,
      received_bytes: 98,
      sent_bytes: 246,
      chosen_cert_arn: 'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99',
      tls_cipher: 'ECDHE-RSA-AES128-SHA',
      tls_protocol_version: 'tlsv12',
      domain_name: 'my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com',
      alpn_fe_protocol: 'h2',
      alpn_be_protocol: 'h2',
      alpn_client_preference_list: ['h2', 'http/1.1'],
      tls_connection_creation_time: '2020-04-01T08:51:20Z',
    });
  });

  it('reads a version 1.0 entry, which ends after domain_name', () => {
    // Prepare
    const entry = TLS_ENTRY.replace('tls 2.0', 'tls 1.0').replace(/ h2 h2 .*$/, '');

    // Act
    const { fields } = documentOf(parseOne(nlbFormat, entry));

    // Assess
    expect(fields.version).toBe('1.0');
    expect(fields.domain_name).toBe('my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com');
    expect(fields).not.toHaveProperty('alpn_fe_protocol');
  });

  it('decodes URL-encoded protocols of the ALPN preference list', () => {
    // Prepare
    const entry = TLS_ENTRY.replace('"h2","http/1.1"', '"h2","spdy%2F3",\\"acme\\"');

    // Act
    const { fields } = documentOf(parseOne(nlbFormat, entry));

    // Assess
    expect(fields.alpn_client_preference_list).toEqual(['h2', 'spdy/3', 'acme']);
  });

  it('reports a truncated entry as an error', () => {
    // Act
    const reason = errorReasonOf(parseOne(nlbFormat, TLS_ENTRY.split(' ').slice(0, 12).join(' ')));

    // Assess
    expect(reason).toBe('NLB access log entry: truncated: 12 values, at least 17 expected');
  });

  it('types an ALB line found in an NLB object as alb', () => {
    // Prepare
    const albLine =
      'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 ' +
      '10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" ' +
      '"curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337281-1d84f3d73c47ec4e58577259"';

    // Act
    const [nlb, alb] = parseRecords(nlbFormat, [TLS_ENTRY, albLine]).map(documentOf);

    // Assess
    expect(nlb?.type).toBeUndefined();
    expect(alb?.type).toBe('alb');
    expect(alb?.fields.request_url).toBe('https://www.example.com:443/');
  });
});

describe('nlb detection', () => {
  itMatchesKeys(nlbFormat, {
    claimed: [
      'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2020/04/01/123456789012_elasticloadbalancing_us-east-2_net.my-nlb.c6e77e28c25b2234_20200401T0855Z_2et2e1mx.log.gz',
    ],
    left: [
      'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2020/04/01/123456789012_elasticloadbalancing_us-east-2_app.my-lb.50dc6c495c0c9188_20200401T0855Z_192.0.2.1_2et2e1mx.log.gz',
    ],
  });
  itMatchesContent(nlbFormat, {
    claimed: [TLS_ENTRY],
    left: [
      'tls 2.0 yesterday net/my-nlb',
      'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188',
    ],
  });
});
