/**
 * The demo's Firehose part: CloudWatch Logs subscription payloads go through the real processor
 * handler as Firehose would send them (gzip'd and base64'd, plus a `CONTROL_MESSAGE`), and what it
 * returns `Ok` is written where the deployed stream writes it: `ARCHIVE_PREFIX` with the record's
 * partition keys filled in.
 *
 * A record whose events span two hours is answered with its first hour, and its other hour is put
 * back into the stream (PutRecordBatch) for a later batch. Here the stream is a local stand-in
 * ({@link startLocalFirehose}) that keeps what it is given; the demo then feeds it to the
 * processor as the next batch, as Firehose does, until nothing comes back.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 * @see https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type {
  Context,
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
} from 'aws-lambda';
import { parseCloudWatchPayload } from '../../../lambdas/firehose-processor/record-data';
import { ARCHIVE_PREFIX } from '../../../lib/firehose-archive';

/** The processor handler's shape. */
export type FirehoseProcessorHandler = (
  event: FirehoseTransformationEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<FirehoseTransformationResult>;

/** The delivery stream the demo pretends to be (the stack names it `<stack>-logs-archive`). */
export const DEMO_STREAM_NAME = 'logpipe-demo-logs-archive';

/** Batches after the first, fed from re-ingested records, before the demo gives up. */
const MAX_ROUNDS = 5;
/** CloudWatch Logs delivers a payload about this long after its last event. */
const DELIVERY_DELAY_MS = 1_000;
/** PutRecordBatch takes at most 4 MiB; the stand-in refuses bodies past twice that (base64 and JSON). */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** A local PutRecordBatch endpoint that accepts every record and keeps it for the next batch. */
export interface LocalFirehose {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_FIREHOSE`. */
  readonly endpoint: string;
  /** The records put since the last call, in order. */
  take(): Buffer[];
  stop(): Promise<void>;
}

/**
 * Starts the stand-in on 127.0.0.1. It speaks just enough of the Firehose JSON protocol for the
 * SDK's PutRecordBatch; any other operation gets an `UnknownOperationException`.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
export async function startLocalFirehose(): Promise<LocalFirehose> {
  let records: Buffer[] = [];
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => answerPutRecordBatch(request, body, response, records),
      (error: unknown) =>
        answer(response, 400, { __type: 'InvalidArgumentException', message: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const taken = records;
      records = [];
      return taken;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_REQUEST_BYTES) throw new Error(`request body over ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answerPutRecordBatch(
  request: IncomingMessage,
  body: string,
  response: ServerResponse,
  records: Buffer[],
): void {
  const operation = request.headers['x-amz-target'];
  if (operation !== 'Firehose_20150804.PutRecordBatch') {
    answer(response, 400, { __type: 'UnknownOperationException', message: `not supported: ${operation}` });
    return;
  }
  const put = (JSON.parse(body) as { Records?: { Data?: unknown }[] }).Records ?? [];
  const ids = put.map((record) => {
    records.push(Buffer.from(typeof record.Data === 'string' ? record.Data : '', 'base64'));
    return { RecordId: `reingested-${records.length}` };
  });
  answer(response, 200, { FailedPutCount: 0, Encrypted: false, RequestResponses: ids });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

/** One S3 prefix of the archive, and what the demo wrote under it. */
export interface FirehosePartition {
  readonly prefix: string;
  readonly files: number;
  /** `Ok` records delivered into it. */
  readonly records: number;
  /** Output lines: one per log event. */
  readonly events: number;
}

/** What the Firehose part did. */
export interface FirehoseDemoReport {
  /** Batches given to the processor: the first, then one per round of re-ingested records. */
  readonly batches: number;
  readonly records: number;
  readonly ok: number;
  readonly dropped: number;
  readonly failed: number;
  /** Records the processor put back into the stream. */
  readonly reingested: number;
  /** In prefix order. */
  readonly partitions: readonly FirehosePartition[];
}

/** What {@link runFirehoseDemo} needs. */
export interface FirehoseDemoOptions {
  readonly handler: FirehoseProcessorHandler;
  readonly stream: LocalFirehose;
  /** The delivery stream's ARN (its region and name are where records are re-ingested). */
  readonly deliveryStreamArn: string;
  /** CloudWatch Logs `DATA_MESSAGE` payloads, as JSON text. */
  readonly payloads: readonly Buffer[];
  /** Where the archive's objects go (`<directory>/logs/...`). */
  readonly directory: string;
}

/** One record of a batch: its data before base64, and when it reached the stream. */
interface BatchEntry {
  readonly data: Buffer;
  readonly arrival: number;
}

/**
 * Runs the payloads through the processor, then every round of re-ingested records, and writes
 * each batch's `Ok` output under its partition's prefix.
 *
 * @throws Error when a payload is not a CloudWatch Logs message, when an `Ok` record lacks a
 * partition key of the prefix, or when records keep coming back after {@link MAX_ROUNDS} rounds.
 */
export async function runFirehoseDemo(options: FirehoseDemoOptions): Promise<FirehoseDemoReport> {
  const payloads = options.payloads.map((json) => {
    const parsed = parseCloudWatchPayload(json);
    if (parsed.kind === 'invalid') throw new Error(`a CloudWatch Logs sample is invalid: ${parsed.reason}`);
    const times =
      parsed.kind === 'cloudwatch-data' ? parsed.payload.logEvents.map((event) => event.timestamp) : [];
    return { json, lastEvent: times.length === 0 ? undefined : Math.max(...times) };
  });
  let arrival = Math.max(0, ...payloads.map((payload) => payload.lastEvent ?? 0)) + DELIVERY_DELAY_MS;
  // A control message has no events of its own: it arrives with the batch.
  const firstBatch = payloads.map(
    ({ json, lastEvent }): BatchEntry => ({
      data: gzipSync(json),
      arrival: lastEvent === undefined ? arrival : lastEvent + DELIVERY_DELAY_MS,
    }),
  );

  const partitions = new Map<string, { files: number; records: number; events: number }>();
  const counts = { batches: 0, records: 0, ok: 0, dropped: 0, failed: 0, reingested: 0 };
  let batch: readonly BatchEntry[] = firstBatch;
  while (batch.length > 0) {
    if (counts.batches > MAX_ROUNDS)
      throw new Error(`records still re-ingested after ${MAX_ROUNDS} rounds; the processor loops`);
    counts.batches += 1;
    const event = transformationEvent(options.deliveryStreamArn, counts.batches, batch);
    const result = await options.handler(event, {
      awsRequestId: event.invocationId,
      getRemainingTimeInMillis: () => 60_000,
    });
    const outputs = new Map<string, string[]>();
    for (const record of result.records) {
      counts.records += 1;
      if (record.result === 'Dropped') counts.dropped += 1;
      if (record.result === 'ProcessingFailed') counts.failed += 1;
      if (record.result !== 'Ok') continue;
      counts.ok += 1;
      const prefix = archivePrefix(record.metadata?.partitionKeys ?? {});
      const text = Buffer.from(record.data ?? '', 'base64').toString('utf8');
      outputs.set(prefix, [...(outputs.get(prefix) ?? []), text]);
    }
    await writeBatchOutputs(options.directory, outputs, arrival, partitions);
    const reingested = options.stream.take();
    counts.reingested += reingested.length;
    // Firehose gives a re-ingested record a new arrival time: a little after the batch that sent it.
    arrival += DELIVERY_DELAY_MS;
    batch = reingested.map((data) => ({ data, arrival }));
  }
  return {
    ...counts,
    partitions: [...partitions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([prefix, partition]) => ({ prefix, ...partition })),
  };
}

function transformationEvent(
  deliveryStreamArn: string,
  batchNumber: number,
  batch: readonly BatchEntry[],
): FirehoseTransformationEvent {
  const region = deliveryStreamArn.split(':')[3] ?? 'us-east-1';
  const records: FirehoseTransformationEventRecord[] = batch.map((entry, index) => ({
    recordId: `demo-batch-${batchNumber}-record-${index + 1}`,
    approximateArrivalTimestamp: entry.arrival,
    data: entry.data.toString('base64'),
  }));
  return { invocationId: `demo-batch-${batchNumber}`, deliveryStreamArn, region, records };
}

/** The S3 prefix of a record: the stack's `ARCHIVE_PREFIX` with its partition keys filled in. */
export function archivePrefix(partitionKeys: Readonly<Record<string, string | undefined>>): string {
  return ARCHIVE_PREFIX.replace(/!\{partitionKeyFromLambda:([A-Za-z]+)\}/g, (_, name: string) => {
    const value = partitionKeys[name];
    // Firehose would send the record to the error prefix; here it can only mean a processor bug.
    if (value === undefined) throw new Error(`an Ok record has no partition key ${name}`);
    return value;
  });
}

/**
 * Writes one object per partition for a batch, named as Firehose names its objects
 * (`<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id>`), with a content hash for the random id so the
 * same input gives the same names. Firehose gzips them (`.gz`); the demo keeps them readable.
 */
async function writeBatchOutputs(
  directory: string,
  outputs: ReadonlyMap<string, readonly string[]>,
  arrival: number,
  partitions: Map<string, { files: number; records: number; events: number }>,
): Promise<void> {
  const stamp = new Date(arrival).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  for (const [prefix, texts] of outputs) {
    const content = texts.join('');
    const id = createHash('sha256').update(content).digest('hex').slice(0, 12);
    const file = path.resolve(directory, prefix, `${DEMO_STREAM_NAME}-1-${stamp}-${id}`);
    // Partition values are URL-encoded (never `/` or `..`); this only guards against a processor bug.
    if (!file.startsWith(`${path.resolve(directory)}${path.sep}`))
      throw new Error(`partition prefix ${JSON.stringify(prefix)} leaves the output directory`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, 'utf8');
    const partition = partitions.get(prefix) ?? { files: 0, records: 0, events: 0 };
    partitions.set(prefix, {
      files: partition.files + 1,
      records: partition.records + texts.length,
      events: partition.events + content.split('\n').filter((line) => line !== '').length,
    });
  }
}
