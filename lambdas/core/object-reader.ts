/**
 * Bytes of one log object → records. Streams: memory is bounded by the chunk size and the longest
 * record, whatever the object's size.
 *
 * - Gzip is recognised by its magic bytes, not the key's suffix; concatenated gzip members (as many
 *   AWS writers produce) are all read. Decompression is bounded, so a gzip bomb stops with an error.
 * - Records are cut on bytes (every structural byte is ASCII, and a UTF-8 multi-byte sequence
 *   never contains one), then each record is decoded on its own: that is faster than decoding
 *   whole chunks, bounds records in bytes exactly, and gives every line its byte offset for free.
 *   Invalid UTF-8 becomes U+FFFD rather than an error.
 * - Lines can also be read without decoding ({@link LogObjectReader.readLines}): the same framer
 *   with the same limits hands out byte ranges of the decompressed chunks, for an encoder that
 *   writes bytes straight from bytes.
 * - Problems with one record (too long, a broken JSON structure, a truncated tail) become `error`
 *   items in the stream; only a failure to read the source itself (the network) throws, because
 *   only that is worth retrying.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CharCode } from './char-codes';
import type { Framing } from './types';

/** Bounds that keep one hostile object from exhausting memory or time. */
export interface ReadLimits {
  /** Longest record, in UTF-8 bytes; a longer one is reported as an error and skipped. */
  readonly maxRecordBytes?: number;
  /** Most bytes a gzip object may decompress to; past it, reading stops with an error. */
  readonly maxDecompressedBytes?: number;
  /** Longest raw text kept in an error item about an over-long or unterminated record. */
  readonly maxErrorTextChars?: number;
}

/** The limits applied when a caller gives none. */
export const DEFAULT_READ_LIMITS: Required<ReadLimits> = {
  maxRecordBytes: 1024 * 1024,
  maxDecompressedBytes: 4 * 1024 * 1024 * 1024,
  maxErrorTextChars: 8 * 1024,
};

/** One record of the object, 1-based. */
export interface RawRecord {
  readonly kind: 'record';
  readonly recordNumber: number;
  readonly text: string;
}

/** A record that could not be cut out of the object; `raw` is a bounded prefix of its text. */
export interface RawRecordError {
  readonly kind: 'error';
  readonly recordNumber: number;
  readonly reason: string;
  readonly raw: string;
}

/** What the reader yields per record. */
export type ReadItem = RawRecord | RawRecordError;

/**
 * Where to continue reading an object later. Give `startRecord` alone to re-read the object from
 * its start and skip the records before it; give both to continue with an S3 Range GET
 * (`Range: bytes=<startByte>-`), whose body starts exactly at record `startRecord`.
 */
export interface ReadPosition {
  /** The first record (1-based) not yet delivered. */
  readonly startRecord: number;
  /**
   * The byte offset in the object at which `startRecord` begins. Known only for uncompressed
   * objects framed as lines: a gzip stream cannot be entered in the middle, and a record inside a
   * CloudTrail `Records` array cannot be read without its envelope.
   */
  readonly startByte?: number;
}

/** The records cut from one chunk of the object, and where to continue after them. */
export interface RecordBatch {
  readonly items: readonly ReadItem[];
  /** Resume here to read the records after this batch. */
  readonly next: ReadPosition;
}

/** Where reading starts, and what to do with the records before it. */
export interface ReadStart {
  /** First record to deliver (1-based); earlier records are read and dropped. Default 1. */
  readonly startRecord?: number;
  /**
   * The byte offset at which the body starts, when it is a Range GET from an earlier
   * {@link ReadPosition}; then the body's first record is `startRecord` and nothing is skipped.
   */
  readonly startByte?: number;
  /**
   * Sees the records before `startRecord` until it returns false. A stateful parser learns its
   * field list from leading header lines (CloudFront `#Fields`, a VPC Flow Logs header), which a
   * resumed read would otherwise never show it.
   */
  readonly preamble?: (text: string, recordNumber: number) => boolean;
}

