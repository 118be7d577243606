/**
 * The contracts of the pure parsing core. Nothing here knows about Lambda, SQS or the AWS SDK:
 * the core turns the bytes of one log object into search documents, and every caller (the
 * indexer, the CLI, the benchmark) drives it the same way.
 */

/** Every log format the core can parse. */
export const FORMAT_NAMES = [
  'alb',
  'nlb',
  'elb',
  'cloudfront',
  'waf',
  'cloudtrail',
  'vpcflow',
  's3access',
  'syslog',
  'json',
  'regex',
] as const;

/** A log format's name, as used in `--format`, `LOG_SOURCES`, `log.type` and index names. */
export type FormatName = (typeof FORMAT_NAMES)[number];

/**
 * Identity of one log object: the basis of deterministic document ids.
 *
 * The indexer fills `etag` from its own GetObject response, so an object reached through a live
 * notification, a CloudTrail SNS message or a backfill listing has the same identity (S3 event
 * notifications and ListObjectsV2 disagree on `versionId`, never on the ETag).
 */
export interface ObjectIdentity {
  /** Bucket name; absent for a local file parsed without `--bucket`. */
  readonly bucket?: string;
  /** S3 key (decoded), or the local file path. */
  readonly key: string;
  /** ETag, with or without the quotes S3 puts around it. */
  readonly etag?: string;
  /** Version id, used in the identity only when the ETag is unknown. */
  readonly versionId?: string;
  /**
   * When the object was written (S3 LastModified or the file's mtime), epoch milliseconds. RFC 3164
   * syslog infers its missing year from it, and records without a time of their own are stamped
   * with it.
   */
  readonly lastModified?: number;
}

/** Per-source options, from `LOG_SOURCES` or the CLI flags. */
export interface FormatOptions {
  /** JSON lines: the field holding the event time. */
  readonly timestampField?: string;
  /** JSON lines: `epoch_millis`, `epoch_seconds`, `iso8601`, or a pattern such as `yyyy-MM-dd HH:mm:ss`. */
  readonly timestampFormat?: string;
  /** `regex` format: a pattern with named groups; the groups become fields. */
  readonly pattern?: string;
  /** VPC Flow Logs: the custom format's field list when the file has no header line. */
  readonly fieldList?: string;
}

/** What a record parser is told about the object it parses. */
export interface ParserContext {
  readonly object: ObjectIdentity;
  readonly options: FormatOptions;
}

/**
 * One parsed event. The document's own fields arrive already serialised as JSON object members
 * (`"a":1,"b":"x"`, no braces; see {@link JsonFields}): serialising is the main cost of the whole
 * pipeline, so formats write JSON once instead of building objects that are stringified later.
 */
export interface ParsedEvent {
  readonly kind: 'event';
  /** Event time as ISO-8601 UTC ending in `Z`; absent when the record has no time of its own. */
  readonly timestamp?: string;
  /** The format's natural id (CloudTrail `eventID`), when it has one. */
  readonly naturalId?: string;
  /** Overrides `log.type` and the index's format part (ALB connection logs: `alb_connection`). */
  readonly type?: string;
  /** JSON object members without braces; never the reserved `@timestamp` or `log`. */
  readonly fields: string;
}

/** A record that is not an event and not an error: a header or comment line. */
export interface SkippedRecord {
  readonly kind: 'skip';
}

/** A record the format cannot parse: it is reported (CLI) or quarantined (indexer), never lost. */
export interface RecordError {
  readonly kind: 'error';
  readonly reason: string;
}

/** What a record parser returns for one record. */
export type RecordResult = ParsedEvent | SkippedRecord | RecordError;

/**
 * Parses the records of one object. Stateful per object: CloudFront and VPC Flow Logs learn their
 * field list from a header line.
 */
export interface RecordParser {
  /** Parses one record (a line, or one CloudTrail record); `recordNumber` is 1-based. */
  parse(record: string, recordNumber: number): RecordResult;
}

/** How an object's text is cut into records. */
export type Framing =
  /** One record per line (LF or CRLF); empty lines are counted and skipped. */
  | 'lines'
  /**
   * Top-level JSON values; a `{"Records":[...]}` envelope yields each element of `Records`
   * (CloudTrail), so one record is bounded, not the whole object.
   */
  | 'json-records';

/** One log format behind one small interface. */
export interface LogFormat {
  readonly name: FormatName;
  readonly framing: Framing;
  /** True when an S3 key looks like one AWS writes for this format. */
  matchesKey(key: string): boolean;
  /** True when this line (the object's first non-empty line) looks like this format. */
  matchesContent(firstLine: string): boolean;
  /** True for objects that hold no events (CloudTrail digest files). */
  isIgnoredKey?(key: string): boolean;
  createParser(context: ParserContext): RecordParser;
}
