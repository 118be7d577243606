/**
 * The indexer's path from an object's bytes to finished bulk bodies: `encodeBulk` reads the object
 * (gunzip, lines, limits), parses it and writes each document's action line and `_source` straight
 * into the body's bytes, with the rejected records and the continuation positions that
 * `parseObject` gives.
 *
 * For a format with a byte engine (the ELB family, see `formats/byte-encoders.ts`) a line is
 * encoded from its bytes to the body's bytes with no string in between; a line the byte engine
 * declines, and every line of the other formats, goes through the string engine (the format's
 * parser and `DocumentBuilder`) and is appended as text, as `BulkBatcher` does. Both engines write
 * the same bytes for a line (`test/core/bulk-encoder.test.ts` holds them to it): the format,
 * the reader, the header rules and the counts come from one `ObjectSession`, the document framing
 * from `documents.ts`, the action line from `bulk.ts`, and the bodies from one `BulkBodyWriter`.
 */
import { isUtf8 } from 'node:buffer';
import {
  ACTION_LINE,
  type BulkBody,
  BulkBodyWriter,
  type BulkLimits,
  bulkActionLine,
  type OversizedDocument,
} from './bulk';
import type { Span } from './byte-copy';
import * as byteCopy from './byte-copy';
import { CharCode } from './char-codes';
import { type DocumentFraming, SOURCE_CLOSE, SOURCE_HEAD } from './documents';
import { byteEncoderFor } from './formats/byte-encoders';
import type { ByteLineEncoder } from './formats/delimited-bytes';
import { quoteJson } from './json';
import type { LineBatch, ReadPosition } from './object-reader';
import {
  ObjectSession,
  type OpenedObject,
  type ParseItem,
  type ParseObjectRequest,
  type ParseSummary,
  type RejectedItem,
} from './parse-object';

// Called for every copy: a local binding, where modules are compiled to CommonJS one by one (tsx,
// Jest) and every use of an imported name goes through a getter.
const { copyWithinBytes, viewOf, wordsOf, writeWords } = byteCopy;

/** What {@link encodeBulk} yields for each part of the object it reads. */
export interface BulkBatch {
  /** Bodies completed while reading this part (the last, partly filled body comes from `flush`). */
  readonly bodies: readonly BulkBody[];
  /** Records that cannot become documents, and why. */
  readonly rejected: readonly RejectedItem[];
  /** Documents that alone are bigger than a bulk body may be. */
  readonly oversized: readonly OversizedDocument[];
  /** UTF-8 bytes of the records read in this part, for a caller's budget. */
  readonly recordBytes: number;
  /** Continue here to read the records after this part (see `ParseBatch.next`). */
  readonly next: ReadPosition;
}

/**
 * Room for the lines being encoded, before each body's content: a longer line takes the string
 * path. ALB lines are under 1 KB; a URL of several kilobytes still fits many times over.
 */
const WINDOW_BYTES = 64 * 1024;
/** The most bytes a record number takes in decimal. */
const MAX_DIGITS = 16;
const { DASH, DOT, QUOTE, ZERO, NINE } = CharCode;
const LETTER_Z = 0x5a;

/** The constant parts of a byte-path entry around its day, record number, time and members. */
interface EntryTemplates {
  /** `{"create":{"_index":"<prefix>-<type>-` */
  readonly index: Span;
  /** `","_id":"<hash>-` */
  readonly id: Span;
  /** `"}}\n{"@timestamp":"` */
  readonly source: Span;
  /** `<key fields>,"log":{"type":…,"file":…,"line":` */
  readonly tail: Span;
  /** `}}\n` */
  readonly close: Span;
}

/**
 * The byte engine's arena: each body buffer starts with the constants (the encoder's member names
 * and the entry templates) and a window holding the lines being encoded, then the body itself, so
 * every copy is one `copyWithin`. Lines are copied into the window a chunk's span at a time.
 */
