/**
 * Indexes one S3 object: stream it, parse it with the core, bulk-index the documents, quarantine
 * what cannot be indexed, and hand the rest of an object that does not fit in this invocation to
 * a continuation. Shared by the indexer Lambda and `logpipe backfill --mode index`; it knows
 * nothing of SQS or Lambda (its dependencies are injected).
 *
 * Contract: it resolves only when every record it read is indexed, already there (409),
 * quarantined, or handed to a continuation that was enqueued; anything else throws, so the
 * caller does not acknowledge the work.
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { BulkBody } from '../core/bulk';
import { encodeBulk } from '../core/bulk-encoder';
import { unquotedEtag } from '../core/documents';
import type { LogSource } from '../core/log-sources';
import type { ReadPosition } from '../core/object-reader';
import type { ParseSummary } from '../core/parse-object';
import type { ObjectIdentity } from '../core/types';
import type { BulkIndexResult, OpenSearchBulkSink } from '../shared/opensearch/bulk-sink';
import type { QuarantineEntry, QuarantineSink } from '../shared/quarantine';
import type { ObjectTask } from './messages';

/** A quarantine for one object: entries are buffered and written by `flush`. */
export interface ObjectQuarantine extends QuarantineSink {
  flush(): Promise<unknown>;
}

/** What {@link indexObject} needs from the outside world. */
export interface IndexObjectDependencies {
  readonly s3: Pick<S3Client, 'send'>;
  readonly sink: Pick<OpenSearchBulkSink, 'bulkIndex'>;
  /** A quarantine for this object, created when its first entry arrives. */
  readonly quarantineFor: (object: ObjectIdentity, format: string, firstRecord: number) => ObjectQuarantine;
  /** Enqueues the rest of the object; absent where no continuation is possible (then the object must fit). */
  readonly enqueueContinuation?: (task: ObjectTask & { readonly startRecord: number }) => Promise<void>;
  /** Epoch milliseconds now. */
  readonly now?: () => number;
}

/** How to index. */
export interface IndexObjectSettings {
  readonly indexPrefix: string;
  readonly logSources: readonly LogSource[];
  readonly bulkMaxBytes: number;
  /** Epoch ms: bulk requests and retries end by then (the invocation's end minus a margin). */
  readonly deadline: number;
  /**
   * Epoch ms: no new part of the object is read after this; what was read is sent and the rest
   * goes to a continuation. Leaves the sink time to drain before {@link deadline}.
   */
  readonly stopReadingAt: number;
  /**
   * Most record text (UTF-8 bytes) one invocation parses of one object before continuing; records
   * skipped to reach a continuation's start do not count. @default unlimited
   */
  readonly maxCharsPerInvocation?: number;
}

/** What happened to one object. */
export interface IndexObjectOutcome {
  /** `done`: every record settled; `continued`: the rest was enqueued; `missing`/`superseded`: nothing to index. */
  readonly status: 'done' | 'continued' | 'missing' | 'superseded' | 'ignored';
  readonly object: ObjectIdentity;
  readonly parse?: Readonly<ParseSummary>;
  readonly bulk?: Readonly<BulkIndexResult>;
  /** Records quarantined before reaching OpenSearch (parse errors, oversized documents). */
  readonly quarantinedRecords: number;
  /** Where the continuation starts, when there is one. */
  readonly continueAt?: number;
}

/**
 * The object cannot be indexed in one invocation and no continuation can be enqueued. Retrying
 * will not help, so the message reaches the DLQ, where an operator sees it.
 */
export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}

async function getObject(
  s3: Pick<S3Client, 'send'>,
  task: ObjectTask,
): Promise<GetObjectCommandOutput | 'missing' | 'superseded'> {
  const continuing = task.startRecord !== undefined && task.startRecord > 1;
  try {
    return await s3.send(
      new GetObjectCommand({
        Bucket: task.bucket,
        Key: task.key,
        ...(task.versionId !== undefined && { VersionId: task.versionId }),
        // A continuation must read the bytes its first part read, or its record numbers mean nothing.
        ...(continuing && task.etag !== undefined && { IfMatch: `"${task.etag}"` }),
        ...(task.startByte !== undefined && task.startByte > 0 && { Range: `bytes=${task.startByte}-` }),
      }),
    );
  } catch (error: unknown) {
    const name = errorName(error);
    // Deleted since it was announced (S3 is strongly consistent, so a retry cannot find it).
    if (name === 'NoSuchKey' || name === 'NoSuchVersion') return 'missing';
    // Overwritten since the first part was read: the new version has a notification of its own.
    if (continuing && name === 'PreconditionFailed') return 'superseded';
    throw error;
  }
}