/** The first non-empty line of an object, used to detect its format. */
export interface FirstLine {
  /** The line's text, cut at `maxRecordBytes` when longer (a one-line CloudTrail file). */
  readonly text: string;
  readonly recordNumber: number;
}

/** Why decompression stopped: reported as the object's last error item, never thrown to callers. */
class DecompressionError extends Error {
  override readonly name = 'DecompressionError';
}

const { LF, CR, QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COMMA } = CharCode;
// Gunzip output chunk: larger chunks roughly halve the per-chunk cost of stream plumbing
// (measured: 64 KiB ≈ 210 MB/s, 256 KiB ≈ 300 MB/s for gunzip + line split on one core).
const GUNZIP_CHUNK_BYTES = 256 * 1024;

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The zlib error code (`Z_BUF_ERROR`, `Z_DATA_ERROR`...) of a decompression error, else undefined. */
function zlibErrorCode(error: unknown): string | undefined {
  // Duck-typed: an error from another realm (a test sandbox) is not `instanceof Error`.
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('Z_') ? code : undefined;
}

/** Decodes at most `maxChars` characters' worth of bytes (a bounded prefix for an error item). */
function decodePrefix(parts: readonly Buffer[], maxChars: number): string {
  const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  // A character is at most 4 bytes; decode just enough and cut on characters.
  return bytes.toString('utf8', 0, Math.min(bytes.length, maxChars * 4)).slice(0, maxChars);
}

/**
 * Collects the bytes of one record that spans chunks, up to a bound. Past the bound it keeps only
 * a decoded prefix for the error report, so an endless line costs no memory.
 */
class RecordAccumulator {
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Set once the record is over the bound: the prefix to report. */
  overflowPrefix: string | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly maxErrorChars: number,
  ) {}

  get isEmpty(): boolean {
    return this.bytes === 0 && this.overflowPrefix === undefined;
  }

  append(piece: Buffer): void {
    if (this.overflowPrefix !== undefined || piece.length === 0) return;
    this.parts.push(piece);
    this.bytes += piece.length;
    if (this.bytes > this.maxBytes) {
      this.overflowPrefix = decodePrefix(this.parts, this.maxErrorChars);
      this.parts = [];
      this.bytes = 0;
    }
  }

  /** The bytes collected so far plus `tail`, and resets. */
  take(tail?: Buffer): Buffer {
    if (tail !== undefined) this.parts.push(tail);
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.reset();
    return bytes;
  }

  /** A bounded prefix of what was collected (for an error), and resets. */
  takePrefix(): string {
    const prefix = this.overflowPrefix ?? decodePrefix(this.parts, this.maxErrorChars);
    this.reset();
    return prefix;
  }

  private reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.overflowPrefix = undefined;
  }
}

/**
 * Receives the records a framer cuts, in record order. One framer serves both reading modes: the
 * text mode decodes each record into a {@link ReadItem}, the byte mode keeps each line as a range
 * of the decompressed bytes (see {@link LineBatch}).
 */
interface RecordCollector {
  /** The number of records collected. */
  readonly length: number;
  /** A record that is bytes `[start, end)` of `bytes`. */
  bytes(bytes: Buffer, start: number, end: number, recordNumber: number): void;
  /** A record known only as text (a JSON record, trimmed). */
  text(text: string, recordNumber: number): void;
  error(recordNumber: number, reason: string, raw: string): void;
}

/** Collects decoded records: the text mode. */
class ReadItemList implements RecordCollector {
  readonly items: ReadItem[] = [];

  get length(): number {
    return this.items.length;
  }

  bytes(bytes: Buffer, start: number, end: number, recordNumber: number): void {
    this.items.push({ kind: 'record', recordNumber, text: bytes.toString('utf8', start, end) });
  }

  text(text: string, recordNumber: number): void {
    this.items.push({ kind: 'record', recordNumber, text });
  }

  error(recordNumber: number, reason: string, raw: string): void {
    this.items.push({ kind: 'error', recordNumber, reason, raw });
  }
}

