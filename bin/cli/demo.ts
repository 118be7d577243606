/**
 * `logpipe demo` (`npm run demo`): the whole pipeline on this machine, with no AWS account and no
 * cluster. fauxqs plays S3 and SQS in this process; the bundled samples of every format are
 * uploaded as AWS delivers them and announced as S3 announces them; the real indexer handler
 * drains the queue (batch item failures and the DLQ included) into OpenSearch at `OPENSEARCH_URL`,
 * or else into bulk files under `<out>/bulk/`; the real Firehose processor then archives
 * CloudWatch Logs payloads under `<out>/firehose/`. The same samples give the same files and ids on
 * every run.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DEFAULT_INDEX_PREFIX, indexPrefixProblem } from '../../lambdas/core/documents';
import { PARTITION_KEY_NAMES } from '../../lambdas/firehose-processor/partition-keys';
import { loadIndexerConfig } from '../../lambdas/indexer/config';
import { INDEX_TEMPLATE_DIRECTORY } from '../../lambdas/shared/file-bulk-sink';
import { createOpenSearchClient } from '../../lambdas/shared/opensearch/client';
import { notificationBody } from '../../lambdas/shared/s3-notifications';
import {
  DEMO_STREAM_NAME,
  type FirehoseDemoReport,
  runFirehoseDemo,
  startLocalFirehose,
} from './demo/firehose';
import { LOCAL_CREDENTIALS, type LocalAws, startLocalAws } from './demo/local-aws';
import {
  copyQuarantine,
  countBulkFileDocuments,
  countClusterDocuments,
  type IndexCounts,
} from './demo/outputs';
import {
  cloudWatchSampleFiles,
  readSample,
  SAMPLE_ACCOUNT,
  SAMPLE_LOG_SOURCES,
  SAMPLE_OBJECTS,
  SAMPLE_REGION,
} from './demo/samples';
import { CliUsageError, type CommandIo, errorMessage, parseCommandArgs, withStopSignals } from './shared';
import { drainThroughHandler, type SqsBatchHandler } from './sqs-event-source';

/** The usage text of `logpipe demo`. */
export const DEMO_USAGE = `Usage: logpipe demo [--out DIR] [--keep-running]

Runs the whole pipeline on this machine, without an AWS account: S3 and SQS are emulated (fauxqs,
on 127.0.0.1), bundled samples of every log format are uploaded and announced as S3 would, the
real indexer handler drains the queue, and the real Firehose processor archives CloudWatch Logs
payloads. Documents go to the OpenSearch at OPENSEARCH_URL when it is set (OPENSEARCH_AUTH, or
basic auth when OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD are set), otherwise to bulk files.

Options:
  --out DIR        where the output goes (default ./out): DIR/bulk, DIR/quarantine, DIR/firehose
                   are emptied first; nothing else in DIR is touched
  --keep-running   leave the emulator running after the summary (Ctrl-C stops it)
  -h, --help       show this help

Exit status: 0 when the pipeline did what the samples expect, 1 otherwise, 2 on a usage error.`;

/** The demo's options. */
export interface DemoOptions {
  readonly out: string;
  readonly keepRunning: boolean;
}

/**
 * Reads the command line.
 *
 * @throws CliUsageError for an unknown option or an argument.
 */
export function parseDemoArgs(argv: readonly string[]): DemoOptions | 'help' {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      'keep-running': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`);
  if (values.out === '') throw new CliUsageError('--out needs a directory');
  return { out: values.out ?? 'out', keepRunning: values['keep-running'] };
}

/** Runs `logpipe demo`; resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseDemoArgs(argv);
  } catch (error: unknown) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`logpipe demo: ${error.message}\n\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const demoOptions = options;
  return withStopSignals((io) => runDemo(demoOptions, io));
}

const LOG_BUCKET = 'logpipe-demo-logs';
const QUARANTINE_BUCKET = 'logpipe-demo-quarantine';
const QUEUE_NAME = 'logpipe-demo-indexer';
/** Receives before a failing message moves to the DLQ (the stack uses 5; fewer keeps the output short). */
const MAX_RECEIVE_COUNT = 2;
/** The indexer's `QUARANTINE_PREFIX` default, left out of the local copy's paths. */
const QUARANTINE_PREFIX = 'quarantine/';
const DELIVERY_STREAM_ARN = `arn:aws:firehose:${SAMPLE_REGION}:${SAMPLE_ACCOUNT}:deliverystream/${DEMO_STREAM_NAME}`;
/** A message that is no notification: the indexer fails it until the queue moves it to the DLQ. */
const UNREADABLE_MESSAGE = JSON.stringify({
  note: `not an S3 event notification: the indexer fails it, and after ${MAX_RECEIVE_COUNT} receives the queue moves it to the DLQ`,
});

