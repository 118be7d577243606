/**
 * The quarantine: where records and documents that cannot be indexed go, so bad input loses
 * nothing. A quarantine record keeps the raw text, where it came from (bucket, key, ETag, record
 * number), the document's index and id when it got that far, and why it failed; a replay tool can
 * re-parse or re-index it after a fix.
 *
 * Layout: JSON lines, gzip'd, one S3 object per source object per invocation, at
 * `s3://<bucket>/<prefix><YYYY-MM-DD>/<source key>/<hash>.jsonl.gz`. The date is the source
 * object's LastModified day (UTC) and the hash covers the object's identity and the first record
 * of the invocation, so a retried invocation (an SQS redelivery) overwrites its earlier quarantine
 * object instead of adding a duplicate, and a continuation of the same object writes its own.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { unquotedEtag } from '../core/documents';
import type { ObjectIdentity } from '../core/types';

/** One record or document that could not be indexed. */
export interface QuarantineEntry {
  /** Why, in a word or two: `parse-error`, `indexing-rejected`, `too-large`... */
  readonly reason: string;
  /** The detail: the parser's reason or OpenSearch's `type: reason`. */
  readonly error: string;
  /** 1-based record number in the source object. */
  readonly record: number;
  /** The record's raw text. */
  readonly raw: string;
  /** The document's index, when one was computed. */
  readonly index?: string;
  /** The document's id, when one was computed. */
  readonly id?: string;
}

/** What the bulk sink and the indexer need from a quarantine: somewhere to put an entry. */
export interface QuarantineSink {
  add(entry: QuarantineEntry): void | Promise<void>;
}

/** A quarantine kept in memory: for tests, and for the CLI, which reports instead of storing. */
export class InMemoryQuarantine implements QuarantineSink {
  readonly entries: QuarantineEntry[] = [];

  add(entry: QuarantineEntry): void {
    this.entries.push(entry);
  }
}

/** One line of a quarantine object. */
export interface QuarantineRecord extends QuarantineEntry {
  readonly object: {
    readonly bucket?: string;
    readonly key: string;
    readonly etag?: string;
    readonly versionId?: string;
  };
  readonly format: string;
  /** When it was quarantined, ISO-8601 UTC. */
  readonly at: string;
}

/** Where a {@link S3QuarantineWriter} writes, and what it writes about. */
export interface S3QuarantineWriterOptions {
  readonly s3: Pick<S3Client, 'send'>;
  readonly bucket: string;
  /** Key prefix, with or without a trailing `/`. */
  readonly prefix: string;
  /** The source object. */
  readonly object: ObjectIdentity;
  /** The source object's format (`alb`, `cloudtrail`...). */
  readonly format: string;
  /** First record of this invocation: an object continued later writes a second quarantine object. @default 1 */
  readonly firstRecord?: number;
  /**
   * Compressed bytes buffered before an object is written; a source object with more failures is
   * quarantined in several objects (`<hash>.jsonl.gz`, `<hash>-2.jsonl.gz`...). @default 32 MiB
   */
  readonly maxObjectBytes?: number;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

// Text gathered before it is compressed into one gzip member: big enough to compress well, small
// enough to bound memory (multi-member gzip is valid gzip, read by every gunzip).
const MEMBER_TEXT_BYTES = 1024 * 1024;
const MAX_S3_KEY_BYTES = 1024;

/**
 * Writes quarantine records for one source object to S3, gzip'd JSON lines. Call {@link flush}
 * once the object's invocation is done; nothing is written when nothing was quarantined.
 */
export class S3QuarantineWriter implements QuarantineSink {
  private lines: string[] = [];
  private lineBytes = 0;
  private members: Buffer[] = [];
  private memberBytes = 0;
  private objectsWritten = 0;
  private entryCount = 0;
  private readonly keys: string[] = [];

  constructor(private readonly options: S3QuarantineWriterOptions) {}

  /** Entries added so far. */
  get count(): number {
    return this.entryCount;
  }

  async add(entry: QuarantineEntry): Promise<void> {
    const { object, format, now } = this.options;
    const record: QuarantineRecord = {
      reason: entry.reason,
      error: entry.error,
      object: {
        ...(object.bucket !== undefined && { bucket: object.bucket }),
        key: object.key,
        ...(object.etag !== undefined && { etag: object.etag }),
        ...(object.versionId !== undefined && { versionId: object.versionId }),
      },
      record: entry.record,
      raw: entry.raw,
      ...(entry.index !== undefined && { index: entry.index }),
      ...(entry.id !== undefined && { id: entry.id }),
      format,
      at: (now?.() ?? new Date()).toISOString(),
    };
    const line = `${JSON.stringify(record)}\n`;
    this.lines.push(line);
    this.lineBytes += line.length;
    this.entryCount += 1;
    if (this.lineBytes >= MEMBER_TEXT_BYTES) this.compressLines();
    if (this.memberBytes >= (this.options.maxObjectBytes ?? 32 * 1024 * 1024)) await this.writeObject();
  }

  /**
   * Writes what is buffered. Throws when S3 refuses: the caller must then fail the invocation so
   * the source object is processed again (its quarantine object is then overwritten).
   *
   * @returns the keys written by this writer so far.
   */
  async flush(): Promise<readonly string[]> {
    this.compressLines();
    if (this.memberBytes > 0) await this.writeObject();
    return this.keys;
  }

  /** The key of the n-th (1-based) quarantine object of this writer. */
  objectKey(sequence: number): string {
    const { object, prefix, firstRecord } = this.options;
    const identity = [
      object.bucket ?? '',
      object.key,
      unquotedEtag(object.etag) ?? object.versionId ?? '',
      firstRecord ?? 1,
    ];
    const hash = createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 20);
    const date = new Date(object.lastModified ?? (this.options.now?.() ?? new Date()).getTime())
      .toISOString()
      .slice(0, 10);
    const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const name = `${hash}${sequence === 1 ? '' : `-${sequence}`}.jsonl.gz`;
    const key = `${base}${date}/${object.key}/${name}`;
    // S3 keys are limited to 1024 bytes: a very long source key is replaced by its hash.
    if (Buffer.byteLength(key) <= MAX_S3_KEY_BYTES) return key;
    const keyHash = createHash('sha256').update(object.key).digest('hex');
    return `${base}${date}/${keyHash}/${name}`;
  }

  private compressLines(): void {
    if (this.lines.length === 0) return;
    const member = gzipSync(this.lines.join(''));
    this.members.push(member);
    this.memberBytes += member.length;
    this.lines = [];
    this.lineBytes = 0;
  }

  private async writeObject(): Promise<void> {
    const key = this.objectKey(this.objectsWritten + 1);
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: Buffer.concat(this.members),
        ContentType: 'application/gzip',
      }),
    );
    this.objectsWritten += 1;
    this.keys.push(key);
    this.members = [];
    this.memberBytes = 0;
  }
}
