/**
 * The byte engine of delimited layouts: one line's UTF-8 bytes in, its `_source` members out as
 * UTF-8 JSON bytes, with no string created on the way. It follows the same {@link DelimitedLayout}
 * tables as {@link DelimitedRecordWriter} (the string engine), cuts values and reads numbers and
 * times by the same rules (`decimalBytesStart` and `isCanonicalIsoBytes` are the byte-only twins
 * of the string engine's functions), splits the common endpoints and request lines itself and
 * the others with the string engine's functions, and handles only the common case: for anything
 * unusual it answers -1 and the caller parses the line with the string engine, which stays the
 * reference. The two must write the same bytes for every line the byte engine takes;
 * `test/core/delimited-bytes.test.ts` and `test/core/byte-engine-runs.test.ts` hold them to it.
 *
 * What the byte engine refuses (the string engine decides): a control byte in a value, a quote
 * left open, a number that is not a plain decimal, an endpoint that does not split, a time that
 * is not canonical ISO-8601 UTC (`2018-07-02T22:23:00.186641Z`, or zoneless where the layout
 * reads it as UTC), `%` in a URL-encoded value, a custom field, values past the layout's last
 * field, too few values, and a line of another flavour (an NLB line in an ALB object).
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 */

import type { Span } from '../byte-copy';
import * as byteCopy from '../byte-copy';
import { CharCode } from '../char-codes';
import { quoteJson } from '../json';
import * as time from '../time';
import * as delimited from './delimited';
import { type DelimitedField, type DelimitedLayout, MAX_PORT_DIGITS, type TimeParser } from './delimited';

// Functions called for every value as local bindings: where modules are compiled to CommonJS one
// by one (tsx, Jest), every use of an imported name goes through a getter.
const { copyWithinBytes, viewOf, writeWords } = byteCopy;
const { isCanonicalIsoBytes, toIsoUtcAssumingUtc, toIsoUtcFast } = time;
const {
  decimalBytesStart,
  decimalDigitsStart,
  isAbsentAt,
  newEndpointRanges,
  newRequestRanges,
  splitEndpoint,
  splitRequestLine,
} = delimited;

/**
 * Encodes the lines of one format from bytes to `_source` members, or declines a line. Stateless
 * between lines: declining a line changes nothing for the next.
 *
 * The line, the output and the encoder's {@link constants} (member names) live in one array, the
 * caller's arena: every copy is then a `copyWithin` or a word-wide loop, and no view is
 * allocated. On this path per-byte JavaScript costs more than the gunzip that precedes it.
 */
export interface ByteLineEncoder {
  /** The bytes the encoder copies from (member names); the caller keeps them in the arena. */
  readonly constants: Uint8Array;
  /**
   * Writes the members of line `[start, end)` of `arena` from `outPos`, each with a leading
   * comma (`,"type":"h2","elb":"app/…"`), copying names from {@link constants} at `constantsAt`,
   * and finds the line's event time. The output must not overlap the line or the constants.
   *
   * @returns the position after the members, or -1 when the line must take the string path
   *   (what was written after `outPos` is then garbage).
   */
  encode(arena: Uint8Array, constantsAt: number, start: number, end: number, outPos: number): number;
  /** The last encoded line's event time: bytes `[timeStart, timeEnd)` of the arena. */
  readonly timeStart: number;
  readonly timeEnd: number;
  /** The time is zoneless: its ISO-8601 UTC form is its text and a `Z`. */
  readonly timeIsZoneless: boolean;
  /** The most bytes {@link encode} writes for a line of `lineBytes` bytes. */
  maxOutputBytes(lineBytes: number): number;
  /** Every member name {@link encode} may write. */
  readonly memberNames: ReadonlySet<string>;
}

/** How the byte engine writes a field; numbers, so the hot switch compares integers. */
enum Kind {
  String,
  UrlEncoded,
  Number,
  Endpoint,
  Request,
  EventTime,
  Time,
  /** A kind the byte engine leaves to the string engine: the line is declined when it has a value. */
  Declined,
  /** The same, for a value the string engine requires (CloudFront's date and time): always declined. */
  AlwaysDeclined,
}

/** What the time fields accept, by the string engine's parser: the same times, as bytes. */
const TIME_ZONES = new Map<TimeParser, 'utc' | 'utc-or-zoneless'>([
  [toIsoUtcFast, 'utc'],
  [toIsoUtcAssumingUtc, 'utc-or-zoneless'],
]);

