/**
 * One Firehose record's transformation: decode it, group its events by partition, write the first
 * partition's output and prepare the other partitions for re-ingestion. Pure: nothing here sends
 * anything; the caller decides, with the whole response in view, what is re-ingested.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 * @see https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
 */
import { gzipSync } from 'node:zlib';
import type { ProcessorConfig } from './config';
import { IsoTimeFormatter } from './iso-time';
import { base64LengthOf, jsonOutputOfEvents, rawOutputOfEvents } from './kernels';
import {
  cloudWatchOutputText,
  DIRECT_LOG_GROUP,
  type DirectLine,
  directOutputText,
  JSON_LINE,
  sourceMembers,
} from './output-format';
import {
  EMPTY_PARTITION_VALUE,
  isPartitionableTime,
  type PartitionKeys,
  safePartitionValue,
  type TimeBucket,
  TimePartitioner,
} from './partition-keys';
import { PayloadHeaderReader } from './payload-header';
import {
  type CloudWatchLogEvent,
  type CloudWatchLogsData,
  decodeBase64,
  decodeRecordData,
  parseCloudWatchPayload,
} from './record-data';
import { readSyslogLine, syslogFieldsOf } from './syslog-line';

/** The part of a Firehose record the transformation reads. */
export interface FirehoseInputRecord {
  readonly recordId: string;
  /** Epoch milliseconds; the reference time of RFC 3164 syslog lines and the time of lines without one. */
  readonly approximateArrivalTimestamp: number;
  /** Base64. */
  readonly data: string;
}

/** What becomes of one record, before the response's size is taken into account. */
export type RecordTransform =
  /** Nothing to deliver (a `CONTROL_MESSAGE`, or no events). */
  | { readonly kind: 'drop'; readonly reason: string }
  /** The record cannot be processed; Firehose keeps it in its error prefix. */
  | { readonly kind: 'fail'; readonly reason: string }
  /** Its first partition's output, plus re-ingestion payloads for its other partitions. */
  | RecordOutput
  /** Its output alone is too large for a response: all its events are re-ingested in smaller payloads. */
  | {
      readonly kind: 'reingest';
      readonly reason: string;
      readonly payloads: readonly Buffer[];
      readonly events: number;
    };

/** A record that delivers output: its first partition's events. */
export interface RecordOutput {
  readonly kind: 'output';
  /**
   * The output text's UTF-8 bytes. On the common path a view of the kernels' reused memory,
   * valid only until the next record is transformed: the caller encodes it
   * for the response at once, so that a batch does not hold a buffer or a string per record.
   */
  readonly bytes: Buffer;
  /** The length of the base64 text of `bytes`, what the output adds to the response. */
  readonly base64Length: number;
  readonly partitionKeys: PartitionKeys;
  /** Events in this output. */
  readonly events: number;
  /** Events in the other partitions. */
  readonly otherEvents: number;
  /** One or more payloads per other partition; the record is Ok only once they are all re-ingested. */
  readonly otherPartitions: readonly Buffer[];
  /** Payloads that stand for this output if the response has no room for it. */
  reingestOutput(): readonly Buffer[];
}

/** Limits that shape the transformation. */
export interface TransformLimits {
  /** Largest base64 output one record may have; anything larger can never fit in a response. */
  readonly maxOutputBytes: number;
  /** Largest payload one re-ingested record may carry. */
  readonly maxReingestRecordBytes: number;
  /** Output bytes each payload should stand for when an oversized output is split up. */
  readonly reingestChunkOutputBytes: number;
}

const CONTROL_MESSAGE_REASON = 'CONTROL_MESSAGE';
const NO_EVENTS_REASON = 'DATA_MESSAGE without events';

interface Group<T> {
  readonly bucket: TimeBucket;
  readonly items: T[];
}

/**
 * Transforms records one at a time. Holds the partitioner's and timestamp formatter's caches, so
 * one instance should serve a whole batch.
 */
