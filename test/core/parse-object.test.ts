import { objectIdentityHash } from '../../lambdas/core/documents';
import { JsonFields } from '../../lambdas/core/json';
import type { LogSource } from '../../lambdas/core/log-sources';
import {
  type DocumentItem,
  type ParseBatch,
  type ParseItem,
  type ParseObjectRequest,
  type ParseSummary,
  parseObject,
  type RejectedItem,
} from '../../lambdas/core/parse-object';
import type { LogFormat, RecordResult } from '../../lambdas/core/types';
import { chunksOf, gzip } from './stream-helpers';

/**
 * A test-only format: `#fields a b` declares the field names (a header, skipped), then each line
 * is `<ISO time or -> <value> <value>`; `bad` is an error, `boom` makes the parser throw, and a
 * line starting with `conn` is a connection event with its own type.
 */
const spaceFormat: LogFormat = {
  name: 'regex',
  framing: 'lines',
  matchesKey: () => false,
  matchesContent: (line) => line.startsWith('#fields'),
  createParser: () => {
    let names: string[] | undefined;
    return {
      parse(record: string): RecordResult {
        if (record.startsWith('#fields')) {
          names = record.split(' ').slice(1);
          return { kind: 'skip' };
        }
        if (record === 'boom') throw new Error('parser bug');
        if (names === undefined)
          return { kind: 'error', reason: 'no #fields header before the first record' };
        const [time, ...values] = record.split(' ');
        if (time === 'bad' || values.length !== names.length)
          return { kind: 'error', reason: 'wrong field count' };
        const fields = new JsonFields();
        for (const [index, name] of names.entries()) fields.string(name, values[index] ?? '');
        return {
          kind: 'event',
          ...(time !== '-' && time !== 'conn' && { timestamp: time }),
          ...(time === 'conn' && { type: 'regex_connection', timestamp: '2024-05-02T00:00:00Z' }),
          fields: fields.toString(),
        };
      },
    };
  },
};

const LINES = [
  '#fields method status',
  '2024-05-01T10:00:00Z GET 200',
  '',
  '2024-05-01T10:00:01Z POST 500',
  'bad line',
  'boom',
  '- PUT 201',
  'conn OPEN 1',
];
const TEXT = `${LINES.join('\n')}\n`;
const OBJECT = {
  bucket: 'b',
  key: 'logs/app/2024/05/01/x.log',
  etag: '"e1"',
  lastModified: Date.UTC(2024, 4, 3),
};

async function run(
  request: ParseObjectRequest,
): Promise<{ items: ParseItem[]; batches: ParseBatch[]; summary: ParseSummary }> {
  const parse = parseObject(request);
  const batches: ParseBatch[] = [];
  for await (const batch of parse) batches.push(batch);
  return { items: batches.flatMap((batch) => batch.items), batches, summary: { ...parse.summary } };
}

const documentsOf = (items: readonly ParseItem[]) =>
  items.filter((item): item is DocumentItem => item.kind === 'document');
const rejectedOf = (items: readonly ParseItem[]) =>
  items.filter((item): item is RejectedItem => item.kind === 'rejected');