/**
 * The lines cut from one decompressed chunk, as byte ranges of that chunk (nothing decoded), and
 * where to continue after them. Record `i` is bytes `[starts[i], ends[i])` of `sources[i]`, or,
 * when `sources[i]` is not a Buffer, the error that stands for it. A line that began in an earlier
 * chunk has a Buffer of its own; every other line of the batch shares the chunk's Buffer. The
 * bytes are those of the object, not checked as UTF-8 (`buffer.isUtf8` tells).
 */
export interface LineBatch {
  /** The number of records. */
  readonly length: number;
  readonly sources: readonly (Buffer | RawRecordError)[];
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly recordNumbers: readonly number[];
  /** Resume here to read the records after this batch. */
  readonly next: ReadPosition;
}

/** Collects records as byte ranges: the byte mode. Parallel arrays of numbers, no object per line. */
class LineRanges implements RecordCollector, LineBatch {
  readonly sources: (Buffer | RawRecordError)[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly recordNumbers: number[] = [];
  next: ReadPosition = { startRecord: 1 };

  get length(): number {
    return this.sources.length;
  }

  bytes(bytes: Buffer, start: number, end: number, recordNumber: number): void {
    this.sources.push(bytes);
    this.starts.push(start);
    this.ends.push(end);
    this.recordNumbers.push(recordNumber);
  }

  text(text: string, recordNumber: number): void {
    const bytes = Buffer.from(text);
    this.bytes(bytes, 0, bytes.length, recordNumber);
  }

  error(recordNumber: number, reason: string, raw: string): void {
    this.sources.push({ kind: 'error', recordNumber, reason, raw });
    this.starts.push(0);
    this.ends.push(0);
    this.recordNumbers.push(recordNumber);
  }
}

/** Cuts records out of decompressed chunks; one implementation per {@link Framing}. */
interface Framer {
  /** Hands the records completed by `chunk` to `out`. */
  push(chunk: Buffer, out: RecordCollector): void;
  /** Hands the last record (or the error that cut it short) to `out`. */
  end(out: RecordCollector, failure?: DecompressionError): void;
  /** The first record not yet delivered. */
  readonly nextRecord: number;
  /** The byte offset where `nextRecord` starts, when the framing can know it. */
  readonly nextRecordByte: number | undefined;
}

interface FramerSettings {
  readonly limits: Required<ReadLimits>;
  readonly firstRecord: number;
  readonly startRecord: number;
  readonly startByte: number;
  readonly preamble: ((text: string, recordNumber: number) => boolean) | undefined;
}

/** Delivers or drops one record, per the start position and the preamble. */
abstract class RecordSink {
  protected preamble: ((text: string, recordNumber: number) => boolean) | undefined;
  protected readonly startRecord: number;
  protected readonly limits: Required<ReadLimits>;

  constructor(settings: FramerSettings) {
    this.preamble = settings.preamble;
    this.startRecord = settings.startRecord;
    this.limits = settings.limits;
  }

  /** True when the record's text is wanted (delivered or shown to the preamble). */
  protected wants(recordNumber: number): boolean {
    return recordNumber >= this.startRecord || this.preamble !== undefined;
  }

  protected deliver(out: RecordCollector, recordNumber: number, text: string): void {
    if (recordNumber >= this.startRecord) out.text(text, recordNumber);
    else this.showPreamble(text, recordNumber);
  }

  /** Delivers bytes `[start, end)` of `bytes`; only the preamble makes them text. */
  protected deliverBytes(
    out: RecordCollector,
    recordNumber: number,
    bytes: Buffer,
    start: number,
    end: number,
  ): void {
    if (recordNumber >= this.startRecord) out.bytes(bytes, start, end, recordNumber);
    else if (this.preamble !== undefined) this.showPreamble(bytes.toString('utf8', start, end), recordNumber);
  }

  protected reject(out: RecordCollector, recordNumber: number, reason: string, raw: string): void {
    if (recordNumber >= this.startRecord) out.error(recordNumber, reason, raw);
  }

  protected tooLong(bytes?: number): string {
    return `record is longer than ${this.limits.maxRecordBytes} bytes${bytes === undefined ? '' : ` (${bytes})`}; skipped`;
  }

