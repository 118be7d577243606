/**
 * Indexes one S3 object from start to end: GetObject → the core's `parseObject` → bulk bodies →
 * the OpenSearch sink, with rejected records and refused documents handed to the quarantine. The
 * pipeline streams: the sink pulls bodies as it has room, so memory holds a few bulk bodies, not
 * the object.
 *
 * `logpipe backfill --mode index` uses it per listed object; the indexer can use it for objects
 * that fit in one invocation (it adds continuations for the others).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BulkBatcher, type BulkBody, type BulkLimits } from '../core/bulk';
import { type ParseObjectRequest, type ParseSummary, parseObject } from '../core/parse-object';
import type { BulkIndexResult, OpenSearchBulkSink } from './opensearch/bulk-sink';
import type { QuarantineSink } from './quarantine';

/** The object to index, as a listing or a notification names it. */
export interface ObjectToIndex {
  readonly bucket: string;
  /** The key as stored (decoded). */
  readonly key: string;
  /** When known, GetObject asks for exactly this version (`If-Match`): a replaced object fails instead of mixing versions. */
  readonly etag?: string;
}

/** What {@link indexObject} needs. */
export interface IndexObjectRequest {
  readonly s3: Pick<S3Client, 'send'>;
  readonly object: ObjectToIndex;
  readonly sink: Pick<OpenSearchBulkSink, 'bulkIndex'>;
  readonly quarantine: QuarantineSink;
  /** Format, log sources, index prefix, key fields, limits: as for `parseObject`. */
  readonly parse?: Omit<ParseObjectRequest, 'body' | 'object' | 'startRecord' | 'startByte'>;
  readonly bulkLimits?: BulkLimits;
  /** Epoch ms after which the sink starts no request and waits for no retry. */
  readonly deadline: number;
}

/** What happened to one object. */
export interface IndexObjectResult {
  /** Records, documents, rejected... and `error` when the format could not be detected. */
  readonly parse: Readonly<ParseSummary>;
  readonly bulk: BulkIndexResult;
}

/**
 * Indexes one object.
 *
 * @throws the S3 error when the object cannot be read, and the sink's `OpenSearchUnavailableError`
 *   or `BulkRequestRejectedError` when OpenSearch cannot take the documents: the object must then
 *   be indexed again (document ids are deterministic, so what was indexed answers 409).
 */
export async function indexObject(request: IndexObjectRequest): Promise<IndexObjectResult> {
  const { object, quarantine } = request;
  const response = await request.s3.send(
    new GetObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      ...(object.etag !== undefined && { IfMatch: `"${object.etag.replace(/^"|"$/g, '')}"` }),
    }),
  );
  const body = response.Body as AsyncIterable<Uint8Array> | undefined;
  if (body === undefined) throw new Error(`GetObject s3://${object.bucket}/${object.key} returned no body`);
  const etag = (response.ETag ?? object.etag)?.replace(/^"|"$/g, '');
  const parse = parseObject({
    ...request.parse,
    body,
    object: {
      bucket: object.bucket,
      key: object.key,
      ...(etag !== undefined && { etag }),
      ...(response.LastModified !== undefined && { lastModified: response.LastModified.getTime() }),
    },
  });
  const batcher = new BulkBatcher(request.bulkLimits);

  async function* bodies(): AsyncGenerator<BulkBody> {
    for await (const batch of parse) {
      for (const item of batch.items) {
        if (item.kind === 'rejected') {
          await quarantine.add({
            reason: 'parse-error',
            error: item.reason,
            record: item.recordNumber,
            raw: item.raw,
          });
          continue;
        }
        const completed = batcher.add(item);
        if (completed?.kind === 'body') yield completed;
        else if (completed?.kind === 'rejected') {
          const { document, reason } = completed;
          await quarantine.add({
            reason: 'too-large',
            error: reason,
            record: document.recordNumber,
            raw: document.raw,
            index: document.index,
            id: document.id,
          });
        }
      }
    }
    const last = batcher.flush();
    if (last !== undefined) yield last;
  }

  const bulk = await request.sink.bulkIndex(bodies(), { deadline: request.deadline, quarantine });
  return { parse: parse.summary, bulk };
}
