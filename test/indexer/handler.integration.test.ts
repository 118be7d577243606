/**
 * The real indexer handler, end to end: fauxqs (S3 + SQS over HTTP), the SQS event source
 * stand-in (`drainThroughHandler`), and OpenSearch (the cluster at OPENSEARCH_URL, else the
 * project's test server). Tests that inject faults need the test server and are skipped on a real
 * cluster. The 1 GB object is in `large-object.integration.test.ts`.
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { localContext, type SqsBatchHandler } from '../../bin/cli/sqs-event-source';
import { generatedDocumentId, objectIdentityHash } from '../../lambdas/core/documents';
import { type FauxqsHarness, type QueueWithDlq, startFauxqs } from '../support/fauxqs';
import { useOpenSearchTarget } from '../support/opensearch-server';
import {
  albKey,
  albLog,
  cloudTrailKey,
  cloudTrailLog,
  cloudTrailNotification,
  drainIndexer,
  eventBridgeObjectCreated,
  type IndexerSetup,
  loadIndexerHandler,
  putObject,
  readQuarantine,
  s3NotificationBody,
  s3TestEvent,
  sendMessages,
  snsEnvelope,
  sqsEventOf,
} from './support';

const PREFIX = 'itest';
const opensearch = useOpenSearchTarget(PREFIX);
/** Fault injection needs the test server; on a real cluster these tests are skipped. */
const itWithTestServer = process.env.OPENSEARCH_URL ? it.skip : it;
let fauxqs: FauxqsHarness;
let handler: SqsBatchHandler;
let logBucket: string;
let quarantineBucket: string;
let queue: QueueWithDlq;

/** Documents of one source object, counted after a refresh. */
async function countOf(key: string): Promise<number> {
  await opensearch.client.indices.refresh({ index: `${PREFIX}-*` });
  const response = await opensearch.client.count({
    index: `${PREFIX}-*`,
    body: { query: { term: { 'log.file': `s3://${logBucket}/${key}` } } },
  });
  return Number(response.body.count);
}

async function quarantineOf(key: string) {
  const records = await readQuarantine(fauxqs.s3, quarantineBucket);
  return records
    .filter((entry) => entry.record.object.key === key)
    .sort((a, b) => a.record.record - b.record.record);
}

function drain(options: { functionTimeoutMs?: number; maxInvocations?: number } = {}) {
  return drainIndexer(handler, fauxqs, queue, options);
}

async function putAndNotify(key: string, body: string | Uint8Array): Promise<string> {
  const object = await putObject(fauxqs, logBucket, key, body);
  const [id] = await sendMessages(fauxqs, queue.queueUrl, [s3NotificationBody(object)]);
  return id ?? '';
}

beforeAll(async () => {
  fauxqs = await startFauxqs();
  logBucket = await fauxqs.createBucket();
  quarantineBucket = await fauxqs.createBucket();
  queue = await fauxqs.createQueueWithDlq(undefined, { maxReceiveCount: 2 });
  handler = await loadHandler({});
});

/** A handler module of its own, configured for this file's fauxqs and OpenSearch target plus `extra`. */
async function loadHandler(extra: Record<string, string>): Promise<SqsBatchHandler> {
  const { connection, url } = opensearch.target;
  const setup: IndexerSetup = {
    fauxqs,
    opensearch: {
      url,
      ...(connection.auth !== undefined && { auth: connection.auth }),
      ...(connection.username !== undefined && { username: connection.username }),
      ...(connection.password !== undefined && { password: connection.password }),
    },
    indexPrefix: PREFIX,
    quarantineBucket,
    queue,
    extra: {
      // Lets a test give the handler a deadline of a few seconds (functionTimeoutMs).
      TIME_SAFETY_MARGIN_MS: '1000',
      LOG_SOURCES: JSON.stringify([{ prefix: 'app/', format: 'json' }]),
      ...extra,
    },
  };
  let loaded: SqsBatchHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    loaded = await loadIndexerHandler(setup);
  });
  if (loaded === undefined) throw new Error('the handler did not load');
  return loaded;
}

afterEach(() => {
  opensearch.target.server?.clearFaults();
});

afterAll(async () => {
  await fauxqs?.stop();
});