interface ByteField {
  readonly kind: Kind;
  /** `,"name":` */
  readonly prefix: Span;
  /** `,"name":"`: the prefix of a value that is not quoted in the line. */
  readonly quotedPrefix: Span;
  /** Endpoints: `,"x_ip":"`, `,"x_port":`; requests: whole, method, target, query, protocol as `,"name":"`. */
  readonly parts: readonly Span[];
  /** Time fields: whether a zoneless time is read as UTC. */
  readonly zonelessIsUtc: boolean;
}

/** `","target":"` and `","protocol":"` of a request field, as words for `writeWords`, and their lengths. */
interface RequestHeads {
  readonly target: Int32Array;
  readonly targetLength: number;
  readonly protocol: Int32Array;
  readonly protocolLength: number;
}

/** Collects the encoder's constant bytes; each text is stored once. */
class ConstantBytes {
  private readonly texts = new Map<string, Span>();
  private length = 0;

  add(text: string): Span {
    let span = this.texts.get(text);
    if (span === undefined) {
      const start = this.length;
      this.length += Buffer.byteLength(text);
      span = { start, end: this.length };
      this.texts.set(text, span);
    }
    return span;
  }

  bytes(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    for (const [text, span] of this.texts) bytes.set(Buffer.from(text), span.start);
    return bytes;
  }
}

const EMPTY: Span = { start: 0, end: 0 };

function timeKind(parse: TimeParser, kind: Kind.EventTime | Kind.Time): Kind {
  return TIME_ZONES.has(parse) ? kind : Kind.Declined;
}

function compileField(field: DelimitedField, constants: ConstantBytes): ByteField {
  // `,"name":"`, whose first bytes are `,"name":`.
  const quotedPrefix = constants.add(`,${quoteJson(field.name)}:"`);
  const base = {
    prefix: { start: quotedPrefix.start, end: quotedPrefix.end - 1 },
    quotedPrefix,
    parts: [] as Span[],
    zonelessIsUtc: false,
  };
  const part = (name: string | undefined, quoted: boolean): Span =>
    name === undefined ? EMPTY : constants.add(`,${quoteJson(name)}:${quoted ? '"' : ''}`);
  switch (field.kind) {
    case 'string':
      return { ...base, kind: Kind.String };
    case 'url-encoded':
      return { ...base, kind: Kind.UrlEncoded };
    case 'number':
      return { ...base, kind: Kind.Number };
    case 'endpoint':
      return {
        ...base,
        kind: Kind.Endpoint,
        parts: [part(`${field.name}_ip`, true), part(`${field.name}_port`, false)],
      };
    case 'request': {
      const { whole, method, target, query, protocol } = field.parts;
      const parts = [whole, method, target, query, protocol].map((name) => part(name, true));
      return { ...base, kind: Kind.Request, parts };
    }
    case 'event-time':
    case 'time':
      return {
        ...base,
        kind: timeKind(field.parse, field.kind === 'event-time' ? Kind.EventTime : Kind.Time),
        zonelessIsUtc: TIME_ZONES.get(field.parse) === 'utc-or-zoneless',
      };
    case 'event-date':
    case 'event-clock':
      return { ...base, kind: Kind.AlwaysDeclined };
    case 'custom':
      return { ...base, kind: Kind.Declined };
  }
}

/**
 * What the byte engine writes before a field's value, which it copies right after: `,"name":"` for
 * the strings and times, `,"name":` for a number, `,"name_ip":"` for an endpoint's host, the
 * method's `,"name":"` for a request line.
 */
function headOf(field: DelimitedField): string {
  switch (field.kind) {
    case 'number':
      return `,${quoteJson(field.name)}:`;
    case 'endpoint':
      return `,${quoteJson(`${field.name}_ip`)}:"`;
    case 'request':
      return `,${quoteJson(field.parts.method)}:"`;
    default:
      return `,${quoteJson(field.name)}:"`;
  }
}

/** The names a field writes its value under, in the string engine too. */
function memberNamesOf(field: DelimitedField): string[] {
  switch (field.kind) {
    case 'endpoint':
      return [`${field.name}_ip`, `${field.name}_port`];
    case 'request':
      return Object.values(field.parts);
    case 'event-time':
    case 'event-date':
    case 'event-clock':
      return [];
    default:
      return [field.name];
  }
}

