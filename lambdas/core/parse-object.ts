/**
 * The one entry point every caller uses (the indexer, the CLI, the benchmark): the bytes of one
 * log object in, batches of search documents and rejected records out, and a summary.
 */
import { DocumentBuilder, indexPrefixProblem } from './documents';
import { detectFormatByContent, detectFormatByKey, formatByName, LOG_FORMATS } from './formats';
import { formatOptionsOf, type LogSource, resolveLogSource } from './log-sources';
import {
  type FirstLine,
  type LogObjectReader,
  openLogObject,
  type RawRecordError,
  type ReadLimits,
  type ReadPosition,
  type ReadStart,
} from './object-reader';
import type {
  FormatName,
  FormatOptions,
  LogFormat,
  ObjectIdentity,
  RecordParser,
  RecordResult,
} from './types';

/** What to parse, and how. */
export interface ParseObjectRequest {
  /** The object's bytes: a Node Readable, the AWS SDK's GetObject body, any async iterable. */
  readonly body: AsyncIterable<Uint8Array>;
  readonly object: ObjectIdentity;
  /**
   * A format (by name, or a {@link LogFormat} of the caller's own), or `auto` (the default): the
   * first matching log source, else the key, else the content.
   */
  readonly format?: FormatName | LogFormat | 'auto';
  /** Configured sources; the first whose prefix/suffix/pattern matches the key gives format and options. */
  readonly logSources?: readonly LogSource[];
  /** Parser options; they override the matching log source's. */
  readonly options?: FormatOptions;
  /** Index name prefix (default `logs`); validated. */
  readonly indexPrefix?: string;
  /** Named groups matched on the key become document fields; overrides the log source's `keyFields`. */
  readonly keyFields?: string | RegExp;
  readonly limits?: ReadLimits;
  /** First record to produce (1-based); earlier records are read and skipped, not parsed. */
  readonly startRecord?: number;
  /**
   * The body is a Range GET starting at this byte, where record `startRecord` begins (a
   * {@link ReadPosition} from an earlier batch). Only for uncompressed objects.
   */
  readonly startByte?: number;
}

/** A record that became a document; it carries its raw text for the quarantine. */
export interface DocumentItem {
  readonly kind: 'document';
  readonly recordNumber: number;
  readonly index: string;
  readonly id: string;
  /** The `_source` as JSON text. */
  readonly source: string;
  /** The record's text. */
  readonly raw: string;
}

/** A record that cannot become a document, and why. Nothing is dropped silently. */
export interface RejectedItem {
  readonly kind: 'rejected';
  /** The record's number; for a problem with the whole object, the record where it showed. */
  readonly recordNumber: number;
  readonly reason: string;
  /** The record's text (a bounded prefix when the record was too long or cut short). */
  readonly raw: string;
}

/** What {@link parseObject} yields per record. */
export type ParseItem = DocumentItem | RejectedItem;

/** The items of one chunk of the object, and where a later invocation would continue. */
export interface ParseBatch {
  readonly items: readonly ParseItem[];
  /**
   * Continue here to parse the records after this batch. `startByte` is offered only when a Range
   * GET is safe: an uncompressed, line-framed object without leading header lines (a parser that
   * learns its fields from a header would not see it in a ranged read).
   */
  readonly next: ReadPosition;
}

/** How the format was chosen. */
export type FormatSource = 'explicit' | 'log-source' | 'key' | 'content';

/** Counts for one object; complete once the iteration has finished. */
export interface ParseSummary {
  format: FormatName | undefined;
  detectedBy: FormatSource | undefined;
  /** Records read (documents + rejected + skipped), not counting those before `startRecord`. */
  records: number;
  documents: number;
  rejected: number;
  /** Header and comment lines, and empty JSON records. */
  skipped: number;
  /** Bytes read from the body (compressed size for gzip). */
  bytesIn: number;
  bytesDecompressed: number;
  /** Total length of the documents' `_source` text, in UTF-16 code units (bytes, for ASCII logs). */
  sourceChars: number;
  /** The key is one the format ignores (a CloudTrail digest): nothing was read. */
  ignored: boolean;
  /** Why the object produced nothing: its format could not be detected. */
  error: string | undefined;
}

interface ResolvedFormat {
  readonly format: LogFormat;
  readonly detectedBy: FormatSource;
  readonly options: FormatOptions;
}

/** An object ready to be read: its format resolved, its parser and document builder made. */
export interface OpenedObject {
  readonly kind: 'ready';
  readonly reader: LogObjectReader;
  readonly format: LogFormat;
  readonly documents: DocumentBuilder;
}

/**
 * What opening an object can end in: ready to read; nothing to read (a key the format ignores,
 * an empty object); or a rejected first line when the format cannot be detected.
 */
export type OpenResult =
  | OpenedObject
  | { readonly kind: 'nothing' }
  | { readonly kind: 'undetectable'; readonly item: RejectedItem; readonly next: ReadPosition };

/**
 * The part of parsing one object that every engine shares, so that {@link parseObject} and the
 * byte engine (`encodeBulk`) cannot drift apart: the request's checks, the format's resolution
 * (explicit, log source, key, content), ignored keys, the reader and its start, the parser and the
 * document builder, header lines (which make a ranged continuation unsafe), the string path of
 * one record, and the summary's counts.
 */
