import {
  DocumentBuilder,
  type DocumentProblem,
  hasTopLevelMember,
  indexPrefixProblem,
  keyFieldsOf,
  objectIdentityHash,
  type SearchDocument,
  unquotedEtag,
} from '../../lambdas/core/documents';
import type { ParsedEvent } from '../../lambdas/core/types';

const OBJECT = {
  bucket: 'logs-bucket',
  key: 'AWSLogs/123456789012/elasticloadbalancing/a.log.gz',
  etag: '"9b2cf535f27731c974343645a3985328"',
};

function event(fields: string, extra: Partial<ParsedEvent> = {}): ParsedEvent {
  return { kind: 'event', timestamp: '2024-05-01T10:20:30.123456Z', fields, ...extra };
}

function asDocument(result: SearchDocument | DocumentProblem): SearchDocument {
  if ('problem' in result) throw new Error(`expected a document, got: ${result.problem}`);
  return result;
}

describe('objectIdentityHash', () => {
  it('is 22 base64url characters and ignores the quotes around the ETag', () => {
    // Act
    const quoted = objectIdentityHash(OBJECT);
    const bare = objectIdentityHash({ ...OBJECT, etag: '9b2cf535f27731c974343645a3985328' });

    // Assess
    expect(quoted).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(bare).toBe(quoted);
  });

  it('prefers the ETag over the version id, so every path to an object gives the same ids', () => {
    // Act
    const fromNotification = objectIdentityHash({ ...OBJECT, versionId: 'v1' });
    const fromListing = objectIdentityHash(OBJECT);

    // Assess
    expect(fromNotification).toBe(fromListing);
  });

  it('differs when the bucket, the key, the ETag or (without an ETag) the version differs', () => {
    // Prepare
    const variants = [
      OBJECT,
      { ...OBJECT, bucket: 'other' },
      { ...OBJECT, key: `${OBJECT.key}x` },
      { ...OBJECT, etag: 'another' },
      { bucket: OBJECT.bucket, key: OBJECT.key, versionId: 'v1' },
      { bucket: OBJECT.bucket, key: OBJECT.key, versionId: 'v2' },
      { bucket: OBJECT.bucket, key: OBJECT.key },
    ];

    // Act
    const hashes = new Set(variants.map(objectIdentityHash));

    // Assess
    expect(hashes.size).toBe(variants.length);
  });
});

describe('indexPrefixProblem', () => {
  it('accepts lower-case prefixes and explains what is wrong with others', () => {
    // Act + Assess
    expect(indexPrefixProblem('logs')).toBeUndefined();
    expect(indexPrefixProblem('prod.logs_v2-x')).toBeUndefined();
    for (const bad of ['', 'Logs', '-logs', '_logs', 'lo gs', 'logs*', 'a/b', 'x'.repeat(201)]) {
      expect(indexPrefixProblem(bad)).toMatch(/index prefix .* is not valid/);
    }
  });
});

describe('keyFieldsOf', () => {
  it('returns the named groups that took part in the match', () => {
    // Act
    const fields = keyFieldsOf(
      /AWSLogs\/(?<account>\d{12})\/(?<service>[^/]+)(?:\/(?<missing>zzz))?/,
      OBJECT.key,
    );

    // Assess
    expect([...fields]).toEqual([
      ['account', '123456789012'],
      ['service', 'elasticloadbalancing'],
    ]);
  });

  it('returns nothing when the key does not match', () => {
    // Act + Assess
    expect(keyFieldsOf(/^other\/(?<x>.*)/, OBJECT.key).size).toBe(0);
  });
});

describe('hasTopLevelMember', () => {
  it('finds top-level members only, not nested ones or text inside strings', () => {
    // Act + Assess
    expect(hasTopLevelMember('"account":"1"', 'account')).toBe(true);
    expect(hasTopLevelMember('"a":1,"account":"1"', 'account')).toBe(true);
    expect(hasTopLevelMember('"user":{"account":"1"}', 'account')).toBe(false);
    expect(hasTopLevelMember('"list":[{"account":1}],"b":2', 'account')).toBe(false);
    expect(hasTopLevelMember('"msg":"x,\\"account\\":1"', 'account')).toBe(false);
    expect(hasTopLevelMember('"msg":"a\\\\","account":1', 'account')).toBe(true);
    expect(hasTopLevelMember('"a":1', 'account')).toBe(false);
  });
});

