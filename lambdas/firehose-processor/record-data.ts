/**
 * Decoding one Firehose record's `data`: base64, then either a gzip'd CloudWatch Logs
 * subscription payload or (Direct PUT) plain UTF-8 text. Every way the data can be wrong becomes
 * a reason, never an exception, so one bad record cannot fail its batch.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample
 */
import { gunzipSync } from 'node:zlib';
import { isJsonObject } from '../core/json';
import { gunzipBase64Payload, strictBase64Length } from './kernels';
import { isPartitionableTime, MAX_EVENT_TIME, MIN_EVENT_TIME } from './partition-keys';

/** One log event of a CloudWatch Logs subscription payload, as CloudWatch Logs sends it. */
export interface CloudWatchLogEvent {
  readonly id: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly message: string;
}

/** A `DATA_MESSAGE`: the events of one log stream. */
export interface CloudWatchLogsData {
  readonly messageType: 'DATA_MESSAGE';
  readonly owner: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly subscriptionFilters: readonly string[];
  /**
   * The events as parsed. Members other than `id`, `timestamp` and `message` (such as the
   * `extractedFields` of a filter pattern) are kept, so a re-ingested payload loses nothing.
   */
  readonly logEvents: readonly CloudWatchLogEvent[];
}

/** What one record's data turned out to be. */
export type DecodedRecordData =
  /**
   * Gzip'd data, decompressed: a CloudWatch Logs payload if anything (see
   * {@link parseCloudWatchPayload}). The bytes may be a view of the kernels' memory
   * ({@link gunzipBase64Payload}), valid until the next record is decoded: read them before that.
   */
  | { readonly kind: 'gzip'; readonly bytes: Buffer }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** What a decompressed CloudWatch Logs payload turned out to be. */
export type ParsedCloudWatchPayload =
  | { readonly kind: 'cloudwatch-control' }
  | {
      readonly kind: 'cloudwatch-data';
      readonly payload: CloudWatchLogsData;
      /** The earliest and latest event times, found while the events were checked. */
      readonly earliest: number;
      readonly latest: number;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Largest decompressed payload accepted. A CloudWatch Logs batch holds at most 1 MiB of messages
 * (10,000 events); ids, timestamps and JSON escaping can at worst multiply that a few times, so
 * 16 MiB leaves room for every real payload while stopping a gzip bomb long before Lambda's
 * memory runs out.
 */
export const MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** Every gzip'd data starts so in base64: 0x1f 0x8b and the deflate method 8. */
const GZIP_MAGIC_BASE64 = 'H4sI';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a record's base64 `data`: gzip'd data is decompressed (it must then be a CloudWatch Logs
 * payload); other data must be UTF-8 text, which the caller may accept as newline-delimited syslog.
 */
export function decodeRecordData(base64: string): DecodedRecordData {
  if (base64.startsWith(GZIP_MAGIC_BASE64)) {
    // The common case, without a buffer of its own: decoded and decompressed in the kernels' memory.
    const decompressed = gunzipBase64Payload(base64, MAX_DECOMPRESSED_BYTES);
    if (decompressed !== undefined) return { kind: 'gzip', bytes: decompressed };
  }
  const bytes = decodeBase64(base64);
  if (bytes === undefined) return { kind: 'invalid', reason: 'data is not base64' };
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1) return gunzip(bytes);
  try {
    return { kind: 'text', text: utf8.decode(bytes) };
  } catch {
    return { kind: 'invalid', reason: 'data is neither gzip nor UTF-8 text' };
  }
}

/**
 * Strict base64: `Buffer.from` silently skips characters outside the alphabet, so the decoded
 * length tells whether anything was skipped.
 */
export function decodeBase64(base64: string): Buffer | undefined {
  const length = strictBase64Length(base64);
  if (length === undefined) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === length ? bytes : undefined;
}

