/**
 * Re-ingestion: putting records back into the stream a Firehose batch came from, in calls of at
 * most 500 records and 4 MiB, retrying the entries that fail with exponential backoff. The
 * sending itself is behind {@link RecordBatchSender}, so this module imports no AWS SDK.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 * @see https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
 */

/** One record to put back. */
export interface ReingestEntry {
  readonly data: Uint8Array;
  /** Kinesis only: the shard partition key. */
  readonly partitionKey?: string;
}

/**
 * Sends one batch (PutRecordBatch or PutRecords).
 *
 * @returns, for each entry in order, its error code, or undefined when it was accepted.
 * @throws when the whole call failed; every entry of the batch is then retried.
 */
export interface RecordBatchSender {
  send(entries: readonly ReingestEntry[]): Promise<readonly (string | undefined)[]>;
}

/** The stream a Firehose batch came from, which is where its records are re-ingested. */
export interface ReingestTarget {
  readonly service: 'firehose' | 'kinesis';
  readonly region: string;
  readonly streamName: string;
}

/** Records per PutRecordBatch / PutRecords call. */
export const MAX_RECORDS_PER_CALL = 500;

/** Bytes per call: PutRecordBatch's limit (PutRecords allows 5 MiB, so this holds for both). */
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;

/**
 * Bytes per re-ingested record: Firehose's 1,000 KiB, which also keeps a Kinesis record (1 MiB
 * including its partition key of at most 256 bytes) within bounds.
 */
export const MAX_REINGEST_RECORD_BYTES = 1000 * 1024;

/** How failed entries are retried. */
export interface RetryOptions {
  /** Attempts per entry, the first included. */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubled for each further one, with full jitter. */
  readonly baseDelayMillis: number;
  readonly maxDelayMillis: number;
  /** Milliseconds left in the invocation; retries stop when a delay would eat into {@link reserveMillis}. */
  readonly remainingMillis?: () => number;
  /** Time kept for answering Firehose after the last attempt. */
  readonly reserveMillis: number;
  readonly sleep?: (millis: number) => Promise<void>;
  readonly random?: () => number;
}

/** The blueprint's 20 attempts, with a delay that stays short enough for a one-minute timeout. */
export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 20,
  baseDelayMillis: 100,
  maxDelayMillis: 2_000,
  reserveMillis: 5_000,
};

/** What became of a re-ingestion. */
export interface ReingestOutcome {
  /** Indexes (into the entries given) that were never accepted. */
  readonly failed: ReadonlySet<number>;
  /** Calls made, retries included. */
  readonly calls: number;
  /** Attempts made for the entries that needed the most. */
  readonly attempts: number;
  /** The last error codes or messages seen, for the log. */
  readonly lastErrors: readonly string[];
}

/**
 * The stream to re-ingest into: the Kinesis data stream when the batch came from one, else the
 * Firehose stream itself.
 *
 * @throws Error when the ARN is not a Firehose delivery stream or Kinesis stream ARN.
 */
export function reingestTargetOf(event: {
  readonly deliveryStreamArn: string;
  readonly sourceKinesisStreamArn?: string | undefined;
}): ReingestTarget {
  const kinesis = event.sourceKinesisStreamArn;
  const arn = kinesis ?? event.deliveryStreamArn;
  const match = /^arn:[^:]+:(firehose|kinesis):([^:]+):[^:]*:(?:deliverystream|stream)\/(.+)$/.exec(arn);
  if (match === null) throw new Error(`not a Firehose or Kinesis stream ARN: ${JSON.stringify(arn)}`);
  const [, service, region, streamName] = match as unknown as [string, string, string, string];
  if ((service === 'kinesis') !== (kinesis !== undefined))
    throw new Error(`stream ARN of the wrong service: ${JSON.stringify(arn)}`);
  return { service: service === 'kinesis' ? 'kinesis' : 'firehose', region, streamName };
}

/**
 * Puts entries through `sender`, batching and retrying. Never throws: entries that still fail
 * after the last attempt (or when time runs out) are reported in `failed`.
 */
export async function reingestEntries(
  entries: readonly ReingestEntry[],
  sender: RecordBatchSender,
  retry: RetryOptions = DEFAULT_RETRY,
): Promise<ReingestOutcome> {
  const sleep = retry.sleep ?? defaultSleep;
  const random = retry.random ?? Math.random;
  let pending = entries.map((_, index) => index);
  let calls = 0;
  let attempts = 0;
  let lastErrors: string[] = [];
  while (pending.length > 0 && attempts < retry.maxAttempts) {
    if (attempts > 0) {
      const delay = Math.min(retry.maxDelayMillis, retry.baseDelayMillis * 2 ** (attempts - 1)) * random();
      const remaining = retry.remainingMillis?.();
      if (remaining !== undefined && remaining - delay < retry.reserveMillis) {
        lastErrors = [...lastErrors, 'stopped retrying: the invocation is about to time out'];
        break;
      }
      await sleep(delay);
    }
    attempts++;
    const stillFailing: number[] = [];
    const errors: string[] = [];
    for (const batch of batches(pending, entries)) {
      calls++;
      try {
        const codes = await sender.send(batch.map((index) => entries[index] as ReingestEntry));
        batch.forEach((index, position) => {
          const code = codes[position];
          if (code !== undefined) {
            stillFailing.push(index);
            errors.push(code);
          }
        });
      } catch (error: unknown) {
        stillFailing.push(...batch);
        errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    }
    pending = stillFailing;
    if (errors.length > 0) lastErrors = [...new Set(errors)].slice(0, 5);
  }
  return { failed: new Set(pending), calls, attempts, lastErrors };
}

/** Cuts entry indexes into calls of at most 500 entries and 4 MiB. */
function* batches(indexes: readonly number[], entries: readonly ReingestEntry[]): Generator<number[]> {
  let batch: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const entry = entries[index] as ReingestEntry;
    const size =
      entry.data.length + (entry.partitionKey === undefined ? 0 : Buffer.byteLength(entry.partitionKey));
    if (batch.length > 0 && (batch.length === MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(index);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function defaultSleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