describe('indexer handler', () => {
  it('indexes a gzip ALB object and a replay of the same message adds nothing', async () => {
    // Prepare
    const key = albKey('replay');
    await putAndNotify(key, gzipSync(albLog(50, 'replay')));

    // Act
    const first = await drain();
    const afterFirst = await countOf(key);
    await putAndNotify(key, gzipSync(albLog(50, 'replay')));
    const second = await drain();

    // Assess
    expect(first.failed).toEqual([]);
    expect(second.failed).toEqual([]);
    expect(afterFirst).toBe(50);
    expect(await countOf(key)).toBe(50);
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
  });

  it('reports exactly the failing messages of a mixed batch, and only those reach the DLQ', async () => {
    // Prepare
    const first = await putObject(fauxqs, logBucket, albKey('mixed-1'), gzipSync(albLog(20, 'mixed-1')));
    const second = await putObject(fauxqs, logBucket, albKey('mixed-2'), gzipSync(albLog(30, 'mixed-2')));
    const bodies = [
      s3NotificationBody(first),
      'this is not a notification',
      s3NotificationBody(second),
      s3NotificationBody({ bucket: 'bucket-that-does-not-exist', key: albKey('x'), size: 1, etag: '"0"' }),
      JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: logBucket } } }] }),
      s3TestEvent(logBucket),
    ];
    const failing = [bodies[1], bodies[3], bodies[4]];

    // Act
    const response = await handler(sqsEventOf(queue.queueArn, bodies), localContext(900_000));
    const ids = await sendMessages(fauxqs, queue.queueUrl, bodies);
    const drained = await drain();
    const deadLetters = await fauxqs.drainQueue(queue.dlqUrl);

    // Assess
    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'message-2' },
        { itemIdentifier: 'message-4' },
        { itemIdentifier: 'message-5' },
      ],
    });
    expect(drained.reports[0]?.messageIds).toEqual(ids);
    expect(drained.reports[0]?.failedMessageIds).toEqual([ids[1], ids[3], ids[4]]);
    // maxReceiveCount 2: each failing message is delivered twice, then moved to the DLQ.
    expect(drained.failedDeliveries).toBe(2 * failing.length);
    expect(deadLetters.map((message) => message.Body).sort()).toEqual([...failing].sort());
    expect(await fauxqs.countMessages(queue.queueUrl)).toBe(0);
    expect(await countOf(first.key)).toBe(20);
    expect(await countOf(second.key)).toBe(30);
  });

  itWithTestServer('retries per-item 429s until every document is indexed', async () => {
    // Prepare
    const server = opensearch.target.server;
    const key = albKey('throttled');
    await putAndNotify(key, gzipSync(albLog(40, 'throttled')));
    server?.clearRequests();
    server?.injectFaults({ rejectItems: { attempts: 2 } });

    // Act
    const drained = await drain();

    // Assess
    expect(drained.failed).toEqual([]);
    expect(await countOf(key)).toBe(40);
    // Every document was refused twice and accepted on its third attempt, alone in its retries.
    const items = server?.bulkRequests.map((request) => request.items);
    expect(items).toEqual([40, 40, 40]);
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
  });

  it('quarantines documents whose fields conflict with the mapping, and indexes the rest', async () => {
    // Prepare: a JSON-lines source whose fields change type between lines.
    const key = 'app/orders/2024-03-01.jsonl';
    const lines = [
      '{"time":"2024-03-01T10:00:00Z","order":{"id":1},"amount":10}',
      '{"time":"2024-03-01T10:00:01Z","order":"not an object","amount":11}',
      '{"time":"2024-03-01T10:00:02Z","order":{"id":3},"amount":"twelve"}',
      '{"time":"2024-03-01T10:00:03Z","order":{"id":4},"amount":13}',
      '{"time": oops',
    ];
    await putAndNotify(key, `${lines.join('\n')}\n`);

    // Act
    const drained = await drain();
    const quarantined = await quarantineOf(key);

    // Assess
    expect(drained.failed).toEqual([]);
    expect(await countOf(key)).toBe(2);
    expect(quarantined.map(({ record }) => [record.record, record.reason, record.raw])).toEqual([
      [2, 'indexing-rejected', lines[1]],
      [3, 'indexing-rejected', lines[2]],
      [5, 'parse-error', lines[4]],
    ]);
    for (const { key: quarantineKey, record } of quarantined) {
      expect(quarantineKey).toMatch(
        new RegExp(`^quarantine/\\d{4}-\\d{2}-\\d{2}/${key}/[0-9a-f]{20}\\.jsonl\\.gz$`),
      );
      expect(record.object).toEqual(expect.objectContaining({ bucket: logBucket, key }));
      expect(record.format).toBe('json');
    }
    expect(quarantined[0]?.record.error).toMatch(/^400 mapper_parsing_exception/);
    expect(quarantined[1]?.record.error).toMatch(/^400 mapper_parsing_exception/);
    expect(quarantined[0]?.record.id).toBe(
      generatedDocumentId(
        objectIdentityHash({ bucket: logBucket, key, etag: quarantined[0]?.record.object.etag }),
        2,
      ),
    );
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
  });

  it('acknowledges a notification for a key that no longer exists, indexing nothing', async () => {
    // Prepare
    const key = albKey('deleted-before-indexing');
    await sendMessages(fauxqs, queue.queueUrl, [
      s3NotificationBody({ bucket: logBucket, key, size: 100, etag: '"d41d8cd98f00b204e9800998ecf8427e"' }),
    ]);

    // Act
    const drained = await drain();

    // Assess
    expect(drained.failed).toEqual([]);
    expect(drained.acknowledged).toBe(1);
    expect(await countOf(key)).toBe(0);
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
  });

  it('indexes the complete lines of a truncated gzip and quarantines the cut one', async () => {
    // Prepare
    const key = albKey('truncated');
    const whole = gzipSync(albLog(400, 'truncated'));
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));
    // What any gunzip recovers from the cut object: the lines up to the break, and a partial one.
    const recovered = gunzipSync(truncated, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
    const completeLines = recovered.split('\n').length - 1;
    const partialLine = recovered.slice(recovered.lastIndexOf('\n') + 1);
    await putAndNotify(key, truncated);

    // Act
    const drained = await drain();
    const quarantined = await quarantineOf(key);

    // Assess
    expect(completeLines).toBeGreaterThan(100);
    expect(drained.failed).toEqual([]);
    expect(await countOf(key)).toBe(completeLines);
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]?.record).toEqual(
      expect.objectContaining({ record: completeLines + 1, raw: partialLine, reason: 'parse-error' }),
    );
    expect(quarantined[0]?.record.error).toMatch(/truncated/);
  });

  it('acknowledges empty objects, plain and gzip, indexing nothing', async () => {
    // Prepare
    const emptyKey = albKey('empty');
    const emptyGzipKey = albKey('empty-gzip');
    await putAndNotify(emptyKey, new Uint8Array(0));
    await putAndNotify(emptyGzipKey, gzipSync(''));

    // Act
    const drained = await drain();

    // Assess
    expect(drained.failed).toEqual([]);
    expect(drained.acknowledged).toBe(2);
    expect(await countOf(emptyKey)).toBe(0);
    expect(await countOf(emptyGzipKey)).toBe(0);
    expect(await quarantineOf(emptyKey)).toEqual([]);
    expect(await quarantineOf(emptyGzipKey)).toEqual([]);
  });

  it('reads every notification envelope: test event, SNS, EventBridge, CloudTrail and its digests', async () => {
    // Prepare
    const viaSns = await putObject(fauxqs, logBucket, albKey('via-sns'), gzipSync(albLog(12, 'sns')));
    const viaEventBridge = await putObject(
      fauxqs,
      logBucket,
      albKey('via eventbridge'),
      gzipSync(albLog(7, 'eventbridge')),
    );
    const eventIds = [
      '3038ebd2-c98a-4c65-9b6e-e22506292313',
      '9f4c2f3e-1b5a-4d6e-8f7a-0b1c2d3e4f50',
      'b1e8c9d0-2f3a-4b5c-9d6e-7f8091a2b3c4',
    ];
    const trail = cloudTrailKey('events');
    const digest = cloudTrailKey('digest', true);
    await putObject(fauxqs, logBucket, trail, gzipSync(cloudTrailLog(eventIds)));
    await putObject(fauxqs, logBucket, digest, gzipSync('{"awsAccountId":"123456789012","logFiles":[]}'));
    await sendMessages(fauxqs, queue.queueUrl, [
      s3TestEvent(logBucket),
      snsEnvelope(s3NotificationBody(viaSns)),
      eventBridgeObjectCreated(viaEventBridge),
      snsEnvelope(cloudTrailNotification(logBucket, [trail, digest])),
    ]);

    // Act
    const drained = await drain();
    await opensearch.client.indices.refresh({ index: `${PREFIX}-*` });
    const trailDocuments = await opensearch.client.search({
      index: `${PREFIX}-cloudtrail-*`,
      body: { query: { term: { 'log.file': `s3://${logBucket}/${trail}` } }, size: 10 },
    });

    // Assess
    expect(drained.failed).toEqual([]);
    expect(drained.acknowledged).toBe(4);
    expect(await countOf(viaSns.key)).toBe(12);
    expect(await countOf(viaEventBridge.key)).toBe(7);
    expect(trailDocuments.body.hits.hits.map((hit) => hit._id).sort()).toEqual([...eventIds].sort());
    expect(await countOf(digest)).toBe(0);
    expect(await quarantineOf(digest)).toEqual([]);
  });

  itWithTestServer(
    'fails the message while OpenSearch is unreachable; the redelivery indexes it once',
    async () => {
      // Prepare
      const server = opensearch.target.server;
      const key = albKey('outage');
      const id = await putAndNotify(key, gzipSync(albLog(60, 'outage')));
      server?.injectFaults({ dropConnections: 1_000_000 });

      // Act: a 3 s invocation (a 2 s deadline after the safety margin), the cluster down all along.
      const during = await drain({ functionTimeoutMs: 3_000, maxInvocations: 1 });
      server?.clearFaults();
      const waiting = await fauxqs.countMessages(queue.queueUrl);
      const after = await drain();

      // Assess
      expect(during.failed).toEqual([id]);
      expect(during.acknowledged).toBe(0);
      expect(waiting).toBe(1);
      expect(after.failed).toEqual([]);
      expect(await countOf(key)).toBe(60);
      expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
    },
  );

  itWithTestServer('indexes each document once when a redelivery follows a partial failure', async () => {
    // Prepare: records 1-10 refused (429) past the deadline, the others accepted at once.
    const server = opensearch.target.server;
    const key = albKey('partial');
    const object = await putObject(fauxqs, logBucket, key, gzipSync(albLog(60, 'partial')));
    const [id] = await sendMessages(fauxqs, queue.queueUrl, [s3NotificationBody(object)]);
    const identity = objectIdentityHash({ bucket: logBucket, key, etag: object.etag });
    const refused = Array.from({ length: 10 }, (_, index) => generatedDocumentId(identity, index + 1));
    server?.injectFaults({ rejectItems: { attempts: 1_000_000, ids: refused } });

    // Act
    const during = await drain({ functionTimeoutMs: 3_000, maxInvocations: 1 });
    const afterFailure = await countOf(key);
    server?.clearFaults();
    server?.clearRequests();
    const after = await drain();

    // Assess
    expect(during.failed).toEqual([id]);
    expect(afterFailure).toBe(50);
    expect(after.failed).toEqual([]);
    expect(await countOf(key)).toBe(60);
    expect(server?.bulkRequests.map((request) => request.items)).toEqual([60]);
  });

  itWithTestServer(
    'processes MESSAGE_CONCURRENCY messages at once, still failing only the bad one',
    async () => {
      // Prepare: a handler taking three messages at a time, its index templates installed.
      const server = opensearch.target.server;
      const concurrent = await loadHandler({ MESSAGE_CONCURRENCY: '3' });
      const warmUp = await putObject(fauxqs, logBucket, albKey('concurrent-0'), gzipSync(albLog(1, 'warm')));
      await concurrent(sqsEventOf(queue.queueArn, [s3NotificationBody(warmUp)]), localContext(900_000));
      const objects = await Promise.all(
        [1, 2, 3].map((n) =>
          putObject(fauxqs, logBucket, albKey(`concurrent-${n}`), gzipSync(albLog(10 * n, `c${n}`))),
        ),
      );
      const bodies = [...objects.map(s3NotificationBody), 'not a notification'];
      // Slow responses: bulk requests of different objects overlap only if they are sent together.
      server?.clearRequests();
      server?.injectFaults({ delayMs: 300 });

      // Act
      const response = await concurrent(sqsEventOf(queue.queueArn, bodies), localContext(900_000));

      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-4' }] });
      server?.clearFaults();
      expect(await Promise.all(objects.map((object) => countOf(object.key)))).toEqual([10, 20, 30]);
      const bulks = server?.bulkRequests ?? [];
      expect(bulks).toHaveLength(3);
      const lastStart = Math.max(...bulks.map((request) => request.at));
      const firstEnd = Math.min(...bulks.map((request) => request.completedAt ?? 0));
      expect(lastStart).toBeLessThan(firstEnd);
    },
  );

  it('finds objects whose keys have spaces, plus signs, percent signs and non-ASCII characters', async () => {
    // Prepare: the notification carries the key form-encoded, as S3 writes it.
    const keys = ['odd keys/a b+c/100% done.log.gz', 'odd keys/日本語/ünïcødé €.log', 'odd keys/+/++ +.log'];
    for (const [index, key] of keys.entries()) {
      const text = albLog(5 + index, `odd-${index}`);
      await putAndNotify(key, key.endsWith('.gz') ? gzipSync(text) : text);
    }

    // Act
    const drained = await drain();

    // Assess
    expect(drained.failed).toEqual([]);
    expect(await Promise.all(keys.map(countOf))).toEqual([5, 6, 7]);
  });
});
