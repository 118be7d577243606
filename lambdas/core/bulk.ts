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
export interface BulkBody<Document extends BulkDocument = BulkDocument> {
  readonly kind: 'body';
  /** NDJSON: an action line and a source line per document, each ending in a line feed. */
  readonly body: string;
  /** The body's size in UTF-8 bytes. */
  readonly bytes: number;
  readonly documents: readonly Document[];
}

/** A document that can never be sent: alone it is bigger than a bulk body may be. */
export interface OversizedDocument<Document extends BulkDocument = BulkDocument> {
  readonly kind: 'rejected';
  readonly document: Document;
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

/**
 * Groups documents into bulk bodies. `add` returns the previous body when the new document does
 * not fit in it (the new document starts the next body), or the new document itself when it can
 * never fit; `flush` returns the last body.
 */
export class BulkBatcher<Document extends BulkDocument = BulkDocument> {
  private readonly maxBytes: number;
  private readonly maxDocuments: number;
  private parts: string[] = [];
  private bytes = 0;
  private documents: Document[] = [];

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
  add(document: Document): BulkBody<Document> | OversizedDocument<Document> | undefined {
    const entry = `${bulkActionLine(document.index, document.id)}${document.source}\n`;
    const bytes = Buffer.byteLength(entry, 'utf8');
    if (bytes > this.maxBytes) {
      return {
        kind: 'rejected',
        document,
        reason: `document is ${bytes} bytes with its action line, more than a bulk body may hold (${this.maxBytes})`,
      };
    }
    const full = this.bytes + bytes > this.maxBytes || this.documents.length >= this.maxDocuments;
    const completed = full ? this.flush() : undefined;
    this.parts.push(entry);
    this.bytes += bytes;
    this.documents.push(document);
    return completed;
  }

  /** The body being filled, if it holds any document; the batcher starts a new one. */
  flush(): BulkBody<Document> | undefined {
    if (this.documents.length === 0) return undefined;
    const body: BulkBody<Document> = {
      kind: 'body',
      body: this.parts.join(''),
      bytes: this.bytes,
      documents: this.documents,
    };
    this.parts = [];
    this.bytes = 0;
    this.documents = [];
    return body;
  }
}