class ByteEntries {
  private readonly constants: Uint8Array;
  private readonly templates: EntryTemplates;
  private readonly windowAt: number;
  /** Bytes the constants and the window take before each body. */
  readonly headroom: number;
  /** The most bytes an entry adds to its line's members. */
  private readonly entryOverhead: number;
  // The window: bytes [windowStart, windowEnd) of windowSource are at windowAt.
  private windowSource: Buffer | undefined;
  private windowStart = 0;
  private windowEnd = 0;
  private windowIsUtf8 = false;
  // The body buffer being written and a view over it.
  private arena: Buffer = Buffer.alloc(0);
  private view = viewOf(this.arena);
  /** The head's bytes but for the record number and the time: templates, day, closing quote. */
  private readonly headBytes: number;
  /** The last line's time in bytes, the guess for the next. */
  private lastTimeBytes = 27;
  // The templates as words for `writeWords`, and their lengths: most are shorter than a call to
  // `copyWithin` is worth. `dayHead` is the action line up to the record number for the day whose
  // first ten bytes (`YYYY-MM-DD`) are `day` as two words and a half; a log's lines share few days.
  private readonly sourceWords: Int32Array;
  private readonly tailWords: Int32Array;
  private readonly closeWords: Int32Array;
  private dayHead: Int32Array = new Int32Array(0);
  private dayHeadBytes = 0;
  private dayStart = 0;
  private dayMiddle = 0;
  private dayEnd = -1;
  /**
   * The last record number written, as decimal digits right-aligned in ASCII zeros: the next
   * line's is mostly one more, a carry away, where dividing by ten cost a tenth of the entry.
   */
  private readonly recordDigits = new Uint8Array(MAX_DIGITS).fill(ZERO);
  private recordNumber = 0;
  private recordDigitCount = 1;

  constructor(
    private readonly encoder: ByteLineEncoder,
    framing: DocumentFraming,
  ) {
    const head = encoder.constants.length;
    const texts = [
      `${ACTION_LINE.head}"${framing.indexStem}`,
      `"${ACTION_LINE.id}"${framing.idStem}`,
      `"${ACTION_LINE.tail}${SOURCE_HEAD}`,
      framing.tail,
      `${SOURCE_CLOSE}\n`,
    ].map((text) => Buffer.from(text));
    const spans: Span[] = [];
    let end = head;
    for (const bytes of texts) {
      spans.push({ start: end, end: end + bytes.length });
      end += bytes.length;
    }
    const [index, id, source, tail, close] = spans as [Span, Span, Span, Span, Span];
    this.templates = { index, id, source, tail, close };
    this.constants = Buffer.concat([encoder.constants, ...texts]);
    this.windowAt = this.constants.length;
    this.headroom = this.windowAt + WINDOW_BYTES;
    // The templates, the day, the time (at most 30 bytes and a Z), quotes, two record numbers
    // and the padding of the last word written.
    this.entryOverhead = end - head + 10 + 31 + 2 + 2 * MAX_DIGITS + 4;
    const [, , sourceBytes, tailBytes, closeBytes] = texts as [Buffer, Buffer, Buffer, Buffer, Buffer];
    this.sourceWords = wordsOf(sourceBytes);
    this.tailWords = wordsOf(tailBytes);
    this.closeWords = wordsOf(closeBytes);
    this.headBytes = index.end - index.start + 10 + id.end - id.start + source.end - source.start + 1;
  }

  /**
   * Whether the index names and ids are written as they are in JSON (a validated index prefix and
   * a base64url hash are), so the templates are what `bulkActionLine` would write.
   */
  static fits(framing: DocumentFraming): boolean {
    return (
      quoteJson(framing.indexStem) === `"${framing.indexStem}"` &&
      quoteJson(framing.idStem) === `"${framing.idStem}"`
    );
  }

  /** Fills the headroom of a new body buffer. */
  readonly onAllocate = (bytes: Buffer): void => {
    bytes.set(this.constants, 0);
    this.windowSource = undefined;
  };