export class ObjectSession {
  /** The counts so far; final after the object has been read. */
  readonly counts: ParseSummary = {
    format: undefined,
    detectedBy: undefined,
    records: 0,
    documents: 0,
    rejected: 0,
    skipped: 0,
    bytesIn: 0,
    bytesDecompressed: 0,
    sourceChars: 0,
    ignored: false,
    error: undefined,
  };
  private readonly keyFields: RegExp | undefined;
  private reader: LogObjectReader | undefined;
  private parser: RecordParser | undefined;
  private documents: DocumentBuilder | undefined;
  // A skip before the first event is a header line: a ranged read would miss it.
  private eventSeen = false;
  private headerSeen = false;

  /** @throws Error for a bad request (an invalid index prefix or key-fields pattern, a bad start). */
  constructor(readonly request: ParseObjectRequest) {
    const prefixProblem =
      request.indexPrefix === undefined ? undefined : indexPrefixProblem(request.indexPrefix);
    if (prefixProblem !== undefined) throw new Error(prefixProblem);
    const startRecord = request.startRecord ?? 1;
    if (!Number.isInteger(startRecord) || startRecord < 1)
      throw new RangeError('startRecord must be an integer ≥ 1');
    if (request.startByte !== undefined && !(Number.isInteger(request.startByte) && request.startByte >= 0)) {
      throw new RangeError('startByte must be an integer ≥ 0');
    }
    const pattern = request.keyFields ?? this.matchingSource()?.keyFields;
    this.keyFields = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  }

  /**
   * Resolves the format (reading the first line when only the content can tell), and makes the
   * parser and the document builder.
   *
   * @throws only for a failure of the body itself, or a parser that cannot be made from its options.
   */
  async open(): Promise<OpenResult> {
    const { request, counts } = this;
    const key = request.object.key;
    let resolved = this.formatBeforeReading();
    const ignores = resolved === undefined ? LOG_FORMATS : [resolved.format];
    if (ignores.some((format) => format.isIgnoredKey?.(key) === true)) {
      counts.ignored = true;
      return { kind: 'nothing' };
    }
    const reader = openLogObject(request.body, request.limits);
    this.reader = reader;
    if (resolved === undefined) {
      const firstLine = await reader.firstLine();
      if (firstLine === undefined) return { kind: 'nothing' };
      const byContent = detectFormatByContent(firstLine.text);
      if (byContent === undefined) return this.undetectable(firstLine);
      resolved = { format: byContent, detectedBy: 'content', options: request.options ?? {} };
    }
    counts.format = resolved.format.name;
    counts.detectedBy = resolved.detectedBy;
    this.parser = resolved.format.createParser({ object: request.object, options: resolved.options });
    const documents = new DocumentBuilder({
      object: request.object,
      type: resolved.format.name,
      ...(request.indexPrefix !== undefined && { indexPrefix: request.indexPrefix }),
      ...(this.keyFields !== undefined && { keyFields: this.keyFields }),
    });
    this.documents = documents;
    return { kind: 'ready', reader, format: resolved.format, documents };
  }

  /** Where the reader starts, and the preamble that shows a stateful parser the header lines it skips. */
  readStart(): ReadStart {
    const { request } = this;
    const parser = this.requireParser();
    return {
      ...(request.startRecord !== undefined && { startRecord: request.startRecord }),
      ...(request.startByte !== undefined && { startByte: request.startByte }),
      preamble: (text: string, recordNumber: number): boolean => {
        const kind = safeParse(parser, text, recordNumber).kind;
        if (kind === 'skip') this.headerSeen = true;
        return kind === 'skip';
      },
    };
  }

  /**
   * One record through the string engine: its document or why there is none, counted; undefined
   * for a header or comment line.
   */
  record(raw: string, recordNumber: number): ParseItem | undefined {
    const { counts } = this;
    const result = safeParse(this.requireParser(), raw, recordNumber);
    if (result.kind === 'event') {
      this.eventSeen = true;
      const document = (this.documents as DocumentBuilder).build(result, recordNumber);
      if ('problem' in document) return this.rejected(recordNumber, document.problem, raw);
      counts.documents++;
      counts.sourceChars += document.source.length;
      return {
        kind: 'document',
        recordNumber,
        index: document.index,
        id: document.id,
        source: document.source,
        raw,
      };
    }
    if (result.kind === 'skip') {
      if (!this.eventSeen) this.headerSeen = true;
      counts.skipped++;
      return undefined;
    }
    return this.rejected(recordNumber, result.reason, raw);
  }

  /** Counts a document that an engine other than the string one wrote, of `sourceBytes` bytes. */
  countDocument(sourceBytes: number): void {
    this.eventSeen = true;
    this.counts.documents++;
    this.counts.sourceChars += sourceBytes;
  }

  /** A record the reader could not cut out (too long, cut short), as a rejected item, counted. */
  readError(error: RawRecordError): RejectedItem {
    return this.rejected(error.recordNumber, error.reason, error.raw);
  }