describe('DocumentBuilder', () => {
  it('builds the _source with @timestamp first, then the fields, the key fields and log', () => {
    // Prepare
    const builder = new DocumentBuilder({
      object: OBJECT,
      type: 'alb',
      keyFields: /AWSLogs\/(?<account>\d+)\//,
    });

    // Act
    const document = asDocument(builder.build(event('"status":200,"method":"GET"'), 7));

    // Assess
    expect(document.source).toBe(
      '{"@timestamp":"2024-05-01T10:20:30.123456Z","status":200,"method":"GET","account":"123456789012",' +
        `"log":{"type":"alb","file":"s3://logs-bucket/${OBJECT.key}","line":7}}`,
    );
    expect(document.index).toBe('logs-alb-2024.05.01');
    expect(document.id).toBe(`${objectIdentityHash(OBJECT)}-7`);
  });

  it('lets the event win over a key field of the same name', () => {
    // Prepare
    const builder = new DocumentBuilder({
      object: OBJECT,
      type: 'json',
      keyFields: /AWSLogs\/(?<account>\d+)\//,
    });

    // Act
    const own = JSON.parse(asDocument(builder.build(event('"account":"from-event"'), 1)).source);
    const nested = JSON.parse(asDocument(builder.build(event('"user":{"account":"n"}'), 2)).source);

    // Assess
    expect(own.account).toBe('from-event');
    expect(nested.account).toBe('123456789012');
    expect(nested.user).toEqual({ account: 'n' });
  });

  it('uses the event type for the index and log.type, and the prefix given', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: OBJECT, type: 'alb', indexPrefix: 'prod' });

    // Act
    const document = asDocument(builder.build(event('"x":1', { type: 'alb_connection' }), 3));

    // Assess
    expect(document.index).toBe('prod-alb_connection-2024.05.01');
    expect(JSON.parse(document.source).log.type).toBe('alb_connection');
  });

  it('names the index after the UTC day of each event, even when consecutive days alternate', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: OBJECT, type: 'waf' });
    const days = ['2023-12-31T23:59:59.999Z', '2024-01-01T00:00:00.000Z', '2023-12-31T00:00:00Z'];

    // Act
    const indices = days.map(
      (timestamp, index) => asDocument(builder.build(event('', { timestamp }), index + 1)).index,
    );

    // Assess
    expect(indices).toEqual(['logs-waf-2023.12.31', 'logs-waf-2024.01.01', 'logs-waf-2023.12.31']);
  });

  it("stamps an event without a time with the object's LastModified", () => {
    // Prepare
    const lastModified = Date.UTC(2024, 1, 29, 12, 0, 0);
    const builder = new DocumentBuilder({ object: { ...OBJECT, lastModified }, type: 'json' });

    // Act
    const document = asDocument(builder.build({ kind: 'event', fields: '"a":1' }, 1));

    // Assess
    expect(JSON.parse(document.source)['@timestamp']).toBe('2024-02-29T12:00:00.000Z');
    expect(document.index).toBe('logs-json-2024.02.29');
  });

  it('refuses an event without a time when the object has no LastModified either', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: OBJECT, type: 'json' });

    // Act
    const result = builder.build({ kind: 'event', fields: '"a":1' }, 1);

    // Assess
    expect(result).toEqual({ problem: expect.stringMatching(/no time of its own/) });
  });

  it('refuses timestamps with a year the index name cannot hold', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: OBJECT, type: 'json' });

    // Act
    const result = builder.build(event('', { timestamp: '+275760-09-13T00:00:00.000Z' }), 1);

    // Assess
    expect(result).toEqual({ problem: expect.stringMatching(/four-digit year/) });
  });

  it('uses the natural id when the event has one', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: OBJECT, type: 'cloudtrail' });

    // Act
    const document = asDocument(
      builder.build(event('"eventName":"X"', { naturalId: 'f8e2c9a1-eventid' }), 4),
    );

    // Assess
    expect(document.id).toBe('f8e2c9a1-eventid');
  });

  it('writes log.file as the local path when there is no bucket, escaping it as JSON', () => {
    // Prepare
    const builder = new DocumentBuilder({ object: { key: 'C:\\logs\\"odd".log' }, type: 'syslog' });

    // Act
    const document = asDocument(builder.build(event(''), 1));

    // Assess
    expect(JSON.parse(document.source)).toEqual({
      '@timestamp': '2024-05-01T10:20:30.123456Z',
      log: { type: 'syslog', file: 'C:\\logs\\"odd".log', line: 1 },
    });
  });

  it('rejects an invalid prefix and a key field called log', () => {
    // Act + Assess
    expect(() => new DocumentBuilder({ object: OBJECT, type: 'alb', indexPrefix: 'UPPER' })).toThrow(
      /not valid/,
    );
    expect(() => new DocumentBuilder({ object: OBJECT, type: 'alb', keyFields: /(?<log>AWSLogs)/ })).toThrow(
      /"log"/,
    );
  });
});

describe('unquotedEtag', () => {
  it('strips the quotes S3 puts around an ETag and treats an empty one as unknown', () => {
    expect(unquotedEtag('"0123abcd"')).toBe('0123abcd');
    expect(unquotedEtag('0123abcd-2')).toBe('0123abcd-2');
    expect(unquotedEtag('""')).toBeUndefined();
    expect(unquotedEtag(undefined)).toBeUndefined();
  });
});