  private showPreamble(text: string, recordNumber: number): void {
    if (this.preamble !== undefined && !this.preamble(text, recordNumber)) this.preamble = undefined;
  }
}

/** Framing `lines`: LF or CRLF, physical line numbers, empty lines counted but not delivered. */
class LineFramer extends RecordSink implements Framer {
  private recordNumber: number;
  private readonly pending: RecordAccumulator;
  private chunkOffset: number;
  private lineStartOffset: number;

  constructor(settings: FramerSettings) {
    super(settings);
    this.recordNumber = settings.firstRecord - 1;
    this.chunkOffset = settings.startByte;
    this.lineStartOffset = settings.startByte;
    this.pending = new RecordAccumulator(settings.limits.maxRecordBytes, settings.limits.maxErrorTextChars);
  }

  get nextRecord(): number {
    return this.recordNumber + 1;
  }

  get nextRecordByte(): number {
    return this.lineStartOffset;
  }

  push(chunk: Buffer, out: RecordCollector): void {
    let start = 0;
    if (!this.pending.isEmpty) {
      const newline = chunk.indexOf(LF);
      if (newline === -1) {
        this.pending.append(chunk);
        this.chunkOffset += chunk.length;
        return;
      }
      this.finishPending(out, chunk.subarray(0, newline));
      start = newline + 1;
    }
    const maxBytes = this.limits.maxRecordBytes;
    for (let newline = chunk.indexOf(LF, start); newline !== -1; newline = chunk.indexOf(LF, start)) {
      const recordNumber = ++this.recordNumber;
      const end = newline > start && chunk[newline - 1] === CR ? newline - 1 : newline;
      if (end > start && this.wants(recordNumber)) {
        if (end - start > maxBytes) {
          this.reject(
            out,
            recordNumber,
            this.tooLong(end - start),
            decodePrefix([chunk.subarray(start, end)], this.limits.maxErrorTextChars),
          );
        } else {
          this.deliverBytes(out, recordNumber, chunk, start, end);
        }
      }
      start = newline + 1;
    }
    this.lineStartOffset = this.chunkOffset + start;
    if (start < chunk.length) this.pending.append(chunk.subarray(start));
    this.chunkOffset += chunk.length;
  }

  end(out: RecordCollector, failure?: DecompressionError): void {
    if (failure !== undefined) {
      this.reject(out, ++this.recordNumber, failure.message, this.pending.takePrefix());
    } else if (!this.pending.isEmpty) {
      this.finishPending(out, undefined);
    }
  }

  private finishPending(out: RecordCollector, tail: Buffer | undefined): void {
    const recordNumber = ++this.recordNumber;
    if (tail !== undefined) this.pending.append(tail);
    if (this.pending.overflowPrefix !== undefined) {
      this.reject(out, recordNumber, this.tooLong(), this.pending.takePrefix());
      return;
    }
    const line = this.pending.take();
    const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    if (end > 0 && this.wants(recordNumber)) this.deliverBytes(out, recordNumber, line, 0, end);
  }
}

const ENVELOPE_PROBE = '"Records":[';

function isJsonWhitespace(byte: number): boolean {
  return byte === CharCode.SPACE || byte === LF || byte === CR || byte === CharCode.TAB;
}

/** Where the JSON scanner is. */
enum Scan {
  /** Between top-level values. */
  Top,
  /** In a top-level object, before its first key shows whether it is a `Records` envelope. */
  Probe,
  /** In a top-level object or array that is one record. */
  Value,
  /** A top-level value that is not an object or array: the rest of the line is the record. */
  Line,
  /** In the `Records` array, between elements. */
  Array,
  /** In an object or array element of `Records`. */
  Element,
  /** In a string, number or literal element of `Records`. */
  Scalar,
  /** After the `Records` array, skipping the envelope's other members. */
  Rest,
}

/**
 * Framing `json-records`: a streaming scanner over top-level JSON values that tracks strings,
 * escapes and depth but parses nothing. A `{"Records":[...]}` envelope yields each element;
 * any other top-level value is one record. The depth is a counter, not recursion, so deep
 * nesting costs nothing here (the parser bounds it when it parses a record).
 */
class JsonRecordFramer extends RecordSink implements Framer {
  private recordNumber: number;
  private readonly record: RecordAccumulator;
  private state = Scan.Top;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private probe = '';
  /** The record being captured is wanted (its bytes are kept). */
  private capturing = false;
  /** Inside a record (its number is `recordNumber + 1`). */
  private inRecord = false;

