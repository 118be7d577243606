/**
 * A whole Firehose transformation batch: every record transformed, the response kept under
 * Lambda's 6 MB limit, and whatever does not fit (other partitions, outputs beyond the limit)
 * re-ingested before the records that stand for it are answered. Exactly one result per input
 * record, in order; one bad record never fails the batch.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 */
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import { quoteJson } from '../core/json';
import type { ProcessorConfig } from './config';
import { Base64Batch } from './kernels';
import {
  DEFAULT_RETRY,
  MAX_REINGEST_RECORD_BYTES,
  type RecordBatchSender,
  type ReingestEntry,
  type ReingestTarget,
  type RetryOptions,
  reingestEntries,
  reingestTargetOf,
} from './reingest';
import { type RecordTransform, RecordTransformer } from './transform-record';

/**
 * Largest response the processor returns. Lambda's synchronous limit is 6,291,456 bytes; the
 * response size is counted exactly, and the rest is headroom, as in the AWS blueprint.
 */
export const MAX_RESPONSE_BYTES = 6_000_000;

/** Output bytes per payload when an output too large for any response is split for re-ingestion. */
export const REINGEST_CHUNK_OUTPUT_BYTES = 1_000_000;

/** What the batch processing needs from outside. */
export interface ProcessEventOptions {
  readonly config: ProcessorConfig;
  /** Creates the sender for the batch's stream; absent: re-ingestion is disabled and records that need it fail. */
  readonly senderFor?: (target: ReingestTarget) => RecordBatchSender;
  readonly retry?: RetryOptions;
  /** Overrides {@link MAX_RESPONSE_BYTES} (tests). */
  readonly maxResponseBytes?: number;
}

/** A record that was dropped or failed, and why. */
export interface RecordNote {
  readonly recordId: string;
  readonly result: 'Dropped' | 'ProcessingFailed';
  readonly reason: string;
}

/** Counts for metrics and the log. */
export interface ProcessingCounts {
  readonly records: number;
  readonly ok: number;
  readonly dropped: number;
  readonly failed: number;
  /** Events delivered in Ok records. */
  readonly eventsDelivered: number;
  /** Events handed to re-ingestion that was accepted. */
  readonly eventsReingested: number;
  /** Records whose events spanned more than one partition. */
  readonly splitRecords: number;
  /** Outputs re-ingested because the response had no room for them. */
  readonly overflowRecords: number;
  /** Records put back into the stream (accepted). */
  readonly reingestedPayloads: number;
  readonly reingestFailedPayloads: number;
  readonly reingestCalls: number;
  readonly responseBytes: number;
}

/** The response and what the log and metrics need to know about it. */
export interface ProcessedEvent {
  readonly response: FirehoseTransformationResult;
  readonly counts: ProcessingCounts;
  /** Every Dropped or ProcessingFailed record, with its reason. */
  readonly notes: readonly RecordNote[];
  /** Error codes or messages of the last failed re-ingestion attempt. */
  readonly reingestErrors: readonly string[];
}

// Per-record plan once the response size is known.
interface Plan {
  readonly transform: RecordTransform;
  /** The output goes into the response (only for 'output'). */
  readonly inResponse: boolean;
  /** The index of its text in the batch's {@link Base64Batch}, when it is in the response. */
  readonly text?: number;
  /** Indexes into the batch's re-ingestion entries. */
  readonly entries: number[];
  readonly events: number;
  /** The serialised size of its partition keys, when it has output. */
  readonly keysBytes?: number;
}

const EMPTY_RESPONSE_BYTES = '{"records":[]}'.length;
const EMPTY_BYTES = Buffer.alloc(0);