const { SPACE, QUOTE, BACKSLASH, OPEN_BRACKET, CLOSE_BRACKET, DASH, DOT, COLON, ZERO, NINE } = CharCode;
const FIVE = 0x35;
const SLASH = 0x2f;
const LETTER_H = 0x48;
const LETTER_P = 0x50;
const LETTER_T = 0x54;
const LETTER_Z = 0x5a;
const PERCENT = 0x25;

// Which bytes of a 32-bit word the tokenizer must look at: the tricks of `../byte-scan.ts`, kept
// as masks (the top bit of each such byte). Below the lowest flagged byte no borrow crosses a byte,
// so that one is exact (the ones above it may be false): `firstFlagged` finds it without a loop.

/** The bytes of a word of an unquoted value that are a space, a quote, a backslash or a control byte (or `!`). */
function unquotedSpecials(word: number): number {
  const backslashes = word ^ 0x5c5c5c5c;
  return (((word - 0x23232323) & ~word) | ((backslashes - 0x01010101) & ~backslashes)) & 0x80808080;
}

/** The bytes of a word of a quoted value that are a quote, a backslash or a control byte. */
function quotedSpecials(word: number): number {
  const quotes = word ^ 0x22222222;
  const backslashes = word ^ 0x5c5c5c5c;
  return (
    (((word - 0x20202020) & ~word) |
      ((quotes - 0x01010101) & ~quotes) |
      ((backslashes - 0x01010101) & ~backslashes)) &
    0x80808080
  );
}

/** The position in its word (0 to 3, little-endian) of the lowest byte a non-zero mask flags. */
function firstFlagged(mask: number): number {
  return (31 - Math.clz32(mask & -mask)) >> 3;
}

/**
 * A {@link ByteLineEncoder} for one {@link DelimitedLayout} with space-separated values (the ELB
 * family, S3 server access logs). One encoder serves every line of an object.
 *
 * The loop over a line's values is written out in {@link encode} (cutting and copying a value,
 * an absent value, a string, a number, a time): it runs thirty times a line, and a call per step
 * cost more than the step. Endpoints and request lines are a method each, everything rarer
 * another.
 */
export class DelimitedByteEncoder implements ByteLineEncoder {
  timeStart = 0;
  timeEnd = 0;
  timeIsZoneless = false;
  readonly memberNames: ReadonlySet<string>;
  readonly constants: Uint8Array;

  private readonly fields: readonly ByteField[];
  /** Per field: its kind, and the head of its member (see {@link headOf}) as words to write and its length. */
  private readonly kinds: Uint8Array;
  private readonly headLengths: Int32Array;
  /** The heads' words, one after the other: field `i`'s are `[headStarts[i], headStarts[i + 1])`. */
  private readonly headWords: Int32Array;
  private readonly headStarts: Int32Array;
  /** Per endpoint field: `","name_port":` as words, and its length. */
  private readonly portWords: readonly Int32Array[];
  private readonly portLengths: Int32Array;
  /**
   * Per request field: `","target":"` and `","protocol":"` as words, or none when the field names
   * a part the copy does not write (the whole line, the query).
   */
  private readonly requestParts: readonly (RequestHeads | undefined)[];
  /** Per time field: whether a zoneless time is read as UTC. */
  private readonly zonelessIsUtc: Uint8Array;
  /**
   * Per time field, the first 16 bytes (`YYYY-MM-DDTHH:MM`) of its last valid time as four words:
   * a log's times share their minute for many lines, and the seconds are all that then needs a
   * check. Zero, which no time's bytes are, until a time was valid.
   */
  private readonly lastMinutes: Int32Array;
  private readonly quotes: boolean;
  private readonly brackets: boolean;
  private readonly minimumValues: number;
  /** The longest text the encoder adds around the values of one line. */
  private readonly framingBytes: number;
  private readonly endpoint = newEndpointRanges();
  private readonly request = newRequestRanges();
  // The arena of the line being encoded, a view over it, and where its constants are.
  private arena: Uint8Array = new Uint8Array(0);
  private view = viewOf(this.arena);
  private constantsAt = 0;
  // The value being written, for the methods of the rarer kinds.
  private quoted = false;
  private special = false;
  private valueEnd = 0;

