/**
 * What the indexer's integration tests and its bench cases share: the handler loaded with an
 * environment pointing at fauxqs and an OpenSearch target, message factories for every body the
 * indexer accepts, streaming uploads, the quarantine read back, an OpenSearch test server in a
 * child process, and an RSS sampler. No Jest globals here: the bench imports it too.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@opensearch-project/opensearch';
import type { SQSEvent } from 'aws-lambda';
import {
  type DrainReport,
  drainThroughHandler,
  type InvocationReport,
  type SqsBatchHandler,
  toRecord,
} from '../../bin/cli/sqs-event-source';
import { createOpenSearchClient } from '../../lambdas/shared/opensearch/client';
import type { QuarantineRecord } from '../../lambdas/shared/quarantine';
import { notificationBody } from '../../lambdas/shared/s3-notifications';
import { type FauxqsHarness, type QueueWithDlq, startFauxqs, startLatencyProxy } from '../support/fauxqs';
import type { RecordedRequest } from '../support/opensearch-server';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** Every variable the indexer reads: a test sets those it needs and clears the others. */
const INDEXER_VARIABLES = [
  'OPENSEARCH_ENDPOINT',
  'OPENSEARCH_AUTH',
  'OPENSEARCH_USERNAME',
  'OPENSEARCH_PASSWORD',
  'INDEX_PREFIX',
  'LOG_SOURCES',
  'QUARANTINE_BUCKET',
  'QUARANTINE_PREFIX',
  'CONTINUATION_QUEUE_URL',
  'TIME_SAFETY_MARGIN_MS',
  'BULK_MAX_BYTES',
  'INVOCATION_MAX_CHARS',
  'MESSAGE_CONCURRENCY',
] as const;

/** How to reach OpenSearch, as `openSearchTarget` describes it. */
export interface OpenSearchEndpoint {
  readonly url: string;
  readonly auth?: 'sigv4' | 'basic' | 'none';
  readonly username?: string;
  readonly password?: string;
}

/** Where the indexer under test reads and writes. */
export interface IndexerSetup {
  readonly fauxqs: FauxqsHarness;
  readonly opensearch: OpenSearchEndpoint;
  readonly indexPrefix: string;
  readonly quarantineBucket: string;
  /** The indexer's queue: continuations go back to it. */
  readonly queue: QueueWithDlq;
  /** More indexer variables (`LOG_SOURCES`, `INVOCATION_MAX_CHARS`...). */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Sets the environment the indexer reads at cold start (clearing indexer variables a previous
 * test file may have left in this process) and imports a fresh handler.
 */
export async function loadIndexerHandler(setup: IndexerSetup): Promise<SqsBatchHandler> {
  for (const name of INDEXER_VARIABLES) delete process.env[name];
  const { opensearch } = setup;
  Object.assign(process.env, setup.fauxqs.env, {
    OPENSEARCH_ENDPOINT: opensearch.url,
    OPENSEARCH_AUTH: opensearch.auth ?? 'none',
    ...(opensearch.username !== undefined && { OPENSEARCH_USERNAME: opensearch.username }),
    ...(opensearch.password !== undefined && { OPENSEARCH_PASSWORD: opensearch.password }),
    INDEX_PREFIX: setup.indexPrefix,
    QUARANTINE_BUCKET: setup.quarantineBucket,
    QUARANTINE_PREFIX: 'quarantine/',
    CONTINUATION_QUEUE_URL: setup.queue.queueUrl,
    POWERTOOLS_LOG_LEVEL: process.env.INDEXER_TEST_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...setup.extra,
  });
  const module = (await import('../../lambdas/indexer/handler')) as { handler: SqsBatchHandler };
  return module.handler;
}

/** One ALB access log line (the AWS-documented field order) of request `sequence`. */
export function albLine(sequence: number, urlPath: string): string {
  const time = `2024-03-0${1 + (sequence % 2)}T10:00:${String(sequence % 60).padStart(2, '0')}.000000Z`;
  return (
    `https 2024-03-01T10:00:00.000000Z app/my-lb/50dc6c495c0c9188 192.0.2.${sequence % 250}:${40000 + sequence} ` +
    `10.0.0.1:80 0.001 0.002 0.000 200 200 100 ${200 + sequence} "GET https://example.com:443/${urlPath} HTTP/1.1" ` +
    `"curl/8.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/tg/1 ` +
    `"Root=1-58337262-36d228ad5d99923122bbe354" "example.com" "-" 0 ${time} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"`
  );
}

/** `count` ALB lines, one per line, with a final line feed. */
export function albLog(count: number, name: string): string {
  return `${Array.from({ length: count }, (_, index) => albLine(index, `${name}/${index}`)).join('\n')}\n`;
}

/** An ALB log key as ALB writes it (detected by key). */
export function albKey(name: string): string {
  return (
    `AWSLogs/${ACCOUNT}/elasticloadbalancing/${REGION}/2024/03/01/${ACCOUNT}_elasticloadbalancing_` +
    `${REGION}_app.my-lb.50dc6c495c0c9188_20240301T1000Z_192.0.2.1_${name}.log.gz`
  );
}

/** A CloudTrail log key; `digest` gives the CloudTrail-Digest twin, which holds no events. */
export function cloudTrailKey(name: string, digest = false): string {
  const folder = digest ? 'CloudTrail-Digest' : 'CloudTrail';
  return `AWSLogs/${ACCOUNT}/${folder}/${REGION}/2024/03/01/${ACCOUNT}_${folder}_${REGION}_20240301T1000Z_${name}.json.gz`;
}

/** A CloudTrail log file (`{"Records":[...]}`) with one event per id. */
export function cloudTrailLog(eventIds: readonly string[]): string {
  return JSON.stringify({
    Records: eventIds.map((eventID, index) => ({
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', accountId: ACCOUNT, userName: 'alice' },
      eventTime: `2024-03-01T10:00:${String(index % 60).padStart(2, '0')}Z`,
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: REGION,
      sourceIPAddress: '192.0.2.10',
      userAgent: 'aws-cli/2.15.0',
      requestParameters: { bucketName: 'data', key: `file-${index}` },
      responseElements: null,
      requestID: `REQ${index}`,
      eventID,
      readOnly: true,
      eventType: 'AwsApiCall',
      recipientAccountId: ACCOUNT,
    })),
  });
}

/** An object as a notification announces it. */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** As S3 returns it, quoted. */
  readonly etag: string;
}