/** Where the documents went, and how to count them. */
type Destination =
  | { readonly kind: 'files'; readonly directory: string }
  | { readonly kind: 'cluster'; readonly url: string };

/** What the run found, for the summary and the exit code. */
interface DemoResult {
  readonly objects: number;
  readonly dlqDepth: number;
  readonly documents: IndexCounts;
  readonly quarantine: { readonly files: readonly string[]; readonly records: number };
  readonly firehose: FirehoseDemoReport;
}

async function runDemo(options: DemoOptions, io: CommandIo): Promise<number> {
  const started = Date.now();
  const out = path.resolve(options.out);
  const say = (text: string) => io.stdout.write(`${text}\n`);
  // Only the demo's own folders are emptied: `--out` may name a folder that holds other things.
  for (const folder of ['bulk', 'quarantine', 'firehose'])
    await rm(path.join(out, folder), { recursive: true, force: true });

  const local = await startLocalAws(process.env.AWS_REGION || SAMPLE_REGION);
  const firehoseStream = await startLocalFirehose();
  try {
    const queue = await createResources(local);
    const destination = configureHandlers(local, firehoseStream.endpoint, queue.queueUrl, out);
    await checkCluster(destination);
    say(`logpipe demo: S3 and SQS emulated at ${local.endpoint}; documents go to ${describe(destination)}`);

    const objects = await uploadSamples(local);
    await announce(local, queue.queueUrl, objects);
    say(
      `  uploaded ${objects.length} sample objects and sent their S3 notifications, plus one unreadable message`,
    );

    say('  the indexer handler drains the queue (its own log, warnings and errors only, goes to stderr)');
    const { handler: indexerHandler } = await import('../../lambdas/indexer/handler');
    const drain = await drainThroughHandler({
      sqs: local.sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler: indexerHandler as SqsBatchHandler,
    });
    const dlqDepth = await local.queueDepth(queue.dlqUrl);
    say(
      `  the indexer handler drained the queue: ${drain.invocations} invocations, ${drain.acknowledged} messages done, ${drain.failedDeliveries} failed deliveries`,
    );
    const documents = await countDocuments(destination);
    const quarantine = await copyQuarantine(
      local.s3,
      QUARANTINE_BUCKET,
      QUARANTINE_PREFIX,
      path.join(out, 'quarantine'),
    );

    const { handler: firehoseHandler } = await import('../../lambdas/firehose-processor/handler');
    const payloads = await Promise.all((await cloudWatchSampleFiles()).map(readSample));
    const firehose = await runFirehoseDemo({
      handler: firehoseHandler,
      stream: firehoseStream,
      deliveryStreamArn: DELIVERY_STREAM_ARN,
      payloads,
      directory: path.join(out, 'firehose'),
    });
    say(
      `  the Firehose processor ran on ${firehose.records - firehose.reingested} records, then on the ${firehose.reingested} it re-ingested (events of a later hour)`,
    );

    const result: DemoResult = { objects: objects.length, dlqDepth, documents, quarantine, firehose };
    say('');
    say(summary(result));
    say(whereToLook(out, destination, result));
    const problems = unexpected(result);
    for (const problem of problems) io.stderr.write(`logpipe demo: unexpected: ${problem}\n`);
    say(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (options.keepRunning) await keepRunning(local, io);
    return problems.length === 0 ? 0 : 1;
  } catch (error: unknown) {
    io.stderr.write(`logpipe demo: failed: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await firehoseStream.stop();
    await local.stop();
  }
}

async function createResources(local: LocalAws) {
  await local.createBucket(LOG_BUCKET);
  await local.createBucket(QUARANTINE_BUCKET);
  return local.createQueueWithDlq(QUEUE_NAME, MAX_RECEIVE_COUNT);
}

/**
 * Sets the environment the handlers read at import (they are imported afterwards): the emulated
 * S3 and SQS, the local Firehose stand-in, the destination, the log sources, and quiet Powertools.
 * Service-specific endpoints only: a global `AWS_ENDPOINT_URL` would also send the credential
 * provider's own calls (STS, SSO) to the emulator when SigV4 signs for a real cluster.
 */
function configureHandlers(
  local: LocalAws,
  firehoseEndpoint: string,
  queueUrl: string,
  out: string,
): Destination {
  const env = process.env;
  const clusterUrl = env.OPENSEARCH_URL?.trim();
  const destination: Destination =
    clusterUrl === undefined || clusterUrl === ''
      ? { kind: 'files', directory: path.join(out, 'bulk') }
      : { kind: 'cluster', url: clusterUrl };
  const auth = env.OPENSEARCH_AUTH || (env.OPENSEARCH_USERNAME ? 'basic' : 'none');
  Object.assign(env, {
    AWS_ENDPOINT_URL_S3: local.endpoint,
    AWS_ENDPOINT_URL_SQS: local.endpoint,
    AWS_ENDPOINT_URL_FIREHOSE: firehoseEndpoint,
    S3_FORCE_PATH_STYLE: 'true',
    OPENSEARCH_ENDPOINT:
      destination.kind === 'files' ? pathToFileURL(destination.directory).href : destination.url,
    OPENSEARCH_AUTH: auth,
    QUARANTINE_BUCKET,
    QUARANTINE_PREFIX,
    CONTINUATION_QUEUE_URL: queueUrl,
    LOG_SOURCES: JSON.stringify(SAMPLE_LOG_SOURCES),
    INDEX_PREFIX: env.INDEX_PREFIX || DEFAULT_INDEX_PREFIX,
    PARTITION_KEYS: PARTITION_KEY_NAMES.join(','),
    OUTPUT_FORMAT: env.OUTPUT_FORMAT || 'json',
    POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL || 'WARN',
    POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED || 'true',
  });
  // The emulator accepts any credentials; real ones are needed only to sign for a real cluster.
  if (auth !== 'sigv4') {
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_PROFILE;
  }
  const prefixProblem = indexPrefixProblem(env.INDEX_PREFIX ?? '');
  if (prefixProblem !== undefined) throw new Error(`INDEX_PREFIX: ${prefixProblem}`);
  return destination;
}

function describe(destination: Destination): string {
  return destination.kind === 'files'
    ? `bulk files in ${relative(destination.directory)}`
    : `the cluster at ${destination.url}`;
}

interface UploadedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
}

/** Uploads every sample gzip'd under its AWS key; returns them as a listing shows them. */
async function uploadSamples(local: LocalAws): Promise<UploadedObject[]> {
  for (const sample of SAMPLE_OBJECTS) {
    await local.s3.send(
      new PutObjectCommand({
        Bucket: LOG_BUCKET,
        Key: sample.key,
        Body: gzipSync(await readSample(sample.file)),
      }),
    );
  }
  const listing = await local.s3.send(new ListObjectsV2Command({ Bucket: LOG_BUCKET }));
  return (listing.Contents ?? []).map((object) => ({
    key: object.Key ?? '',
    size: object.Size ?? 0,
    etag: object.ETag ?? '',
    lastModified: object.LastModified?.getTime() ?? 0,
  }));
}

/** Sends each object's S3 event notification to the queue, and one message the indexer cannot read. */
async function announce(
  local: LocalAws,
  queueUrl: string,
  objects: readonly UploadedObject[],
): Promise<void> {
  const bodies = [
    ...objects.map((object) =>
      notificationBody({ bucket: LOG_BUCKET, ...object }, { region: SAMPLE_REGION }),
    ),
    UNREADABLE_MESSAGE,
  ];
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies
      .slice(start, start + 10)
      .map((body, index) => ({ Id: String(index), MessageBody: body }));
    const sent = await local.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if ((sent.Failed ?? []).length > 0)
      throw new Error(`the queue refused ${sent.Failed?.length} notifications: ${sent.Failed?.[0]?.Message}`);
  }
}

/** How long the cluster may take to answer `GET /` before the demo gives up on it. */
const CLUSTER_CHECK_TIMEOUT_MS = 5_000;

/**
 * Fails fast when the cluster does not answer: the indexer would otherwise retry every message
 * until its deadline, minutes later. The indexer's own configuration gives the connection.
 */
async function checkCluster(destination: Destination): Promise<void> {
  if (destination.kind === 'files') return;
  const client = createOpenSearchClient(loadIndexerConfig(process.env).opensearch);
  try {
    await client.transport.request(
      { method: 'GET', path: '/' },
      { requestTimeout: CLUSTER_CHECK_TIMEOUT_MS },
    );
  } catch (error: unknown) {
    throw new Error(`the cluster at ${destination.url} does not answer: ${errorMessage(error)}`);
  } finally {
    await client.close();
  }
}

function countDocuments(destination: Destination): Promise<IndexCounts> {
  if (destination.kind === 'files') return countBulkFileDocuments(destination.directory);
  const client = createOpenSearchClient(loadIndexerConfig(process.env).opensearch);
  return countClusterDocuments(client, process.env.INDEX_PREFIX ?? DEFAULT_INDEX_PREFIX).finally(() =>
    client.close(),
  );
}

/** Columns padded to their widest cell (numbers right-aligned), two spaces apart, indented. */
function table(rows: readonly (readonly (string | number)[])[]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => String(row[column] ?? '').length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          typeof cell === 'number'
            ? String(cell).padStart(widths[column] ?? 0)
            : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join('\n');
}

function summary(result: DemoResult): string {
  const total = [...result.documents.values()].reduce((sum, count) => sum + count, 0);
  const { firehose } = result;
  return [
    'Summary',
    table([
      ['objects uploaded and announced', result.objects],
      ['documents indexed', total],
      ['records quarantined', result.quarantine.records],
      ['messages in the DLQ', result.dlqDepth],
      ['Firehose records processed', firehose.records],
      ['  Ok (delivered to S3)', firehose.ok],
      ['  Dropped (control message, or all re-ingested)', firehose.dropped],
      ['  ProcessingFailed', firehose.failed],
      ['  re-ingested for another partition', firehose.reingested],
    ]),
    '',
    table([['index', 'documents'], ...result.documents.entries()]),
    '',
    table([
      ['Firehose partition (S3 prefix)', 'records', 'events'],
      ...firehose.partitions.map((partition) => [partition.prefix, partition.records, partition.events]),
    ]),
    '',
  ].join('\n');
}

function whereToLook(out: string, destination: Destination, result: DemoResult): string {
  const bulk = relative(path.join(out, 'bulk'));
  const places: [string, string][] =
    destination.kind === 'files'
      ? [
          [`${bulk}/*.ndjson`, 'the _bulk request bodies, exactly as the indexer would POST them'],
          [`${bulk}/${INDEX_TEMPLATE_DIRECTORY}/`, 'the index templates the indexer would install'],
        ]
      : [[destination.url, `the indices ${process.env.INDEX_PREFIX}-*`]];
  places.push(
    [
      `${relative(path.join(out, 'quarantine'))}/`,
      `${result.quarantine.files.length} quarantine file(s), by day and source key: each bad record, why, and where it came from`,
    ],
    [
      `${relative(path.join(out, 'firehose'))}/`,
      "the Firehose archive, under the deployed stream's prefixes logs/<group>/<stream>/<yyyy>/<mm>/<dd>/<hh>/",
    ],
  );
  const lines = [
    'Where to look',
    table(places),
    '  The archive holds JSON lines; the deployed stream gzips its objects and writes OUTPUT_FORMAT (raw by default).',
    "  RFC 3164 syslog lines carry no year: the indexer takes it from the object's upload time.",
    '',
  ];
  if (destination.kind === 'files') {
    lines.push(
      'Load them into a cluster (templates first):',
      `  for f in ${bulk}/${INDEX_TEMPLATE_DIRECTORY}/*.json; do curl -sS -XPUT "$OPENSEARCH_URL/_index_template/$(basename "$f" .json)" -H 'Content-Type: application/json' --data-binary "@$f"; done`,
      `  for f in ${bulk}/*.ndjson; do curl -sS -XPOST "$OPENSEARCH_URL/_bulk" -H 'Content-Type: application/x-ndjson' --data-binary "@$f"; done`,
      'or run the demo against it: OPENSEARCH_URL=http://localhost:9200 npm run demo',
      '',
    );
  }
  return lines.join('\n');
}

/** What the samples promise: documents of every format, the bad line quarantined, one DLQ message, no Firehose failure. */
function unexpected(result: DemoResult): string[] {
  const prefix = process.env.INDEX_PREFIX ?? DEFAULT_INDEX_PREFIX;
  const indices = [...result.documents.keys()];
  const problems = [...new Set(SAMPLE_OBJECTS.map((sample) => sample.format))]
    .filter((format) => !indices.some((index) => index.startsWith(`${prefix}-${format}-`)))
    .map((format) => `no ${format} documents`);
  if (result.quarantine.records === 0)
    problems.push('nothing was quarantined (the ALB sample has a bad line)');
  if (result.dlqDepth !== 1) problems.push(`${result.dlqDepth} messages in the DLQ instead of 1`);
  if (result.firehose.failed > 0) problems.push(`${result.firehose.failed} Firehose records failed`);
  return problems;
}

async function keepRunning(local: LocalAws, io: CommandIo): Promise<void> {
  io.stdout.write(
    [
      `The emulator keeps running at ${local.endpoint} (Ctrl-C stops it). For example:`,
      `  AWS_ENDPOINT_URL=${local.endpoint} AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=${SAMPLE_REGION} aws s3 ls s3://${LOG_BUCKET} --recursive`,
      '',
    ].join('\n'),
  );
  if (io.signal.aborted) return;
  await new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
}

/** A path relative to the working directory when it is inside it (shorter to read and to paste). */
function relative(target: string): string {
  const fromHere = path.relative(process.cwd(), target);
  return fromHere === '' || fromHere.startsWith('..') || path.isAbsolute(fromHere) ? target : fromHere;
}
