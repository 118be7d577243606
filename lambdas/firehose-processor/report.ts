/**
 * What a processed batch tells the log and CloudWatch metrics: every failed record with its reason
 * (so nothing fails silently), the re-ingestion errors, and the batch's counts.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ProcessedEvent } from './process-event';

/** The logging the report needs; Powertools' Logger has it. */
export interface ReportLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  debug(message: string, attributes: Record<string, unknown>): void;
}

/** The metrics the report needs; Powertools' Metrics has them. */
export interface ReportMetrics {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void;
}

/** Failed records logged one by one per batch; the rest are counted in the summary. */
export const MAX_LOGGED_FAILURES = 50;

/**
 * Metric names, per batch: `RecordsProcessed`, `RecordsOk`, `RecordsDropped`, `ProcessingFailed`
 * (records), `EventsDelivered`, `EventsReingested` (log events), `RecordsSplit` (records whose
 * events spanned partitions), `RecordsOverflowed` (outputs re-ingested for lack of room in the
 * response), `RecordsReingested` and `ReingestFailed` (payloads put back into the stream),
 * `ResponseBytes`.
 */
export const PROCESSOR_METRIC_NAMES = [
  'RecordsProcessed',
  'RecordsOk',
  'RecordsDropped',
  'ProcessingFailed',
  'EventsDelivered',
  'EventsReingested',
  'RecordsSplit',
  'RecordsOverflowed',
  'RecordsReingested',
  'ReingestFailed',
  'ResponseBytes',
] as const;

/** Logs the batch: a warning per failed record (up to {@link MAX_LOGGED_FAILURES}) and a summary. */
export function logProcessedEvent(processed: ProcessedEvent, logger: ReportLogger): void {
  const failures = processed.notes.filter((note) => note.result === 'ProcessingFailed');
  for (const note of failures.slice(0, MAX_LOGGED_FAILURES)) {
    logger.warn('record failed: Firehose keeps it in the error prefix', {
      recordId: note.recordId,
      reason: note.reason,
    });
  }
  for (const note of processed.notes.filter((note) => note.result === 'Dropped')) {
    logger.debug('record dropped', { recordId: note.recordId, reason: note.reason });
  }
  if (processed.reingestErrors.length > 0)
    logger.warn('re-ingestion errors', { errors: processed.reingestErrors, counts: processed.counts });
  logger.info('batch processed', {
    ...processed.counts,
    ...(failures.length > MAX_LOGGED_FAILURES && {
      failuresNotLogged: failures.length - MAX_LOGGED_FAILURES,
    }),
  });
}

/** Adds the batch's counts as metrics (see {@link PROCESSOR_METRIC_NAMES}). */
export function addProcessedEventMetrics(processed: ProcessedEvent, metrics: ReportMetrics): void {
  const { counts } = processed;
  const values: Record<(typeof PROCESSOR_METRIC_NAMES)[number], number> = {
    RecordsProcessed: counts.records,
    RecordsOk: counts.ok,
    RecordsDropped: counts.dropped,
    ProcessingFailed: counts.failed,
    EventsDelivered: counts.eventsDelivered,
    EventsReingested: counts.eventsReingested,
    RecordsSplit: counts.splitRecords,
    RecordsOverflowed: counts.overflowRecords,
    RecordsReingested: counts.reingestedPayloads,
    ReingestFailed: counts.reingestFailedPayloads,
    ResponseBytes: counts.responseBytes,
  };
  for (const name of PROCESSOR_METRIC_NAMES) {
    metrics.addMetric(name, name === 'ResponseBytes' ? MetricUnit.Bytes : MetricUnit.Count, values[name]);
  }
}
