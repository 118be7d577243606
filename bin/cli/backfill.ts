/**
 * `logpipe backfill`: announces (or indexes) the objects already in a bucket, and optionally keeps
 * following it.
 *
 * The run is a pipeline: ListObjectsV2 pages (1000 keys, `StartAfter` = the checkpoint) → the
 * LastModified filter → batches handed to an {@link ObjectHandler} (`enqueue`: S3-shaped event
 * notifications sent with SendMessageBatch; `index`: the core and the OpenSearch sink) with up to
 * `--concurrency` batches in flight → a {@link CompletionFrontier} that advances the checkpoint
 * only past keys whose every predecessor is done → an atomic checkpoint file.
 *
 * What is guaranteed, in listing order (S3 lists keys in UTF-8 binary order):
 * - No key is skipped: the checkpoint names a key only when it and every key listed before it were
 *   handled (acknowledged by SQS, or indexed) or filtered out, and it is written only after that.
 * - SIGINT/SIGTERM: no new batch starts, the batches in hand finish, the checkpoint is saved, exit
 *   0; a resumed run handles nothing twice.
 * - An abnormal end (SIGKILL, power loss) repeats on resume only keys after the saved checkpoint:
 *   the batches that were in flight (at most `--concurrency` batches of 10 keys for `enqueue`, of
 *   one object for `index`) and those already finished but not yet covered by a saved checkpoint
 *   (behind a slower batch, or during the checkpoint write itself). Document ids derive from the
 *   object, so a repeated object creates no duplicate documents (OpenSearch answers 409).
 * - `--follow` sees new keys that sort after the checkpoint. A key written later but sorting
 *   before it (not the case for AWS log keys, which start with the date) is not seen, as with
 *   NXLog's `lastkey.log`.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client } from '@opensearch-project/opensearch';
import { z } from 'zod';
import { DEFAULT_MAX_BULK_BYTES } from '../../lambdas/core/bulk';
import { DEFAULT_INDEX_PREFIX, indexPrefixProblem, unquotedEtag } from '../../lambdas/core/documents';
import { type LogSource, LogSourcesSchema } from '../../lambdas/core/log-sources';
import { toIsoUtcAssumingUtc } from '../../lambdas/core/time';
import { indexObject } from '../../lambdas/indexer/index-object';
import { createS3Client, createSqsClient } from '../../lambdas/shared/aws-clients';
import { fullJitterDelayMs } from '../../lambdas/shared/backoff';
import { OpenSearchBulkSink } from '../../lambdas/shared/opensearch/bulk-sink';
import {
  createOpenSearchClient,
  endpointUrl,
  type OpenSearchConnection,
} from '../../lambdas/shared/opensearch/client';
import { installIndexTemplates } from '../../lambdas/shared/opensearch/install-templates';
import type { QuarantineEntry } from '../../lambdas/shared/quarantine';
import { notificationBody } from '../../lambdas/shared/s3-notifications';
import { CliUsageError, type CommandIo, errorMessage, parseCommandArgs, runStoppableCommand } from './shared';

/** The usage text of `logpipe backfill`. */
export const BACKFILL_USAGE = `Usage: logpipe backfill --bucket B [options]

Lists the objects of a bucket and announces each to the indexer queue as S3 would (enqueue mode),
or indexes it directly (index mode). Resumable with a checkpoint; --follow keeps polling.

Options:
  --bucket NAME            bucket to read (required)
  --prefix P               only keys that start with P
  --since ISO              only objects with LastModified >= this time (ISO-8601; no zone = UTC)
  --until ISO              only objects with LastModified < this time
  --checkpoint FILE        resume after the key saved in FILE and save progress to it; delete the
                           file to start over
  --follow                 after the listing, keep polling for new keys until interrupted
  --poll-interval SECONDS  pause between polls with --follow (default 60)
  --mode enqueue|index     enqueue (default): send S3 event notifications to --queue-url;
                           index: parse each object with the core and index it into OpenSearch
  --queue-url URL          the indexer queue (enqueue mode)
  --opensearch-url URL     index mode: the cluster (default: OPENSEARCH_URL)
  --opensearch-auth A      index mode: sigv4, basic or none (default: OPENSEARCH_AUTH, else sigv4
                           for *.amazonaws.com, basic when OPENSEARCH_USERNAME is set, else none);
                           basic reads OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD
  --index-prefix P         index mode: index name prefix (default: INDEX_PREFIX, else logs);
                           log sources are read from LOG_SOURCES (JSON), as the indexer does
  --concurrency N          batches in flight, 1-64 (default 4)
  --endpoint URL           S3/SQS endpoint for S3-compatible stores (default: AWS_ENDPOINT_URL*)
  --help                   show this help

SIGINT/SIGTERM finish the batches in hand, save the checkpoint and exit 0. Progress goes to
stderr (a progress bar on a terminal); a JSON summary goes to stdout.`;

