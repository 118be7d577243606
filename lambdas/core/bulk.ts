/**
 * Bulk-ready NDJSON, exactly as the indexer sends it, and the batcher that cuts documents into
 * request bodies under the size and count limits. Pure: no client, no I/O.
 *
 * @see https://docs.opensearch.org/latest/api-reference/document-apis/bulk/
 */
import { quoteJson } from './json';

/** Largest bulk body by default: OpenSearch's guidance is 5-15 MiB per request. */
export const DEFAULT_MAX_BULK_BYTES = 5 * 1024 * 1024;
/** Most documents per bulk body by default. */
export const DEFAULT_MAX_BULK_DOCUMENTS = 10_000;

/** A document on its way to a bulk body, with what is needed to match its per-item result. */
export interface BulkDocument {
  readonly index: string;
  readonly id: string;
  /** The `_source` JSON text. */
  readonly source: string;
  readonly recordNumber: number;
  /** The record's raw text, for the quarantine if the document is refused. */
  readonly raw: string;
}

/** One bulk request body and its documents, in body order (the order of the response's items). */
export interface BulkBody {
  readonly kind: 'body';
  /** NDJSON: an action line and a source line per document, each ending in a line feed. */
  readonly body: string;
  /**
   * The same NDJSON as UTF-8 bytes, when the batcher built the body. Send these (the OpenSearch
   * client takes a Buffer `bulkBody` as is): `body` is decoded from them on first read, and the
   * HTTP layer would only encode it again.
   */
  readonly payload?: Buffer;
  /** The body's size in UTF-8 bytes. */
  readonly bytes: number;
  /**
   * The documents, in body order. Their `source` and `raw` are read back from the body's bytes
   * when asked for (a retry subset, a quarantined item), which is rare.
   */
  readonly documents: readonly BulkDocument[];
}

/** A document that can never be sent: alone it is bigger than a bulk body may be. */
export interface OversizedDocument {
  readonly kind: 'rejected';
  readonly document: BulkDocument;
  readonly reason: string;
}

/**
 * The action line of one document. `create`, not `index`: a replayed document (a retried message,
 * a re-indexed object) answers 409 instead of being written twice.
 */
export function bulkActionLine(index: string, id: string): string {
  return `{"create":{"_index":${quoteJson(index)},"_id":${quoteJson(id)}}}\n`;
}

/** Limits of one bulk body. */
export interface BulkLimits {
  /** Most UTF-8 bytes per body. Default {@link DEFAULT_MAX_BULK_BYTES}. */
  readonly maxBulkBytes?: number;
  /** Most documents per body. Default {@link DEFAULT_MAX_BULK_DOCUMENTS}. */
  readonly maxDocuments?: number;
}

/** Where a batcher's first body starts: most log objects are small (an ALB file is ~100 KB). */
const FIRST_BUFFER_BYTES = 64 * 1024;
const NO_BYTES = Buffer.alloc(0);

/**
 * UTF-8 bytes, growing by doubling; outside the JavaScript heap, so the collector never copies
 * them. Nothing is allocated before the first append: a batcher whose object has ended holds no
 * buffer (allocating a whole body's capacity per batcher cost small objects more than parsing).
 */
class ByteBuffer {
  bytes: Buffer = NO_BYTES;
  length = 0;

  /** @param firstCapacity the least the first allocation reserves. */
  constructor(private readonly firstCapacity: number) {}

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.bytes.length, this.firstCapacity));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  /** Appends `text`; returns its UTF-8 size. */
  append(text: string): number {
    // Room for the worst case: 3 bytes per UTF-16 unit.
    this.reserve(3 * text.length);
    const written = this.bytes.write(text, this.length);
    this.length += written;
    return written;
  }

  text(start: number, end: number): string {
    return this.bytes.toString('utf8', start, end);
  }
}

/** A document of a body: its identity kept, its texts decoded from the body's bytes when read. */
class BodyDocument implements BulkDocument {
  constructor(
    readonly index: string,
    readonly id: string,
    readonly recordNumber: number,
    private readonly body: ByteBuffer,
    private readonly sourceStart: number,
    private readonly sourceEnd: number,
    private readonly raws: ByteBuffer,
    private readonly rawStart: number,
    private readonly rawEnd: number,
  ) {}