  /**
   * @param accepts whether a line is of the layout's flavour; a line it refuses takes the string
   *   path (the ELB family: a line of another load balancer type gets its own `type` there).
   * @throws Error for a layout the byte engine cannot follow (tab-separated, no event time).
   */
  constructor(
    layout: DelimitedLayout,
    private readonly accepts?: (arena: Uint8Array, start: number, end: number) => boolean,
  ) {
    if (layout.syntax.separator !== 'space')
      throw new Error(`${layout.description}: the byte engine reads space-separated values only`);
    if (!layout.fields.some((field) => field.kind === 'event-time'))
      throw new Error(`${layout.description}: the byte engine needs an event-time field`);
    const constants = new ConstantBytes();
    this.fields = layout.fields.map((field) => compileField(field, constants));
    this.constants = constants.bytes();
    this.kinds = Uint8Array.from(this.fields, (field) => field.kind);
    const heads = layout.fields.map(headOf);
    const headWords = heads.map(byteCopy.wordsOf);
    this.headStarts = new Int32Array(heads.length + 1);
    for (const [index, words] of headWords.entries())
      this.headStarts[index + 1] = (this.headStarts[index] as number) + words.length;
    this.headWords = Int32Array.from(headWords.flatMap((words) => [...words]));
    this.headLengths = Int32Array.from(heads, (head) => Buffer.byteLength(head));
    const ports = layout.fields.map((field) => `",${quoteJson(`${field.name}_port`)}:`);
    this.portWords = ports.map(byteCopy.wordsOf);
    this.portLengths = Int32Array.from(ports, (port) => Buffer.byteLength(port));
    this.requestParts = layout.fields.map((field) => {
      if (field.kind !== 'request' || field.parts.whole !== undefined || field.parts.query !== undefined)
        return undefined;
      const target = `",${quoteJson(field.parts.target)}:"`;
      const protocol = `",${quoteJson(field.parts.protocol)}:"`;
      return {
        target: byteCopy.wordsOf(target),
        targetLength: Buffer.byteLength(target),
        protocol: byteCopy.wordsOf(protocol),
        protocolLength: Buffer.byteLength(protocol),
      };
    });
    this.zonelessIsUtc = Uint8Array.from(this.fields, (field) => (field.zonelessIsUtc ? 1 : 0));
    this.lastMinutes = new Int32Array(4 * this.fields.length);
    this.quotes = layout.syntax.quotes;
    this.brackets = layout.syntax.brackets;
    this.minimumValues = layout.minimumValues;
    this.memberNames = new Set(layout.fields.flatMap(memberNamesOf));
    let framing = 0;
    for (const field of this.fields) {
      framing += field.quotedPrefix.end - field.quotedPrefix.start + 4;
      for (const part of field.parts) framing += part.end - part.start + 4;
    }
    this.framingBytes = framing;
  }

  maxOutputBytes(lineBytes: number): number {
    // A value is written at most twice (a request line's whole and its parts), each byte at most
    // twice (escaped), plus the names and quotes, and a word-wide copy's overrun.
    return 4 * lineBytes + this.framingBytes + 4;
  }

