/**
 * `indexObject` with injected fakes: an S3 client mock serving objects from memory (Range, IfMatch,
 * missing keys), a sink that records what it is sent, a quarantine that records what it is given.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { BulkBody } from '../../lambdas/core/bulk';
import type { ObjectIdentity } from '../../lambdas/core/types';
import {
  type IndexObjectDependencies,
  type IndexObjectOutcome,
  type IndexObjectSettings,
  indexObject,
  type ObjectQuarantine,
  ObjectTooLargeError,
} from '../../lambdas/indexer/index-object';
import type { ObjectTask } from '../../lambdas/indexer/messages';
import type { BulkIndexOptions, BulkIndexResult } from '../../lambdas/shared/opensearch/bulk-sink';
import type { QuarantineEntry } from '../../lambdas/shared/quarantine';
import { albKey, albLine, cloudTrailKey } from './support';

const BUCKET = 'logs';
const ETAG = '"9b2cf535f27731c974343645a3985328"';
const LAST_MODIFIED = new Date('2024-03-01T11:00:00Z');

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  /** Bytes per body chunk, so that the parse yields several batches. */
  readonly chunkBytes: number;
}

/** An S3 mock over objects in memory; it records every GetObject and every body it hands out. */
function fakeS3(objects: Record<string, StoredObject>, failure?: () => Error) {
  const s3 = new S3Client({ region: 'us-east-1' });
  const gets: GetObjectCommandInput[] = [];
  const bodies: Readable[] = [];
  mockClient(s3)
    .on(GetObjectCommand)
    .callsFake((input: GetObjectCommandInput) => {
      gets.push(input);
      if (failure !== undefined) throw failure();
      const object = objects[input.Key ?? ''];
      if (object === undefined)
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      if (input.IfMatch !== undefined && input.IfMatch !== object.etag) throw s3Error('PreconditionFailed');
      const start = Number(/^bytes=(\d+)-$/.exec(input.Range ?? '')?.[1] ?? 0);
      const bytes = object.body.subarray(start);
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < bytes.length; offset += object.chunkBytes)
        chunks.push(bytes.subarray(offset, offset + object.chunkBytes));
      const body = Readable.from(chunks);
      bodies.push(body);
      return { Body: body, ETag: object.etag, LastModified: LAST_MODIFIED, ContentLength: bytes.length };
    });
  return { s3, gets, bodies };
}

function s3Error(name: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}

/** A sink that indexes everything it is sent, except the ids it is told to refuse. */
function fakeSink(options: { refuse?: ReadonlySet<string>; failAfterBodies?: number } = {}) {
  const sent: { recordNumber: number; id: string; index: string }[] = [];
  let calls = 0;
  return {
    sent,
    calls: () => calls,
    async bulkIndex(
      bodies: Iterable<BulkBody> | AsyncIterable<BulkBody>,
      { quarantine }: BulkIndexOptions,
    ): Promise<BulkIndexResult> {
      calls++;
      const result: BulkIndexResult = { indexed: 0, duplicates: 0, quarantined: 0, retried: 0, requests: 0 };
      for await (const body of bodies) {
        if (options.failAfterBodies !== undefined && result.requests >= options.failAfterBodies)
          throw new Error('OpenSearch is unavailable');
        result.requests++;
        for (const document of body.documents) {
          sent.push({ recordNumber: document.recordNumber, id: document.id, index: document.index });
          if (options.refuse?.has(document.id)) {
            result.quarantined++;
            await quarantine.add({
              reason: 'indexing-rejected',
              error: '400 mapper_parsing_exception',
              record: document.recordNumber,
              raw: document.raw,
            });
          } else result.indexed++;
        }
      }
      return result;
    },
  };
}

/** Quarantines created per object, with their entries and flushes. */
function fakeQuarantines() {
  const created: {
    object: ObjectIdentity;
    format: string;
    firstRecord: number;
    entries: QuarantineEntry[];
    flushes: number;
  }[] = [];
  const quarantineFor = (object: ObjectIdentity, format: string, firstRecord: number): ObjectQuarantine => {
    const quarantine = { object, format, firstRecord, entries: [] as QuarantineEntry[], flushes: 0 };
    created.push(quarantine);
    return {
      add: (entry) => {
        quarantine.entries.push(entry);
      },
      flush: async () => {
        quarantine.flushes++;
      },
    };
  };
  return { created, quarantineFor };
}

const SETTINGS: IndexObjectSettings = {
  indexPrefix: 'logs',
  logSources: [],
  bulkMaxBytes: 64 * 1024,
  deadline: Number.POSITIVE_INFINITY,
  stopReadingAt: Number.POSITIVE_INFINITY,
};

/**
 * Indexes `task` and every continuation it enqueues. Per invocation: its outcome, its task, and
 * the records it settled (sent to the sink or quarantined before it), in order.
 */
