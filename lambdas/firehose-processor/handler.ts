/**
 * The Firehose processor Lambda: a thin adapter over {@link processFirehoseEvent}. Configuration is
 * validated once at cold start; the logger, metrics and SDK clients live at module scope.
 *
 * Contract: exactly one result per input record. A record that cannot be processed is
 * `ProcessingFailed` (Firehose writes it to the error prefix) and never fails the batch; a record
 * whose events were re-ingested is `Dropped` only once the stream accepted them. The handler
 * throws only when the event itself is malformed, which Firehose retries.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 */
import type { Context, FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { createLogger, createMetrics } from '../shared/powertools';
import { loadProcessorConfig } from './config';
import { processFirehoseEvent } from './process-event';
import { DEFAULT_RETRY } from './reingest';
import { sdkBatchSender } from './reingest-clients';
import { addProcessedEventMetrics, logProcessedEvent } from './report';

const SERVICE_NAME = 'firehose-processor';
const config = loadProcessorConfig(process.env);
const logger = createLogger(SERVICE_NAME);
const metrics = createMetrics(SERVICE_NAME);

/** Transforms a Firehose batch: partition keys, output, and re-ingestion of what does not fit. */
export async function handler(
  event: FirehoseTransformationEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
): Promise<FirehoseTransformationResult> {
  if (context?.awsRequestId !== undefined) logger.appendKeys({ requestId: context.awsRequestId });
  try {
    const processed = await processFirehoseEvent(event, {
      config,
      senderFor: sdkBatchSender,
      retry: {
        ...DEFAULT_RETRY,
        ...(context && { remainingMillis: () => context.getRemainingTimeInMillis() }),
      },
    });
    logProcessedEvent(processed, logger);
    addProcessedEventMetrics(processed, metrics);
    return processed.response;
  } finally {
    metrics.publishStoredMetrics();
  }
}
