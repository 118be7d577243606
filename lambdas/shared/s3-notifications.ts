/**
 * S3 event notifications as S3 writes them, for objects that S3 never announced: `logpipe backfill`
 * and the demo send these to the indexer queue so that an old object and a live one take exactly
 * the same path. The indexer reads them with `parseMessageBody` (`lambdas/indexer/messages.ts`),
 * which decodes keys with {@link decodeNotificationKey}, the inverse of {@link encodeNotificationKey}.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
import { createHash } from 'node:crypto';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { unquotedEtag } from '../core/documents';

/** An object to announce: what a ListObjectsV2 entry (or a PutObject response) tells about it. */
export interface AnnouncedObject {
  readonly bucket: string;
  /** The key as stored (not encoded). */
  readonly key: string;
  readonly size: number;
  /** ETag, with or without the quotes S3 puts around it in listings. */
  readonly etag: string;
  /** LastModified, epoch milliseconds: becomes `eventTime` and the `sequencer`. */
  readonly lastModified: number;
  readonly versionId?: string;
}

/** How the announcement presents itself. */
export interface NotificationOptions {
  /** `awsRegion` and the partition of the bucket ARN. */
  readonly region: string;
  /** Defaults to `ObjectCreated:Put`, the event S3 sends for a PutObject. */
  readonly eventName?: string;
  /**
   * `s3.configurationId`; S3 puts the notification configuration's name there. Defaults to
   * `logpipe-backfill`, so a message in the queue tells where it came from.
   */
  readonly configurationId?: string;
}

/** The principal and configuration id a backfill announcement carries by default. */
export const BACKFILL_PRINCIPAL = 'logpipe-backfill';

// Java's URLEncoder (form encoding) keeps only these; S3 additionally leaves `/` as is.
const FORM_SAFE_PUNCTUATION = /[!'()~]/g;

/**
 * Encodes a key as S3 writes it in `s3.object.key`: `application/x-www-form-urlencoded` (a space
 * becomes `+`, a `+` becomes `%2B`, UTF-8 bytes are `%XX` in upper case), except that `/` is left
 * as is. `A-Z a-z 0-9 - _ . *` are never encoded.
 *
 * @throws Error when the key is not well-formed Unicode (a lone surrogate), which no S3 key is.
 */
export function encodeNotificationKey(key: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(key);
  } catch {
    throw new Error(`S3 key is not well-formed Unicode: ${JSON.stringify(key)}`);
  }
  return encoded
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(FORM_SAFE_PUNCTUATION, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Decodes a key as S3 writes it in event notifications: URL-encoded, with `+` for a space.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
export function decodeNotificationKey(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape cannot come from S3; keep the text rather than lose the object.
    return spaced;
  }
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The S3 event notification record for one object, shaped as S3 sends it (and as Powertools'
 * `S3Schema` accepts it). Deterministic: the same object gives the same record, so a re-sent
 * announcement is byte-identical to the first.
 */
export function notificationRecord(object: AnnouncedObject, options: NotificationOptions): S3EventRecord {
  const etag = unquotedEtag(object.etag) ?? '';
  // Request ids only have to look like S3's; deriving them from the object keeps records reproducible.
  const digest = createHash('sha256')
    .update(`${object.bucket}\n${object.key}\n${etag}\n${object.lastModified}`)
    .digest();
  // S3's sequencer orders events on one key; LastModified orders versions the same way.
  const sequencer = Math.max(0, Math.trunc(object.lastModified)).toString(16).toUpperCase().padStart(16, '0');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: options.region,
    eventTime: new Date(object.lastModified).toISOString(),
    eventName: options.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: BACKFILL_PRINCIPAL },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': digest.subarray(0, 8).toString('hex').toUpperCase(),
      'x-amz-id-2': digest.toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: options.configurationId ?? BACKFILL_PRINCIPAL,
      bucket: {
        name: object.bucket,
        ownerIdentity: { principalId: BACKFILL_PRINCIPAL },
        arn: `arn:${partitionOf(options.region)}:s3:::${object.bucket}`,
      },
      object: {
        key: encodeNotificationKey(object.key),
        size: object.size,
        eTag: etag,
        ...(object.versionId !== undefined && { versionId: object.versionId }),
        sequencer,
      },
    },
  };
}

/** A whole notification (`{"Records":[...]}`) for one object: S3 sends one record per message. */
export function notificationFor(object: AnnouncedObject, options: NotificationOptions): S3Event {
  return { Records: [notificationRecord(object, options)] };
}

/** The SQS message body announcing one object, as S3 would send it to the indexer queue. */
export function notificationBody(object: AnnouncedObject, options: NotificationOptions): string {
  return JSON.stringify(notificationFor(object, options));
}