/**
 * Indexes one object (or the part of it that `task` starts at).
 *
 * @throws when a document could not be settled (OpenSearch unavailable, S3 failing, the
 *   quarantine not written, a continuation not enqueued): the caller must not acknowledge.
 */
export async function indexObject(
  task: ObjectTask,
  settings: IndexObjectSettings,
  dependencies: IndexObjectDependencies,
): Promise<IndexObjectOutcome> {
  const now = dependencies.now ?? Date.now;
  const response = await getObject(dependencies.s3, task);
  const requested: ObjectIdentity = {
    bucket: task.bucket,
    key: task.key,
    ...(task.etag !== undefined && { etag: task.etag }),
  };
  if (typeof response === 'string') return { status: response, object: requested, quarantinedRecords: 0 };
  if (response.Body === undefined)
    throw new Error(`GetObject s3://${task.bucket}/${task.key} returned no body`);

  // The identity comes from GetObject itself, so every path to an object (notification, CloudTrail
  // SNS, backfill listing, continuation) computes the same document ids.
  const etag = unquotedEtag(response.ETag) ?? task.etag;
  const object: ObjectIdentity = {
    bucket: task.bucket,
    key: task.key,
    ...(etag !== undefined && { etag }),
    ...((response.VersionId ?? task.versionId) !== undefined && {
      versionId: response.VersionId ?? task.versionId,
    }),
    ...(response.LastModified !== undefined && { lastModified: response.LastModified.getTime() }),
  };
  const body = response.Body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  const encoding = encodeBulk(
    {
      body,
      object,
      logSources: settings.logSources,
      indexPrefix: settings.indexPrefix,
      ...(task.startRecord !== undefined && { startRecord: task.startRecord }),
      ...(task.startByte !== undefined && { startByte: task.startByte }),
    },
    { maxBulkBytes: settings.bulkMaxBytes },
  );

  const firstRecord = task.startRecord ?? 1;
  let quarantine: ObjectQuarantine | undefined;
  let quarantinedRecords = 0;
  const quarantineFor = (): ObjectQuarantine => {
    quarantine ??= dependencies.quarantineFor(object, encoding.summary.format ?? 'unknown', firstRecord);
    return quarantine;
  };
  const lazyQuarantine: QuarantineSink = { add: (entry: QuarantineEntry) => quarantineFor().add(entry) };

  let continueAt: ReadPosition | undefined;
  const budget = settings.maxCharsPerInvocation ?? Number.POSITIVE_INFINITY;
  let parsedBytes = 0;

  async function* bodies(): AsyncGenerator<BulkBody, void, undefined> {
    for await (const batch of encoding) {
      for (const item of batch.rejected) {
        quarantinedRecords++;
        await lazyQuarantine.add({
          reason: 'parse-error',
          error: item.reason,
          record: item.recordNumber,
          raw: item.raw,
        });
      }
      for (const oversized of batch.oversized) {
        quarantinedRecords++;
        await lazyQuarantine.add({
          reason: 'too-large',
          error: oversized.reason,
          record: oversized.document.recordNumber,
          raw: oversized.document.raw,
          index: oversized.document.index,
          id: oversized.document.id,
        });
      }
      yield* batch.bodies;
      parsedBytes += batch.recordBytes;
      if (now() >= settings.stopReadingAt || parsedBytes >= budget) {
        continueAt = batch.next;
        break;
      }
    }
    const last = encoding.flush();
    if (last !== undefined) yield last;
  }

  let bulk: BulkIndexResult;
  try {
    bulk = await dependencies.sink.bulkIndex(bodies(), {
      deadline: settings.deadline,
      quarantine: lazyQuarantine,
    });
  } finally {
    // Stop the download when we stopped early or failed; a no-op once the body was read to its end.
    body.destroy?.();
  }
  if (continueAt !== undefined) {
    if (dependencies.enqueueContinuation === undefined) {
      throw new ObjectTooLargeError(
        `s3://${task.bucket}/${task.key} did not fit in one invocation and no continuation queue is configured`,
      );
    }
    await dependencies.enqueueContinuation({
      bucket: task.bucket,
      key: task.key,
      ...(object.etag !== undefined && { etag: object.etag }),
      ...(object.versionId !== undefined && { versionId: object.versionId }),
      ...(task.size !== undefined && { size: task.size }),
      startRecord: continueAt.startRecord,
      ...(continueAt.startByte !== undefined && { startByte: continueAt.startByte }),
    });
  }
  // Written last: a failure above fails the message, and the retry rewrites the same quarantine object.
  await quarantine?.flush();
  return {
    status: continueAt !== undefined ? 'continued' : encoding.summary.ignored ? 'ignored' : 'done',
    object,
    parse: encoding.summary,
    bulk,
    quarantinedRecords,
    ...(continueAt !== undefined && { continueAt: continueAt.startRecord }),
  };
}