/** Decompresses what the kernel left to zlib: zlib names what is wrong, or takes several members. */
function gunzip(gzipped: Buffer): DecodedRecordData {
  try {
    const options = { maxOutputLength: MAX_DECOMPRESSED_BYTES, chunkSize: inflateChunkSize(gzipped) };
    return { kind: 'gzip', bytes: gunzipSync(gzipped, options) };
  } catch (error: unknown) {
    if (error instanceof RangeError)
      return { kind: 'invalid', reason: `decompressed data exceeds ${MAX_DECOMPRESSED_BYTES} bytes` };
    return { kind: 'invalid', reason: `data is not valid gzip: ${messageOf(error)}` };
  }
}

/**
 * Parses a decompressed CloudWatch Logs payload: a `CONTROL_MESSAGE`, or a `DATA_MESSAGE` whose
 * events all have a string `id` and `message` and an epoch-millisecond `timestamp`.
 */
export function parseCloudWatchPayload(bytes: Buffer): ParsedCloudWatchPayload {
  let payload: unknown;
  try {
    // V8 parses JSON without recursion, and only the known members below are read (never walked),
    // so deep nesting in a hostile payload costs nothing; a depth check would cost a full walk.
    payload = JSON.parse(bytes.toString('utf8'));
  } catch (error: unknown) {
    return { kind: 'invalid', reason: `gzip'd data is not JSON: ${messageOf(error)}` };
  }
  return classifyPayload(payload);
}

/**
 * Output chunk for inflating `gzipped`. zlib's default of 16 KiB makes a typical payload (logs
 * compress 5-10 times) take many chunks and a final concatenation; a chunk sized for the usual
 * ratio inflates most payloads in one piece, which measured 40% faster.
 */
function inflateChunkSize(gzipped: Buffer): number {
  return Math.min(MAX_DECOMPRESSED_BYTES, Math.max(64 * 1024, gzipped.length * 8));
}

function classifyPayload(payload: unknown): ParsedCloudWatchPayload {
  if (!isJsonObject(payload)) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  const type = payload.messageType;
  if (type === 'CONTROL_MESSAGE') return { kind: 'cloudwatch-control' };
  if (type !== 'DATA_MESSAGE')
    return { kind: 'invalid', reason: `unknown messageType ${JSON.stringify(type)?.slice(0, 100)}` };
  const { owner, logGroup, logStream, subscriptionFilters, logEvents } = payload;
  if (typeof logGroup !== 'string' || typeof logStream !== 'string')
    return { kind: 'invalid', reason: 'DATA_MESSAGE without a string logGroup and logStream' };
  if (!Array.isArray(logEvents)) return { kind: 'invalid', reason: 'DATA_MESSAGE without a logEvents array' };
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < logEvents.length; index++) {
    // One expression per event, no call, for the common case; the reason is worked out only when
    // the event is wrong. The time range comes with it, so that the caller's partitioning needs no
    // second pass over the events.
    const event = logEvents[index];
    const timestamp = event?.timestamp;
    if (
      typeof event?.message === 'string' &&
      typeof event.id === 'string' &&
      typeof timestamp === 'number' &&
      timestamp >= MIN_EVENT_TIME &&
      timestamp <= MAX_EVENT_TIME
    ) {
      if (timestamp < earliest) earliest = timestamp;
      if (timestamp > latest) latest = timestamp;
      continue;
    }
    return { kind: 'invalid', reason: `logEvents[${index}] ${eventProblem(event)}` };
  }
  return {
    kind: 'cloudwatch-data',
    payload: {
      messageType: 'DATA_MESSAGE',
      owner: typeof owner === 'string' ? owner : '',
      logGroup,
      logStream,
      subscriptionFilters: Array.isArray(subscriptionFilters)
        ? subscriptionFilters.filter((name): name is string => typeof name === 'string')
        : [],
      logEvents: logEvents as CloudWatchLogEvent[],
    },
    earliest,
    latest,
  };
}

/** What is wrong with an event that failed the check above. */
function eventProblem(event: unknown): string {
  if (!isJsonObject(event)) return 'is not an object';
  if (typeof event.message !== 'string') return 'has no string message';
  if (typeof event.id !== 'string') return 'has no string id';
  const timestamp = event.timestamp;
  if (typeof timestamp !== 'number' || !isPartitionableTime(timestamp))
    return 'has no valid epoch-millisecond timestamp';
  return 'is not a log event';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