  constructor(settings: FramerSettings) {
    super(settings);
    this.recordNumber = settings.firstRecord - 1;
    this.record = new RecordAccumulator(settings.limits.maxRecordBytes, settings.limits.maxErrorTextChars);
  }

  get nextRecord(): number {
    return this.recordNumber + 1;
  }

  get nextRecordByte(): undefined {
    return undefined;
  }

  push(chunk: Buffer, out: RecordCollector): void {
    let recordStart = this.inRecord ? 0 : -1;
    const length = chunk.length;
    for (let i = 0; i < length; i++) {
      const byte = chunk[i] as number;
      if (this.inString) {
        if (this.state === Scan.Probe) this.probeByte(byte);
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        else if (this.state !== Scan.Probe) {
          // Most bytes of a CloudTrail record are inside strings: skip them in a tight loop.
          let next = chunk[i + 1];
          while (next !== undefined && next !== QUOTE && next !== BACKSLASH) next = chunk[++i + 1];
        }
        continue;
      }
      switch (this.state) {
        case Scan.Top:
          if (isJsonWhitespace(byte)) break;
          if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
            this.reject(
              out,
              ++this.recordNumber,
              `unexpected '${String.fromCharCode(byte)}' outside any JSON value`,
              '',
            );
            break;
          }
          recordStart = this.beginRecord(i);
          if (byte === OPEN_BRACE) {
            this.depth = 1;
            this.probe = '';
            this.state = Scan.Probe;
          } else if (byte === OPEN_BRACKET) {
            this.depth = 1;
            this.state = Scan.Value;
          } else {
            this.state = Scan.Line;
          }
          break;
        case Scan.Probe:
          if (this.probeByte(byte)) {
            // The envelope itself is not a record: drop what was captured of it.
            this.abandonRecord();
            recordStart = -1;
          }
          if (this.scanStructure(byte) && this.depth === 0)
            recordStart = this.finishRecord(chunk, recordStart, i + 1, out, Scan.Top);
          break;
        case Scan.Value:
        case Scan.Element:
          // A top-level value closes at depth 0, an element of `Records` at depth 2.
          if (this.scanStructure(byte) && this.depth === (this.state === Scan.Value ? 0 : 2))
            recordStart = this.finishRecord(
              chunk,
              recordStart,
              i + 1,
              out,
              this.state === Scan.Value ? Scan.Top : Scan.Array,
            );
          break;
        case Scan.Line:
          if (byte === LF) recordStart = this.finishRecord(chunk, recordStart, i, out, Scan.Top);
          break;
        case Scan.Array:
          if (isJsonWhitespace(byte) || byte === COMMA) break;
          if (byte === CLOSE_BRACKET) {
            this.depth = 1;
            this.state = Scan.Rest;
            break;
          }
          if (byte === CLOSE_BRACE) {
            this.reject(out, ++this.recordNumber, "unexpected '}' in the Records array", '');
            this.depth = 0;
            this.state = Scan.Top;
            break;
          }
          recordStart = this.beginRecord(i);
          if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
            this.depth = 3;
            this.state = Scan.Element;
          } else {
            this.state = Scan.Scalar;
            if (byte === QUOTE) this.inString = true;
          }
          break;
        case Scan.Scalar:
          if (byte === COMMA || byte === CLOSE_BRACKET || byte === CLOSE_BRACE || isJsonWhitespace(byte)) {
            recordStart = this.finishRecord(chunk, recordStart, i, out, Scan.Array);
            i--; // the delimiter belongs to the array: scan it again there
          } else if (byte === QUOTE) {
            this.inString = true;
          }
          break;
        case Scan.Rest:
          if (this.scanStructure(byte) && this.depth === 0) this.state = Scan.Top;
          break;
      }
    }
    if (recordStart !== -1 && this.capturing) this.record.append(chunk.subarray(recordStart));
  }

  end(out: RecordCollector, failure?: DecompressionError): void {
    if (this.inRecord) {
      const recordNumber = ++this.recordNumber;
      this.inRecord = false;
      if (this.state === Scan.Line && failure === undefined) {
        this.deliverCaptured(out, recordNumber, undefined);
        return;
      }
      this.reject(
        out,
        recordNumber,
        failure?.message ?? 'JSON value not terminated at the end of the object',
        this.record.takePrefix(),
      );
      return;
    }
    if (failure !== undefined) this.reject(out, ++this.recordNumber, failure.message, '');
    else if (this.state !== Scan.Top)
      this.reject(out, ++this.recordNumber, 'the Records array is not closed at the end of the object', '');
  }

  /** Tracks strings and depth in a value; true when the byte closed a container. */
  private scanStructure(byte: number): boolean {
    if (byte === QUOTE) this.inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      this.depth--;
      return true;
    }
    return false;
  }

  /**
   * Feeds the envelope probe; switches to `Array` or `Value` as soon as the first key decides.
   * @returns true when this byte showed the object to be a `Records` envelope.
   */
  private probeByte(byte: number): boolean {
    if (!this.inString && isJsonWhitespace(byte)) return false;
    this.probe += String.fromCharCode(byte);
    if (this.probe === ENVELOPE_PROBE) {
      this.depth = 1; // the '[' is counted by the caller's scanStructure
      this.state = Scan.Array;
      return true;
    }
    if (!ENVELOPE_PROBE.startsWith(this.probe)) this.state = Scan.Value;
    return false;
  }

  private beginRecord(start: number): number {
    this.inRecord = true;
    this.capturing = this.wants(this.recordNumber + 1);
    return start;
  }

  private abandonRecord(): void {
    this.inRecord = false;
    this.capturing = false;
    this.record.take();
  }

  private finishRecord(chunk: Buffer, start: number, end: number, out: RecordCollector, next: Scan): number {
    const recordNumber = ++this.recordNumber;
    this.inRecord = false;
    this.state = next;
    if (this.capturing) this.deliverCaptured(out, recordNumber, chunk.subarray(Math.max(start, 0), end));
    this.capturing = false;
    return -1;
  }

  private deliverCaptured(out: RecordCollector, recordNumber: number, tail: Buffer | undefined): void {
    if (tail !== undefined) this.record.append(tail);
    if (this.record.overflowPrefix !== undefined) {
      this.reject(out, recordNumber, this.tooLong(), this.record.takePrefix());
      return;
    }
    const text = this.record.take().toString('utf8').trim();
    if (text !== '') this.deliver(out, recordNumber, text);
  }
}

