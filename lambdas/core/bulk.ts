/**
 * Bulk-ready NDJSON, exactly as the indexer sends it, and the writer that cuts documents into
 * request bodies under the size and count limits. Pure: no client, no I/O.
 *
 * One {@link BulkBodyWriter} serves both engines: {@link BulkBatcher} appends documents given as
 * text, the byte engine (`bulk-encoder.ts`) writes entries straight into the body's bytes and
 * commits them. Either way the limits, the cutting of bodies and the documents' identities are
 * handled here once.
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
   * The same NDJSON as UTF-8 bytes, when a writer built the body. Send these (the OpenSearch
   * client takes a Buffer `bulkBody` as is): `body` is decoded from them on first read, and the
   * HTTP layer would only encode it again.
   */
  readonly payload?: Buffer;
  /** The body's size in UTF-8 bytes. */
  readonly bytes: number;
  /**
   * The documents, in body order. Their fields are read back from the body's bytes when asked for
   * (a retry subset, a quarantined item), which is rare.
   */
  readonly documents: readonly BulkDocument[];
  /**
   * Says the sender is done with the body (every document settled): its bytes may be reused for
   * a later body, which spares a fresh allocation (and its page faults) per body. Neither the body
   * nor its documents may be read afterwards. Optional to call; a body built by hand has none.
   */
  readonly release?: () => void;
}

/** A document that can never be sent: alone it is bigger than a bulk body may be. */
export interface OversizedDocument {
  readonly kind: 'rejected';
  readonly document: BulkDocument;
  readonly reason: string;
}

/**
 * The constant parts of an action line, around the quoted index name and id. `create`, not
 * `index`: a replayed document (a retried message, a re-indexed object) answers 409 instead of
 * being written twice.
 */
export const ACTION_LINE = { head: '{"create":{"_index":', id: ',"_id":', tail: '}}\n' } as const;

/** The action line of one document (see {@link ACTION_LINE}). */
export function bulkActionLine(index: string, id: string): string {
  return `${ACTION_LINE.head}${quoteJson(index)}${ACTION_LINE.id}${quoteJson(id)}${ACTION_LINE.tail}`;
}

/** Limits of one bulk body. */
export interface BulkLimits {
  /** Most UTF-8 bytes per body. Default {@link DEFAULT_MAX_BULK_BYTES}. */
  readonly maxBulkBytes?: number;
  /** Most documents per body. Default {@link DEFAULT_MAX_BULK_DOCUMENTS}. */
  readonly maxDocuments?: number;
}

/** Where a writer's first body starts: most log objects are small (an ALB file is ~100 KB). */
const FIRST_BUFFER_BYTES = 64 * 1024;
const NO_BYTES = Buffer.alloc(0);
/** Released body buffers a writer keeps: enough for a sender that has a few bodies in flight. */
const MAX_SPARE_BUFFERS = 2;

/**
 * UTF-8 bytes, growing by doubling; outside the JavaScript heap, so the collector never copies
 * them. Nothing is allocated before the first {@link reserve}: a writer whose object has ended
 * holds no buffer (allocating a whole body's capacity per writer cost small objects more than
 * parsing).
 *
 * The content starts after `headroom` bytes that belong to the caller (the byte engine keeps its
 * constants and the lines being encoded there, so that every copy is a `copyWithin`); they are
 * carried along when the buffer grows.
 */
export class ByteBuffer {
  bytes: Buffer = NO_BYTES;
  /** Where the next byte goes: the end of the content, as an index into {@link bytes}. */
  length: number;

  /**
   * @param firstCapacity the least the first allocation reserves, headroom included.
   * @param headroom bytes before the content, kept for the caller.
   * @param onAllocate called with the first allocation, for the caller to fill its headroom.
   * @param spare a released buffer to use for the first allocation when it is large enough.
   */
  constructor(
    private readonly firstCapacity: number,
    readonly headroom = 0,
    private readonly onAllocate?: (bytes: Buffer) => void,
    private spare?: Buffer,
  ) {
    this.length = headroom;
  }