async function indexWithContinuations(
  task: ObjectTask,
  settings: IndexObjectSettings,
  dependencies: Pick<IndexObjectDependencies, 's3' | 'now'>,
): Promise<{ outcomes: IndexObjectOutcome[]; tasks: ObjectTask[]; settled: number[][] }> {
  const outcomes: IndexObjectOutcome[] = [];
  const tasks: ObjectTask[] = [];
  const settled: number[][] = [];
  for (let next: ObjectTask | undefined = task; next !== undefined && outcomes.length < 50; ) {
    const sink = fakeSink();
    const quarantines = fakeQuarantines();
    let continuation: ObjectTask | undefined;
    tasks.push(next);
    outcomes.push(
      await indexObject(next, settings, {
        ...dependencies,
        sink,
        quarantineFor: quarantines.quarantineFor,
        enqueueContinuation: async (enqueued) => {
          continuation = enqueued;
        },
      }),
    );
    const quarantined = quarantines.created.flatMap((quarantine) =>
      quarantine.entries.map((entry) => entry.record),
    );
    settled.push(
      [...sink.sent.map((document) => document.recordNumber), ...quarantined].sort((a, b) => a - b),
    );
    next = continuation;
  }
  return { outcomes, tasks, settled };
}

/** Records 1..n, each once, in order. */
function oneToN(n: number): number[] {
  return Array.from({ length: n }, (_, index) => index + 1);
}