  /**
   * Writes the entry of line `index` of `batch` at the end of the writer's body and commits it
   * (what the commit gives goes to `out`).
   *
   * @returns the size of the document's `_source`, or -1 when the line must take the string path
   *   (nothing is committed).
   */
  write(writer: BulkBodyWriter, batch: LineBatch, index: number, out: BatchOutput): number {
    const source = batch.sources[index] as Buffer;
    const start = batch.starts[index] as number;
    const end = batch.ends[index] as number;
    const lineBytes = end - start;
    if (lineBytes > WINDOW_BYTES) return -1;
    const encoder = this.encoder;
    const body = writer.body;
    body.reserve(this.entryOverhead + encoder.maxOutputBytes(lineBytes));
    const arena = body.bytes;
    if (arena !== this.arena) {
      this.arena = arena;
      this.view = viewOf(arena);
    }
    const lineStart = this.windowPosition(arena, batch, index, source, start, end);
    if (lineStart < 0) return -1;
    const recordNumber = batch.recordNumbers[index] as number;
    const templates = this.templates;
    const entryStart = body.length;
    // The members go after the head, whose length depends on the time's: guessed from the last
    // line (ALB's are all alike), moved when the guess was wrong.
    const digits = this.setRecordNumber(recordNumber);
    const headWithoutTime = this.headBytes + digits;
    const membersAt = entryStart + headWithoutTime + this.lastTimeBytes;
    let at = encoder.encode(arena, 0, lineStart, lineStart + lineBytes, membersAt);
    if (at < 0) return -1;
    const time = encoder.timeStart;
    const timeBytes = encoder.timeEnd - time + (encoder.timeIsZoneless ? 1 : 0);
    if (timeBytes !== this.lastTimeBytes) {
      arena.copyWithin(entryStart + headWithoutTime + timeBytes, membersAt, at);
      at += timeBytes - this.lastTimeBytes;
      this.lastTimeBytes = timeBytes;
    }
    const membersEnd = at;
    // Each word write's padding lands where the next write covers it, up to the last, whose
    // padding is past the entry.
    // `{"create":{"_index":"<prefix>-<type>-YYYY.MM.DD","_id":"<hash>-<n>"}}\n`
    const view = this.view;
    if (
      view.getInt32(time, true) !== this.dayStart ||
      view.getInt32(time + 4, true) !== this.dayMiddle ||
      view.getUint16(time + 8, true) !== this.dayEnd
    )
      this.setDay(time);
    writeWords(view, this.dayHead, entryStart);
    let head = this.writeRecordNumber(entryStart + this.dayHeadBytes);
    // `{"@timestamp":"<time>"<members><tail><n>}}\n`
    writeWords(view, this.sourceWords, head);
    head += templates.source.end - templates.source.start;
    const sourceStart = head - SOURCE_HEAD.length;
    head = copyWithinBytes(arena, view, time, encoder.timeEnd, head);
    if (encoder.timeIsZoneless) arena[head++] = LETTER_Z;
    arena[head] = QUOTE;
    writeWords(view, this.tailWords, membersEnd);
    at = this.writeRecordNumber(membersEnd + templates.tail.end - templates.tail.start);
    writeWords(view, this.closeWords, at);
    at += templates.close.end - templates.close.start;
    body.length = at;
    out.add(writer.commit(entryStart, sourceStart, recordNumber, source, start, end));
    // The source line without its line feed.
    return at - 1 - sourceStart;
  }

  /** Makes the day of the time at `time` in the arena the one of {@link dayHead}. */
  private setDay(time: number): void {
    const view = this.view;
    this.dayStart = view.getInt32(time, true);
    this.dayMiddle = view.getInt32(time + 4, true);
    this.dayEnd = view.getUint16(time + 8, true);
    const { index, id } = this.templates;
    const day = this.arena.subarray(time, time + 10).map((byte) => (byte === DASH ? DOT : byte));
    const head = Buffer.concat([
      this.constants.subarray(index.start, index.end),
      day,
      this.constants.subarray(id.start, id.end),
    ]);
    this.dayHead = wordsOf(head);
    this.dayHeadBytes = head.length;
  }

