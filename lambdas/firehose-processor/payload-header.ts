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
import { isJsonObject } from '../core/json';

// A JSON string token: characters other than `"`, `\` and controls, and valid escapes (unrolled,
// which irregexp runs as tight loops).
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
/** Everything before the first event, in the order CloudWatch Logs writes the members. */
const HEADER = new RegExp(
  String.raw`\{"messageType":"DATA_MESSAGE","owner":${STRING},"logGroup":${STRING},"logStream":${STRING},"subscriptionFilters":\[(?:${STRING}(?:,${STRING})*)?\],"logEvents":\[`,
  'y',
);
/** The member that ends the header: its first occurrence is the header's end, if the header is valid. */
const EVENTS_MEMBER = '"logEvents":[';

/** The header of the payload read last. One instance serves a whole batch. */
export class PayloadHeaderReader {
  owner = '';
  logGroup = '';
  logStream = '';
  subscriptionFilters: string[] = [];

  /**
   * Reads the members before the events.
   *
   * @returns where the events begin (right after `"logEvents":[`), or undefined when the payload
   *   is not valid UTF-8 or its header is not the one CloudWatch Logs writes.
   */
  read(bytes: Buffer): number | undefined {
    if (!isUtf8(bytes)) return undefined;
    const head = bytes.toString('latin1', 0, bytes.indexOf(EVENTS_MEMBER) + EVENTS_MEMBER.length);
    HEADER.lastIndex = 0;
    if (!HEADER.test(head)) return undefined;
    const eventsStart = HEADER.lastIndex;
    // The header matched, so this is valid JSON.
    const header: unknown = JSON.parse(`${bytes.toString('utf8', 0, eventsStart)}]}`);
    if (!isJsonObject(header)) return undefined;
    const { owner, logGroup, logStream, subscriptionFilters } = header;
    if (typeof owner !== 'string' || typeof logGroup !== 'string' || typeof logStream !== 'string')
      return undefined;
    if (!Array.isArray(subscriptionFilters)) return undefined;
    this.owner = owner;
    this.logGroup = logGroup;
    this.logStream = logStream;
    this.subscriptionFilters = subscriptionFilters.filter((name): name is string => typeof name === 'string');
    return eventsStart;
  }
}
