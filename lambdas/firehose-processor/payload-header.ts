/**
 * The members before the events of a CloudWatch Logs payload, as CloudWatch Logs writes them
 * (`{"messageType":"DATA_MESSAGE","owner":…,"logGroup":…,"logStream":…,"subscriptionFilters":[…],
 * "logEvents":[`), read by one sticky regular expression over the header's bytes: the kernels
 * (`kernels.ts`) then read the events from where the header ends.
 *
 * It is a strict subset of JSON: it takes a header only when it can say exactly what
 * `JSON.parse` would make of it, and declines everything else (whitespace between tokens, other
 * members or orders, invalid UTF-8...), which the general path then parses. Declining is never an
 * error, only slower.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
import { isUtf8 } from 'node:buffer';

// A JSON string token: characters other than `"`, `\` and controls, and valid escapes (unrolled,
// which irregexp runs as tight loops).
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
/**
 * Everything before the first event, in the order CloudWatch Logs writes the members; the log
 * group's and stream's tokens are captured, with their offsets (`d`).
 */
const HEADER = new RegExp(
  String.raw`\{"messageType":"DATA_MESSAGE","owner":${STRING},"logGroup":(${STRING}),"logStream":(${STRING}),"subscriptionFilters":\[(?:${STRING}(?:,${STRING})*)?\],"logEvents":\[`,
  'yd',
);
/** The member that ends the header: its first occurrence is the header's end, if the header is valid. */
const EVENTS_MEMBER = '"logEvents":[';
const BACKSLASH = 0x5c;

/**
 * The header of the payload read last: its log group and stream, what the fast path needs (the
 * other members are checked to be what CloudWatch Logs writes, and not kept). One instance serves
 * a whole batch.
 */
export class PayloadHeaderReader {
  logGroup = '';
  logStream = '';

  /**
   * Reads the members before the events.
   *
   * @returns where the events begin (right after `"logEvents":[`), or undefined when the payload
   *   is not valid UTF-8 or its header is not the one CloudWatch Logs writes.
   */
  read(bytes: Buffer): number | undefined {
    if (!isUtf8(bytes)) return undefined;
    const end = bytes.indexOf(EVENTS_MEMBER);
    if (end < 0) return undefined;
    // Latin-1, one character per byte: the match's offsets are the bytes' offsets.
    const head = bytes.toString('latin1', 0, end + EVENTS_MEMBER.length);
    HEADER.lastIndex = 0;
    const [, logGroup, logStream] = HEADER.exec(head)?.indices ?? [];
    if (logGroup === undefined || logStream === undefined) return undefined;
    this.logGroup = stringAt(bytes, logGroup);
    this.logStream = stringAt(bytes, logStream);
    return HEADER.lastIndex;
  }
}

/** The value of the JSON string token at `[start, end)` of valid UTF-8 bytes, quotes included. */
function stringAt(bytes: Buffer, [start, end]: [number, number]): string {
  const escaped = bytes.subarray(start, end).includes(BACKSLASH);
  return escaped
    ? (JSON.parse(bytes.toString('utf8', start, end)) as string)
    : bytes.toString('utf8', start + 1, end - 1);
}