  /**
   * Where to continue after a batch that ended at `position`: no byte offset once a header line
   * was seen, since a parser that learns its fields from a header would not see it in a ranged read.
   */
  continuation(position: ReadPosition): ReadPosition {
    return this.headerSeen && this.request.startByte === undefined
      ? { startRecord: position.startRecord }
      : position;
  }

  /** Takes the reader's byte counts into the summary; call when reading has stopped. */
  close(): void {
    if (this.reader === undefined) return;
    this.counts.bytesIn = this.reader.bytesIn;
    this.counts.bytesDecompressed = this.reader.bytesDecompressed;
  }

  private rejected(recordNumber: number, reason: string, raw: string): RejectedItem {
    this.counts.rejected++;
    return { kind: 'rejected', recordNumber, reason, raw };
  }

  private requireParser(): RecordParser {
    if (this.parser === undefined) throw new Error('the object is not open');
    return this.parser;
  }

  private matchingSource(): LogSource | undefined {
    const { logSources, object } = this.request;
    return logSources === undefined ? undefined : resolveLogSource(logSources, object.key);
  }

  /** Explicit format, else the first matching log source, else the key; content comes later. */
  private formatBeforeReading(): ResolvedFormat | undefined {
    const { format, object, options } = this.request;
    const source = this.matchingSource();
    const sourceOptions = source === undefined ? {} : formatOptionsOf(source);
    const resolved = (chosen: LogFormat, detectedBy: FormatSource): ResolvedFormat => ({
      format: chosen,
      detectedBy,
      options: { ...(source?.format === chosen.name ? sourceOptions : {}), ...options },
    });
    if (typeof format === 'object') return resolved(format, 'explicit');
    if (format !== undefined && format !== 'auto') return resolved(formatByName(format), 'explicit');
    if (source !== undefined) return resolved(formatByName(source.format), 'log-source');
    const byKey = detectFormatByKey(object.key);
    return byKey === undefined ? undefined : resolved(byKey, 'key');
  }

  private undetectable(firstLine: FirstLine): OpenResult {
    const reason =
      `cannot detect the log format of ${this.request.object.key}: no log source, key pattern or first-line ` +
      'signature matched; give the format explicitly';
    this.counts.error = reason;
    const maxChars = this.request.limits?.maxErrorTextChars ?? 8192;
    return {
      kind: 'undetectable',
      item: this.rejected(firstLine.recordNumber, reason, firstLine.text.slice(0, maxChars)),
      next: { startRecord: firstLine.recordNumber },
    };
  }
}

/** The parse of one object: iterate it once for the batches, then read {@link summary}. */
export class ObjectParse implements AsyncIterable<ParseBatch> {
  private readonly session: ObjectSession;
  private iterated = false;

  /** @throws Error for a bad request (an invalid index prefix or key-fields pattern, a bad start). */
  constructor(request: ParseObjectRequest) {
    this.session = new ObjectSession(request);
  }

  /** The counts so far; final after the iteration has ended. */
  get summary(): Readonly<ParseSummary> {
    return this.session.counts;
  }

  [Symbol.asyncIterator](): AsyncIterator<ParseBatch> {
    if (this.iterated) throw new Error('an ObjectParse can be iterated only once');
    this.iterated = true;
    return this.batches();
  }

  private async *batches(): AsyncGenerator<ParseBatch, void, undefined> {
    const session = this.session;
    try {
      const opened = await session.open();
      if (opened.kind === 'undetectable') yield { items: [opened.item], next: opened.next };
      if (opened.kind !== 'ready') return;
      for await (const batch of opened.reader.readRecords(opened.format.framing, session.readStart())) {
        const items: ParseItem[] = [];
        for (const item of batch.items) {
          const result =
            item.kind === 'error' ? session.readError(item) : session.record(item.text, item.recordNumber);
          if (result !== undefined) items.push(result);
        }
        session.counts.records += batch.items.length;
        if (items.length > 0 || batch.items.length > 0)
          yield { items, next: session.continuation(batch.next) };
      }
    } finally {
      session.close();
    }
  }
}

/** One record through the parser; a parser that throws costs that record, not the object. */
function safeParse(parser: RecordParser, text: string, recordNumber: number): RecordResult {
  try {
    return parser.parse(text, recordNumber);
  } catch (error: unknown) {
    return {
      kind: 'error',
      reason: `the parser failed on this record: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Parses one log object into search documents, streaming: iterate the result for batches of
 * documents and rejected records, then read its `summary`.
 *
 * Format: explicit, else the first matching log source, else the key, else the first non-empty
 * line; an object whose format cannot be detected yields one rejected item and sets
 * `summary.error`. Keys a format ignores (CloudTrail digests) yield nothing. A record without a
 * time of its own is stamped with `object.lastModified`.
 *
 * @throws Error at once for a bad request (an invalid key-fields pattern or start position);
 *   during iteration, only for a failure of the body itself (worth a retry) or a parser that
 *   cannot be created from its options.
 */
export function parseObject(request: ParseObjectRequest): ObjectParse {
  return new ObjectParse(request);
}