export class RecordTransformer {
  private readonly partitioner: TimePartitioner;
  private readonly iso = new IsoTimeFormatter();
  private readonly header = new PayloadHeaderReader();

  constructor(
    private readonly config: ProcessorConfig,
    private readonly limits: TransformLimits,
  ) {
    this.partitioner = new TimePartitioner(config.partitionKeys);
  }

  /** Transforms one record; never throws for bad data. */
  transform(record: FirehoseInputRecord): RecordTransform {
    const decoded = decodeRecordData(record.data);
    if (decoded.kind === 'invalid') return { kind: 'fail', reason: decoded.reason };
    if (decoded.kind === 'text') return this.transformDirect(record, decoded.text);
    const { bytes } = decoded;
    const length = bytes.length;
    const scanned = this.transformScanned(record, bytes);
    if (scanned !== undefined) return scanned;
    // A kernel that grew its memory before it declined detached the payload's view of that memory
    // (its length is then 0): the payload is decoded again for the general path.
    const parsed = parseCloudWatchPayload(bytes.length === length ? bytes : gzipPayloadAgain(record.data));
    if (parsed.kind === 'invalid') return { kind: 'fail', reason: parsed.reason };
    if (parsed.kind === 'cloudwatch-control') return { kind: 'drop', reason: CONTROL_MESSAGE_REASON };
    return this.transformCloudWatch(record, parsed.payload, parsed.earliest, parsed.latest);
  }

  /**
   * The common case, by the fast readers and writers: a payload whose header
   * {@link PayloadHeaderReader} takes and whose events the kernels ({@link rawOutputOfEvents},
   * {@link jsonOutputOfEvents}) take, all its events in one partition, its output small enough
   * for a response. Anything else is left to the general path (undefined), with the payload's
   * bytes as they were.
   */
  private transformScanned(record: FirehoseInputRecord, bytes: Buffer): RecordTransform | undefined {
    const header = this.header;
    const eventsStart = header.read(bytes);
    if (eventsStart === undefined) return undefined;
    const events =
      this.config.outputFormat === 'raw'
        ? rawOutputOfEvents(bytes, eventsStart)
        : jsonOutputOfEvents(bytes, eventsStart, {
            sharedMembers: `${sourceMembers(header.logGroup, header.logStream)}${JSON_LINE.message}`,
            syslogFieldsOf,
          });
    if (events === undefined || events.count === 0) return undefined;
    const bucket = this.partitioner.bucketOf(events.earliest);
    if (events.latest >= bucket.end) return undefined;
    const base64Length = base64LengthOf(events.output.length);
    if (base64Length > this.limits.maxOutputBytes) return undefined;
    return {
      kind: 'output',
      bytes: events.output,
      base64Length,
      partitionKeys: this.partitionKeys(
        safePartitionValue(header.logGroup),
        safePartitionValue(header.logStream),
        bucket,
      ),
      events: events.count,
      otherEvents: 0,
      otherPartitions: [],
      reingestOutput: reingestAsItCame(record),
    };
  }

  private transformCloudWatch(
    record: FirehoseInputRecord,
    payload: CloudWatchLogsData,
    earliest: number,
    latest: number,
  ): RecordTransform {
    const events = payload.logEvents;
    if (events.length === 0) return { kind: 'drop', reason: NO_EVENTS_REASON };
    // The common case, known without a pass over the events: every event in one bucket.
    const bucket = this.partitioner.bucketOf(earliest);
    const groups: Group<CloudWatchLogEvent>[] =
      latest < bucket.end
        ? [{ bucket, items: events as CloudWatchLogEvent[] }]
        : this.groupBy(events, (event) => event.timestamp, sameSource);
    const logGroup = safePartitionValue(payload.logGroup);
    const logStream = safePartitionValue(payload.logStream);
    const toPayloads = (items: readonly CloudWatchLogEvent[], chunks = 1) =>
      this.payloads(items, chunks, (part) => gzipSync(JSON.stringify({ ...payload, logEvents: part })));
    return this.output(
      groups,
      (group) => this.partitionKeys(logGroup, logStream, group.bucket),
      (items) => cloudWatchOutputText(items, payload, this.config.outputFormat, this.iso),
      toPayloads,
      reingestOutputOf(record, groups, toPayloads),
    );
  }

