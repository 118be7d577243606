/**
 * The OpenSearch sink: sends bulk bodies and reads every item's result, so that each document
 * ends up indexed, known to be there already, or quarantined, and nothing is acknowledged that is
 * not.
 *
 * Per item: 2xx is indexed; 409 on `create` means the document is already there (a replayed
 * object: ids are deterministic), counted as a duplicate; 429 and 5xx are retried, only those
 * items, rebuilt into a smaller body; anything else (a mapping conflict's 400...) is permanent and
 * goes to the quarantine with the raw record. Whole-request failures (connection refused or
 * reset, timeout, 429 or 5xx for the request) are retried. Retries use exponential backoff with
 * full jitter and stop when the next attempt would end after the deadline; then
 * {@link OpenSearchUnavailableError} is thrown and the caller fails the message so it is delivered
 * again: the replay re-sends everything, and what was indexed answers 409.
 *
 * @see https://docs.opensearch.org/latest/api-reference/document-apis/bulk/
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
import { type Client, errors } from '@opensearch-project/opensearch';
import { BulkBatcher, type BulkBody } from '../../core/bulk';
import { fullJitterDelayMs } from '../backoff';
import type { QuarantineSink } from '../quarantine';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './client';

/** What one {@link OpenSearchBulkSink.bulkIndex} call did. */
export interface BulkIndexResult {
  /** Documents the cluster created. */
  indexed: number;
  /** `create` answered 409: the document was already indexed. */
  duplicates: number;
  /** Documents refused for good and handed to the quarantine. */
  quarantined: number;
  /** Item retries (a document retried twice counts twice). */
  retried: number;
  /** Bulk requests sent, retries included. */
  requests: number;
}

/** How the sink retries, and how much it sends at once. */
export interface BulkSinkOptions {
  /** Bulk requests in flight at once. @default 2 */
  readonly concurrency?: number;
  /** First retry delay ceiling; doubled per attempt, with full jitter. @default 200 */
  readonly backoffBaseMs?: number;
  /** Largest retry delay ceiling. @default 10000 */
  readonly backoffMaxMs?: number;
  /** Per-request timeout, shortened to fit before the deadline. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Shortest request worth starting before the deadline. @default 1000 */
  readonly minRequestMs?: number;
  /** `?refresh=` on every bulk request (tests, demo). @default none */
  readonly refresh?: 'true' | 'wait_for';
  /** For tests: jitter source and clock. */
  readonly random?: () => number;
  readonly now?: () => number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/** Options of one call. */
export interface BulkIndexOptions {
  /** Epoch milliseconds: no request starts and no retry waits past this (the Lambda's remaining time minus a margin). */
  readonly deadline: number;
  /** Where permanently refused documents go. */
  readonly quarantine: QuarantineSink;
}

/**
 * OpenSearch could not take the documents in time (unreachable, overloaded, failing). Retryable:
 * the caller fails the message so it is processed again; `progress` says what was done.
 */
export class OpenSearchUnavailableError extends Error {
  override readonly name = 'OpenSearchUnavailableError';
  readonly retryable = true;