  encode(arena: Uint8Array, constantsAt: number, start: number, end: number, outPos: number): number {
    if (this.accepts !== undefined && !this.accepts(arena, start, end)) return -1;
    if (arena !== this.arena) {
      this.arena = arena;
      this.view = viewOf(arena);
    }
    this.constantsAt = constantsAt;
    const view = this.view;
    const kinds = this.kinds;
    const headWords = this.headWords;
    const headStarts = this.headStarts;
    const headLengths = this.headLengths;
    const fieldCount = kinds.length;
    const quotes = this.quotes;
    let timeSeen = false;
    let position = start;
    let at = outPos;
    let count = 0;
    for (; count < fieldCount; count++) {
      // Cut the next value as the string engine's scanner does: runs of spaces separate values,
      // a quoted value runs to its closing unescaped quote, a bracketed one to its `]`.
      while (position < end && arena[position] === SPACE) position++;
      if (position >= end) break;
      const first = arena[position] as number;
      // `-` and `"-"`, the commonest values of all, are left out before anything is written.
      let dashBytes = 0;
      if (first === DASH) {
        if (position + 1 === end || arena[position + 1] === SPACE) dashBytes = 1;
      } else if (first === QUOTE && quotes && position + 2 < end) {
        if (arena[position + 1] === DASH && arena[position + 2] === QUOTE) dashBytes = 3;
      }
      if (dashBytes !== 0) {
        const kind = kinds[count] as number;
        if (kind === Kind.EventTime || kind === Kind.AlwaysDeclined) return -1;
        position += dashBytes;
        continue;
      }
      // The member's head first (`,"name":"`; an endpoint's is its `_ip` member's), then the value
      // copied right after it while it is cut: for most values the member is then written, but
      // for its closing quote, when the cut ends. The head and the copy are garbage past the
      // output for the values that write something else, or nothing; the next value writes over.
      const headEnd = headStarts[count + 1] as number;
      for (let word = headStarts[count] as number, target = at; word < headEnd; word++, target += 4)
        view.setInt32(target, headWords[word] as number, true);
      const copyAt = at + (headLengths[count] as number);
      let valueStart = position;
      let valueEnd: number;
      let quoted = false;
      let special = false;
      if (first === QUOTE && quotes) {
        let index = position + 1;
        const shift = copyAt - index;
        for (;;) {
          // Four bytes at a time, copied whole, up to the first that is a quote, a backslash or a
          // control byte (bytes copied past the value are garbage).
          let specials = 0;
          while (index + 4 <= end) {
            const word = view.getUint32(index, true);
            view.setUint32(index + shift, word, true);
            specials = quotedSpecials(word);
            if (specials !== 0) break;
            index += 4;
          }
          if (specials !== 0) index += firstFlagged(specials);
          if (index >= end) return -1;
          const byte = arena[index] as number;
          if (byte === QUOTE) break;
          if (byte < SPACE) return -1;
          if (byte === BACKSLASH) {
            // The escaped byte cannot close the value; a control byte is refused all the same. The
            // value is written escaped, not copied.
            special = true;
            index++;
            if (index < end && (arena[index] as number) < SPACE) return -1;
          }
          arena[index + shift] = byte;
          index++;
        }
        quoted = true;
        valueStart = position + 1;
        valueEnd = index;
        position = index + 1;
      } else if (first === OPEN_BRACKET && this.brackets) {
        valueEnd = this.bracketEnd(position + 1, end);
        if (valueEnd < 0) return -1;
        special = this.special;
        valueStart = position + 1;
        position = valueEnd + 1;
        copyWithinBytes(arena, view, valueStart, valueEnd, copyAt);
      } else {
        let index = position;
        const shift = copyAt - index;
        for (;;) {
          // The same, up to a space, a quote, a backslash or a control byte.
          let specials = 0;
          while (index + 4 <= end) {
            const word = view.getUint32(index, true);
            view.setUint32(index + shift, word, true);
            specials = unquotedSpecials(word);
            if (specials !== 0) break;
            index += 4;
          }
          if (specials !== 0) index += firstFlagged(specials);
          if (index >= end) break;
          const byte = arena[index] as number;
          if (byte === SPACE) break;
          if (byte < SPACE) return -1;
          if (byte === QUOTE || byte === BACKSLASH) special = true;
          arena[index + shift] = byte;
          index++;
        }
        valueEnd = index;
        position = index;
      }
      const kind = kinds[count] as number;
      // `-` or nothing: the member is left out; the string engine refuses a line without its time.
      if (valueEnd === valueStart || (valueEnd === valueStart + 1 && arena[valueStart] === DASH)) {
        if (kind === Kind.EventTime || kind === Kind.AlwaysDeclined) return -1;
        continue;
      }
      // Where the value's end was copied to.
      const copyEnd = copyAt + valueEnd - valueStart;
      let written = -1;
      switch (kind) {
        case Kind.String:
          if (!special) {
            arena[copyEnd] = QUOTE;
            written = copyEnd + 1;
          }
          break;
        case Kind.Number: {
          // The head is `,"name":`; a number is its text but for leading zeros.
          const digits = special ? -1 : decimalBytesStart(arena, valueStart, valueEnd);
          if (digits < 0) return -1;
          if (digits === valueStart + (arena[valueStart] === DASH ? 1 : 0)) {
            written = copyEnd;
          } else {
            written = copyAt;
            if (arena[valueStart] === DASH) arena[written++] = DASH;
            written = copyWithinBytes(arena, view, digits, valueEnd, written);
          }
          break;
        }
        case Kind.EventTime:
          // The time is the document's `@timestamp`, not a member.
          if (special || !this.isTime(count, valueStart, valueEnd)) return -1;
          this.timeStart = valueStart;
          this.timeEnd = valueEnd;
          this.timeIsZoneless = arena[valueEnd - 1] !== LETTER_Z;
          timeSeen = true;
          written = at;
          break;
        case Kind.Time:
          if (special || !this.isTime(count, valueStart, valueEnd)) return -1;
          written = copyEnd;
          if (arena[valueEnd - 1] !== LETTER_Z) arena[written++] = LETTER_Z;
          arena[written++] = QUOTE;
          break;
        case Kind.Endpoint:
          if (!special) written = this.writeCopiedEndpoint(count, valueStart, valueEnd, copyAt);
          break;
        case Kind.Request:
          if (!special) written = this.writeCopiedRequest(count, valueStart, valueEnd, copyAt);
          break;
      }
      if (written < 0) {
        // What the copy does not serve: escapes, URL-encoded values, unusual endpoints and requests.
        this.quoted = quoted;
        this.special = special;
        this.valueEnd = valueEnd;
        written = this.writeRarer(this.fields[count] as ByteField, valueStart, at);
        if (written < 0) return -1;
      }
      at = written;
    }
    if (count < this.minimumValues || !timeSeen) return -1;
    // Values past the last field go to `extra_fields` in the string engine.
    if (count === fieldCount) {
      while (position < end && arena[position] === SPACE) position++;
      if (position < end) return -1;
    }
    return at;
  }

