/**
 * The bulk sink against OpenSearch: the test server by default, a real cluster when
 * `OPENSEARCH_URL` is set (see docs/opensearch-testing.md). Cases that need fault injection run
 * only against the test server and are skipped, saying so, on a real cluster.
 */
import type { Client } from '@opensearch-project/opensearch';
import { BulkBatcher, type BulkBody, type BulkDocument } from '../../../lambdas/core/bulk';
import {
  BulkRequestRejectedError,
  OpenSearchBulkSink,
  OpenSearchUnavailableError,
} from '../../../lambdas/shared/opensearch/bulk-sink';
import { createOpenSearchClient } from '../../../lambdas/shared/opensearch/client';
import { InMemoryQuarantine } from '../../../lambdas/shared/quarantine';
import { OpenSearchTestServer, useOpenSearchTarget } from '../../support/opensearch-server';

const ON_REAL_CLUSTER = (process.env.OPENSEARCH_URL ?? '') !== '';
/** Fault-injection cases: the test server only. */
const withFaults = ON_REAL_CLUSTER ? it.skip : it;
if (ON_REAL_CLUSTER) {
  process.stderr.write(
    'bulk-sink.test: OPENSEARCH_URL is set; fault-injection cases are skipped on a real cluster\n',
  );
}

const PREFIX = `sinktest-${Date.now().toString(36)}`;
const opensearch = useOpenSearchTarget(PREFIX);

/** The error a promise rejects with, or undefined when it resolves. */
function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Documents `<index>` / `doc-<n>` with the given sources. */
function documentsFor(index: string, sources: readonly Record<string, unknown>[]): BulkDocument[] {
  return sources.map((source, position) => {
    const raw = JSON.stringify(source);
    return { index, id: `doc-${position + 1}`, source: raw, recordNumber: position + 1, raw };
  });
}

/** The documents cut into bodies by the core's batcher. */
function bodiesOf(documents: readonly BulkDocument[], maxDocuments = 1000): BulkBody[] {
  const batcher = new BulkBatcher({ maxDocuments });
  const bodies: BulkBody[] = [];
  for (const document of documents) {
    const completed = batcher.add(document);
    if (completed?.kind === 'body') bodies.push(completed);
  }
  const last = batcher.flush();
  if (last !== undefined) bodies.push(last);
  return bodies;
}

async function countOf(index: string): Promise<number> {
  await opensearch.client.transport.request({ method: 'POST', path: `/${index}/_refresh` });
  const response = await opensearch.client.transport.request({ method: 'GET', path: `/${index}/_count` });
  return (response.body as { count: number }).count;
}

/** A sink that does not wait long between retries, so the suite stays quick. */
function quickSink(
  sinkClient: Client = opensearch.client,
  options: ConstructorParameters<typeof OpenSearchBulkSink>[1] = {},
) {
  return new OpenSearchBulkSink(sinkClient, {
    backoffBaseMs: 20,
    backoffMaxMs: 200,
    minRequestMs: 100,
    ...options,
  });
}

function inSeconds(seconds: number): number {
  return Date.now() + seconds * 1000;
}

