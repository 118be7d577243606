/**
 * A fast reader for the CloudWatch Logs payloads the processor sees all day: the compact JSON
 * CloudWatch Logs writes (`{"messageType":"DATA_MESSAGE","owner":…,"logEvents":[{"id":…,
 * "timestamp":…,"message":…},…]}`). It finds where each event's id and message are in the
 * decompressed bytes, instead of building a JavaScript object per event, so the output can be
 * written by copying bytes.
 *
 * The scanning is done by sticky regular expressions over the payload read as Latin-1 (one
 * character per byte, so a match's positions are the bytes' positions). V8 compiles them to
 * machine code at once, where a loop over the bytes in JavaScript runs in the interpreter until
 * the optimising compiler has caught up: most Lambda invocations of the processor are the first
 * of their process, or close to it, and a byte loop then cost three times the whole parse.
 *
 * It is a strict subset of JSON: it takes a payload only when it can say exactly what
 * `JSON.parse` would make of it, and declines everything else (whitespace between tokens, other
 * members, events with `extractedFields`, fractional timestamps, invalid UTF-8...), which the
 * general path then parses. Declining is never an error, only slower.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
import { isUtf8 } from 'node:buffer';
import { isJsonObject } from '../core/json';

/**
 * How a JSON string's escapes compare with what `JSON.stringify` writes for its value: a string
 * with none or only canonical ones can be copied as it is into JSON output.
 */
export const Escapes = {
  /** No backslash: the bytes between the quotes are the value's UTF-8. */
  NONE: 0,
  /** Only escapes `JSON.stringify` writes itself (`\"`, `\\`, `\n`, `\u001b`...). */
  CANONICAL: 1,
  /** Other escapes (`\/`, `\u00e9`, surrogates): the value must be decoded and quoted again. */
  OTHER: 2,
} as const;

// A JSON string token: characters other than `"`, `\` and controls, and valid escapes (unrolled,
// which irregexp runs as tight loops).
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
/** Everything before the first event, in the order CloudWatch Logs writes the members. */
const HEADER = new RegExp(
  String.raw`\{"messageType":"DATA_MESSAGE","owner":${STRING},"logGroup":${STRING},"logStream":${STRING},"subscriptionFilters":\[(?:${STRING}(?:,${STRING})*)?\],"logEvents":\[`,
  'y',
);
/**
 * One event and the `,` or `]` after it: an id without escapes, an integer timestamp of at most
 * 15 digits (exact as a double, inside `Date`'s range), a message.
 */
const EVENT = new RegExp(
  String.raw`\{"id":"[^"\\\x00-\x1f]*","timestamp":-?(?:0|[1-9][0-9]{0,14}),"message":${STRING}\}[,\]]`,
  'y',
);
/** A string token whose escapes are all ones `JSON.stringify` writes (but for `\u00XX`, counted as other). */
const CANONICAL_STRING = /"[^"\\]*(?:\\["\\bfnrt][^"\\]*)*"/y;

/** The member that ends the header; its first occurrence is the header's end, if the header is valid. */
const EVENTS_MEMBER = '"logEvents":[';
const TIMESTAMP_PREFIX = ',"timestamp":'.length;
const MESSAGE_PREFIX = ',"message":'.length;
const ID_PREFIX = '{"id":'.length;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const INITIAL_EVENTS = 1024;

/**
 * The events of the last payload read, as positions in its bytes. One instance serves a whole
 * batch: its arrays grow to the largest payload and are reused.
 */
export class CloudWatchPayloadScan {
  /** The payload read last. */
  bytes: Buffer = Buffer.alloc(0);
  /** The same payload as Latin-1 text: one character per byte, at the byte's position. */
  text = '';
  owner = '';
  logGroup = '';
  logStream = '';
  subscriptionFilters: string[] = [];
  /** Events read. */
  count = 0;
  /** Each event's id as a JSON string token without escapes: `[idStarts[i], idEnds[i])`, quotes included. */
  idStarts = new Int32Array(INITIAL_EVENTS);
  idEnds = new Int32Array(INITIAL_EVENTS);
  /** Each event's message as a JSON string token, quotes included. */
  messageStarts = new Int32Array(INITIAL_EVENTS);
  messageEnds = new Int32Array(INITIAL_EVENTS);
  /** {@link Escapes} of each message. */
  messageEscapes = new Uint8Array(INITIAL_EVENTS);
  /** Each event's epoch-millisecond timestamp. */
  timestamps = new Float64Array(INITIAL_EVENTS);
  /** The earliest and latest event times. */
  earliest = Number.POSITIVE_INFINITY;
  latest = Number.NEGATIVE_INFINITY;