/** One object from a listing. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** ETag as listed (quoted). */
  readonly etag: string;
  /** LastModified, epoch milliseconds. */
  readonly lastModified: number;
}

/** Handles listed objects: one more mode of backfill is one more handler. */
export interface ObjectHandler {
  /** Objects per {@link handle} call. */
  readonly batchSize: number;
  /**
   * Handles a batch. Resolves once every object is durably handed on (SQS acknowledged, or
   * indexed); rejects when one could not be, after the handler's own retries.
   */
  handle(objects: readonly ListedObject[]): Promise<void>;
}

/** Validated options of one backfill run. */
export interface BackfillOptions {
  readonly bucket: string;
  readonly prefix: string;
  /** Inclusive, epoch ms. */
  readonly since?: number;
  /** Exclusive, epoch ms. */
  readonly until?: number;
  readonly checkpointFile?: string;
  readonly follow: boolean;
  readonly pollIntervalMs: number;
  readonly mode: 'enqueue' | 'index';
  readonly queueUrl?: string;
  /** Index mode: where and how to index. */
  readonly index?: IndexModeOptions;
  readonly concurrency: number;
  readonly endpoint?: string;
}

/** How `--mode index` reaches OpenSearch and parses objects (the indexer's settings). */
export interface IndexModeOptions {
  readonly connection: OpenSearchConnection;
  readonly indexPrefix: string;
  readonly logSources: readonly LogSource[];
}

/** What a run did: printed as JSON on stdout. */
export interface BackfillSummary {
  readonly bucket: string;
  readonly prefix: string;
  /** Objects handed to the handler and completed. */
  readonly handled: number;
  readonly handledBytes: number;
  /** Listed objects outside --since/--until. */
  readonly filtered: number;
  /** The last key fully handled (what the checkpoint holds), if any. */
  readonly checkpoint?: string;
  /** `completed`, `interrupted` (SIGINT/SIGTERM) or `failed`. */
  readonly outcome: 'completed' | 'interrupted' | 'failed';
  readonly error?: string;
}

const DEFAULT_POLL_SECONDS = 60;
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const LIST_PAGE_SIZE = 1000;