describe('bulkIndex', () => {
  it('indexes every document of a stream of bodies and counts them', async () => {
    // Prepare
    const index = `${PREFIX}-plain-2024.06.01`;
    const documents = documentsFor(index, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    async function* produced(): AsyncGenerator<BulkBody> {
      yield* bodiesOf(documents, 2);
    }
    const quarantine = new InMemoryQuarantine();

    // Act
    const result = await quickSink().bulkIndex(produced(), { deadline: inSeconds(30), quarantine });

    // Assess
    expect(result).toEqual({ indexed: 5, duplicates: 0, quarantined: 0, retried: 0, requests: 3 });
    expect(quarantine.entries).toEqual([]);
    expect(await countOf(index)).toBe(5);
  });

  it('counts a document that is already there (409 on create) as done', async () => {
    // Prepare
    const index = `${PREFIX}-replay-2024.06.01`;
    const documents = documentsFor(index, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const quarantine = new InMemoryQuarantine();
    await quickSink().bulkIndex(bodiesOf(documents), { deadline: inSeconds(30), quarantine });

    // Act
    const replay = await quickSink().bulkIndex(bodiesOf(documents), { deadline: inSeconds(30), quarantine });

    // Assess
    expect(replay).toEqual({ indexed: 0, duplicates: 3, quarantined: 0, retried: 0, requests: 1 });
    expect(await countOf(index)).toBe(3);
  });

  it('quarantines a document its mapping refuses and indexes the rest', async () => {
    // Prepare
    await opensearch.client.transport.request({
      method: 'PUT',
      path: `/_index_template/${PREFIX}-typed`,
      body: {
        index_patterns: [`${PREFIX}-typed-*`],
        priority: 500,
        template: { mappings: { properties: { client_ip: { type: 'ip' } } } },
      },
    });
    const index = `${PREFIX}-typed-2024.06.01`;
    const documents = documentsFor(index, [
      { client_ip: '192.0.2.10' },
      { client_ip: 'not an address' },
      { client_ip: '2001:db8::10' },
    ]);
    const quarantine = new InMemoryQuarantine();

    // Act
    const result = await quickSink().bulkIndex(bodiesOf(documents), { deadline: inSeconds(30), quarantine });

    // Assess
    expect(result).toEqual({ indexed: 2, duplicates: 0, quarantined: 1, retried: 0, requests: 1 });
    expect(quarantine.entries).toEqual([
      {
        reason: 'indexing-rejected',
        error: expect.stringMatching(
          /^400 mapper_parsing_exception: failed to parse field \[client_ip\] of type \[ip\]/,
        ),
        record: 2,
        raw: '{"client_ip":"not an address"}',
        index,
        id: 'doc-2',
      },
    ]);
    expect(await countOf(index)).toBe(2);
  });

  it('gives up on an unreachable cluster before the deadline with a retryable error and nothing done', async () => {
    // Prepare
    const gone = await OpenSearchTestServer.start();
    const unreachable = createOpenSearchClient({ endpoint: gone.url, auth: 'none' });
    await gone.stop();
    const documents = documentsFor(`${PREFIX}-gone-2024.06.01`, [{ n: 1 }, { n: 2 }]);
    const quarantine = new InMemoryQuarantine();
    const deadline = inSeconds(1.5);

    // Act
    const outcome = await errorOf(
      quickSink(unreachable).bulkIndex(bodiesOf(documents), { deadline, quarantine }),
    );
    const finishedAt = Date.now();

    // Assess
    expect(outcome).toBeInstanceOf(OpenSearchUnavailableError);
    const error = outcome as OpenSearchUnavailableError;
    expect(error.retryable).toBe(true);
    expect(error.progress).toMatchObject({ indexed: 0, duplicates: 0, quarantined: 0 });
    expect(error.progress.requests).toBeGreaterThan(1);
    expect(error.message).toMatch(
      /did not take 2 documents before the deadline: the bulk request failed: ConnectionError/,
    );
    expect(quarantine.entries).toEqual([]);
    expect(finishedAt).toBeLessThanOrEqual(deadline);
    await unreachable.close();
  });
});

describe('bulkIndex with injected faults', () => {
  let server: OpenSearchTestServer;
  beforeEach(() => {
    server = opensearch.target.server as OpenSearchTestServer;
    server.clearFaults();
    server.clearRequests();
  });

  withFaults(
    'retries only the items refused with 429, in smaller bodies, until they are indexed',
    async () => {
      // Prepare
      const index = `${PREFIX}-busy-2024.06.01`;
      const documents = documentsFor(index, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      server.injectFaults({ rejectItems: { attempts: 2, ids: ['doc-2'] } });
      const quarantine = new InMemoryQuarantine();

      // Act
      const result = await quickSink().bulkIndex(bodiesOf(documents), {
        deadline: inSeconds(30),
        quarantine,
      });

      // Assess
      expect(result).toEqual({ indexed: 3, duplicates: 0, quarantined: 0, retried: 2, requests: 3 });
      expect(server.bulkRequests.map((request) => request.items)).toEqual([3, 1, 1]);
      const [first, second] = server.bulkRequests.map((request) => request.bytes);
      expect(second).toBeLessThan((first ?? 0) / 2);
      expect(await countOf(index)).toBe(3);
    },
  );

  withFaults('retries whole requests that fail with 5xx or a dropped connection, then succeeds', async () => {
    // Prepare
    const index = `${PREFIX}-flaky-2024.06.01`;
    const documents = documentsFor(index, [{ n: 1 }, { n: 2 }]);
    server.injectFaults({ failRequests: { count: 2, status: 503 }, dropConnections: 1 });
    const quarantine = new InMemoryQuarantine();

    // Act
    const result = await quickSink().bulkIndex(bodiesOf(documents), { deadline: inSeconds(30), quarantine });

    // Assess
    expect(result).toEqual({ indexed: 2, duplicates: 0, quarantined: 0, retried: 0, requests: 4 });
    expect(server.bulkRequests.map((request) => request.status)).toEqual([0, 503, 503, 200]);
    expect(await countOf(index)).toBe(2);
  });

  withFaults('stops retrying items at the deadline and reports what was done', async () => {
    // Prepare
    const index = `${PREFIX}-stuck-2024.06.01`;
    const documents = documentsFor(index, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    server.injectFaults({ rejectItems: { attempts: 1_000, ids: ['doc-3'] } });
    const deadline = inSeconds(1.2);

    // Act
    const outcome = await errorOf(
      quickSink().bulkIndex(bodiesOf(documents), { deadline, quarantine: new InMemoryQuarantine() }),
    );
    const finishedAt = Date.now();

    // Assess
    expect(outcome).toBeInstanceOf(OpenSearchUnavailableError);
    const { progress } = outcome as OpenSearchUnavailableError;
    expect(progress).toMatchObject({ indexed: 2, quarantined: 0 });
    expect(progress.retried).toBeGreaterThanOrEqual(2);
    expect(finishedAt).toBeLessThanOrEqual(deadline);
  });

  withFaults('shortens a request to the time left when the cluster is slow', async () => {
    // Prepare
    server.injectFaults({ delayMs: 5_000 });
    const documents = documentsFor(`${PREFIX}-slow-2024.06.01`, [{ n: 1 }]);
    const deadline = inSeconds(1.5);

    // Act
    const outcome = await errorOf(
      quickSink().bulkIndex(bodiesOf(documents), { deadline, quarantine: new InMemoryQuarantine() }),
    );
    const finishedAt = Date.now();
    server.clearFaults();

    // Assess
    expect(outcome).toBeInstanceOf(OpenSearchUnavailableError);
    expect((outcome as Error).message).toMatch(/TimeoutError/);
    expect(finishedAt).toBeLessThanOrEqual(deadline + 100);
  });

  withFaults('keeps at most `concurrency` bulk requests in flight', async () => {
    // Prepare
    server.injectFaults({ delayMs: 150 });
    const documents = documentsFor(
      `${PREFIX}-parallel-2024.06.01`,
      [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
    );

    // Act
    const result = await quickSink(opensearch.client, { concurrency: 2 }).bulkIndex(bodiesOf(documents, 1), {
      deadline: inSeconds(30),
      quarantine: new InMemoryQuarantine(),
    });

    // Assess
    const spans = server.bulkRequests.map((request) => ({
      start: request.at,
      end: request.completedAt ?? Number.POSITIVE_INFINITY,
    }));
    const inFlightAt = (time: number): number =>
      spans.filter((span) => span.start <= time && time < span.end).length;
    const mostInFlight = Math.max(...spans.map((span) => inFlightAt(span.start)));
    expect(result.indexed).toBe(6);
    expect(mostInFlight).toBe(2);
    // Every request asks for the items' statuses and errors only.
    expect(new Set(server.bulkRequests.map((request) => request.query.filter_path))).toEqual(
      new Set(['items.*.status,items.*.error,error,status']),
    );
  });

  withFaults('fails at once, without retrying, when the cluster refuses the request (403)', async () => {
    // Prepare
    server.injectFaults({ failRequests: { count: 5, status: 403 } });
    const documents = documentsFor(`${PREFIX}-denied-2024.06.01`, [{ n: 1 }]);

    // Act
    const outcome = await errorOf(
      quickSink().bulkIndex(bodiesOf(documents), {
        deadline: inSeconds(30),
        quarantine: new InMemoryQuarantine(),
      }),
    );

    // Assess
    expect(outcome).toBeInstanceOf(BulkRequestRejectedError);
    expect(outcome).toMatchObject({
      statusCode: 403,
      retryable: false,
      progress: { requests: 1, indexed: 0 },
    });
    expect(server.bulkRequests).toHaveLength(1);
  });

  withFaults(
    'splits a body the cluster finds too large (413) and quarantines a document too large alone',
    async () => {
      // Prepare
      const small = await OpenSearchTestServer.start({ maxContentLength: 700 });
      const smallClient = createOpenSearchClient({ endpoint: small.url, auth: 'none' });
      const index = `${PREFIX}-large-2024.06.01`;
      const documents = documentsFor(index, [
        { text: 'a'.repeat(100) },
        { text: 'b'.repeat(100) },
        { text: 'c'.repeat(100) },
        { text: 'd'.repeat(900) },
        { text: 'e'.repeat(100) },
      ]);
      const quarantine = new InMemoryQuarantine();

      // Act
      const result = await quickSink(smallClient).bulkIndex(bodiesOf(documents), {
        deadline: inSeconds(30),
        quarantine,
      });
      const statuses = small.bulkRequests.map((request) => request.status);
      await smallClient.close();
      await small.stop();

      // Assess
      expect(result).toMatchObject({ indexed: 4, quarantined: 1 });
      expect(quarantine.entries).toEqual([
        expect.objectContaining({
          reason: 'too-large',
          record: 4,
          id: 'doc-4',
          error: expect.stringMatching(/^HTTP 413/),
        }),
      ]);
      expect(statuses[0]).toBe(413);
      expect(statuses.filter((status) => status === 200)).not.toHaveLength(0);
    },
  );
});