  /** Makes room for `extra` more bytes after {@link length}. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const capacity = Math.max(needed, 2 * this.bytes.length, this.firstCapacity);
    const spare = this.spare;
    this.spare = undefined;
    const grown = spare !== undefined && spare.length >= capacity ? spare : Buffer.allocUnsafe(capacity);
    if (this.bytes === NO_BYTES) this.onAllocate?.(grown);
    else this.bytes.copy(grown, 0, 0, this.length);
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

  /** The content, without the headroom. */
  content(): Buffer {
    return this.bytes.subarray(this.headroom, this.length);
  }
}

/** An action line as {@link bulkActionLine} writes it. */
interface ActionLine {
  readonly create: { readonly _index: string; readonly _id: string };
}

/** An action line written by this module (so its shape is known), read back. */
function parseActionLine(text: string): ActionLine {
  return JSON.parse(text) as ActionLine;
}

/** Where each document of a body is, as numbers: no object per document until one is asked for. */
class BodyEntries {
  readonly recordNumbers: number[] = [];
  /** Start of the action line, relative to the body's first byte. */
  readonly actionStarts: number[] = [];
  /** The `_source` line, without its line feed, relative to the body's first byte. */
  readonly sourceStarts: number[] = [];
  readonly sourceEnds: number[] = [];
  /** The raw record: bytes `[rawStarts[i], rawEnds[i])` of a line's own bytes or of the writer's raw text. */
  readonly rawSources: (Buffer | ByteBuffer)[] = [];
  readonly rawStarts: number[] = [];
  readonly rawEnds: number[] = [];

  get length(): number {
    return this.recordNumbers.length;
  }
}

/** A document of a body, its fields decoded from the body's bytes when read. */
class BodyDocument implements BulkDocument {
  private action: ActionLine | undefined;

  constructor(
    private readonly payload: Buffer,
    private readonly entries: BodyEntries,
    private readonly position: number,
  ) {}

  get index(): string {
    return this.actionLine().create._index;
  }

  get id(): string {
    return this.actionLine().create._id;
  }

  get recordNumber(): number {
    return this.entries.recordNumbers[this.position] as number;
  }

  get source(): string {
    const { sourceStarts, sourceEnds } = this.entries;
    return this.payload.toString('utf8', sourceStarts[this.position], sourceEnds[this.position]);
  }

  get raw(): string {
    const { rawSources, rawStarts, rawEnds } = this.entries;
    const source = rawSources[this.position] as Buffer | ByteBuffer;
    const bytes = source instanceof ByteBuffer ? source.bytes : source;
    return bytes.toString('utf8', rawStarts[this.position], rawEnds[this.position]);
  }

  private actionLine(): ActionLine {
    const { actionStarts, sourceStarts } = this.entries;
    this.action ??= parseActionLine(
      this.payload.toString('utf8', actionStarts[this.position], (sourceStarts[this.position] as number) - 1),
    );
    return this.action;
  }
}

/** A body a writer built: its text and its documents are decoded from its bytes only when read. */
class EncodedBody implements BulkBody {
  readonly kind = 'body';
  private text: string | undefined;
  private list: readonly BulkDocument[] | undefined;

  constructor(
    readonly payload: Buffer,
    private readonly entries: BodyEntries,
    private recycle: (() => void) | undefined,
  ) {}

  get bytes(): number {
    return this.payload.length;
  }

  readonly release = (): void => {
    const recycle = this.recycle;
    this.recycle = undefined;
    recycle?.();
  };

  get body(): string {
    this.text ??= this.payload.toString('utf8');
    return this.text;
  }

  get documents(): readonly BulkDocument[] {
    if (this.list === undefined) {
      // A loop, not `Array.from({ length })`: the sink reads this for every body of 10,000
      // documents, and the generic array-like path cost several times the objects it makes.
      const list: BulkDocument[] = [];
      for (let position = 0; position < this.entries.length; position++)
        list.push(new BodyDocument(this.payload, this.entries, position));
      this.list = list;
    }
    return this.list;
  }
}