/** Parses and validates `logpipe backfill` arguments. @throws CliUsageError */
export function parseBackfillArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BackfillOptions | 'help' {
  const { values } = parseCommandArgs({
    args: [...argv],
    allowPositionals: false,
    strict: true,
    options: {
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      checkpoint: { type: 'string' },
      follow: { type: 'boolean' },
      'poll-interval': { type: 'string' },
      mode: { type: 'string' },
      'queue-url': { type: 'string' },
      'opensearch-url': { type: 'string' },
      'opensearch-auth': { type: 'string' },
      'index-prefix': { type: 'string' },
      concurrency: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const bucket = values.bucket;
  if (bucket === undefined || bucket === '') throw new CliUsageError('--bucket is required');
  const mode = values.mode ?? 'enqueue';
  if (mode !== 'enqueue' && mode !== 'index')
    throw new CliUsageError(`--mode must be enqueue or index, got ${JSON.stringify(mode)}`);
  if (mode === 'enqueue' && (values['queue-url'] === undefined || values['queue-url'] === ''))
    throw new CliUsageError('--queue-url is required in enqueue mode');
  if (mode === 'index' && values['queue-url'] !== undefined)
    throw new CliUsageError('--queue-url only applies in enqueue mode');
  const indexFlag = ['opensearch-url', 'opensearch-auth', 'index-prefix'].find(
    (flag) => values[flag as 'opensearch-url'] !== undefined,
  );
  if (mode === 'enqueue' && indexFlag !== undefined)
    throw new CliUsageError(`--${indexFlag} only applies with --mode index`);
  const index =
    mode === 'index'
      ? indexModeOptions(values['opensearch-url'], values['opensearch-auth'], values['index-prefix'], env)
      : undefined;
  if (values['poll-interval'] !== undefined && values.follow !== true)
    throw new CliUsageError('--poll-interval only applies with --follow');
  const since = optionalTime(values.since, '--since');
  const until = optionalTime(values.until, '--until');
  if (since !== undefined && until !== undefined && since >= until)
    throw new CliUsageError('--since must be earlier than --until');
  const pollSeconds =
    values['poll-interval'] === undefined ? DEFAULT_POLL_SECONDS : Number(values['poll-interval']);
  if (!Number.isFinite(pollSeconds) || pollSeconds <= 0)
    throw new CliUsageError(
      `--poll-interval must be a positive number of seconds, got ${values['poll-interval']}`,
    );
  const concurrency =
    values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number.parseInt(values.concurrency, 10);
  if (!/^\d+$/.test(values.concurrency ?? '1') || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new CliUsageError(
      `--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${values.concurrency}`,
    );
  return {
    bucket,
    prefix: values.prefix ?? '',
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(values.checkpoint !== undefined && { checkpointFile: values.checkpoint }),
    follow: values.follow === true,
    pollIntervalMs: pollSeconds * 1000,
    mode,
    ...(values['queue-url'] !== undefined && { queueUrl: values['queue-url'] }),
    ...(index !== undefined && { index }),
    concurrency,
    ...(values.endpoint !== undefined && { endpoint: values.endpoint }),
  };
}

function optionalTime(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const iso = toIsoUtcAssumingUtc(dateOnly);
  if (iso === undefined)
    throw new CliUsageError(
      `${flag} must be an ISO-8601 date or date-time, e.g. 2024-05-01T00:00:00Z; got ${text}`,
    );
  return Date.parse(iso);
}

function indexModeOptions(
  urlFlag: string | undefined,
  authFlag: string | undefined,
  prefixFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): IndexModeOptions {
  const endpoint = urlFlag ?? env.OPENSEARCH_URL;
  if (endpoint === undefined || endpoint === '')
    throw new CliUsageError('--mode index needs --opensearch-url (or OPENSEARCH_URL)');
  let url: URL;
  try {
    url = endpointUrl(endpoint);
  } catch {
    throw new CliUsageError(`--opensearch-url is not a URL: ${endpoint}`);
  }
  const username = env.OPENSEARCH_USERNAME;
  const password = env.OPENSEARCH_PASSWORD;
  const auth =
    authFlag ??
    env.OPENSEARCH_AUTH ??
    (url.hostname.endsWith('.amazonaws.com') ? 'sigv4' : username !== undefined ? 'basic' : 'none');
  if (auth !== 'sigv4' && auth !== 'basic' && auth !== 'none')
    throw new CliUsageError(`--opensearch-auth must be sigv4, basic or none, got ${JSON.stringify(auth)}`);
  if (auth === 'basic' && (username === undefined || password === undefined))
    throw new CliUsageError('basic auth reads OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD: set both');
  const indexPrefix = prefixFlag ?? env.INDEX_PREFIX ?? DEFAULT_INDEX_PREFIX;
  const prefixProblem = indexPrefixProblem(indexPrefix);
  if (prefixProblem !== undefined) throw new CliUsageError(prefixProblem);
  let logSources: readonly LogSource[] = [];
  if (env.LOG_SOURCES !== undefined && env.LOG_SOURCES.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(env.LOG_SOURCES);
    } catch {
      throw new CliUsageError('LOG_SOURCES is not JSON');
    }
    const parsed = LogSourcesSchema.safeParse(json);
    if (!parsed.success)
      throw new CliUsageError(
        `LOG_SOURCES: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`,
      );
    logSources = parsed.data;
  }
  return {
    connection: {
      endpoint,
      auth,
      ...(auth === 'basic' && username !== undefined && password !== undefined && { username, password }),
    },
    indexPrefix,
    logSources,
  };
}

/**
 * Lists `bucket` page by page (1000 keys), after `startAfter`, in S3's key order. The next page is
 * requested while the caller works on the current one.
 */
export async function* listObjectPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
  pageSize = LIST_PAGE_SIZE,
): AsyncGenerator<readonly ListedObject[]> {
  const fetchPage = (continuationToken: string | undefined): Promise<ListObjectsV2CommandOutput> =>
    s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        MaxKeys: pageSize,
        ...(prefix !== '' && { Prefix: prefix }),
        // S3 ignores StartAfter once a continuation token is given.
        ...(continuationToken === undefined && startAfter !== undefined && { StartAfter: startAfter }),
        ...(continuationToken !== undefined && { ContinuationToken: continuationToken }),
      }),
    );
  let next: Promise<ListObjectsV2CommandOutput> | undefined = fetchPage(undefined);
  while (next !== undefined) {
    const page: ListObjectsV2CommandOutput = await next;
    if (page.IsTruncated === true && page.NextContinuationToken === undefined)
      throw new Error('ListObjectsV2 returned a truncated page without a continuation token');
    next = page.IsTruncated === true ? fetchPage(page.NextContinuationToken) : undefined;
    // Keep a rejection of the prefetched page from being reported as unhandled while we yield.
    next?.catch(() => undefined);
    yield (page.Contents ?? []).flatMap((entry) =>
      entry.Key === undefined
        ? []
        : [
            {
              key: entry.Key,
              size: entry.Size ?? 0,
              etag: entry.ETag ?? '',
              lastModified: entry.LastModified?.getTime() ?? 0,
            },
          ],
    );
  }
}

