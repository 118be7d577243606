/**
 * The processor's JSON output for a payload the fast reader took ({@link CloudWatchPayloadScan}),
 * written by copying bytes: the same bytes `output-format.ts` writes as text for a parsed
 * payload, without a string per event. (The raw output of such a payload is the kernel's,
 * `kernels.ts`.)
 */
import { quoteJson } from '../core/json';
import { IsoTimeFormatter, MAX_ISO_BYTES } from './iso-time';
import { JSON_LINE, sourceMembers } from './output-format';
import { type CloudWatchPayloadScan, Escapes } from './payload-scan';
import { syslogFieldsAt, syslogFieldsOf } from './syslog-line';

const LINE_FEED = 0x0a;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

/**
 * Writes the JSON output of scanned payloads: per event the line `cloudWatchOutputText` writes,
 * `{"timestamp":…,"id":…,"logGroup":…,"logStream":…,"message":…,…syslog fields}`.
 *
 * The output is written into an arena that starts with a copy of the payload and the constant
 * text, so that every piece of a line is one native `copyWithin` from the same array.
 */
export class JsonPayloadWriter {
  private readonly iso = new IsoTimeFormatter();
  private arena: Buffer = Buffer.alloc(0);

  /** The output of the payload `scan` has read, in a buffer of its own. */
  write(scan: CloudWatchPayloadScan): Buffer {
    const { count, bytes, idStarts, idEnds, messageStarts, messageEnds, messageEscapes, timestamps } = scan;
    const timestampHead = Buffer.from(JSON_LINE.timestamp);
    const idHead = Buffer.from(JSON_LINE.id);
    const sourceHead = Buffer.from(`${sourceMembers(scan.logGroup, scan.logStream)}${JSON_LINE.message}`);
    // The arena: the payload, the constants, then the output.
    const idHeadAt = bytes.length + timestampHead.length;
    const sourceHeadAt = idHeadAt + idHead.length;
    const outputStart = sourceHeadAt + sourceHead.length;
    const fixedBytes = timestampHead.length + MAX_ISO_BYTES + idHead.length + sourceHead.length + 3;
    // Room for the usual line: its tokens, its fixed text and syslog fields of up to 160 bytes.
    this.arena = Buffer.allocUnsafe(outputStart + bytes.length + count * (fixedBytes + 160));
    let arena = this.arena;
    arena.set(bytes, 0);
    arena.set(timestampHead, bytes.length);
    arena.set(idHead, idHeadAt);
    arena.set(sourceHead, sourceHeadAt);
    let at = outputStart;
    for (let index = 0; index < count; index++) {
      const timestamp = timestamps[index] as number;
      const idStart = idStarts[index] as number;
      const idEnd = idEnds[index] as number;
      const messageStart = messageStarts[index] as number;
      const messageEnd = messageEnds[index] as number;
      const messageText =
        messageEscapes[index] === Escapes.OTHER ? quoteJson(scan.messageOf(index)) : undefined;
      const fields =
        syslogFieldsAt(scan.text, messageStart + 1, timestamp) ??
        syslogFieldsOf(scan.messageOf(index), timestamp);
      const lineBytes =
        fixedBytes +
        idEnd -
        idStart +
        (messageText === undefined ? messageEnd - messageStart : 3 * messageText.length) +
        3 * fields.length;
      if (at + lineBytes > arena.length) arena = this.grow(at, at + lineBytes);
      arena.copyWithin(at, bytes.length, idHeadAt);
      at = this.iso.write(timestamp, arena, at + timestampHead.length);
      arena.copyWithin(at, idHeadAt, sourceHeadAt);
      at += idHead.length;
      arena.copyWithin(at, idStart, idEnd);
      at += idEnd - idStart;
      arena.copyWithin(at, sourceHeadAt, outputStart);
      at += sourceHead.length;
      if (messageText === undefined) {
        arena.copyWithin(at, messageStart, messageEnd);
        at += messageEnd - messageStart;
      } else {
        at += arena.write(messageText, at, 'utf8');
      }
      if (fields !== '') {
        arena[at++] = COMMA;
        at += arena.write(fields, at, 'utf8');
      }
      arena[at++] = CLOSE_BRACE;
      arena[at++] = LINE_FEED;
    }
    this.arena = Buffer.alloc(0);
    return arena.subarray(outputStart, at);
  }

  /** Moves the arena's first `used` bytes to one of at least `needed` bytes. */
  private grow(used: number, needed: number): Buffer {
    const old = this.arena;
    this.arena = Buffer.allocUnsafe(Math.max(needed, old.length * 2));
    this.arena.set(old.subarray(0, used), 0);
    return this.arena;
  }
}