  /** Makes `recordNumber` the one {@link writeRecordNumber} writes; returns its number of digits. */
  private setRecordNumber(recordNumber: number): number {
    const digits = this.recordDigits;
    if (recordNumber === this.recordNumber + 1) {
      let index = MAX_DIGITS - 1;
      while (digits[index] === NINE) digits[index--] = ZERO;
      digits[index] = (digits[index] as number) + 1;
      if (MAX_DIGITS - index > this.recordDigitCount) this.recordDigitCount = MAX_DIGITS - index;
    } else {
      digits.fill(ZERO);
      const count = digitCount(recordNumber);
      writeDigits(digits, recordNumber, count, MAX_DIGITS - count);
      this.recordDigitCount = count;
    }
    this.recordNumber = recordNumber;
    return this.recordDigitCount;
  }

  /** Writes the record number's digits at `at`; returns the position after them. */
  private writeRecordNumber(at: number): number {
    const digits = this.recordDigits;
    const arena = this.arena;
    let position = at;
    for (let index = MAX_DIGITS - this.recordDigitCount; index < MAX_DIGITS; index++)
      arena[position++] = digits[index] as number;
    return position;
  }

  /**
   * Where line `[start, end)` of `source` is in the arena's window, copying the lines of the
   * batch from it on when it is not there yet; -1 when those bytes are not valid UTF-8 (the
   * string engine then decides what each such line becomes).
   */
  private windowPosition(
    arena: Buffer,
    batch: LineBatch,
    index: number,
    source: Buffer,
    start: number,
    end: number,
  ): number {
    if (source !== this.windowSource || start < this.windowStart || end > this.windowEnd) {
      // The following lines of the same source that fit, up to a line's end: a multi-byte
      // character cut at the window's end would look like invalid UTF-8.
      let fillEnd = end;
      for (let next = index + 1; next < batch.length; next++) {
        const nextEnd = batch.ends[next] as number;
        if (batch.sources[next] !== source || nextEnd - start > WINDOW_BYTES) break;
        fillEnd = nextEnd;
      }
      const bytes = source.subarray(start, fillEnd);
      arena.set(bytes, this.windowAt);
      this.windowSource = source;
      this.windowStart = start;
      this.windowEnd = fillEnd;
      this.windowIsUtf8 = isUtf8(bytes);
    }
    return this.windowIsUtf8 ? this.windowAt + start - this.windowStart : -1;
  }
}