/**
 * Tracks batches in listing order and reports the last key before which everything is done, so
 * batches may finish in any order without the checkpoint ever passing an unfinished key.
 */
export class CompletionFrontier {
  private readonly unfinished: { readonly lastKey: string; done: boolean }[] = [];
  /** The ticket of `unfinished[0]`. */
  private firstTicket = 0;
  private last: string | undefined;

  constructor(initial?: string) {
    this.last = initial;
  }

  /** The last key with nothing unfinished before it. */
  get lastCompleted(): string | undefined {
    return this.last;
  }

  /** Batches registered and not yet passed by the frontier. */
  get outstanding(): number {
    return this.unfinished.length;
  }

  /** Registers the next batch in listing order, whose keys end at `lastKey`; returns its ticket. */
  register(lastKey: string): number {
    this.unfinished.push({ lastKey, done: false });
    return this.firstTicket + this.unfinished.length - 1;
  }

  /** Marks a batch done. @returns true when {@link lastCompleted} moved. */
  complete(ticket: number): boolean {
    const entry = this.unfinished[ticket - this.firstTicket];
    if (entry === undefined) throw new Error(`unknown or already passed batch ticket ${ticket}`);
    entry.done = true;
    let passed = 0;
    for (const candidate of this.unfinished) {
      if (!candidate.done) break;
      this.last = candidate.lastKey;
      passed += 1;
    }
    this.unfinished.splice(0, passed);
    this.firstTicket += passed;
    return passed > 0;
  }
}

const CheckpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  prefix: z.string(),
  lastKey: z.string(),
  updatedAt: z.string(),
});

/**
 * Reads a checkpoint file: the last key fully handled, or undefined when the file does not exist
 * (a first run, or the user deleted it to start over).
 *
 * @throws CliUsageError when the file is unreadable JSON or belongs to another bucket or prefix:
 *   resuming from it could skip or repeat a whole range, so the user must decide.
 */
