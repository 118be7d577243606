/**
 * Builders of real-shaped Firehose transformation events: CloudWatch Logs subscription payloads
 * gzip'd and base64'd as Firehose delivers them, Direct PUT text, and Kinesis-source batches.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';

/** The delivery stream ARN of the built events. */
export const DELIVERY_STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs-archive';
/** The source stream ARN of Kinesis-source events. */
export const SOURCE_STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/cwl-fanout';

/** A CloudWatch Logs log event. */
export interface LogEventShape {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

let eventSequence = 0;

/** A log event with a CloudWatch-Logs-like 56-digit id. */
export function logEvent(timestamp: number, message: string): LogEventShape {
  eventSequence++;
  return { id: `${timestamp}${String(eventSequence).padStart(43, '0')}`.slice(0, 56), timestamp, message };
}

/** A DATA_MESSAGE payload. */
export function dataMessage(
  logEvents: readonly LogEventShape[],
  source: { logGroup?: string; logStream?: string } = {},
): Record<string, unknown> {
  return {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: source.logGroup ?? '/aws/lambda/orders',
    logStream: source.logStream ?? '2024/03/10/[$LATEST]0123456789abcdef',
    subscriptionFilters: ['to-firehose'],
    logEvents,
  };
}

/** The CONTROL_MESSAGE CloudWatch Logs sends when a subscription is created. */
export const CONTROL_MESSAGE = {
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [
    {
      id: '',
      timestamp: 1710000000000,
      message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.',
    },
  ],
};

/** Gzip'd JSON, base64'd: a record's `data` as CloudWatch Logs delivers it through Firehose. */
export function gzippedJson(payload: unknown): string {
  return gzipSync(JSON.stringify(payload)).toString('base64');
}

/** Plain text, base64'd: a Direct PUT record's `data`. */
export function base64Text(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

let recordSequence = 0;

/** A record with the given base64 `data`; `kinesis` adds the metadata of a Kinesis-source record. */
export function firehoseRecord(
  data: string,
  options: { kinesis?: boolean } = {},
): FirehoseTransformationEventRecord {
  recordSequence++;
  const recordId = `49546986683135544286507457936321625675700192471156785154${String(recordSequence).padStart(6, '0')}`;
  const approximateArrivalTimestamp = 1710072000000;
  return options.kinesis
    ? {
        recordId,
        approximateArrivalTimestamp,
        data,
        kinesisRecordMetadata: {
          shardId: 'shardId-000000000000',
          partitionKey: `pk-${recordSequence}`,
          approximateArrivalTimestamp,
          sequenceNumber: `4954698668313554428650745793632162567570019247115678${recordSequence}`,
          subsequenceNumber: '0',
        },
      }
    : { recordId, approximateArrivalTimestamp, data };
}

/** A transformation event of `records`, from Direct PUT/CloudWatch Logs or from a Kinesis stream. */
export function firehoseEvent(
  records: readonly FirehoseTransformationEventRecord[],
  options: { kinesis?: boolean } = {},
): FirehoseTransformationEvent {
  return {
    invocationId: 'a8a2a2b4-1f8c-4d8e-9a1c-5b5c0f6e7d8a',
    deliveryStreamArn: DELIVERY_STREAM_ARN,
    ...(options.kinesis && { sourceKinesisStreamArn: SOURCE_STREAM_ARN }),
    region: 'eu-west-1',
    records: [...records],
  };
}

/** The text of an Ok record's `data`. */
export function outputText(record: FirehoseTransformationResultRecord | undefined): string {
  if (record?.data === undefined) throw new Error(`record has no data: ${JSON.stringify(record)}`);
  return Buffer.from(record.data, 'base64').toString('utf8');
}

/** A re-ingested CloudWatch Logs payload, gunzip'd and parsed. */
export function reingestedPayload(
  data: Uint8Array | undefined,
): { logEvents: LogEventShape[] } & Record<string, unknown> {
  if (data === undefined) throw new Error('re-ingested record without data');
  return JSON.parse(gunzipSync(data).toString('utf8')) as { logEvents: LogEventShape[] } & Record<
    string,
    unknown
  >;
}

/** Retry options for tests: the blueprint's 20 attempts, without waiting between them. */
export const NO_DELAY = {
  maxAttempts: 20,
  baseDelayMillis: 0,
  maxDelayMillis: 0,
  reserveMillis: 0,
  sleep: async () => {},
};