/** Transforms a Firehose batch, re-ingests what must be, and answers every record. */
export async function processFirehoseEvent(
  event: FirehoseTransformationEvent,
  options: ProcessEventOptions,
): Promise<ProcessedEvent> {
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const transformer = new RecordTransformer(options.config, {
    maxOutputBytes: maxResponseBytes - EMPTY_RESPONSE_BYTES - 512,
    maxReingestRecordBytes: MAX_REINGEST_RECORD_BYTES,
    reingestChunkOutputBytes: Math.min(REINGEST_CHUNK_OUTPUT_BYTES, Math.floor(maxResponseBytes / 4)),
  });

  // Every record may end up without data (Dropped or ProcessingFailed), so each reserves that
  // much first; outputs then fill the rest in order, and one that does not fit is re-ingested.
  // Records are planned as they are transformed, so an output that does not fit is let go at once
  // and memory holds at most one response's worth of output.
  const idBytes = event.records.map((record) => Buffer.byteLength(quoteJson(record.recordId)));
  const withoutData = idBytes.map((bytes) => entryBytes(bytes, 'ProcessingFailed'));
  let responseBytes = EMPTY_RESPONSE_BYTES + withoutData.reduce((sum, bytes) => sum + bytes + 1, 0);
  const entries: ReingestEntry[] = [];
  const texts = new Base64Batch();
  const plans = event.records.map((record, index): Plan => {
    const transform = transformer.transform(record);
    const partitionKey = record.kinesisRecordMetadata?.partitionKey ?? record.recordId;
    const enqueue = (payloads: readonly Buffer[]) =>
      payloads.map((data) => entries.push({ data, partitionKey }) - 1);
    if (transform.kind === 'drop' || transform.kind === 'fail')
      return { transform, inResponse: false, entries: [], events: 0 };
    if (transform.kind === 'reingest')
      return { transform, inResponse: false, entries: enqueue(transform.payloads), events: transform.events };
    const keysBytes = Buffer.byteLength(JSON.stringify(transform.partitionKeys));
    const bytes =
      entryBytes(idBytes[index] ?? 0, 'Ok', keysBytes) + transform.base64Length - (withoutData[index] ?? 0);
    const fits = responseBytes + bytes <= maxResponseBytes;
    if (fits) responseBytes += bytes;
    // The output is encoded at once: its bytes may be a view valid only until the next record.
    const text = fits ? texts.add(transform.bytes) : undefined;
    const own = fits ? [] : enqueue(transform.reingestOutput());
    return {
      transform: { ...transform, bytes: EMPTY_BYTES, base64Length: fits ? transform.base64Length : 0 },
      inResponse: fits,
      text,
      entries: [...own, ...enqueue(transform.otherPartitions)],
      events: transform.events + transform.otherEvents,
      keysBytes,
    };
  });

  // Read before anything is awaited: the encoder's memory is shared.
  const responseTexts = texts.texts();
  const reingestion = await reingestAll(event, entries, options);
  const notes: RecordNote[] = [];
  const records: FirehoseTransformationResultRecord[] = [];
  let eventsDelivered = 0;
  let eventsReingested = 0;
  // The exact serialised size of `{"records":[...]}`, counted entry by entry.
  let answeredBytes = EMPTY_RESPONSE_BYTES + Math.max(0, plans.length - 1);
  plans.forEach((plan, index) => {
    const recordId = idOf(event, index);
    const { transform } = plan;
    const answer = answerOf(plan, reingestion);
    if (answer.result !== 'ProcessingFailed' && transform.kind !== 'drop' && transform.kind !== 'fail') {
      const delivered = transform.kind === 'output' && plan.inResponse ? transform.events : 0;
      eventsDelivered += delivered;
      eventsReingested += plan.events - delivered;
    }
    if (answer.result !== 'Ok') {
      notes.push({ recordId, ...answer });
      records.push({ recordId, result: answer.result });
      answeredBytes += entryBytes(idBytes[index] ?? 0, answer.result);
    } else if (transform.kind === 'output') {
      const data = plan.text === undefined ? '' : (responseTexts[plan.text] ?? '');
      records.push({ recordId, result: 'Ok', data, metadata: { partitionKeys: transform.partitionKeys } });
      answeredBytes += entryBytes(idBytes[index] ?? 0, 'Ok', plan.keysBytes) + data.length;
    }
  });

  const count = (result: FirehoseTransformationResultRecord['result']) =>
    records.filter((record) => record.result === result).length;
  return {
    response: { records },
    notes,
    reingestErrors: reingestion.errors,
    counts: {
      records: records.length,
      ok: count('Ok'),
      dropped: count('Dropped'),
      failed: count('ProcessingFailed'),
      eventsDelivered,
      eventsReingested,
      splitRecords: plans.filter(
        ({ transform }) => transform.kind === 'output' && transform.otherPartitions.length > 0,
      ).length,
      overflowRecords: plans.filter((plan) => plan.transform.kind === 'output' && !plan.inResponse).length,
      reingestedPayloads: entries.length - reingestion.failed.size,
      reingestFailedPayloads: reingestion.failed.size,
      reingestCalls: reingestion.calls,
      responseBytes: answeredBytes,
    },
  };
}

interface Reingestion {
  readonly failed: ReadonlySet<number>;
  readonly calls: number;
  readonly reason: string;
  readonly errors: readonly string[];
}

async function reingestAll(
  event: FirehoseTransformationEvent,
  entries: readonly ReingestEntry[],
  options: ProcessEventOptions,
): Promise<Reingestion> {
  const everything = () => new Set(entries.map((_, index) => index));
  if (entries.length === 0) return { failed: new Set(), calls: 0, reason: '', errors: [] };
  if (options.senderFor === undefined)
    return { failed: everything(), calls: 0, reason: 'disabled', errors: [] };
  let target: ReingestTarget;
  try {
    target = reingestTargetOf(event);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return { failed: everything(), calls: 0, reason, errors: [reason] };
  }
  const outcome = await reingestEntries(entries, options.senderFor(target), options.retry ?? DEFAULT_RETRY);
  return {
    failed: outcome.failed,
    calls: outcome.calls,
    reason: `not accepted after ${outcome.attempts} attempts (${outcome.lastErrors.join(', ')})`,
    errors: outcome.lastErrors,
  };
}

/** A record's result once its re-ingestion, if any, is known. */
function answerOf(plan: Plan, reingestion: Reingestion): { result: 'Ok' } | Omit<RecordNote, 'recordId'> {
  const { transform } = plan;
  if (transform.kind === 'drop') return { result: 'Dropped', reason: transform.reason };
  if (transform.kind === 'fail') return { result: 'ProcessingFailed', reason: transform.reason };
  if (plan.entries.some((entry) => reingestion.failed.has(entry)))
    return { result: 'ProcessingFailed', reason: `re-ingestion failed: ${reingestion.reason}` };
  if (transform.kind === 'reingest') return { result: 'Dropped', reason: `re-ingested: ${transform.reason}` };
  if (!plan.inResponse) return { result: 'Dropped', reason: 're-ingested: no room left in the response' };
  return { result: 'Ok' };
}

function idOf(event: FirehoseTransformationEvent, index: number): string {
  return event.records[index]?.recordId ?? '';
}

/**
 * The serialised size of a response record without its `data` text, from the sizes of its
 * quoted id and, for an Ok record, of its partition keys' JSON: the shape JSON.stringify gives a
 * result record, counted without serialising the record.
 */
function entryBytes(
  idBytes: number,
  result: FirehoseTransformationResultRecord['result'],
  keysBytes?: number,
): number {
  const base = idBytes + result.length + '{"recordId":,"result":""}'.length;
  return keysBytes === undefined
    ? base
    : base + keysBytes + ',"data":"","metadata":{"partitionKeys":}'.length;
}