export async function readCheckpoint(
  file: string,
  bucket: string,
  prefix: string,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error: unknown) {
    if (isErrnoException(error) && error.code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: z.infer<typeof CheckpointSchema>;
  try {
    parsed = CheckpointSchema.parse(JSON.parse(text));
  } catch {
    throw new CliUsageError(
      `checkpoint ${file} is not a logpipe backfill checkpoint; delete it to start over`,
    );
  }
  if (parsed.bucket !== bucket || parsed.prefix !== prefix)
    throw new CliUsageError(
      `checkpoint ${file} is for s3://${parsed.bucket}/${parsed.prefix}, not s3://${bucket}/${prefix}; ` +
        'use another file, or delete it to start over',
    );
  return parsed.lastKey;
}

// Not `instanceof Error`: errors from another realm (a VM context, a test sandbox) fail that test.
function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return typeof error === 'object' && error !== null && 'code' in error;
}

/**
 * Writes the checkpoint atomically (a temporary file, fsync, rename), so a crash leaves either
 * the previous checkpoint or the new one, never a torn file. Saves are coalesced: while a write
 * is in progress, only the newest key is written next.
 */
export class CheckpointWriter {
  private wanted: string | undefined;
  private written: string | undefined;
  private writing: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly file: string,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  /** Asks for `lastKey` to be saved; returns at once. */
  save(lastKey: string): void {
    this.wanted = lastKey;
    this.writing ??= this.writeUntilCurrent().finally(() => {
      this.writing = undefined;
    });
  }

  /** Waits until the newest key is on disk. @throws the write error, if any */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async writeUntilCurrent(): Promise<void> {
    try {
      while (this.wanted !== undefined && this.wanted !== this.written) {
        const key = this.wanted;
        await this.writeAtomically(key);
        this.written = key;
      }
    } catch (error: unknown) {
      this.failure ??= error;
    }
  }

  private async writeAtomically(lastKey: string): Promise<void> {
    const body = `${JSON.stringify({
      version: 1,
      bucket: this.bucket,
      prefix: this.prefix,
      lastKey,
      updatedAt: new Date().toISOString(),
    })}\n`;
    await mkdir(path.dirname(path.resolve(this.file)), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.file);
    } catch (error: unknown) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}

const SQS_BATCH_LIMIT = 10;