describe('parseObject', () => {
  it('turns records into documents and rejected items, and counts them', async () => {
    // Act
    const { items, summary } = await run({ body: chunksOf(TEXT, 10), object: OBJECT, format: spaceFormat });

    // Assess
    const hash = objectIdentityHash(OBJECT);
    expect(documentsOf(items)).toEqual([
      {
        kind: 'document',
        recordNumber: 2,
        index: 'logs-regex-2024.05.01',
        id: `${hash}-2`,
        source:
          '{"@timestamp":"2024-05-01T10:00:00Z","method":"GET","status":"200","log":{"type":"regex","file":"s3://b/logs/app/2024/05/01/x.log","line":2}}',
        raw: LINES[1],
      },
      expect.objectContaining({ recordNumber: 4, index: 'logs-regex-2024.05.01', raw: LINES[3] }),
      expect.objectContaining({ recordNumber: 7, index: 'logs-regex-2024.05.03', raw: LINES[6] }),
      expect.objectContaining({ recordNumber: 8, index: 'logs-regex_connection-2024.05.02', raw: LINES[7] }),
    ]);
    expect(rejectedOf(items)).toEqual([
      { kind: 'rejected', recordNumber: 5, reason: 'wrong field count', raw: 'bad line' },
      {
        kind: 'rejected',
        recordNumber: 6,
        reason: 'the parser failed on this record: parser bug',
        raw: 'boom',
      },
    ]);
    expect(summary).toEqual({
      format: 'regex',
      detectedBy: 'explicit',
      records: 7,
      documents: 4,
      rejected: 2,
      skipped: 1,
      bytesIn: TEXT.length,
      bytesDecompressed: TEXT.length,
      sourceChars: documentsOf(items).reduce((sum, item) => sum + item.source.length, 0),
      ignored: false,
      error: undefined,
    });
  });

  it('gives the same documents for the gzip and the plain object, and the same ids on every run', async () => {
    // Act
    const plain = await run({ body: chunksOf(TEXT), object: OBJECT, format: spaceFormat });
    const compressed = await run({ body: chunksOf(gzip(TEXT), 7), object: OBJECT, format: spaceFormat });

    // Assess
    expect(compressed.items).toEqual(plain.items);
    expect(compressed.summary.bytesIn).toBe(gzip(TEXT).length);
  });

  it('gives identical lines in two objects different ids', async () => {
    // Act
    const first = await run({ body: chunksOf(TEXT), object: OBJECT, format: spaceFormat });
    const second = await run({
      body: chunksOf(TEXT),
      object: { ...OBJECT, etag: '"e2"' },
      format: spaceFormat,
    });

    // Assess
    const firstIds = new Set(documentsOf(first.items).map((item) => item.id));
    const secondIds = documentsOf(second.items).map((item) => item.id);
    expect(secondIds).toHaveLength(4);
    expect(secondIds.filter((id) => firstIds.has(id))).toEqual([]);
  });

  it('resumes at startRecord, still letting the parser read the header it needs', async () => {
    // Act
    const { items, summary } = await run({
      body: chunksOf(TEXT),
      object: OBJECT,
      format: spaceFormat,
      startRecord: 7,
    });

    // Assess
    expect(items.map((item) => [item.kind, item.recordNumber])).toEqual([
      ['document', 7],
      ['document', 8],
    ]);
    expect(summary.records).toBe(2);
  });

  it('offers a byte offset to resume from only when the object has no header lines', async () => {
    // Prepare
    const headerless = '{"a":1}\n{"a":2}\n';

    // Act
    const withHeader = await run({ body: chunksOf(TEXT, 8), object: OBJECT, format: spaceFormat });
    const withoutHeader = await run({ body: chunksOf(headerless, 8), object: OBJECT, format: 'json' });

    // Assess
    expect(withHeader.batches.every((batch) => batch.next.startByte === undefined)).toBe(true);
    expect(withoutHeader.batches.map((batch) => batch.next)).toContainEqual({ startRecord: 2, startByte: 8 });
  });

  it('continues from a ranged read with the same documents as a full read', async () => {
    // Prepare
    const text = Array.from({ length: 50 }, (_, index) =>
      JSON.stringify({ time: 1714557600000 + index, n: index }),
    ).join('\n');
    const full = await run({ body: chunksOf(text, 100), object: OBJECT, format: 'json' });
    const middle = full.batches[Math.floor(full.batches.length / 2)]?.next;
    if (middle?.startByte === undefined) throw new Error('expected a byte offset');

    // Act
    const resumed = await run({
      body: chunksOf(Buffer.from(text).subarray(middle.startByte), 64),
      object: OBJECT,
      format: 'json',
      startRecord: middle.startRecord,
      startByte: middle.startByte,
    });

    // Assess
    expect(resumed.items.length).toBeGreaterThan(0);
    expect(resumed.items).toEqual(full.items.filter((item) => item.recordNumber >= middle.startRecord));
  });

  it('takes the format, options and key fields from the first matching log source', async () => {
    // Prepare
    const sources: LogSource[] = [
      { prefix: 'other/', format: 'waf' },
      {
        prefix: 'apps/',
        format: 'json',
        timestampField: 'at',
        timestampFormat: 'epoch_seconds',
        keyFields: '^apps/(?<app>[^/]+)/',
      },
    ];

    // Act
    const { items, summary } = await run({
      body: chunksOf('{"at":1714557600,"msg":"hi"}\n'),
      object: { bucket: 'b', key: 'apps/checkout/1.log' },
      logSources: sources,
    });

    // Assess
    expect(summary.detectedBy).toBe('log-source');
    const source = JSON.parse(documentsOf(items)[0]?.source ?? '{}');
    expect(source).toMatchObject({ '@timestamp': '2024-05-01T10:00:00.000Z', msg: 'hi', app: 'checkout' });
    expect(documentsOf(items)[0]?.index).toBe('logs-json-2024.05.01');
  });

  it('detects the format from the key, then from the first non-empty line', async () => {
    // Prepare
    const record = {
      eventVersion: '1.08',
      eventTime: '2024-05-01T10:00:00Z',
      eventID: 'evt-1',
      eventName: 'X',
    };
    const envelope = JSON.stringify({ Records: [record] });

    // Act
    const byKey = await run({
      body: chunksOf(gzip(envelope)),
      object: { bucket: 'b', key: 'AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/f.json.gz' },
    });
    const byContent = await run({ body: chunksOf(`\n\n${envelope}`, 5), object: { key: 'local/file' } });

    // Assess
    expect(byKey.summary).toMatchObject({ format: 'cloudtrail', detectedBy: 'key', documents: 1 });
    expect(byContent.summary).toMatchObject({ format: 'cloudtrail', detectedBy: 'content', documents: 1 });
    expect(documentsOf(byContent.items)[0]?.id).toBe('evt-1');
  });

  it('reads nothing from a key the format ignores (a CloudTrail digest)', async () => {
    // Act
    const { items, summary } = await run({
      body: chunksOf('{"digestStartTime":"x"}'),
      object: { bucket: 'b', key: 'AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2024/05/01/d.json.gz' },
    });

    // Assess
    expect(items).toEqual([]);
    expect(summary).toMatchObject({ ignored: true, records: 0, bytesIn: 0 });
  });

  it('reports an undetectable object once, with its first line, instead of failing', async () => {
    // Act
    const { items, summary } = await run({
      body: chunksOf('\nwhat is this?\nmore\n'),
      object: { key: 'mystery.txt' },
    });

    // Assess
    expect(items).toEqual([
      {
        kind: 'rejected',
        recordNumber: 2,
        reason: expect.stringMatching(/cannot detect the log format of mystery.txt/),
        raw: 'what is this?',
      },
    ]);
    expect(summary.error).toMatch(/cannot detect/);
    expect(summary.format).toBeUndefined();
  });

  it('yields nothing for an empty object', async () => {
    // Act
    const { items, summary } = await run({ body: chunksOf(''), object: { key: 'empty.log' } });

    // Assess
    expect(items).toEqual([]);
    expect(summary).toMatchObject({ records: 0, documents: 0, error: undefined });
  });

  it('keeps the documents before a truncation and rejects the cut record', async () => {
    // Prepare
    const lines = Array.from({ length: 3000 }, (_, index) =>
      JSON.stringify({ time: 1714557600000 + index, pad: 'p'.repeat(40) }),
    );
    const compressed = gzip(lines.join('\n'));

    // Act
    const { items, summary } = await run({
      body: chunksOf(compressed.subarray(0, compressed.length / 2)),
      object: OBJECT,
      format: 'json',
    });

    // Assess
    const rejected = rejectedOf(items);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatch(/truncated/);
    expect(summary.documents).toBe((rejected[0]?.recordNumber ?? 0) - 1);
    expect(summary.documents).toBeGreaterThan(100);
  });

  it('refuses a bad request at once', () => {
    // Act + Assess
    expect(() => parseObject({ body: chunksOf(''), object: OBJECT, indexPrefix: 'Bad Prefix' })).toThrow(
      /not valid/,
    );
    expect(() => parseObject({ body: chunksOf(''), object: OBJECT, keyFields: '(?<x' })).toThrow(SyntaxError);
    expect(() => parseObject({ body: chunksOf(''), object: OBJECT, startRecord: 0 })).toThrow(RangeError);
  });
});