/** Options of a {@link BulkBodyWriter} whose caller writes bytes into the bodies itself. */
export interface BodyBufferOptions {
  /** Bytes kept before each body's content for the caller (see {@link ByteBuffer}). */
  readonly headroom: number;
  /** Called with each new body buffer when it is first allocated, to fill the headroom. */
  readonly onAllocate: (bytes: Buffer) => void;
}

/**
 * Writes bulk entries (an action line and a source line each) into bodies and cuts them at the
 * limits: the one place for that rule. An entry is written after the body being filled; if it
 * does not fit there, the body is complete and the entry starts the next one, and an entry
 * bigger than any body is refused.
 *
 * Each entry is encoded into the body's bytes as it arrives, which counts its UTF-8 size exactly,
 * and only its numbers stay on the heap. Keeping whole documents (their `_source` and raw text)
 * alive until a 5 MiB body was complete made the garbage collector copy them again and again:
 * that cost more than everything else the batcher did.
 */
export class BulkBodyWriter {
  private readonly maxBytes: number;
  private readonly maxDocuments: number;
  /** The body being filled; the byte engine writes into it directly, then calls {@link commit}. */
  body: ByteBuffer;
  private raws = new ByteBuffer(FIRST_BUFFER_BYTES);
  private entries = new BodyEntries();
  /** Buffers of released bodies, for the next bodies. */
  private readonly spares: Buffer[] = [];

  constructor(
    limits: BulkLimits = {},
    private readonly buffers?: BodyBufferOptions,
  ) {
    this.maxBytes = limits.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
    this.maxDocuments = limits.maxDocuments ?? DEFAULT_MAX_BULK_DOCUMENTS;
    if (!(this.maxBytes > 0) || !(this.maxDocuments > 0))
      throw new RangeError('bulk limits must be positive');
    this.body = this.newBody(FIRST_BUFFER_BYTES);
  }

  /** Documents waiting in the body being filled. */
  get pendingDocuments(): number {
    return this.entries.length;
  }

  /**
   * Adds a document given as text; its raw text is kept in the writer's own bytes.
   *
   * @returns a completed body, the document itself when it is too big for any body, or undefined.
   */
  addDocument(document: BulkDocument): BulkBody | OversizedDocument | undefined {
    const start = this.body.length;
    this.body.append(bulkActionLine(document.index, document.id));
    const sourceStart = this.body.length;
    this.body.append(document.source);
    this.body.append('\n');
    if (this.body.length - start > this.maxBytes) {
      this.body.length = start;
      return this.oversized(document, sourceStart - start + Buffer.byteLength(document.source) + 1);
    }
    const rawStart = this.raws.length;
    this.raws.append(document.raw);
    return this.commit(start, sourceStart, document.recordNumber, this.raws, rawStart, this.raws.length);
  }

  /**
   * Adds a document whose action line and source are text and whose raw record is bytes
   * `[rawStart, rawEnd)` of `raw` (kept by reference, not copied).
   */
  addEntry(
    actionLine: string,
    source: string,
    recordNumber: number,
    raw: Buffer,
    rawStart: number,
    rawEnd: number,
  ): BulkBody | OversizedDocument | undefined {
    const start = this.body.length;
    this.body.append(actionLine);
    const sourceStart = this.body.length;
    this.body.append(source);
    this.body.append('\n');
    return this.commit(start, sourceStart, recordNumber, raw, rawStart, rawEnd);
  }

