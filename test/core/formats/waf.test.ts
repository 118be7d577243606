import { wafFormat } from '../../../lambdas/core/formats/waf';
import { toCorpusTimestamp } from '../../support/conformance';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  memberAt,
  type ParsedDocument,
  parseOne,
} from './format-harness';

function requestHeader(document: ParsedDocument, name: string): unknown {
  const headers = memberAt(document.fields, ['httpRequest', 'headers']);
  if (!Array.isArray(headers)) return undefined;
  const header: unknown = headers.find(
    (candidate: { name?: unknown }) => String(candidate.name).toLowerCase() === name.toLowerCase(),
  );
  return header === undefined ? undefined : memberAt(header as Record<string, unknown>, ['value']);
}

describe('waf conformance corpus', () => {
  itHoldsEveryConformanceRow('waf', wafFormat, {
    timestamp: (document) => toCorpusTimestamp(document.timestamp ?? ''),
    client_ip: (document) => memberAt(document.fields, ['httpRequest', 'clientIp']),
    method: (document) => memberAt(document.fields, ['httpRequest', 'httpMethod']),
    uri: (document) => memberAt(document.fields, ['httpRequest', 'uri']),
    user_agent: (document) => requestHeader(document, 'User-Agent'),
    action: (document) => document.fields.action,
  });
});

describe('waf records', () => {
  it('keeps the record as it is, @timestamp from the epoch-millisecond timestamp', () => {
    // Prepare
    const record = {
      timestamp: 1_700_000_000_123,
      formatVersion: 1,
      action: 'BLOCK',
      httpRequest: { clientIp: '192.0.2.1', headers: [{ name: 'Host', value: 'example.com' }], uri: '/' },
      labels: [{ name: 'awswaf:managed:aws:bot-control:bot:category:http_library' }],
    };

    // Act
    const document = documentOf(parseOne(wafFormat, JSON.stringify(record)));

    // Assess
    expect(document.timestamp).toBe('2023-11-14T22:13:20.123Z');
    expect(document.fields).toEqual(record);
  });

  it('renames the reserved @timestamp and log keys instead of dropping them', () => {
    const record = { timestamp: 0, '@timestamp': 'theirs', log: { a: 1 }, log_original: 'taken' };

    const document = documentOf(parseOne(wafFormat, JSON.stringify(record)));

    expect(document.fields).toEqual({
      timestamp: 0,
      '@timestamp_original': 'theirs',
      log_original_original: { a: 1 },
      log_original: 'taken',
    });
  });

  it('keeps a record without a usable timestamp, for the core to stamp', () => {
    const document = documentOf(parseOne(wafFormat, '{"timestamp":"yesterday","action":"ALLOW"}'));

    expect(document.timestamp).toBeUndefined();
    expect(document.fields).toEqual({ timestamp: 'yesterday', action: 'ALLOW' });
  });

  it.each([
    ['a truncated line', '{"timestamp":1576280412771,"action":"BL', 'invalid JSON'],
    ['an array', '[1,2]', 'expected a JSON object, found an array'],
    ['a string', '"BLOCK"', 'expected a JSON object, found a string'],
    ['hostile nesting', `${'['.repeat(100)}${']'.repeat(100)}`, 'JSON nested deeper than 64'],
  ])('reports %s', (_name, line, reason) => {
    expect(errorReasonOf(parseOne(wafFormat, line))).toContain(reason);
  });
});

describe('waf detection', () => {
  itMatchesKeys(wafFormat, {
    claimed: [
      'AWSLogs/123456789012/WAFLogs/us-east-1/my-web-acl/2024/01/02/03/05/123456789012_waflogs_us-east-1_my-web-acl_20240102T0305Z_abc.log.gz',
      '2024/01/02/03/aws-waf-logs-my-stream-1-2024-01-02-03-04-05-abcd.gz',
    ],
    left: ['AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/x.json.gz'],
  });
  itMatchesContent(wafFormat, {
    claimed: ['{"timestamp":1,"webaclId":"arn:x","httpRequest":{}}'],
    left: ['{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z"}'],
  });
});
