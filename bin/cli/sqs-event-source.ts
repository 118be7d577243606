/**
 * A local stand-in for Lambda's SQS event source mapping: receives batches from a queue, invokes a
 * handler with an `SQSEvent`, deletes the messages the handler did not report in
 * `batchItemFailures`, and makes the failed ones visible again so that the queue's redrive policy
 * (maxReceiveCount → DLQ) applies as it does in AWS. The demo and the integration tests drive the
 * real indexer handler through it.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** A handler as the indexer exports it. */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** How to drain. */
export interface DrainOptions {
  readonly sqs: Pick<SQSClient, 'send'>;
  readonly queueUrl: string;
  /** The queue's ARN, as `eventSourceARN` in the records. */
  readonly queueArn: string;
  readonly handler: SqsBatchHandler;
  /** Messages per invocation (1-10). @default 10 */
  readonly batchSize?: number;
  /** The simulated function timeout, reported by `getRemainingTimeInMillis`. @default 900000 */
  readonly functionTimeoutMs?: number;
  /** Stop once the queue has been empty this long. @default 500 */
  readonly idleMs?: number;
  /** Stop after this many invocations (a guard against a message that fails forever). @default 10000 */
  readonly maxInvocations?: number;
  /** Told of every invocation. */
  readonly onInvocation?: (invocation: InvocationReport) => void;
}

/** One handler invocation. */
export interface InvocationReport {
  readonly messageIds: readonly string[];
  readonly failedMessageIds: readonly string[];
  readonly durationMs: number;
}

/** What a drain did. */
export interface DrainReport {
  readonly invocations: number;
  /** Messages acknowledged (deleted). */
  readonly acknowledged: number;
  /** Message deliveries reported failed (a message failing twice counts twice). */
  readonly failedDeliveries: number;
}

/** The Lambda event record of one received message, as the SQS event source mapping builds it. */
export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** A Lambda context whose `getRemainingTimeInMillis` counts down from `timeoutMs`. */
export function localContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'local-indexer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:local-indexer',
    memoryLimitInMB: '1024',
    awsRequestId: `local-${deadline}-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/local-indexer',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Invokes `handler` on the queue's messages until the queue stays empty for `idleMs`.
 * Acknowledges exactly what the handler did not report failed; a handler that throws fails every
 * message of its batch, as Lambda does.
 */
export async function drainThroughHandler(options: DrainOptions): Promise<DrainReport> {
  const { sqs, queueUrl, queueArn, handler } = options;
  const region = queueArn.split(':')[3] ?? 'us-east-1';
  const idleMs = options.idleMs ?? 500;
  let invocations = 0;
  let acknowledged = 0;
  let failedDeliveries = 0;
  let idleSince = Date.now();
  while (Date.now() - idleSince < idleMs && invocations < (options.maxInvocations ?? 10_000)) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      continue;
    }
    invocations++;
    const records = messages.map((message) => toRecord(message, queueArn, region));
    const started = Date.now();
    let failedIds: Set<string>;
    try {
      const response = await handler(
        { Records: records },
        localContext(options.functionTimeoutMs ?? 900_000),
      );
      failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch {
      failedIds = new Set(records.map((record) => record.messageId));
    }
    const done = records.filter((record) => !failedIds.has(record.messageId));
    const failed = records.filter((record) => failedIds.has(record.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
    if (failed.length > 0) {
      // Visible again at once instead of after the visibility timeout: same redrive, faster.
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: failed.map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
    acknowledged += done.length;
    failedDeliveries += failed.length;
    options.onInvocation?.({
      messageIds: records.map((record) => record.messageId),
      failedMessageIds: failed.map((record) => record.messageId),
      durationMs: Date.now() - started,
    });
    idleSince = Date.now();
  }
  return { invocations, acknowledged, failedDeliveries };
}