  /**
   * Takes the entry written at `[start, body.length)` of the body's bytes: an action line ending
   * at `sourceStart`, then the source and a line feed.
   *
   * @returns a completed body, the entry's document when it is too big for any body (the body is
   *   left as it was), or undefined.
   */
  commit(
    start: number,
    sourceStart: number,
    recordNumber: number,
    raw: Buffer | ByteBuffer,
    rawStart: number,
    rawEnd: number,
  ): BulkBody | OversizedDocument | undefined {
    const body = this.body;
    const headroom = body.headroom;
    const bytes = body.length - start;
    if (bytes > this.maxBytes) {
      const entry = body.bytes;
      body.length = start;
      const action = parseActionLine(entry.toString('utf8', start, sourceStart - 1));
      const document: BulkDocument = {
        index: action.create._index,
        id: action.create._id,
        source: entry.toString('utf8', sourceStart, start + bytes - 1),
        recordNumber,
        raw: (raw instanceof ByteBuffer ? raw.bytes : raw).toString('utf8', rawStart, rawEnd),
      };
      return this.oversized(document, bytes);
    }
    let completed: BulkBody | undefined;
    let entryStart = start - headroom;
    if (entryStart + bytes > this.maxBytes || this.entries.length >= this.maxDocuments) {
      // The entry is already encoded after the full body: it moves to the start of the next one.
      const full = body.bytes;
      completed = this.takeBody(start);
      this.body.reserve(bytes);
      full.copy(this.body.bytes, this.body.length, start, start + bytes);
      this.body.length += bytes;
      entryStart = 0;
    }
    const entries = this.entries;
    entries.recordNumbers.push(recordNumber);
    entries.actionStarts.push(entryStart);
    entries.sourceStarts.push(entryStart + sourceStart - start);
    entries.sourceEnds.push(entryStart + bytes - 1);
    entries.rawSources.push(raw);
    entries.rawStarts.push(rawStart);
    entries.rawEnds.push(rawEnd);
    return completed;
  }

  /** The body being filled, if it holds any document; the writer starts a new one. */
  flush(): BulkBody | undefined {
    return this.entries.length === 0 ? undefined : this.takeBody(this.body.length);
  }

  private oversized(document: BulkDocument, bytes: number): OversizedDocument {
    return {
      kind: 'rejected',
      document,
      reason: `document is ${bytes} bytes with its action line, more than a bulk body may hold (${this.maxBytes})`,
    };
  }

  /**
   * The body of the documents so far, whose bytes end at `end`; the writer gets fresh buffers,
   * as large as these grew (a large object grows its buffers once), allocated when first used.
   */
  private takeBody(end: number): BulkBody {
    const bytes = this.body.bytes;
    // Only the body's own bytes are recycled: the raw texts may be referenced by its documents.
    const recycle = () => {
      if (this.spares.length < MAX_SPARE_BUFFERS) this.spares.push(bytes);
    };
    const body = new EncodedBody(bytes.subarray(this.body.headroom, end), this.entries, recycle);
    this.entries = new BodyEntries();
    this.body = this.newBody(bytes.length);
    this.raws = new ByteBuffer(this.raws.bytes.length || FIRST_BUFFER_BYTES);
    return body;
  }

  private newBody(capacity: number): ByteBuffer {
    const buffers = this.buffers;
    const spare = this.spares.pop();
    return buffers === undefined
      ? new ByteBuffer(capacity || FIRST_BUFFER_BYTES, 0, undefined, spare)
      : new ByteBuffer(
          Math.max(capacity, buffers.headroom + FIRST_BUFFER_BYTES),
          buffers.headroom,
          buffers.onAllocate,
          spare,
        );
  }
}

/**
 * Groups documents given as text into bulk bodies. `add` returns the previous body when the new
 * document does not fit in it (the new document starts the next body), or the new document itself
 * when it can never fit; `flush` returns the last body. See {@link BulkBodyWriter}.
 */
export class BulkBatcher {
  private readonly writer: BulkBodyWriter;

  constructor(limits: BulkLimits = {}) {
    this.writer = new BulkBodyWriter(limits);
  }

  /** Documents waiting in the body being filled. */
  get pendingDocuments(): number {
    return this.writer.pendingDocuments;
  }

  /**
   * Adds a document.
   *
   * @returns a completed body, the document itself when it is too big for any body, or undefined.
   */
  add(document: BulkDocument): BulkBody | OversizedDocument | undefined {
    return this.writer.addDocument(document);
  }

  /** The body being filled, if it holds any document; the batcher starts a new one. */
  flush(): BulkBody | undefined {
    return this.writer.flush();
  }
}
