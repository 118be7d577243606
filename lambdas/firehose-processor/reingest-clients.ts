/**
 * The AWS SDK side of re-ingestion: {@link RecordBatchSender}s over Firehose PutRecordBatch and
 * Kinesis PutRecords. Clients are created once per region and reused across invocations; the SDK
 * reads `AWS_ENDPOINT_URL_FIREHOSE` / `AWS_ENDPOINT_URL_KINESIS` itself.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 * @see https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { RecordBatchSender, ReingestEntry, ReingestTarget } from './reingest';

// A response without an entry for a record cannot prove it was accepted.
const MISSING_RESULT = 'MissingResponseEntry';

/** Each entry's error code from a PutRecordBatch or PutRecords response; undefined when accepted. */
function errorCodes(
  count: number,
  failedCount: number | undefined,
  results: readonly { readonly ErrorCode?: string | undefined }[] | undefined,
): (string | undefined)[] {
  return Array.from({ length: count }, (_, index) => {
    if (failedCount === 0) return undefined;
    const result = results?.[index];
    return result === undefined ? MISSING_RESULT : result.ErrorCode || undefined;
  });
}

/** A sender that puts records into a Firehose stream with PutRecordBatch. */
export function firehoseBatchSender(client: FirehoseClient, deliveryStreamName: string): RecordBatchSender {
  return {
    async send(entries: readonly ReingestEntry[]) {
      const response = await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: deliveryStreamName,
          Records: entries.map((entry) => ({ Data: entry.data })),
        }),
      );
      return errorCodes(entries.length, response.FailedPutCount, response.RequestResponses);
    },
  };
}

/** A sender that puts records into a Kinesis data stream with PutRecords. */
export function kinesisBatchSender(client: KinesisClient, streamName: string): RecordBatchSender {
  return {
    async send(entries: readonly ReingestEntry[]) {
      const response = await client.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: entries.map((entry) => ({
            Data: entry.data,
            PartitionKey: entry.partitionKey ?? 'reingested',
          })),
        }),
      );
      return errorCodes(entries.length, response.FailedRecordCount, response.Records);
    },
  };
}

const firehoseClients = new Map<string, FirehoseClient>();
const kinesisClients = new Map<string, KinesisClient>();

// The sender retries failed entries itself, with backoff; the SDK's own retries would multiply that.
const SDK_MAX_ATTEMPTS = 1;

/** A sender for `target`, over a client cached per region. */
export function sdkBatchSender(target: ReingestTarget): RecordBatchSender {
  if (target.service === 'kinesis') {
    let client = kinesisClients.get(target.region);
    if (client === undefined) {
      client = new KinesisClient({ region: target.region, maxAttempts: SDK_MAX_ATTEMPTS });
      kinesisClients.set(target.region, client);
    }
    return kinesisBatchSender(client, target.streamName);
  }
  let client = firehoseClients.get(target.region);
  if (client === undefined) {
    client = new FirehoseClient({ region: target.region, maxAttempts: SDK_MAX_ATTEMPTS });
    firehoseClients.set(target.region, client);
  }
  return firehoseBatchSender(client, target.streamName);
}