  private transformDirect(record: FirehoseInputRecord, text: string): RecordTransform {
    const lines = this.readDirectLines(text, record.approximateArrivalTimestamp);
    if (lines === undefined)
      return { kind: 'fail', reason: 'data is neither gzip nor newline-delimited syslog' };
    if (lines.length === 0) return { kind: 'drop', reason: 'record without lines' };
    const groups = this.groupBy(
      lines,
      (line) => line.timeMillis,
      (a, b) => a.hostname === b.hostname,
    );
    const logGroup = safePartitionValue(DIRECT_LOG_GROUP);
    const toPayloads = (items: readonly DirectLine[], chunks = 1) =>
      this.payloads(items, chunks, (part) => Buffer.from(directOutputText(part, 'raw', this.iso)));
    return this.output(
      groups,
      (group) =>
        this.partitionKeys(logGroup, safePartitionValue(firstOf(group.items).hostname), group.bucket),
      (items) => directOutputText(items, this.config.outputFormat, this.iso),
      toPayloads,
      reingestOutputOf(record, groups, toPayloads),
    );
  }

  /**
   * Reads Direct PUT text as syslog lines. A line that is not syslog continues the line before it
   * (a stack trace, a wrapped message) and shares its host and time.
   *
   * @returns the non-empty lines, or undefined when the first of them is not syslog.
   */
  private readDirectLines(text: string, arrivalMillis: number): DirectLine[] | undefined {
    const lines: DirectLine[] = [];
    const fallbackTime = isPartitionableTime(arrivalMillis) ? arrivalMillis : Date.now();
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      const syslog = readSyslogLine(line, fallbackTime, this.config.outputFormat === 'json');
      const previous = lines.at(-1);
      if (syslog === undefined) {
        if (previous === undefined) return undefined;
        lines.push({ text: line, timeMillis: previous.timeMillis, hostname: previous.hostname, fields: '' });
        continue;
      }
      const time = syslog.timeMillis;
      lines.push({
        text: line,
        timeMillis: time !== undefined && isPartitionableTime(time) ? time : fallbackTime,
        hostname: syslog.hostname ?? EMPTY_PARTITION_VALUE,
        fields: syslog.fields,
      });
    }
    return lines;
  }

  /**
   * Groups items by time bucket, and by source when `sameSource` tells two items apart. Groups
   * keep the items' order, and the first group is the first item's.
   */
  private groupBy<T>(
    items: readonly T[],
    timeOf: (item: T) => number,
    sameSource: (a: T, b: T) => boolean,
  ): Group<T>[] {
    const first = firstOf(items);
    const firstBucket = this.partitioner.bucketOf(timeOf(first));
    // The common case, one partition for the whole record, allocates nothing per item.
    let index = 1;
    while (index < items.length) {
      const item = items[index] as T;
      const time = timeOf(item);
      if (time < firstBucket.start || time >= firstBucket.end || !sameSource(first, item)) break;
      index++;
    }
    if (index === items.length) return [{ bucket: firstBucket, items: items as T[] }];
    const groups: Group<T>[] = [{ bucket: firstBucket, items: items.slice(0, index) }];
    for (; index < items.length; index++) {
      const item = items[index] as T;
      const bucket = this.partitioner.bucketOf(timeOf(item));
      let group = groups.find(
        (candidate) => candidate.bucket.start === bucket.start && sameSource(firstOf(candidate.items), item),
      );
      if (group === undefined) {
        group = { bucket, items: [] };
        groups.push(group);
      }
      group.items.push(item);
    }
    return groups;
  }

  private output<T>(
    groups: readonly Group<T>[],
    keysOf: (group: Group<T>) => PartitionKeys,
    outputText: (items: readonly T[]) => string,
    toPayloads: (items: readonly T[], chunks?: number) => Buffer[],
    reingestOutput: () => readonly Buffer[],
  ): RecordTransform {
    const [first, ...others] = groups as [Group<T>, ...Group<T>[]];
    const text = Buffer.from(outputText(first.items), 'utf8');
    const otherPartitions = others.flatMap((group) => toPayloads(group.items));
    const otherEvents = others.reduce((sum, group) => sum + group.items.length, 0);
    const base64Length = base64LengthOf(text.length);
    if (base64Length > this.limits.maxOutputBytes) {
      const chunks = Math.ceil(base64Length / this.limits.reingestChunkOutputBytes);
      return {
        kind: 'reingest',
        reason: `output of ${base64Length} bytes exceeds ${this.limits.maxOutputBytes}`,
        payloads: [...toPayloads(first.items, chunks), ...otherPartitions],
        events: first.items.length + otherEvents,
      };
    }
    return {
      kind: 'output',
      bytes: text,
      base64Length,
      partitionKeys: keysOf(first),
      events: first.items.length,
      otherEvents,
      otherPartitions,
      reingestOutput,
    };
  }

  private partitionKeys(logGroup: string, logStream: string, bucket: TimeBucket): PartitionKeys {
    const keys: PartitionKeys = {};
    for (const name of this.config.partitionKeys) {
      keys[name] = name === 'logGroup' ? logGroup : name === 'logStream' ? logStream : bucket.keys[name];
    }
    return keys;
  }

  /**
   * Encodes items as re-ingestion payloads: first in `chunks` equal parts, then halving any part
   * whose payload is still over the record limit (at most log2(items) levels deep).
   */
  private payloads<T>(
    items: readonly T[],
    chunks: number,
    encode: (items: readonly T[]) => Buffer,
  ): Buffer[] {
    const size = Math.ceil(items.length / chunks);
    const result: Buffer[] = [];
    for (let start = 0; start < items.length; start += size) {
      this.fitPayloads(items.slice(start, start + size), encode, result);
    }
    return result;
  }

  private fitPayloads<T>(
    items: readonly T[],
    encode: (items: readonly T[]) => Buffer,
    result: Buffer[],
  ): void {
    const payload = encode(items);
    // One item that is too large on its own is sent anyway: the put fails and the record with it.
    if (payload.length <= this.limits.maxReingestRecordBytes || items.length === 1) {
      result.push(payload);
      return;
    }
    const half = Math.ceil(items.length / 2);
    this.fitPayloads(items.slice(0, half), encode, result);
    this.fitPayloads(items.slice(half), encode, result);
  }
}