/** The number of decimal digits of a non-negative integer. */
function digitCount(value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** Writes a non-negative integer's `digits` decimal digits at `at`; returns the position after them. */
function writeDigits(arena: Uint8Array, value: number, digits: number, at: number): number {
  let rest = value;
  for (let position = at + digits - 1; position >= at; position--) {
    arena[position] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** The output of one batch, collected as the writer commits entries. */
class BatchOutput {
  readonly bodies: BulkBody[] = [];
  readonly rejected: RejectedItem[] = [];
  readonly oversized: OversizedDocument[] = [];
  recordBytes = 0;

  add(result: BulkBody | OversizedDocument | undefined): void {
    if (result === undefined) return;
    if (result.kind === 'body') this.bodies.push(result);
    else this.oversized.push(result);
  }

  batch(next: ReadPosition): BulkBatch {
    const { bodies, rejected, oversized, recordBytes } = this;
    return { bodies, rejected, oversized, recordBytes, next };
  }
}

/**
 * The encoding of one object into bulk bodies: iterate it once for the batches, then take the
 * last body with {@link flush} and read {@link summary}.
 */
export class BulkEncoding implements AsyncIterable<BulkBatch> {
  private readonly session: ObjectSession;
  private writer: BulkBodyWriter | undefined;
  private iterated = false;

  /** @throws Error for a bad request (an invalid index prefix or key-fields pattern, a bad start). */
  constructor(
    request: ParseObjectRequest,
    private readonly limits: BulkLimits = {},
  ) {
    this.session = new ObjectSession(request);
  }

  /** The counts so far; final after the iteration has ended. */
  get summary(): Readonly<ParseSummary> {
    return this.session.counts;
  }

  /** The body being filled, if it holds any document: the last one once the iteration has ended. */
  flush(): BulkBody | undefined {
    return this.writer?.flush();
  }

  [Symbol.asyncIterator](): AsyncIterator<BulkBatch> {
    if (this.iterated) throw new Error('a BulkEncoding can be iterated only once');
    this.iterated = true;
    return this.batches();
  }

  private async *batches(): AsyncGenerator<BulkBatch, void, undefined> {
    const session = this.session;
    try {
      const opened = await session.open();
      if (opened.kind === 'undetectable') {
        const output = new BatchOutput();
        output.rejected.push(opened.item);
        yield output.batch(opened.next);
      }
      if (opened.kind !== 'ready') return;
      yield* opened.format.framing === 'lines' ? this.lines(opened) : this.records(opened);
    } finally {
      session.close();
    }
  }

  /** Line-framed objects: each line through the byte engine when it takes it, else the string engine. */
  private async *lines(opened: OpenedObject): AsyncGenerator<BulkBatch, void, undefined> {
    const session = this.session;
    const bytes = this.byteEntries(opened);
    const writer = new BulkBodyWriter(
      this.limits,
      bytes === undefined ? undefined : { headroom: bytes.headroom, onAllocate: bytes.onAllocate },
    );
    this.writer = writer;
    for await (const batch of opened.reader.readLines(session.readStart())) {
      const output = new BatchOutput();
      for (let index = 0; index < batch.length; index++) {
        const source = batch.sources[index];
        if (!(source instanceof Uint8Array)) {
          if (source !== undefined) output.rejected.push(session.readError(source));
          continue;
        }
        const start = batch.starts[index] as number;
        const end = batch.ends[index] as number;
        output.recordBytes += end - start;
        const sourceBytes = bytes === undefined ? -1 : bytes.write(writer, batch, index, output);
        if (sourceBytes >= 0) {
          session.countDocument(sourceBytes);
          continue;
        }
        const recordNumber = batch.recordNumbers[index] as number;
        const item = session.record(source.toString('utf8', start, end), recordNumber);
        if (item?.kind === 'document') {
          output.add(
            writer.addEntry(
              bulkActionLine(item.index, item.id),
              item.source,
              recordNumber,
              source,
              start,
              end,
            ),
          );
        } else if (item !== undefined) {
          output.rejected.push(item);
        }
      }
      session.counts.records += batch.length;
      yield output.batch(session.continuation(batch.next));
    }
  }

  /** Other framings (CloudTrail's records): the string engine, as `parseObject` and `BulkBatcher` do. */
  private async *records(opened: OpenedObject): AsyncGenerator<BulkBatch, void, undefined> {
    const session = this.session;
    const writer = new BulkBodyWriter(this.limits);
    this.writer = writer;
    for await (const batch of opened.reader.readRecords(opened.format.framing, session.readStart())) {
      const output = new BatchOutput();
      for (const read of batch.items) {
        const item: ParseItem | undefined =
          read.kind === 'error' ? session.readError(read) : session.record(read.text, read.recordNumber);
        output.recordBytes += read.kind === 'error' ? 0 : Buffer.byteLength(read.text);
        if (item?.kind === 'document') output.add(writer.addDocument(item));
        else if (item !== undefined) output.rejected.push(item);
      }
      session.counts.records += batch.items.length;
      yield output.batch(session.continuation(batch.next));
    }
  }

  /** The byte engine for this object, when its format has one and its documents allow it. */
  private byteEntries(opened: OpenedObject): ByteEntries | undefined {
    const encoder = byteEncoderFor(opened.format);
    const framing = opened.documents.framing(opened.format.name);
    if (encoder === undefined || framing === undefined || !ByteEntries.fits(framing)) return undefined;
    // A key field is left out where a record has a member of its name; the byte engine writes
    // key fields on every line, so it steps aside for an object where that could happen.
    if (framing.keyFieldNames.some((name) => encoder.memberNames.has(name))) return undefined;
    return new ByteEntries(encoder, framing);
  }
}

/**
 * Encodes one log object into bulk bodies, streaming: iterate the result for batches (completed
 * bodies, rejected records, where to continue), then take the last body with `flush()` and read
 * `summary`. Everything `parseObject` accepts is accepted here, and the documents are the same.
 *
 * @throws Error at once for a bad request; during iteration, only for a failure of the body itself
 *   (worth a retry) or a parser that cannot be created from its options.
 */
export function encodeBulk(request: ParseObjectRequest, limits?: BulkLimits): BulkEncoding {
  return new BulkEncoding(request, limits);
}