/** Retry policy of {@link enqueueHandler} for entries SQS refuses. */
export interface RetryPolicy {
  /** Attempts per entry, including the first. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, with full jitter. @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
}

/**
 * The `enqueue` handler: one S3-shaped event notification per object, ten per SendMessageBatch.
 * Entries SQS reports as failed are sent again with exponential backoff and full jitter; a
 * sender fault (the message itself is refused) or the last attempt fails the batch with the keys
 * and SQS's reasons. Request-level errors are retried by the SDK client itself.
 */
export function enqueueHandler(
  sqs: SQSClient,
  queueUrl: string,
  bucket: string,
  region: string,
  retry: RetryPolicy = {},
): ObjectHandler {
  const maxAttempts = retry.maxAttempts ?? 5;
  const baseDelayMs = retry.baseDelayMs ?? 200;
  const maxDelayMs = retry.maxDelayMs ?? 5000;
  return {
    batchSize: SQS_BATCH_LIMIT,
    async handle(objects) {
      const keyById = new Map(objects.map((object, index) => [String(index), object.key]));
      let entries: SendMessageBatchRequestEntry[] = objects.map((object, index) => ({
        Id: String(index),
        MessageBody: notificationBody({ ...object, bucket }, { region }),
      }));
      for (let attempt = 1; ; attempt += 1) {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        const failed = result.Failed ?? [];
        if (failed.length === 0) return;
        const refused = failed.filter((entry) => entry.SenderFault === true);
        if (refused.length > 0) throw new Error(`SQS refused ${describeFailures(refused, keyById)}`);
        if (attempt >= maxAttempts)
          throw new Error(`SQS failed ${describeFailures(failed, keyById)} after ${attempt} attempts`);
        const failedIds = new Set(failed.map((entry) => entry.Id));
        entries = entries.filter((entry) => failedIds.has(entry.Id));
        await delay(fullJitterDelayMs(attempt - 1, { baseMs: baseDelayMs, maxMs: maxDelayMs }));
      }
    },
  };
}

function describeFailures(
  failures: readonly BatchResultErrorEntry[],
  keyById: ReadonlyMap<string, string>,
): string {
  return failures
    .map(
      (failure) =>
        `${JSON.stringify(keyById.get(failure.Id ?? '') ?? failure.Id)} (${failure.Code ?? 'error'}: ${failure.Message ?? 'no message'})`,
    )
    .join(', ');
}

/** Totals of the `index` handler, added to the summary. */
export interface IndexTotals {
  documents: number;
  duplicates: number;
  /**
   * Records that could not be parsed and documents OpenSearch refused for good, each reported on
   * stderr; an object whose format could not be detected counts as one.
   */
  rejected: number;
  /** Objects whose format could not be detected: nothing indexed from them. */
  undetected: number;
}

/** Longest time one object may take, retries included, before the run fails. */
const INDEX_OBJECT_DEADLINE_MS = 15 * 60 * 1000;
const REPORTED_RAW_CHARS = 300;

/**
 * The `index` handler: each object through the indexer's own `indexObject` (the core and the
 * OpenSearch sink: same parsing, same ids), one object per batch, read to its end. What cannot be indexed (a record that does not
 * parse, a document the cluster refuses) is reported on stderr and counted, never fatal; an
 * unreachable cluster fails the object, and so the run, before the checkpoint passes it.
 */
export function indexHandler(
  s3: S3Client,
  sink: Pick<OpenSearchBulkSink, 'bulkIndex'>,
  bucket: string,
  options: IndexModeOptions,
  report: (text: string) => void,
): ObjectHandler & { readonly totals: Readonly<IndexTotals> } {
  const totals: IndexTotals = { documents: 0, duplicates: 0, rejected: 0, undetected: 0 };
  return {
    batchSize: 1,
    totals,
    async handle(objects) {
      for (const object of objects) {
        const where = `s3://${bucket}/${object.key}`;
        const quarantine = {
          add: (entry: QuarantineEntry) => {
            totals.rejected += 1;
            report(
              `${where} record ${entry.record}: ${entry.reason}: ${entry.error}: ${JSON.stringify(entry.raw.slice(0, REPORTED_RAW_CHARS))}`,
            );
          },
          // Reported as they come: nothing is buffered.
          flush: async () => undefined,
        };
        const result = await indexObject(
          { bucket, key: object.key, size: object.size, etag: unquotedEtag(object.etag) ?? '' },
          {
            indexPrefix: options.indexPrefix,
            logSources: options.logSources,
            bulkMaxBytes: DEFAULT_MAX_BULK_BYTES,
            deadline: Date.now() + INDEX_OBJECT_DEADLINE_MS,
            // A command has no invocation to outlive: read every object to its end.
            stopReadingAt: Number.POSITIVE_INFINITY,
          },
          { s3, sink, quarantineFor: () => quarantine },
        );
        if (result.status === 'missing') report(`${where}: deleted since it was listed; skipped`);
        totals.documents += result.bulk?.indexed ?? 0;
        totals.duplicates += result.bulk?.duplicates ?? 0;
        // The parse already reported the object's one rejected record saying why.
        if (result.parse?.error !== undefined) totals.undetected += 1;
      }
    },
  };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return hours > 0
    ? `${hours}h${String(minutes).padStart(2, '0')}m`
    : minutes > 0
      ? `${minutes}m${String(rest).padStart(2, '0')}s`
      : `${rest}s`;
}

/**
 * Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise. The
 * total (and so the ETA) is known once the listing has reached its end.
 */
export class ProgressReporter {
  private handledObjects = 0;
  private handledBytes = 0;
  private filteredObjects = 0;
  private listedToHandle = 0;
  private listingDone = false;
  private lastRender = Number.NEGATIVE_INFINITY;
  private readonly started: number;
  private barVisible = false;