/**
 * One log object being read. Open it with {@link openLogObject}; optionally peek at its first line
 * to detect the format, then iterate {@link LogObjectReader.readRecords} once.
 */
export class LogObjectReader {
  /** Bytes read from the source (compressed size for gzip). */
  bytesIn = 0;
  /** Bytes after decompression. */
  bytesDecompressed = 0;
  /** Whether the object is gzip; known once reading has started. */
  compressed: boolean | undefined;

  private readonly limits: Required<ReadLimits>;
  private readonly chunks: AsyncGenerator<Buffer>;
  /** Chunks read ahead by {@link firstLine}, replayed by {@link readRecords}. */
  private readonly replay: Buffer[] = [];
  private replayFailure: DecompressionError | undefined;
  private started = false;

  constructor(
    private readonly body: AsyncIterable<Uint8Array>,
    limits: ReadLimits = {},
  ) {
    this.limits = { ...DEFAULT_READ_LIMITS, ...limits };
    this.chunks = this.decompressedChunks();
  }

  /**
   * The object's first non-empty line, without consuming it, or undefined for an empty object.
   * Reads ahead at most about `2 × maxRecordBytes`.
   *
   * @throws the source's own error (network, permissions); decompression problems are kept and
   *   reported by {@link readRecords}.
   */
  async firstLine(): Promise<FirstLine | undefined> {
    if (this.started) throw new Error('firstLine() must be called before readRecords()');
    const maxBytes = this.limits.maxRecordBytes;
    let lineStart = 0;
    let recordNumber = 1;
    for (;;) {
      const text = this.replay.length === 1 ? (this.replay[0] as Buffer) : Buffer.concat(this.replay);
      for (let newline = text.indexOf(LF, lineStart); newline !== -1; newline = text.indexOf(LF, lineStart)) {
        const line = text.toString('utf8', lineStart, Math.min(newline, lineStart + maxBytes));
        if (line.trim() !== '') return { text: line.replace(/\r$/, ''), recordNumber };
        recordNumber++;
        lineStart = newline + 1;
      }
      const partial = (): FirstLine | undefined => {
        const line = text.toString('utf8', lineStart, Math.min(text.length, lineStart + maxBytes)).trim();
        // Only an object with no content at all is empty; a flood of blank lines is not.
        return line === '' && text.length === 0 ? undefined : { text: line, recordNumber };
      };
      if (text.length - lineStart >= maxBytes || text.length > 2 * maxBytes) return partial();
      const next = this.replayFailure === undefined ? await this.nextChunk() : undefined;
      if (next === undefined) return partial();
      this.replay.push(next);
    }
  }