  /**
   * Whether `[start, end)` is a time time field `field` takes: canonical ISO-8601 UTC, or zoneless
   * where the field reads it as UTC (see `isCanonicalIsoBytes`).
   */
  private isTime(field: number, start: number, end: number): boolean {
    const arena = this.arena;
    const zoned = arena[end - 1] === LETTER_Z;
    // A zoned time is never a zoneless one: its `Z` is no digit.
    if (!zoned && this.zonelessIsUtc[field] !== 1) return false;
    const length = end - start - (zoned ? 1 : 0);
    if (length < 19 || length === 20 || length > 29) return false;
    const view = this.view;
    const minutes = this.lastMinutes;
    const cached = 4 * field;
    const word0 = view.getInt32(start, true);
    const word1 = view.getInt32(start + 4, true);
    const word2 = view.getInt32(start + 8, true);
    const word3 = view.getInt32(start + 12, true);
    if (
      word0 !== minutes[cached] ||
      word1 !== minutes[cached + 1] ||
      word2 !== minutes[cached + 2] ||
      word3 !== minutes[cached + 3]
    ) {
      if (!isCanonicalIsoBytes(arena, start, end, zoned)) return false;
      minutes[cached] = word0;
      minutes[cached + 1] = word1;
      minutes[cached + 2] = word2;
      minutes[cached + 3] = word3;
      return true;
    }
    // The same minute as a valid time: `:SS`, then `.fraction` up to the zone.
    const tens = arena[start + 17] as number;
    const ones = arena[start + 18] as number;
    if (arena[start + 16] !== COLON || !(tens >= ZERO && tens <= FIVE) || !(ones >= ZERO && ones <= NINE))
      return false;
    if (length === 19) return true;
    if (arena[start + 19] !== DOT) return false;
    const fractionEnd = start + length;
    for (let index = start + 20; index < fractionEnd; index++) {
      const byte = arena[index] as number;
      if (!(byte >= ZERO && byte <= NINE)) return false;
    }
    return true;
  }