  constructor(
    private readonly stderr: CommandIo['stderr'],
    private readonly plainIntervalMs = 5000,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Objects of a new listing page that passed the filters. */
  listed(objects: number, filtered: number): void {
    this.listedToHandle += objects;
    this.filteredObjects += filtered;
    this.render(false);
  }

  /** The listing reached its end: the total is known. */
  listingComplete(): void {
    this.listingDone = true;
    this.render(false);
  }

  /** A new --follow pass starts: a new total will be known when its listing ends. */
  newPass(): void {
    this.listingDone = false;
  }

  handled(objects: number, bytes: number): void {
    this.handledObjects += objects;
    this.handledBytes += bytes;
    this.render(false);
  }

  /** A message on its own line (the bar is redrawn below it). */
  note(text: string): void {
    this.clearBar();
    this.stderr.write(`backfill: ${text}\n`);
  }

  /** The final state, always printed. */
  finish(): void {
    this.render(true);
    if (this.barVisible) this.stderr.write('\n');
    this.barVisible = false;
  }

  private clearBar(): void {
    if (this.barVisible) this.stderr.write('\r\u001b[2K');
    this.barVisible = false;
  }

  private render(force: boolean): void {
    const now = this.now();
    const tty = this.stderr.isTTY === true;
    if (!force && now - this.lastRender < (tty ? 100 : this.plainIntervalMs)) return;
    this.lastRender = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.handledObjects / seconds;
    const total = this.listingDone ? this.listedToHandle : undefined;
    const eta =
      total !== undefined && rate > 0 ? ` ETA ${formatDuration((total - this.handledObjects) / rate)}` : '';
    const counts =
      total === undefined
        ? `${this.handledObjects} objects (${this.listedToHandle} listed so far)`
        : `${this.handledObjects}/${total} objects`;
    const filtered = this.filteredObjects > 0 ? `, ${this.filteredObjects} filtered out` : '';
    const text = `${counts}, ${formatBytes(this.handledBytes)}, ${rate.toFixed(1)} objects/s, ${formatBytes(this.handledBytes / seconds)}/s${eta}${filtered}`;
    if (!tty) {
      this.stderr.write(`backfill: ${text}\n`);
      return;
    }
    const width = Math.max(10, Math.min(30, (this.stderr.columns ?? 80) - text.length - 10));
    const fraction =
      total === undefined || total === 0 ? undefined : Math.min(1, this.handledObjects / total);
    const bar =
      fraction === undefined
        ? ''
        : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${Math.floor(fraction * 100)}% `;
    this.stderr.write(`\r\u001b[2K${bar}${text}`);
    this.barVisible = true;
  }
}

/** What {@link runBackfill} works with; {@link run} builds them from the options. */
export interface BackfillDependencies {
  readonly s3: S3Client;
  readonly handler: ObjectHandler;
  readonly io: CommandIo;
  /** Interval of plain progress lines when stderr is not a terminal. @default 5000 */
  readonly progressIntervalMs?: number;
  /** Keys per ListObjectsV2 page; tests use small pages. @default 1000 */
  readonly listPageSize?: number;
  /** Where progress goes; shared with a handler that reports through it. @default a new one on `io.stderr` */
  readonly progress?: ProgressReporter;
}

/** Runs a backfill to its end, its interruption, or its first failure. */
export async function runBackfill(
  options: BackfillOptions,
  deps: BackfillDependencies,
): Promise<BackfillSummary> {
  const { s3, handler, io } = deps;
  const progress = deps.progress ?? new ProgressReporter(io.stderr, deps.progressIntervalMs);
  const resumeAfter =
    options.checkpointFile === undefined
      ? undefined
      : await readCheckpoint(options.checkpointFile, options.bucket, options.prefix);
  if (resumeAfter !== undefined) progress.note(`resuming after ${JSON.stringify(resumeAfter)}`);
  const frontier = new CompletionFrontier(resumeAfter);
  const writer =
    options.checkpointFile === undefined
      ? undefined
      : new CheckpointWriter(options.checkpointFile, options.bucket, options.prefix);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let handled = 0;
  let handledBytes = 0;
  let filtered = 0;
  const stopping = () => io.signal.aborted || failure !== undefined;

  const dispatch = async (objects: readonly ListedObject[], lastKey: string) => {
    const ticket = frontier.register(lastKey);
    const bytes = objects.reduce((sum, object) => sum + object.size, 0);
    const work = (objects.length === 0 ? Promise.resolve() : handler.handle(objects)).then(
      () => {
        handled += objects.length;
        handledBytes += bytes;
        if (objects.length > 0) progress.handled(objects.length, bytes);
        const checkpoint = frontier.complete(ticket) ? frontier.lastCompleted : undefined;
        if (checkpoint !== undefined) writer?.save(checkpoint);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked: Promise<void> = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  };

  const outside = (object: ListedObject) =>
    (options.since !== undefined && object.lastModified < options.since) ||
    (options.until !== undefined && object.lastModified >= options.until);

  try {
    for (let pass = 1; !stopping(); pass += 1) {
      if (pass > 1) progress.newPass();
      let batch: ListedObject[] = [];
      let batchLastKey: string | undefined;
      const pages = listObjectPages(
        s3,
        options.bucket,
        options.prefix,
        frontier.lastCompleted,
        deps.listPageSize,
      );
      for await (const page of pages) {
        const kept = page.filter((object) => !outside(object));
        progress.listed(kept.length, page.length - kept.length);
        filtered += page.length - kept.length;
        for (const object of page) {
          if (stopping()) break;
          batchLastKey = object.key;
          if (outside(object)) continue;
          batch.push(object);
          if (batch.length === handler.batchSize) {
            await dispatch(batch, object.key);
            batch = [];
            batchLastKey = undefined;
          }
        }
        if (stopping()) break;
        // A page whose tail was filtered out still moves the checkpoint past it.
        if (batch.length === 0 && batchLastKey !== undefined) {
          await dispatch([], batchLastKey);
          batchLastKey = undefined;
        }
      }
      if (!stopping()) {
        progress.listingComplete();
        if (batchLastKey !== undefined) await dispatch(batch, batchLastKey);
      }
      await Promise.all(inFlight);
      if (!options.follow || stopping()) break;
      await sleepUnlessAborted(options.pollIntervalMs, io.signal);
    }
  } catch (error: unknown) {
    failure ??= error;
  }
  await Promise.all(inFlight);
  try {
    await writer?.flush();
  } catch (error: unknown) {
    failure ??= error;
  }
  progress.finish();
  const checkpoint = frontier.lastCompleted;
  return {
    bucket: options.bucket,
    prefix: options.prefix,
    handled,
    handledBytes,
    filtered,
    ...(checkpoint !== undefined && { checkpoint }),
    outcome: failure !== undefined ? 'failed' : io.signal.aborted ? 'interrupted' : 'completed',
    ...(failure !== undefined && { error: errorMessage(failure) }),
  };
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/** Runs a backfill with clients built from the options; the summary gains the index totals. */
async function executeBackfill(
  options: BackfillOptions,
  io: CommandIo,
): Promise<BackfillSummary & { readonly index?: Readonly<IndexTotals> }> {
  const clientOptions = { ...(options.endpoint !== undefined && { endpoint: options.endpoint }) };
  const s3 = createS3Client(clientOptions);
  let sqs: SQSClient | undefined;
  let openSearch: Client | undefined;
  try {
    const progress = new ProgressReporter(io.stderr);
    if (options.index !== undefined) {
      openSearch = createOpenSearchClient(options.index.connection);
      await installIndexTemplates(openSearch, { prefix: options.index.indexPrefix });
      const handler = indexHandler(
        s3,
        new OpenSearchBulkSink(openSearch),
        options.bucket,
        options.index,
        (text) => progress.note(text),
      );
      const summary = await runBackfill(options, { s3, handler, io, progress });
      return { ...summary, index: handler.totals };
    }
    sqs = createSqsClient({ ...clientOptions, maxAttempts: 5 });
    const handler = enqueueHandler(sqs, options.queueUrl ?? '', options.bucket, await s3.config.region());
    return await runBackfill(options, { s3, handler, io, progress });
  } finally {
    s3.destroy();
    sqs?.destroy();
    await openSearch?.close();
  }
}

/**
 * `logpipe backfill`: parses `argv`, runs, prints the summary.
 *
 * @returns the exit code: 0 when completed or interrupted, 1 on a failure, 2 on a usage error.
 */
export function run(argv: readonly string[], io?: CommandIo): Promise<number> {
  return runStoppableCommand(
    {
      name: 'backfill',
      usage: BACKFILL_USAGE,
      parse: (args) => parseBackfillArgs(args),
      execute: executeBackfill,
    },
    argv,
    io,
  );
}