  /**
   * Reads a decompressed payload.
   *
   * @returns true when `bytes` is a `DATA_MESSAGE` this reader takes whole; false when the
   *   general path must parse it (which then also says what is wrong with it, if anything).
   */
  read(bytes: Buffer): boolean {
    const text = bytes.toString('latin1');
    let position = this.readHeaderOf(bytes, text);
    if (position === undefined) return false;
    this.bytes = bytes;
    this.text = text;
    this.count = 0;
    this.earliest = Number.POSITIVE_INFINITY;
    this.latest = Number.NEGATIVE_INFINITY;
    let nextBackslash = -1;
    if (text.charCodeAt(position) === CLOSE_BRACKET) return this.endsAt(text, position + 1);
    for (;;) {
      EVENT.lastIndex = position;
      if (!EVENT.test(text)) return false;
      const end = EVENT.lastIndex;
      const idStart = position + ID_PREFIX;
      const idEnd = text.indexOf('"', idStart + 1) + 1;
      const timeStart = idEnd + TIMESTAMP_PREFIX;
      const timeEnd = text.indexOf(',', timeStart);
      const timestamp = Number(text.slice(timeStart, timeEnd));
      const messageStart = timeEnd + MESSAGE_PREFIX;
      const messageEnd = end - 2;
      if (nextBackslash < messageStart) nextBackslash = indexOrInfinity(text.indexOf('\\', messageStart));
      let escapes: number = Escapes.NONE;
      if (nextBackslash < messageEnd) {
        CANONICAL_STRING.lastIndex = messageStart;
        escapes =
          CANONICAL_STRING.test(text) && CANONICAL_STRING.lastIndex === messageEnd
            ? Escapes.CANONICAL
            : Escapes.OTHER;
      }
      const index = this.count;
      if (index === this.timestamps.length) this.grow();
      this.idStarts[index] = idStart;
      this.idEnds[index] = idEnd;
      this.messageStarts[index] = messageStart;
      this.messageEnds[index] = messageEnd;
      this.messageEscapes[index] = escapes;
      this.timestamps[index] = timestamp;
      if (timestamp < this.earliest) this.earliest = timestamp;
      if (timestamp > this.latest) this.latest = timestamp;
      this.count = index + 1;
      if (text.charCodeAt(end - 1) === CLOSE_BRACKET) return this.endsAt(text, end);
      position = end;
    }
  }

  /**
   * Reads the members before the events only (`owner`, `logGroup`, `logStream`,
   * `subscriptionFilters`), for a caller that reads the events itself.
   *
   * @param text the payload as Latin-1 text, when the caller has it; otherwise only the header's
   *   bytes are decoded.
   * @returns where the events begin (right after `"logEvents":[`), or undefined when the payload
   *   is not valid UTF-8 or its header is not the one CloudWatch Logs writes.
   */
  readHeaderOf(bytes: Buffer, text?: string): number | undefined {
    if (!isUtf8(bytes)) return undefined;
    const head = text ?? bytes.toString('latin1', 0, bytes.indexOf(EVENTS_MEMBER) + EVENTS_MEMBER.length);
    HEADER.lastIndex = 0;
    if (!HEADER.test(head)) return undefined;
    const position = HEADER.lastIndex;
    return this.readHeader(bytes, position) ? position : undefined;
  }

  /** The text of a JSON string token `[start, end)` of the payload. */
  stringAt(start: number, end: number, escapes: number): string {
    return escapes === Escapes.NONE
      ? this.bytes.toString('utf8', start + 1, end - 1)
      : (JSON.parse(this.bytes.toString('utf8', start, end)) as string);
  }

  /** The message of event `index` as text. */
  messageOf(index: number): string {
    return this.stringAt(
      this.messageStarts[index] as number,
      this.messageEnds[index] as number,
      this.messageEscapes[index] as number,
    );
  }

  /** The id of event `index` as text. */
  idOf(index: number): string {
    return this.stringAt(this.idStarts[index] as number, this.idEnds[index] as number, Escapes.NONE);
  }

  /** Decodes the members before the events (the header matched, so this is valid JSON). */
  private readHeader(bytes: Buffer, eventsStart: number): boolean {
    const header: unknown = JSON.parse(`${bytes.toString('utf8', 0, eventsStart)}]}`);
    if (!isJsonObject(header)) return false;
    const { owner, logGroup, logStream, subscriptionFilters } = header;
    if (typeof owner !== 'string' || typeof logGroup !== 'string' || typeof logStream !== 'string')
      return false;
    if (!Array.isArray(subscriptionFilters)) return false;
    this.owner = owner;
    this.logGroup = logGroup;
    this.logStream = logStream;
    this.subscriptionFilters = subscriptionFilters.filter((name): name is string => typeof name === 'string');
    return true;
  }

  /** Whether the payload ends right after the events array closed before `at`. */
  private endsAt(text: string, at: number): boolean {
    return text.length === at + 1 && text.charCodeAt(at) === CLOSE_BRACE;
  }

  private grow(): void {
    const size = this.timestamps.length * 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(
      array: T,
      make: (size: number) => T,
    ): T => {
      const bigger = make(size);
      bigger.set(array);
      return bigger;
    };
    this.idStarts = grown(this.idStarts, (n) => new Int32Array(n));
    this.idEnds = grown(this.idEnds, (n) => new Int32Array(n));
    this.messageStarts = grown(this.messageStarts, (n) => new Int32Array(n));
    this.messageEnds = grown(this.messageEnds, (n) => new Int32Array(n));
    this.messageEscapes = grown(this.messageEscapes, (n) => new Uint8Array(n));
    this.timestamps = grown(this.timestamps, (n) => new Float64Array(n));
  }
}

function indexOrInfinity(index: number): number {
  return index < 0 ? Number.POSITIVE_INFINITY : index;
}