  /**
   * An `ip:port` value `[valueStart, valueEnd)` of field `field` whose bytes were copied to
   * `copyAt`, after the `,"name_ip":"` head: the host is then in place, and the port follows its
   * own name. -1 for anything but a host, a colon and a port (`splitEndpoint` decides those).
   */
  private writeCopiedEndpoint(field: number, valueStart: number, valueEnd: number, copyAt: number): number {
    const arena = this.arena;
    if (arena[valueStart] === OPEN_BRACKET) return -1;
    let colon = valueEnd - 1;
    for (; colon > valueStart; colon--) {
      const byte = arena[colon] as number;
      if (!(byte >= ZERO && byte <= NINE)) break;
    }
    const portDigits = valueEnd - colon - 1;
    if (colon <= valueStart || arena[colon] !== COLON || portDigits === 0 || portDigits > MAX_PORT_DIGITS)
      return -1;
    let at = copyAt + colon - valueStart;
    writeWords(this.view, this.portWords[field] as Int32Array, at);
    at += this.portLengths[field] as number;
    // JSON has no leading zeros: `0080` is 80.
    let digits = colon + 1;
    while (digits < valueEnd - 1 && arena[digits] === ZERO) digits++;
    for (; digits < valueEnd; digits++) arena[at++] = arena[digits] as number;
    return at;
  }

  /**
   * A request line `[valueStart, valueEnd)` of field `field` whose bytes were copied to `copyAt`,
   * after the method's `,"name":"` head: the method is then in place, and the target and the
   * protocol follow their names. -1 for anything but a method, a target and an `HTTP/…` protocol
   * (`splitRequestLine` decides those), or a field that names other parts.
   */
  private writeCopiedRequest(field: number, valueStart: number, valueEnd: number, copyAt: number): number {
    const heads = this.requestParts[field];
    const arena = this.arena;
    if (heads === undefined || arena[valueEnd - 1] === SPACE) return -1;
    let firstSpace = valueStart;
    while (firstSpace < valueEnd && arena[firstSpace] !== SPACE) firstSpace++;
    let lastSpace = valueEnd - 1;
    while (lastSpace > firstSpace && arena[lastSpace] !== SPACE) lastSpace--;
    // A method, a target and a protocol, none of them `-` or empty.
    if (
      firstSpace === valueStart ||
      lastSpace <= firstSpace + 1 ||
      (firstSpace === valueStart + 1 && arena[valueStart] === DASH) ||
      (lastSpace === firstSpace + 2 && arena[firstSpace + 1] === DASH) ||
      !isHttpAt(arena, lastSpace + 1, valueEnd)
    )
      return -1;
    const view = this.view;
    let at = copyAt + firstSpace - valueStart;
    writeWords(view, heads.target, at);
    at = copyWithinBytes(arena, view, firstSpace + 1, lastSpace, at + heads.targetLength);
    writeWords(view, heads.protocol, at);
    at = copyWithinBytes(arena, view, lastSpace + 1, valueEnd, at + heads.protocolLength);
    arena[at] = QUOTE;
    return at + 1;
  }

  /**
   * The `]` that closes a bracketed value starting at `from`, or -1 (a control byte, no `]`);
   * {@link special} tells whether the value holds a quote or a backslash.
   */
  private bracketEnd(from: number, end: number): number {
    const arena = this.arena;
    this.special = false;
    for (let index = from; index < end; index++) {
      const byte = arena[index] as number;
      if (byte === CLOSE_BRACKET) return index;
      if (byte < SPACE) return -1;
      if (byte === QUOTE || byte === BACKSLASH) this.special = true;
    }
    return -1;
  }

  /** Writes a value of the rarer kinds, or a string that needs escaping; -1 to decline the line. */
  private writeRarer(field: ByteField, valueStart: number, at: number): number {
    const arena = this.arena;
    const valueEnd = this.valueEnd;
    switch (field.kind) {
      case Kind.String:
        return this.writeString(valueStart, valueEnd, this.constant(field.quotedPrefix, at));
      case Kind.UrlEncoded:
        if (indexOfByte(arena, PERCENT, valueStart, valueEnd) >= 0) return -1;
        return this.writeString(valueStart, valueEnd, this.constant(field.quotedPrefix, at));
      case Kind.Endpoint:
        return this.writeEndpoint(field, valueStart, at);
      case Kind.Request:
        return this.writeRequest(field, valueStart, at);
      default:
        return -1;
    }
  }

  /** Copies `[from, to)` of the arena to `at`; returns the position after the copy. */
  private move(from: number, to: number, at: number): number {
    return copyWithinBytes(this.arena, this.view, from, to, at);
  }

  /** Copies a constant to `at`; returns the position after it. */
  private constant(span: Span, at: number): number {
    const constantsAt = this.constantsAt;
    return this.move(constantsAt + span.start, constantsAt + span.end, at);
  }