/**
 * What stands for a record's output if the response has no room for it. A record that needed no
 * split goes back as it came, without gzip'ing it again.
 */
function reingestOutputOf<T>(
  record: FirehoseInputRecord,
  groups: readonly Group<T>[],
  toPayloads: (items: readonly T[]) => Buffer[],
): () => readonly Buffer[] {
  return groups.length === 1 ? reingestAsItCame(record) : reingestItems(firstOf(groups).items, toPayloads);
}

// Separate factories, so that each closure holds only what it uses: a closure that held
// `toPayloads` would keep the whole parsed payload alive until the batch is answered, and the
// garbage collector would then spend more than the parsing itself.
function reingestAsItCame(record: FirehoseInputRecord): () => readonly Buffer[] {
  return () => [decodeBase64(record.data) ?? Buffer.alloc(0)];
}

function reingestItems<T>(
  items: readonly T[],
  toPayloads: (items: readonly T[]) => Buffer[],
): () => readonly Buffer[] {
  return () => toPayloads(items);
}

/** The payload of data that decoded as gzip once, decoded again (decoding is deterministic). */
function gzipPayloadAgain(data: string): Buffer {
  const decoded = decodeRecordData(data);
  return decoded.kind === 'gzip' ? decoded.bytes : Buffer.alloc(0);
}

function sameSource(): boolean {
  return true;
}

function firstOf<T>(items: readonly T[]): T {
  return items[0] as T;
}