  get source(): string {
    return this.body.text(this.sourceStart, this.sourceEnd);
  }

  get raw(): string {
    return this.raws.text(this.rawStart, this.rawEnd);
  }
}

/** A body the batcher built: its text is decoded from its bytes only when someone reads it. */
class EncodedBody implements BulkBody {
  readonly kind = 'body';
  private text: string | undefined;

  constructor(
    readonly payload: Buffer,
    readonly documents: readonly BulkDocument[],
  ) {}

  get bytes(): number {
    return this.payload.length;
  }

  get body(): string {
    this.text ??= this.payload.toString('utf8');
    return this.text;
  }
}

/**
 * Groups documents into bulk bodies. `add` returns the previous body when the new document does
 * not fit in it (the new document starts the next body), or the new document itself when it can
 * never fit; `flush` returns the last body.
 *
 * Each document is encoded into the body's bytes as it arrives, which counts its UTF-8 size
 * exactly, and only its identity stays on the heap. Keeping whole documents (their `_source` and
 * raw text) alive until a 5 MiB body was complete made the garbage collector copy them again and
 * again: that cost more than everything else the batcher does.
 */
export class BulkBatcher {
  private readonly maxBytes: number;
  private readonly maxDocuments: number;
  private body = new ByteBuffer(FIRST_BUFFER_BYTES);
  private raws = new ByteBuffer(FIRST_BUFFER_BYTES);
  private documents: BodyDocument[] = [];

  constructor(limits: BulkLimits = {}) {
    this.maxBytes = limits.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
    this.maxDocuments = limits.maxDocuments ?? DEFAULT_MAX_BULK_DOCUMENTS;
    if (!(this.maxBytes > 0) || !(this.maxDocuments > 0))
      throw new RangeError('bulk limits must be positive');
  }

  /** Documents waiting in the body being filled. */
  get pendingDocuments(): number {
    return this.documents.length;
  }

  /**
   * Adds a document.
   *
   * @returns a completed body, the document itself when it is too big for any body, or undefined.
   */
  add(document: BulkDocument): BulkBody | OversizedDocument | undefined {
    let start = this.body.length;
    const actionBytes = this.body.append(bulkActionLine(document.index, document.id));
    const sourceBytes = this.body.append(document.source);
    this.body.append('\n');
    const bytes = actionBytes + sourceBytes + 1;
    if (bytes > this.maxBytes) {
      this.body.length = start;
      return {
        kind: 'rejected',
        document,
        reason: `document is ${bytes} bytes with its action line, more than a bulk body may hold (${this.maxBytes})`,
      };
    }
    let completed: BulkBody | undefined;
    if (start + bytes > this.maxBytes || this.documents.length >= this.maxDocuments) {
      // The entry is already encoded after the full body: it moves to the start of the next one.
      const full = this.body;
      completed = this.takeBody(start);
      this.body.reserve(bytes);
      full.bytes.copy(this.body.bytes, 0, start, start + bytes);
      this.body.length = bytes;
      start = 0;
    }
    const rawStart = this.raws.length;
    this.raws.append(document.raw);
    const sourceStart = start + actionBytes;
    this.documents.push(
      new BodyDocument(
        document.index,
        document.id,
        document.recordNumber,
        this.body,
        sourceStart,
        sourceStart + sourceBytes,
        this.raws,
        rawStart,
        this.raws.length,
      ),
    );
    return completed;
  }

  /** The body being filled, if it holds any document; the batcher starts a new one. */
  flush(): BulkBody | undefined {
    return this.documents.length === 0 ? undefined : this.takeBody(this.body.length);
  }

  /**
   * The body of the documents so far, whose bytes end at `end`; the batcher gets fresh buffers,
   * as large as these grew (a large object grows its buffers once), allocated when first used.
   */
  private takeBody(end: number): BulkBody {
    const body = new EncodedBody(this.body.bytes.subarray(0, end), this.documents);
    this.documents = [];
    this.body = new ByteBuffer(this.body.bytes.length);
    this.raws = new ByteBuffer(this.raws.bytes.length);
    return body;
  }
}