  /**
   * The records, in batches of one decompressed chunk each (a per-record `await` would cost more
   * than the parsing). Iterate once.
   */
  async *readRecords(framing: Framing, start: ReadStart = {}): AsyncGenerator<RecordBatch, void, undefined> {
    for await (const collected of this.collect(framing, start, () => new ReadItemList()))
      yield { items: collected.collector.items, next: collected.next };
  }

  /**
   * The byte mode of {@link readRecords} for `lines` framing: the same records, numbers, limits
   * and positions, each line a byte range of the decompressed chunk instead of a string, for
   * callers that encode bytes to bytes. Iterate once, instead of `readRecords`.
   */
  async *readLines(start: ReadStart = {}): AsyncGenerator<LineBatch, void, undefined> {
    for await (const collected of this.collect('lines', start, () => new LineRanges())) {
      collected.collector.next = collected.next;
      yield collected.collector;
    }
  }

  /** Frames every chunk into a fresh collector; yields the non-empty ones with their position. */
  private async *collect<Collector extends RecordCollector>(
    framing: Framing,
    start: ReadStart,
    newCollector: () => Collector,
  ): AsyncGenerator<{ readonly collector: Collector; readonly next: ReadPosition }> {
    if (this.started) throw new Error('a log object may be read only once');
    this.started = true;
    const startRecord = start.startRecord ?? 1;
    if (!Number.isInteger(startRecord) || startRecord < 1)
      throw new RangeError('startRecord must be an integer ≥ 1');
    const ranged = start.startByte !== undefined;
    const settings: FramerSettings = {
      limits: this.limits,
      firstRecord: ranged ? startRecord : 1,
      startRecord,
      startByte: start.startByte ?? 0,
      preamble: ranged ? undefined : start.preamble,
    };
    const framer: Framer = framing === 'lines' ? new LineFramer(settings) : new JsonRecordFramer(settings);
    const framed = (chunk: Buffer | undefined, failure?: DecompressionError) => {
      const collector = newCollector();
      if (chunk === undefined) framer.end(collector, failure);
      else framer.push(chunk, collector);
      if (collector.length === 0) return undefined;
      const startByte = this.compressed === false ? framer.nextRecordByte : undefined;
      const next: ReadPosition =
        startByte === undefined
          ? { startRecord: framer.nextRecord }
          : { startRecord: framer.nextRecord, startByte };
      return { collector, next };
    };
    let failure: DecompressionError | undefined;
    try {
      for (const chunk of this.replay.splice(0)) {
        const collected = framed(chunk);
        if (collected !== undefined) yield collected;
      }
      failure = this.replayFailure;
      for (
        let chunk = failure === undefined ? await this.nextChunk() : undefined;
        chunk !== undefined;
        chunk = await this.nextChunk()
      ) {
        const collected = framed(chunk);
        if (collected !== undefined) yield collected;
      }
      failure ??= this.replayFailure;
    } finally {
      // Stops the gunzip stream and the source when the consumer leaves early.
      if (failure === undefined) await this.chunks.return(undefined);
    }
    const last = framed(undefined, failure);
    if (last !== undefined) yield last;
  }