describe('indexObject', () => {
  it('continues a plain object at the first record not sent, with a Range GET of the same version', async () => {
    // Prepare: 100 lines, one that fails to parse and one with multi-byte characters.
    const lines = Array.from({ length: 100 }, (_, index) => albLine(index, `plain/${index}`));
    lines[29] = 'not an ALB line';
    lines[30] = albLine(30, 'café/ü/€');
    const text = `${lines.join('\n')}\n`;
    const key = albKey('plain').replace(/\.gz$/, '');
    const { s3, gets } = fakeS3({ [key]: { body: Buffer.from(text), etag: ETAG, chunkBytes: 4096 } });
    const budget = Math.ceil(text.length / 3);

    // Act
    const { outcomes, tasks, settled } = await indexWithContinuations(
      { bucket: BUCKET, key, etag: ETAG.replaceAll('"', '') },
      { ...SETTINGS, maxCharsPerInvocation: budget },
      { s3 },
    );

    // Assess: every record settled exactly once, each part starting where the previous one stopped.
    expect(settled.flat()).toEqual(oneToN(100));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['continued', 'continued', 'done']);
    for (const [index, next] of tasks.slice(1).entries()) {
      const previous = settled[index] ?? [];
      expect(next.startRecord).toBe((previous[previous.length - 1] ?? 0) + 1);
      expect(outcomes[index]?.continueAt).toBe(next.startRecord);
      expect(settled[index + 1]?.[0]).toBe(next.startRecord);
      // The record's byte offset, counted independently of the reader.
      const offset = lines
        .slice(0, (next.startRecord ?? 1) - 1)
        .reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
      expect(next.startByte).toBe(offset);
      expect(gets[index + 1]).toEqual(expect.objectContaining({ IfMatch: ETAG, Range: `bytes=${offset}-` }));
    }
  });

  it('continues a gzip object by record number when the time to read runs out', async () => {
    // Prepare: about 700 KB decompressed, read in 256 KiB chunks: three batches or more.
    const count = 1_500;
    const text = `${Array.from({ length: count }, (_, index) => albLine(index, `gzip/${index}`)).join('\n')}\n`;
    const key = albKey('gzip');
    const { s3, gets } = fakeS3({ [key]: { body: gzipSync(text), etag: ETAG, chunkBytes: 16 * 1024 } });
    // Each batch reads the clock once: the second batch of every invocation finds the time up.
    let clockReads = 0;
    const now = () => clockReads++ % 2;

    // Act
    const { outcomes, tasks, settled } = await indexWithContinuations(
      { bucket: BUCKET, key, etag: ETAG.replaceAll('"', '') },
      { ...SETTINGS, stopReadingAt: 1 },
      { s3, now },
    );

    // Assess
    expect(settled.flat()).toEqual(oneToN(count));
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    for (const [index, next] of tasks.slice(1).entries()) {
      const previous = settled[index] ?? [];
      expect(next.startRecord).toBe((previous[previous.length - 1] ?? 0) + 1);
      expect(next.startByte).toBeUndefined();
      expect(gets[index + 1]).toEqual(expect.objectContaining({ IfMatch: ETAG }));
      expect(gets[index + 1]?.Range).toBeUndefined();
    }
  });

  it('quarantines parse errors, oversized documents and refused documents, flushing once', async () => {
    // Prepare
    const longLine = albLine(3, `long/${'x'.repeat(3_000)}`);
    const lines = [albLine(0, 'a'), 'garbage', albLine(2, 'b'), longLine, albLine(4, 'c')];
    const key = albKey('quarantine').replace(/\.gz$/, '');
    const { s3 } = fakeS3({ [key]: { body: Buffer.from(lines.join('\n')), etag: ETAG, chunkBytes: 1024 } });
    const quarantines = fakeQuarantines();
    const probe = fakeSink();
    await indexObject({ bucket: BUCKET, key }, SETTINGS, {
      s3,
      sink: probe,
      quarantineFor: fakeQuarantines().quarantineFor,
    });
    const refusedId = probe.sent.find((document) => document.recordNumber === 5)?.id ?? '';
    const sink = fakeSink({ refuse: new Set([refusedId]) });

    // Act
    const outcome = await indexObject(
      { bucket: BUCKET, key },
      { ...SETTINGS, bulkMaxBytes: 2_000 },
      {
        s3,
        sink,
        quarantineFor: quarantines.quarantineFor,
      },
    );

    // Assess
    expect(sink.sent.map((document) => document.recordNumber)).toEqual([1, 3, 5]);
    expect(outcome).toEqual(expect.objectContaining({ status: 'done', quarantinedRecords: 2 }));
    expect(outcome.bulk).toEqual(expect.objectContaining({ indexed: 2, quarantined: 1 }));
    expect(quarantines.created).toHaveLength(1);
    const [quarantine] = quarantines.created;
    expect(quarantine).toEqual(expect.objectContaining({ format: 'alb', firstRecord: 1, flushes: 1 }));
    expect(quarantine?.entries.map((entry) => [entry.record, entry.reason, entry.raw])).toEqual([
      [2, 'parse-error', 'garbage'],
      [4, 'too-large', longLine],
      [5, 'indexing-rejected', lines[4]],
    ]);
    const tooLarge = quarantine?.entries[1];
    expect(tooLarge?.index).toBe('logs-alb-2024.03.01');
    expect(tooLarge?.id).toMatch(/-4$/);
  });

  it('creates no quarantine when nothing is refused', async () => {
    // Prepare
    const key = albKey('clean');
    const { s3 } = fakeS3({ [key]: { body: gzipSync(albLine(0, 'clean')), etag: ETAG, chunkBytes: 1024 } });
    const quarantines = fakeQuarantines();

    // Act
    const outcome = await indexObject({ bucket: BUCKET, key }, SETTINGS, {
      s3,
      sink: fakeSink(),
      quarantineFor: quarantines.quarantineFor,
    });

    // Assess
    expect(outcome.status).toBe('done');
    expect(quarantines.created).toEqual([]);
  });

  it.each([
    ['a deleted object', () => new NoSuchKey({ message: 'gone', $metadata: {} }), {}, 'missing'],
    ['a deleted version', () => s3Error('NoSuchVersion'), { versionId: 'v1' }, 'missing'],
    [
      'an overwritten object being continued',
      () => s3Error('PreconditionFailed'),
      { startRecord: 40, etag: 'old' },
      'superseded',
    ],
  ] as const)('acknowledges %s without indexing anything', async (_, failure, taskFields, status) => {
    // Prepare
    const { s3 } = fakeS3({}, failure);
    const sink = fakeSink();
    const quarantines = fakeQuarantines();

    // Act
    const outcome = await indexObject({ bucket: BUCKET, key: albKey('gone'), ...taskFields }, SETTINGS, {
      s3,
      sink,
      quarantineFor: quarantines.quarantineFor,
    });

    // Assess
    expect(outcome).toEqual({
      status,
      object: expect.objectContaining({ key: albKey('gone') }),
      quarantinedRecords: 0,
    });
    expect(sink.calls()).toBe(0);
    expect(quarantines.created).toEqual([]);
  });

  it('throws what S3 refuses for other reasons, so that the message is retried', async () => {
    // Prepare
    const { s3 } = fakeS3({}, () => s3Error('AccessDenied'));

    // Act
    const attempt = indexObject({ bucket: BUCKET, key: albKey('denied') }, SETTINGS, {
      s3,
      sink: fakeSink(),
      quarantineFor: fakeQuarantines().quarantineFor,
    });

    // Assess
    await expect(attempt).rejects.toThrow('AccessDenied');
  });

  it('takes the identity from GetObject, so every path to an object gives the same document ids', async () => {
    // Prepare
    const key = albKey('identity');
    const body = gzipSync(`${albLine(0, 'a')}\n${albLine(1, 'b')}\n`);
    const { s3 } = fakeS3({ [key]: { body, etag: ETAG, chunkBytes: 1024 } });
    const idsFor = async (task: ObjectTask) => {
      const sink = fakeSink();
      await indexObject(task, SETTINGS, { s3, sink, quarantineFor: fakeQuarantines().quarantineFor });
      return sink.sent.map((document) => document.id);
    };
    const other = fakeS3({ [key]: { body, etag: '"another-version"', chunkBytes: 1024 } });

    // Act
    const fromNotification = await idsFor({
      bucket: BUCKET,
      key,
      etag: ETAG.replaceAll('"', ''),
      size: body.length,
    });
    const fromCloudTrailSns = await idsFor({ bucket: BUCKET, key });
    const fromStaleNotification = await idsFor({ bucket: BUCKET, key, etag: 'stale' });
    const otherSink = fakeSink();
    await indexObject({ bucket: BUCKET, key }, SETTINGS, {
      s3: other.s3,
      sink: otherSink,
      quarantineFor: fakeQuarantines().quarantineFor,
    });

    // Assess
    expect(fromNotification).toHaveLength(2);
    expect(fromCloudTrailSns).toEqual(fromNotification);
    expect(fromStaleNotification).toEqual(fromNotification);
    expect(otherSink.sent.map((document) => document.id)).not.toEqual(fromNotification);
  });

  it('reads nothing of a key its format ignores (a CloudTrail digest)', async () => {
    // Prepare
    const key = cloudTrailKey('digest', true);
    const { s3 } = fakeS3({
      [key]: { body: gzipSync('{"digestStartTime":"x"}'), etag: ETAG, chunkBytes: 1024 },
    });
    const sink = fakeSink();

    // Act
    const outcome = await indexObject({ bucket: BUCKET, key }, SETTINGS, {
      s3,
      sink,
      quarantineFor: fakeQuarantines().quarantineFor,
    });

    // Assess
    expect(outcome.status).toBe('ignored');
    expect(sink.sent).toEqual([]);
  });

  it('fails an object that does not fit when no continuation can be enqueued', async () => {
    // Prepare
    const key = albKey('too-large');
    const text = Array.from({ length: 50 }, (_, index) => albLine(index, 'x')).join('\n');
    const { s3 } = fakeS3({ [key]: { body: Buffer.from(text), etag: ETAG, chunkBytes: 2048 } });

    // Act
    const attempt = indexObject(
      { bucket: BUCKET, key },
      { ...SETTINGS, maxCharsPerInvocation: 1_000 },
      {
        s3,
        sink: fakeSink(),
        quarantineFor: fakeQuarantines().quarantineFor,
      },
    );

    // Assess
    await expect(attempt).rejects.toThrow(ObjectTooLargeError);
  });

  it('neither flushes the quarantine nor enqueues a continuation when the sink fails, and stops the download', async () => {
    // Prepare
    const key = albKey('sink-fails').replace(/\.gz$/, '');
    const text = ['garbage', ...Array.from({ length: 200 }, (_, index) => albLine(index, 'y'))].join('\n');
    const { s3, bodies } = fakeS3({ [key]: { body: Buffer.from(text), etag: ETAG, chunkBytes: 4096 } });
    const quarantines = fakeQuarantines();
    const enqueued: ObjectTask[] = [];

    // Act
    const attempt = indexObject(
      { bucket: BUCKET, key },
      { ...SETTINGS, bulkMaxBytes: 8 * 1024, maxCharsPerInvocation: 40_000 },
      {
        s3,
        sink: fakeSink({ failAfterBodies: 1 }),
        quarantineFor: quarantines.quarantineFor,
        enqueueContinuation: async (task) => {
          enqueued.push(task);
        },
      },
    );

    // Assess
    await expect(attempt).rejects.toThrow('OpenSearch is unavailable');
    expect(enqueued).toEqual([]);
    expect(quarantines.created[0]?.entries).toHaveLength(1);
    expect(quarantines.created[0]?.flushes).toBe(0);
    expect(bodies[0]?.destroyed).toBe(true);
  });

  it('fails without flushing the quarantine when the continuation cannot be enqueued', async () => {
    // Prepare
    const key = albKey('enqueue-fails').replace(/\.gz$/, '');
    const text = ['garbage', ...Array.from({ length: 50 }, (_, index) => albLine(index, 'z'))].join('\n');
    const { s3 } = fakeS3({ [key]: { body: Buffer.from(text), etag: ETAG, chunkBytes: 2048 } });
    const quarantines = fakeQuarantines();

    // Act
    const attempt = indexObject(
      { bucket: BUCKET, key },
      { ...SETTINGS, maxCharsPerInvocation: 3_000 },
      {
        s3,
        sink: fakeSink(),
        quarantineFor: quarantines.quarantineFor,
        enqueueContinuation: async () => {
          throw new Error('SQS is unavailable');
        },
      },
    );

    // Assess
    await expect(attempt).rejects.toThrow('SQS is unavailable');
    expect(quarantines.created[0]?.flushes).toBe(0);
  });
});
