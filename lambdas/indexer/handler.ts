/**
 * The indexer Lambda: a thin adapter over {@link indexObject}. SQS delivers S3 notifications
 * (ReportBatchItemFailures); each message's objects are streamed, parsed and bulk-indexed.
 *
 * Contract: a message is reported failed unless every event of every object it names was indexed
 * (or was already there), quarantined, or handed to an enqueued continuation. The record handler
 * throws for what must be retried (OpenSearch unavailable, S3 failing, an unrecognised body that
 * must reach the DLQ); permanent per-document failures are quarantined and counted, not thrown.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createS3Client, createSqsClient } from '../shared/aws-clients';
import { FileBulkSink } from '../shared/file-bulk-sink';
import { OpenSearchBulkSink } from '../shared/opensearch/bulk-sink';
import { createOpenSearchClient } from '../shared/opensearch/client';
import { installIndexTemplates } from '../shared/opensearch/install-templates';
import { createLogger, createMetrics } from '../shared/powertools';
import { S3QuarantineWriter } from '../shared/quarantine';
import { boundedConcurrency } from './bounded-concurrency';
import { loadIndexerConfig } from './config';
import { type IndexObjectOutcome, indexObject } from './index-object';
import { loggableError } from './loggable-error';
import { continuationMessage, parseMessageBody } from './messages';

const SERVICE_NAME = 'log-indexer';
/** Reserved at the end of the invocation for the sink to drain what was read. */
const DRAIN_RESERVE_MS = 15_000;

const config = loadIndexerConfig(process.env);
const logger = createLogger(SERVICE_NAME);
const metrics = createMetrics(SERVICE_NAME);
const processor = new BatchProcessor(EventType.SQS);
const messageSlot = boundedConcurrency(config.messageConcurrency);
const s3 = createS3Client();
const sqs = createSqsClient();
const { sink, installTemplates } = bulkTarget();
let templatesInstalled: Promise<unknown> | undefined;

/**
 * Where the documents go: the cluster, or with a `file:` `OPENSEARCH_ENDPOINT` (the demo) bulk
 * body files and index template files in that directory.
 */
function bulkTarget() {
  if (config.bulkFileDirectory !== undefined) {
    const files = new FileBulkSink(config.bulkFileDirectory);
    return { sink: files, installTemplates: () => files.writeIndexTemplates({ prefix: config.indexPrefix }) };
  }
  const openSearch = createOpenSearchClient(config.opensearch);
  return {
    sink: new OpenSearchBulkSink(openSearch),
    installTemplates: () => installIndexTemplates(openSearch, { prefix: config.indexPrefix }),
  };
}

/** Installs the index templates once per cold start; a failure is retried by the next invocation. */
function ensureTemplates(): Promise<unknown> {
  templatesInstalled ??= installTemplates().then(
    (result) => logger.info('index templates ready', { ...result }),
    (error: unknown) => {
      templatesInstalled = undefined;
      throw error;
    },
  );
  return templatesInstalled;
}

function recordOutcome(outcome: IndexObjectOutcome): void {
  const { object, parse, bulk } = outcome;
  metrics.addMetric('ObjectsProcessed', MetricUnit.Count, 1);
  metrics.addMetric('DocumentsIndexed', MetricUnit.Count, bulk?.indexed ?? 0);
  metrics.addMetric('DocumentsDuplicate', MetricUnit.Count, bulk?.duplicates ?? 0);
  metrics.addMetric(
    'DocumentsQuarantined',
    MetricUnit.Count,
    outcome.quarantinedRecords + (bulk?.quarantined ?? 0),
  );
  if (outcome.status === 'continued') metrics.addMetric('ObjectsContinued', MetricUnit.Count, 1);
  if (outcome.status === 'missing' || outcome.status === 'superseded') {
    metrics.addMetric('ObjectsMissing', MetricUnit.Count, 1);
    logger.warn('object not indexed', { status: outcome.status, bucket: object.bucket, key: object.key });
    return;
  }
  logger.info('object indexed', {
    status: outcome.status,
    bucket: object.bucket,
    key: object.key,
    format: parse?.format,
    records: parse?.records,
    documents: parse?.documents,
    rejected: parse?.rejected,
    indexed: bulk?.indexed,
    duplicates: bulk?.duplicates,
    quarantinedByCluster: bulk?.quarantined,
    continueAt: outcome.continueAt,
  });
}

function recordHandlerFor(context: Pick<Context, 'getRemainingTimeInMillis'>) {
  return async (record: SQSRecord): Promise<void> => {
    try {
      await messageSlot(() => handleRecord(record, context));
    } catch (error: unknown) {
      // Reported to SQS as a batch item failure: the message is delivered again, then reaches the DLQ.
      logger.error('message failed; it will be retried', {
        messageId: record.messageId,
        error: loggableError(error),
      });
      throw error;
    }
  };
}

async function handleRecord(
  record: SQSRecord,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<void> {
  const content = parseMessageBody(record.body);
  if (content.kind === 'ignored') {
    logger.info('message acknowledged without work', { messageId: record.messageId, reason: content.reason });
    return;
  }
  for (const reason of content.ignored) logger.info('notification record ignored', { reason });
  await ensureTemplates();
  for (const task of content.objects) {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - config.timeSafetyMarginMs;
    const outcome = await indexObject(
      task,
      {
        indexPrefix: config.indexPrefix,
        logSources: config.logSources,
        bulkMaxBytes: config.bulkMaxBytes,
        deadline,
        stopReadingAt: deadline - DRAIN_RESERVE_MS,
        ...(config.maxCharsPerInvocation !== undefined && {
          maxCharsPerInvocation: config.maxCharsPerInvocation,
        }),
      },
      {
        s3,
        sink,
        quarantineFor: (object, format, firstRecord) =>
          new S3QuarantineWriter({
            s3,
            bucket: config.quarantine.bucket,
            prefix: config.quarantine.prefix,
            object,
            format,
            firstRecord,
          }),
        ...(config.continuationQueueUrl !== undefined && {
          enqueueContinuation: async (next) => {
            await sqs.send(
              new SendMessageCommand({
                QueueUrl: config.continuationQueueUrl,
                MessageBody: continuationMessage(next),
              }),
            );
          },
        }),
      },
    );
    recordOutcome(outcome);
  }
}

/** SQS-triggered entry point; returns the messages to retry. */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    // At most MESSAGE_CONCURRENCY messages at a time (default 1): memory stays bounded by that many
    // objects, and the cluster sees at most that many times the sink's concurrency per function
    // instance (the event source's maxConcurrency caps instances).
    return await processPartialResponse(event, recordHandlerFor(context), processor, {
      context,
      processInParallel: config.messageConcurrency > 1,
      throwOnFullBatchFailure: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
