/**
 * The S3 quarantine writer against fauxqs (S3 over HTTP, path-style): gzip'd JSON lines at a
 * deterministic key, overwritten by a replay, split when large. Also the sink and the writer
 * together: a document OpenSearch refuses ends up in S3 with its raw record.
 */

import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BulkBatcher } from '../../../lambdas/core/bulk';
import type { ObjectIdentity } from '../../../lambdas/core/types';
import { OpenSearchBulkSink } from '../../../lambdas/shared/opensearch/bulk-sink';
import { createOpenSearchClient } from '../../../lambdas/shared/opensearch/client';
import { type QuarantineRecord, S3QuarantineWriter } from '../../../lambdas/shared/quarantine';
import { type FauxqsHarness, startFauxqs } from '../../support/fauxqs';
import { OpenSearchTestServer } from '../../support/opensearch-server';

const SOURCE: ObjectIdentity = {
  bucket: 'logs-bucket',
  key: 'AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/app.log.gz',
  etag: '"0123abcd"',
  lastModified: Date.UTC(2024, 5, 1, 12, 30),
};
const AT = new Date(Date.UTC(2024, 5, 2, 8, 0));

let fauxqs: FauxqsHarness;
let bucket: string;

beforeAll(async () => {
  fauxqs = await startFauxqs();
});

afterAll(async () => {
  await fauxqs.stop();
});

beforeEach(async () => {
  bucket = await fauxqs.createBucket();
});

function writer(
  options: Partial<ConstructorParameters<typeof S3QuarantineWriter>[0]> = {},
): S3QuarantineWriter {
  return new S3QuarantineWriter({
    s3: fauxqs.s3,
    bucket,
    prefix: 'quarantine',
    object: SOURCE,
    format: 'alb',
    now: () => AT,
    ...options,
  });
}

async function keysIn(prefix = ''): Promise<string[]> {
  const listed = await fauxqs.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function recordsAt(key: string): Promise<QuarantineRecord[]> {
  const object = await fauxqs.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = gunzipSync(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  ).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as QuarantineRecord);
}

describe('S3QuarantineWriter', () => {
  it('writes gzip JSON lines under <prefix>/<date>/<source key>/<hash>.jsonl.gz', async () => {
    // Prepare
    const quarantine = writer();

    // Act
    await quarantine.add({
      reason: 'parse-error',
      error: 'line has 3 fields, expected 29',
      record: 7,
      raw: 'a b c',
    });
    await quarantine.add({
      reason: 'indexing-rejected',
      error: '400 mapper_parsing_exception: failed to parse field [client_ip]',
      record: 9,
      raw: 'h2 2024-06-01T12:00:00Z ...',
      index: 'logs-alb-2024.06.01',
      id: 'abc-9',
    });
    const written = await quarantine.flush();

    // Assess
    expect(written).toEqual([
      expect.stringMatching(new RegExp(`^quarantine/2024-06-01/${SOURCE.key}/[0-9a-f]{20}\\.jsonl\\.gz$`)),
    ]);
    expect(await keysIn()).toEqual(written);
    expect(await recordsAt(written[0] ?? '')).toEqual([
      {
        reason: 'parse-error',
        error: 'line has 3 fields, expected 29',
        object: { bucket: 'logs-bucket', key: SOURCE.key, etag: '"0123abcd"' },
        record: 7,
        raw: 'a b c',
        format: 'alb',
        at: '2024-06-02T08:00:00.000Z',
      },
      {
        reason: 'indexing-rejected',
        error: '400 mapper_parsing_exception: failed to parse field [client_ip]',
        object: { bucket: 'logs-bucket', key: SOURCE.key, etag: '"0123abcd"' },
        record: 9,
        raw: 'h2 2024-06-01T12:00:00Z ...',
        index: 'logs-alb-2024.06.01',
        id: 'abc-9',
        format: 'alb',
        at: '2024-06-02T08:00:00.000Z',
      },
    ]);
  });

  it('overwrites on a replay of the same invocation, and writes apart for a continuation', async () => {
    // Prepare
    const entry = { reason: 'parse-error', error: 'bad', record: 1, raw: 'x' };
    const first = writer();
    await first.add(entry);
    const [firstKey] = await first.flush();

    // Act
    const replay = writer();
    await replay.add({ ...entry, error: 'bad, again' });
    const [replayKey] = await replay.flush();
    const continuation = writer({ firstRecord: 50_001 });
    await continuation.add({ ...entry, record: 50_002 });
    const [continuationKey] = await continuation.flush();

    // Assess
    expect(replayKey).toBe(firstKey);
    expect(continuationKey).not.toBe(firstKey);
    expect(await keysIn()).toHaveLength(2);
    expect((await recordsAt(firstKey ?? '')).map((record) => record.error)).toEqual(['bad, again']);
  });

  it('writes nothing when nothing was quarantined, and splits a large quarantine into numbered objects', async () => {
    // Prepare
    const empty = writer();
    const large = writer({ maxObjectBytes: 64 * 1024 });
    const noise = (n: number): string => `${n}:${randomBytes(600).toString('base64')}`;

    // Act
    const none = await empty.flush();
    for (let record = 1; record <= 3000; record += 1) {
      await large.add({ reason: 'parse-error', error: 'bad', record, raw: noise(record) });
    }
    const written = await large.flush();

    // Assess
    expect(none).toEqual([]);
    expect(written.length).toBeGreaterThan(1);
    expect(written[1]).toMatch(/-2\.jsonl\.gz$/);
    const records = (await Promise.all(written.map(recordsAt))).flat();
    expect(records.map((record) => record.record)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });
});

describe('the sink with the S3 quarantine', () => {
  it('puts a refused document, with its raw record, in S3 and indexes the others', async () => {
    // Prepare
    const server = await OpenSearchTestServer.start();
    const client = createOpenSearchClient({ endpoint: server.url, auth: 'none' });
    await client.transport.request({
      method: 'PUT',
      path: '/_index_template/typed',
      body: {
        index_patterns: ['logs-alb-*'],
        template: { mappings: { properties: { elb_status_code: { type: 'short' } } } },
      },
    });
    const batcher = new BulkBatcher();
    for (const [recordNumber, status] of [
      [1, '200'],
      [2, 'oops'],
    ] as const) {
      batcher.add({
        index: 'logs-alb-2024.06.01',
        id: `id-${recordNumber}`,
        source: `{"elb_status_code":"${status}"}`,
        recordNumber,
        raw: `raw line ${recordNumber}`,
      });
    }
    const quarantine = writer();

    // Act
    const result = await new OpenSearchBulkSink(client).bulkIndex(
      [batcher.flush()].filter((body) => body !== undefined),
      {
        deadline: Date.now() + 10_000,
        quarantine,
      },
    );
    const [key] = await quarantine.flush();
    await client.close();
    await server.stop();

    // Assess
    expect(result).toMatchObject({ indexed: 1, quarantined: 1 });
    expect(await recordsAt(key ?? '')).toEqual([
      expect.objectContaining({
        reason: 'indexing-rejected',
        record: 2,
        raw: 'raw line 2',
        index: 'logs-alb-2024.06.01',
        id: 'id-2',
        error: expect.stringContaining('number_format_exception'),
      }),
    ]);
  });
});