  /** The next decompressed chunk; a decompression failure is kept in `replayFailure`. */
  private async nextChunk(): Promise<Buffer | undefined> {
    try {
      const result = await this.chunks.next();
      return result.done ? undefined : result.value;
    } catch (error: unknown) {
      if (!(error instanceof DecompressionError)) throw error;
      this.replayFailure = error;
      return undefined;
    }
  }

  private async *decompressedChunks(): AsyncGenerator<Buffer, void, undefined> {
    const source = this.body[Symbol.asyncIterator]();
    let finished = false;
    try {
      // Peek until two bytes are known: a source may deliver a 1-byte first chunk.
      const head: Buffer[] = [];
      let headBytes = 0;
      while (headBytes < 2) {
        const result = await source.next();
        if (result.done) {
          finished = true;
          break;
        }
        const chunk = toBuffer(result.value);
        head.push(chunk);
        headBytes += chunk.length;
      }
      const first = Buffer.concat(head);
      this.compressed = first[0] === 0x1f && first[1] === 0x8b;
      if (!this.compressed) {
        if (first.length > 0) yield this.countedPlain(first);
        while (!finished) {
          const result = await source.next();
          if (result.done) finished = true;
          else yield this.countedPlain(toBuffer(result.value));
        }
        return;
      }
      finished = true; // from here the pipeline owns the source
      this.bytesIn += first.length;
      yield* this.gunzip(first, source);
    } finally {
      if (!finished) await source.return?.();
    }
  }

  private countedPlain(chunk: Buffer): Buffer {
    this.bytesIn += chunk.length;
    this.bytesDecompressed += chunk.length;
    return chunk;
  }

  private async *gunzip(
    first: Buffer,
    source: AsyncIterator<Uint8Array>,
  ): AsyncGenerator<Buffer, void, undefined> {
    const self = this;
    async function* compressed(): AsyncGenerator<Buffer> {
      try {
        yield first;
        for (let result = await source.next(); !result.done; result = await source.next()) {
          const chunk = toBuffer(result.value);
          self.bytesIn += chunk.length;
          yield chunk;
        }
      } finally {
        await source.return?.();
      }
    }
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    // Errors surface through the iteration below; the callback only keeps them from being unhandled.
    pipeline(Readable.from(compressed(), { objectMode: false }), gunzip, () => {});
    const maxBytes = this.limits.maxDecompressedBytes;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        this.bytesDecompressed += chunk.length;
        if (this.bytesDecompressed > maxBytes) {
          throw new DecompressionError(
            `object decompresses to more than ${maxBytes} bytes (maxDecompressedBytes); the rest is not read`,
          );
        }
        yield chunk;
      }
    } catch (error: unknown) {
      const code = zlibErrorCode(error);
      if (code === undefined) throw error;
      throw new DecompressionError(
        code === 'Z_BUF_ERROR'
          ? 'gzip data ends early (truncated object); the rest of the object is lost'
          : `gzip data is corrupt (${String((error as { message?: unknown }).message)}); the rest of the object is not read`,
      );
    } finally {
      gunzip.destroy();
    }
  }
}

/** Opens a log object's bytes (a Node Readable, the AWS SDK's body stream, any async iterable). */
export function openLogObject(body: AsyncIterable<Uint8Array>, limits?: ReadLimits): LogObjectReader {
  return new LogObjectReader(body, limits);
}

/** Reads the records of an object in one call: {@link openLogObject} then `readRecords`. */
export function readRecords(
  body: AsyncIterable<Uint8Array>,
  framing: Framing,
  options: ReadStart & { readonly limits?: ReadLimits } = {},
): AsyncGenerator<RecordBatch, void, undefined> {
  return openLogObject(body, options.limits).readRecords(framing, options);
}