  /** Part `[from, to)` of the current value, after its opening quote: its text and the closing quote. */
  private writeString(from: number, to: number, at: number): number {
    let position = this.special
      ? writeEscaped(this.arena, from, to, this.quoted, at)
      : this.move(from, to, at);
    this.arena[position++] = QUOTE;
    return position;
  }

  /** `[from, to)` as a JSON number (see `decimalDigitsStart`) at `at`, or -1 when it is not a plain decimal. */
  private writeNumber(from: number, to: number, at: number): number {
    const arena = this.arena;
    const digits = decimalDigitsStart(arena, from, to);
    if (digits < 0) return -1;
    let position = at;
    if (arena[from] === DASH) arena[position++] = DASH;
    return this.move(digits, to, position);
  }

  private writeEndpoint(field: ByteField, valueStart: number, at: number): number {
    const endpoint = this.endpoint;
    if (this.special || !splitEndpoint(this.arena, valueStart, this.valueEnd, endpoint)) return -1;
    let position = at;
    if (endpoint.hostEnd > endpoint.hostStart) {
      position = this.constant(field.parts[0] as Span, position);
      position = this.move(endpoint.hostStart, endpoint.hostEnd, position);
      this.arena[position++] = QUOTE;
    }
    if (endpoint.portStart >= 0) {
      position = this.constant(field.parts[1] as Span, position);
      position = this.writeNumber(endpoint.portStart, this.valueEnd, position);
    }
    return position;
  }

  private writeRequest(field: ByteField, start: number, at: number): number {
    const parts = field.parts;
    const request = this.request;
    const query = parts[3] as Span;
    splitRequestLine(this.arena, start, this.valueEnd, query.end > query.start, request);
    let position = at;
    const whole = parts[0] as Span;
    if (whole.end > whole.start)
      position = this.writeString(start, this.valueEnd, this.constant(whole, position));
    if (request.methodEnd >= 0) position = this.writePart(parts[1], start, request.methodEnd, position);
    if (request.queryMark < 0) {
      position = this.writePart(parts[2], request.targetStart, request.targetEnd, position);
    } else {
      position = this.writePart(parts[2], request.targetStart, request.queryMark, position);
      position = this.writePart(query, request.queryMark + 1, request.targetEnd, position);
    }
    if (request.protocolStart >= 0)
      position = this.writePart(parts[4], request.protocolStart, request.end, position);
    return position;
  }

  /** A part's name and `[from, to)` as a JSON string, or nothing when the part is unnamed, empty or `-`. */
  private writePart(prefix: Span | undefined, from: number, to: number, at: number): number {
    if (prefix === undefined || prefix.end === prefix.start || isAbsentAt(this.arena, from, to)) return at;
    return this.writeString(from, to, this.constant(prefix, at));
  }
}

/** Whether `[from, to)` is a protocol `HTTP/…`. */
function isHttpAt(bytes: Uint8Array, from: number, to: number): boolean {
  return (
    to - from >= 5 &&
    bytes[from] === LETTER_H &&
    bytes[from + 1] === LETTER_T &&
    bytes[from + 2] === LETTER_T &&
    bytes[from + 3] === LETTER_P &&
    bytes[from + 4] === SLASH
  );
}

function indexOfByte(input: Uint8Array, byte: number, from: number, to: number): number {
  for (let index = from; index < to; index++) if (input[index] === byte) return index;
  return -1;
}

/**
 * `[from, to)` as the inside of a JSON string, as the string engine writes it: inside quotes,
 * `\"` and `\\` stand for `"` and `\` and so are already JSON, and any other backslash is a
 * backslash (written `\\`); outside quotes every `"` and `\` is escaped.
 */
function writeEscaped(arena: Uint8Array, from: number, to: number, quoted: boolean, at: number): number {
  let position = at;
  for (let index = from; index < to; index++) {
    const byte = arena[index] as number;
    if (byte === BACKSLASH) {
      const next = index + 1 < to ? (arena[index + 1] as number) : -1;
      arena[position++] = BACKSLASH;
      if (quoted && (next === QUOTE || next === BACKSLASH)) {
        arena[position++] = next;
        index++;
      } else {
        arena[position++] = BACKSLASH;
      }
    } else if (byte === QUOTE) {
      arena[position++] = BACKSLASH;
      arena[position++] = QUOTE;
    } else {
      arena[position++] = byte;
    }
  }
  return position;
}