  constructor(
    message: string,
    readonly progress: Readonly<BulkIndexResult>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * OpenSearch refused a whole bulk request with a status a retry cannot fix (401, 403, 400 for a
 * malformed request). The caller fails the message; repeated failures reach the DLQ.
 */
export class BulkRequestRejectedError extends Error {
  override readonly name = 'BulkRequestRejectedError';
  readonly retryable = false;

  constructor(
    message: string,
    readonly statusCode: number,
    readonly progress: Readonly<BulkIndexResult>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface ItemResult {
  readonly status: number;
  readonly error?: { readonly type?: string; readonly reason?: string; readonly caused_by?: unknown };
}

/** Sends bulk bodies to one cluster. */
export class OpenSearchBulkSink {
  private readonly concurrency: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly requestTimeoutMs: number;
  private readonly minRequestMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (milliseconds: number) => Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly options: BulkSinkOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.minRequestMs = options.minRequestMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.sleep =
      options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  }

  /**
   * Indexes every body, at most `concurrency` requests at a time, pulling the next body only when
   * a slot is free (bodies can be produced while earlier ones are in flight; memory stays
   * bounded).
   *
   * @throws OpenSearchUnavailableError when the deadline comes before every document is settled.
   * @throws BulkRequestRejectedError when the cluster refuses a request for good.
   */
  async bulkIndex(
    bodies: Iterable<BulkBody> | AsyncIterable<BulkBody>,
    options: BulkIndexOptions,
  ): Promise<BulkIndexResult> {
    const result: BulkIndexResult = { indexed: 0, duplicates: 0, quarantined: 0, retried: 0, requests: 0 };
    const iterator =
      Symbol.asyncIterator in bodies ? bodies[Symbol.asyncIterator]() : bodies[Symbol.iterator]();
    let failure: unknown;
    let exhausted = false;
    // Pulling is serialised so two workers never call `next()` at once on a generator.
    let pulling: Promise<unknown> = Promise.resolve();
    const nextBody = async (): Promise<BulkBody | undefined> => {
      const turn = pulling.then(async () => {
        if (exhausted || failure !== undefined) return undefined;
        const next = await iterator.next();
        if (next.done === true) exhausted = true;
        return next.done === true ? undefined : next.value;
      });
      pulling = turn.catch(() => undefined);
      return turn;
    };
    const worker = async (): Promise<void> => {
      try {
        for (let body = await nextBody(); body !== undefined; body = await nextBody()) {
          await this.sendBody(body, options, result);
          // Every document is settled: the encoder may reuse the body's bytes.
          body.release?.();
        }
      } catch (error: unknown) {
        failure ??= error;
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    if (failure !== undefined) {
      await iterator.return?.();
      throw failure;
    }
    return result;
  }

  /** Sends one body until each of its documents is settled, retrying what is retryable. */
  private async sendBody(body: BulkBody, options: BulkIndexOptions, result: BulkIndexResult): Promise<void> {
    let pending = body;
    for (let attempt = 0; ; attempt += 1) {
      let items: ItemResult[] | undefined;
      let failure: unknown;
      try {
        items = await this.send(pending, options.deadline, result);
      } catch (error: unknown) {
        if (isPayloadTooLarge(error)) {
          await this.splitTooLarge(pending, error, options, result);
          return;
        }
        if (!isRetryableRequestError(error)) throw this.rejected(error, result);
        failure = error;
      }
      let why = `the bulk request failed: ${describe(failure)}`;
      if (items !== undefined) {
        const retryable = await this.settle(pending, items, options.quarantine, result);
        if (retryable.length === 0) return;
        result.retried += retryable.length;
        why = `${retryable.length} of ${pending.documents.length} documents were refused for now (429/5xx)`;
        pending = subsetOf(pending, retryable);
      }
      const delay = fullJitterDelayMs(
        attempt,
        { baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs },
        this.random,
      );
      if (this.now() + delay + this.minRequestMs > options.deadline) {
        throw new OpenSearchUnavailableError(
          `OpenSearch did not take ${pending.documents.length} documents before the deadline: ${why}`,
          { ...result },
          { cause: failure },
        );
      }
      await this.sleep(delay);
    }
  }

  /**
   * A body over the cluster's `http.max_content_length` (413) is sent in two halves; a single
   * document that is still too large can never be indexed and is quarantined.
   */
  private async splitTooLarge(
    body: BulkBody,
    error: unknown,
    options: BulkIndexOptions,
    result: BulkIndexResult,
  ): Promise<void> {
    const [only] = body.documents;
    if (body.documents.length === 1 && only !== undefined) {
      await options.quarantine.add({
        reason: 'too-large',
        error: describe(error),
        record: only.recordNumber,
        raw: only.raw,
        index: only.index,
        id: only.id,
      });
      result.quarantined += 1;
      return;
    }
    const positions = body.documents.map((_, position) => position);
    const half = Math.ceil(positions.length / 2);
    await this.sendBody(subsetOf(body, positions.slice(0, half)), options, result);
    await this.sendBody(subsetOf(body, positions.slice(half)), options, result);
  }

  /** One bulk request; its per-item results, in order. */
  private async send(body: BulkBody, deadline: number, result: BulkIndexResult): Promise<ItemResult[]> {
    const remaining = deadline - this.now();
    if (remaining < this.minRequestMs) {
      throw new OpenSearchUnavailableError(
        `no time left before the deadline to send ${body.documents.length} documents`,
        { ...result },
      );
    }
    result.requests += 1;
    // The transport sends NDJSON bytes or text as is; the typed `bulk()` only takes arrays of
    // objects, which it would serialise again. The batcher's bytes spare a decode and re-encode.
    const response = await this.client.transport.request(
      {
        method: 'POST',
        path: '/_bulk',
        bulkBody: body.payload ?? body.body,
        querystring: {
          filter_path: BULK_FILTER_PATH,
          ...(this.options.refresh === undefined ? {} : { refresh: this.options.refresh }),
        },
      },
      { requestTimeout: Math.min(this.requestTimeoutMs, remaining) },
    );
    const items: unknown = (response.body as { items?: unknown }).items;
    if (!Array.isArray(items) || items.length !== body.documents.length) {
      throw new OpenSearchUnavailableError(
        `bulk response has ${Array.isArray(items) ? items.length : 'no'} items for ${body.documents.length} documents`,
        { ...result },
      );
    }
    return items.map(itemResultOf);
  }

  /** Counts and quarantines what is final; returns the positions to retry. */
  private async settle(
    body: BulkBody,
    items: readonly ItemResult[],
    quarantine: QuarantineSink,
    result: BulkIndexResult,
  ): Promise<number[]> {
    const retry: number[] = [];
    for (const [position, item] of items.entries()) {
      const document = body.documents[position];
      if (document === undefined) continue;
      if (item.status >= 200 && item.status < 300) {
        result.indexed += 1;
      } else if (item.status === 409) {
        result.duplicates += 1;
      } else if (item.status === 429 || item.status >= 500) {
        retry.push(position);
      } else {
        await quarantine.add({
          reason: 'indexing-rejected',
          error: `${item.status} ${describeItemError(item)}`,
          record: document.recordNumber,
          raw: document.raw,
          index: document.index,
          id: document.id,
        });
        result.quarantined += 1;
      }
    }
    return retry;
  }

  private rejected(error: unknown, result: BulkIndexResult): Error {
    if (error instanceof OpenSearchUnavailableError || error instanceof BulkRequestRejectedError)
      return error;
    const statusCode = error instanceof errors.ResponseError ? error.statusCode : 0;
    return new BulkRequestRejectedError(
      `OpenSearch refused the bulk request: ${describe(error)}`,
      statusCode,
      {
        ...result,
      },
      { cause: error },
    );
  }
}

/**
 * What the sink reads of a bulk response: each item's status and error, and a whole request's
 * error (OpenSearch filters error responses too). Without it the response repeats every
 * document's index, id, version, shards and sequence numbers: about seven times as many bytes
 * for OpenSearch to write and the indexer to parse.
 */
const BULK_FILTER_PATH = 'items.*.status,items.*.error,error,status';

/** A body with only some of the documents, in their order (always within the original's limits). */
function subsetOf(body: BulkBody, positions: readonly number[]): BulkBody {
  const batcher = new BulkBatcher({
    maxBulkBytes: Number.MAX_SAFE_INTEGER,
    maxDocuments: Number.MAX_SAFE_INTEGER,
  });
  for (const position of positions) {
    const document = body.documents[position];
    if (document !== undefined) batcher.add(document);
  }
  return batcher.flush() ?? { kind: 'body', body: '', bytes: 0, documents: [] };
}

function itemResultOf(item: unknown): ItemResult {
  const [result] = typeof item === 'object' && item !== null ? Object.values(item) : [];
  if (typeof result !== 'object' || result === null || typeof (result as ItemResult).status !== 'number') {
    return { status: 500, error: { type: 'unreadable_item', reason: JSON.stringify(item) } };
  }
  return result as ItemResult;
}

function isRetryableRequestError(error: unknown): boolean {
  if (error instanceof OpenSearchUnavailableError) return false;
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    return status === 429 || status >= 500;
  }
  return (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    error instanceof errors.DeserializationError
  );
}

function isPayloadTooLarge(error: unknown): boolean {
  return error instanceof errors.ResponseError && error.statusCode === 413;
}

function describe(error: unknown): string {
  if (error instanceof errors.ResponseError) {
    const body = error.body as { error?: { type?: string; reason?: string } } | string | undefined;
    const detail =
      typeof body === 'object' && body?.error !== undefined
        ? `${body.error.type ?? 'error'}: ${body.error.reason ?? ''}`
        : String(body ?? '').slice(0, 200);
    return `HTTP ${error.statusCode} ${detail}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describeItemError(item: ItemResult): string {
  const error = item.error;
  if (error === undefined) return 'no error detail';
  const causedBy = error.caused_by as { type?: string; reason?: string } | undefined;
  const detail = `${error.type ?? 'error'}: ${error.reason ?? ''}`;
  return causedBy === undefined ? detail : `${detail} (caused by ${causedBy.type}: ${causedBy.reason})`;
}