/** The S3 event notification body S3 sends for `object` (its key encoded as S3 encodes it). */
export function s3NotificationBody(object: StoredObject): string {
  return notificationBody({ ...object, lastModified: Date.now() }, { region: REGION });
}

/** `message` as SNS delivers it to an SQS subscription without raw message delivery. */
export function snsEnvelope(message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:log-notifications`,
    Subject: 'Amazon S3 Notification',
    Message: message,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-example.pem`,
    UnsubscribeURL: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe`,
  });
}

/**
 * The EventBridge "Object Created" event for `object`; the key is as stored (EventBridge does not
 * encode it).
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
export function eventBridgeObjectCreated(object: StoredObject): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      version: '0',
      bucket: { name: object.bucket },
      object: { key: object.key, size: object.size, etag: object.etag.replace(/"/g, ''), sequencer: '00' },
      'request-id': 'EXAMPLE',
      requester: ACCOUNT,
      'source-ip-address': '192.0.2.1',
      reason: 'PutObject',
    },
  });
}

/**
 * CloudTrail's own notification of delivered log files (sent to its SNS topic).
 *
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/configure-sns-notifications-for-cloudtrail.html
 */
export function cloudTrailNotification(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
}

/** The message S3 sends once when a notification configuration is saved. */
export function s3TestEvent(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: 'EXAMPLE',
    HostId: 'EXAMPLE',
  });
}

/** An SQS event of the given bodies, built by hand (message id `message-<n>`), for a direct call. */
export function sqsEventOf(queueArn: string, bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, index) =>
      toRecord(
        { MessageId: `message-${index + 1}`, ReceiptHandle: `receipt-${index + 1}`, Body: body },
        queueArn,
        REGION,
      ),
    ),
  };
}

/** Sends message bodies to a queue, ten per request; returns their message ids in order. */
export async function sendMessages(
  fauxqs: FauxqsHarness,
  queueUrl: string,
  bodies: readonly string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let first = 0; first < bodies.length; first += 10) {
    const batch = bodies.slice(first, first + 10);
    const sent = await fauxqs.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    if ((sent.Failed ?? []).length > 0)
      throw new Error(`SendMessageBatch failed: ${JSON.stringify(sent.Failed)}`);
    const byEntry = new Map((sent.Successful ?? []).map((entry) => [entry.Id, entry.MessageId ?? '']));
    ids.push(...batch.map((_, index) => byEntry.get(String(index)) ?? ''));
  }
  return ids;
}

/** Stores an object and returns what a notification says of it. */
export async function putObject(
  fauxqs: FauxqsHarness,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<StoredObject> {
  const etag = await fauxqs.putObject(bucket, key, body);
  return { bucket, key, etag, size: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength };
}

/**
 * Uploads a file with a multipart upload, one part in memory at a time (fauxqs refuses request
 * bodies over 11 MiB, so a large object cannot be one PutObject).
 */
export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
  partBytes = 8 * 1024 * 1024,
): Promise<StoredObject> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag: string; PartNumber: number }[] = [];
  let part: Buffer[] = [];
  let partSize = 0;
  const sendPart = async (): Promise<void> => {
    const PartNumber = parts.length + 1;
    const uploaded = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: Buffer.concat(part) }),
    );
    parts.push({ ETag: uploaded.ETag ?? '', PartNumber });
    part = [];
    partSize = 0;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    part.push(chunk as Buffer);
    partSize += (chunk as Buffer).length;
    if (partSize >= partBytes) await sendPart();
  }
  if (partSize > 0 || parts.length === 0) await sendPart();
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return { bucket, key, etag: completed.ETag ?? '', size: statSync(file).size };
}

/** Lines and (decompressed) bytes of a log file, gunzipped when its name ends in `.gz`. */
export async function measureLog(file: string): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  for await (const chunk of file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    for (let index = buffer.indexOf(0x0a); index >= 0; index = buffer.indexOf(0x0a, index + 1)) lines++;
  }
  return { lines, bytes };
}

/** Every quarantine record under `prefix`, read back from the gzip JSON lines objects. */
export async function readQuarantine(
  s3: S3Client,
  bucket: string,
  prefix = 'quarantine/',
): Promise<{ key: string; record: QuarantineRecord }[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const records: { key: string; record: QuarantineRecord }[] = [];
  for (const { Key } of listed.Contents ?? []) {
    if (Key === undefined) continue;
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const text = gunzipSync(await (object.Body?.transformToByteArray() ?? new Uint8Array())).toString('utf8');
    for (const line of text.split('\n')) {
      if (line !== '') records.push({ key: Key, record: JSON.parse(line) as QuarantineRecord });
    }
  }
  return records;
}

/** What a drain through the handler did, message by message. */
export interface DrainOutcome extends DrainReport {
  /** Every invocation, in order. */
  readonly reports: readonly InvocationReport[];
  /** Message ids reported failed, once per failed delivery. */
  readonly failed: readonly string[];
  /** The bodies of every message the handler received, in order. */
  readonly bodies: readonly string[];
}

/** Drains the indexer queue through `handler` (the local SQS event source), recording what it saw. */
export async function drainIndexer(
  handler: SqsBatchHandler,
  fauxqs: FauxqsHarness,
  queue: QueueWithDlq,
  options: { functionTimeoutMs?: number; maxInvocations?: number; idleMs?: number } = {},
): Promise<DrainOutcome> {
  const reports: InvocationReport[] = [];
  const bodies: string[] = [];
  const report = await drainThroughHandler({
    sqs: fauxqs.sqs,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    handler: (event, context) => {
      for (const record of event.Records) bodies.push(record.body);
      return handler(event, context);
    },
    idleMs: options.idleMs ?? 300,
    ...(options.functionTimeoutMs !== undefined && { functionTimeoutMs: options.functionTimeoutMs }),
    ...(options.maxInvocations !== undefined && { maxInvocations: options.maxInvocations }),
    onInvocation: (invocation) => reports.push(invocation),
  });
  return { ...report, reports, failed: reports.flatMap((entry) => entry.failedMessageIds), bodies };
}

/** Everything the handler needs, in processes of their own, and the handler loaded. */
export interface IndexerRig {
  readonly fauxqs: FauxqsHarness;
  readonly opensearch: OpenSearchProcess;
  readonly logBucket: string;
  readonly queue: QueueWithDlq;
  readonly handler: SqsBatchHandler;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs and an OpenSearch test server without `_source` storage, creates the log and
 * quarantine buckets and the indexer queue (a visibility timeout longer than any invocation),
 * and loads the handler: for load tests and the bench.
 */
export async function startIndexerRig(options: {
  readonly indexPrefix: string;
  readonly extra?: Readonly<Record<string, string>>;
  /** Node.js options of the OpenSearch process (`--cpu-prof` to profile it). */
  readonly openSearchNodeArguments?: readonly string[];
  /**
   * Added to each of the handler's S3, SQS and OpenSearch requests, as a network round trip to
   * remote services would (local emulators answer in well under a millisecond). @default 0
   */
  readonly latencyMs?: number;
}): Promise<IndexerRig> {
  const [fauxqs, opensearch] = await Promise.all([
    startFauxqs(),
    startOpenSearchProcess({
      ...(options.openSearchNodeArguments !== undefined && {
        nodeArguments: options.openSearchNodeArguments,
      }),
    }),
  ]);
  const [logBucket, quarantineBucket, queue] = await Promise.all([
    fauxqs.createBucket(),
    fauxqs.createBucket(),
    fauxqs.createQueueWithDlq(undefined, { maxReceiveCount: 2, visibilityTimeout: 900 }),
  ]);
  const latencyMs = options.latencyMs ?? 0;
  const proxy = latencyMs > 0 ? await startLatencyProxy(fauxqs.endpoint, latencyMs) : undefined;
  if (latencyMs > 0) {
    await opensearch.client.transport.request({
      method: 'POST',
      path: '/_test/faults',
      body: { delayMs: latencyMs },
    });
  }
  const handler = await loadIndexerHandler({
    fauxqs,
    opensearch: { url: opensearch.url },
    indexPrefix: options.indexPrefix,
    quarantineBucket,
    queue,
    extra: { ...(proxy !== undefined && { AWS_ENDPOINT_URL: proxy.endpoint }), ...options.extra },
  });
  return {
    fauxqs,
    opensearch,
    logBucket,
    queue,
    handler,
    stop: async () => {
      await Promise.all([fauxqs.stop(), opensearch.stop(), proxy?.stop()]);
    },
  };
}

/**
 * Checks that a drain did the whole job: no delivery failed, and the indices matching `pattern`
 * hold exactly `expected` documents.
 *
 * @throws Error saying what is missing: a benchmark of lost or doubled work would measure nothing.
 */
export async function expectIndexedOnce(
  rig: IndexerRig,
  drained: DrainOutcome,
  pattern: string,
  expected: number,
): Promise<void> {
  if (drained.failed.length > 0) throw new Error(`${drained.failed.length} message deliveries failed`);
  const indexed = await rig.opensearch.count(pattern);
  if (indexed !== expected) throw new Error(`${indexed} documents indexed, expected ${expected}`);
}

/** The peak resident set size of this process while sampling. */
export class RssSampler {
  private peak = process.memoryUsage().rss;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, process.memoryUsage().rss);
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops sampling; returns the peak in bytes. */
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, process.memoryUsage().rss);
  }
}

/** An OpenSearch test server in its own process, so its memory and CPU are not the indexer's. */
export interface OpenSearchProcess {
  readonly url: string;
  readonly client: Client;
  /** The bulk requests it has received (`GET /_test/requests`). */
  bulkRequests(): Promise<RecordedRequest[]>;
  /** Documents in the indices matching `pattern`, after a refresh. */
  count(pattern: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the project's OpenSearch test server in a child process (`opensearch-process.ts`) that
 * only counts documents: a load test's millions would not fit in memory otherwise, and mapping
 * them would make the server, not the indexer, the bottleneck.
 */
export async function startOpenSearchProcess(
  options: { readonly nodeArguments?: readonly string[] } = {},
): Promise<OpenSearchProcess> {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(
    process.execPath,
    [...(options.nodeArguments ?? []), '--import', 'tsx', path.join(__dirname, 'opensearch-process.ts')],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error('the OpenSearch test server did not start in 30 s')),
      30_000,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const newline = output.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(output.slice(0, newline)) as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OpenSearch test server exited early (${code})`));
    });
  });
  const client = createOpenSearchClient({ endpoint: url, auth: 'none' });
  let stopped: Promise<void> | undefined;
  return {
    url,
    client,
    async bulkRequests() {
      const response = await client.transport.request({ method: 'GET', path: '/_test/requests' });
      return (response.body as RecordedRequest[]).filter((request) => request.path.endsWith('/_bulk'));
    },
    async count(pattern) {
      await client.indices.refresh({ index: pattern });
      return Number((await client.count({ index: pattern })).body.count);
    },
    stop() {
      stopped ??= (async () => {
        await client.close();
        if (child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin.end();
        await exited;
      })();
      return stopped;
    },
  };
}
