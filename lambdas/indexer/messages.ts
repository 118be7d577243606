/**
 * What an SQS message body asks the indexer to do. Four notification shapes name S3 objects (S3
 * event notifications, the same wrapped in SNS, EventBridge "Object Created", CloudTrail's own SNS
 * notification), and the indexer's own continuation message resumes a large object. Pure: no SDK.
 */
import { z } from 'zod';
import { unquotedEtag } from '../core/documents';
import { decodeNotificationKey } from '../shared/s3-notifications';

/** One object to index, and where to start in it. */
export interface ObjectTask {
  readonly bucket: string;
  /** The key as stored in S3 (decoded). */
  readonly key: string;
  readonly size?: number;
  /** ETag, quotes stripped. A continuation reads exactly this version (GetObject `IfMatch`). */
  readonly etag?: string;
  readonly versionId?: string;
  /** 1-based record to resume from; records before it were indexed by an earlier invocation. */
  readonly startRecord?: number;
  /** Uncompressed objects only: the byte offset at which `startRecord` begins (a Range GET). */
  readonly startByte?: number;
}

/** What one message body means. */
export type MessageContent =
  | { readonly kind: 'objects'; readonly objects: readonly ObjectTask[]; readonly ignored: readonly string[] }
  | { readonly kind: 'ignored'; readonly reason: string };

/** The body is not a message the indexer understands: the message must fail and reach the DLQ. */
export class UnrecognisedMessageError extends Error {
  override readonly name = 'UnrecognisedMessageError';
}

/** Version tag of the indexer's own continuation message. */
export const CONTINUATION_TYPE = 'aws-log-pipeline/continuation@1';

// The schemas read only what the indexer needs and tolerate everything else: Powertools' S3
// schema rejects, for example, an IPv6 sourceIPAddress, which would send a good message to the DLQ.
const S3RecordSchema = z.object({
  eventSource: z.string().optional(),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
    }),
  }),
});
const S3NotificationSchema = z.object({ Records: z.array(z.unknown()).min(1) });
const S3TestEventSchema = z.object({ Event: z.literal('s3:TestEvent'), Bucket: z.string().optional() });
const SnsNotificationSchema = z.object({ Type: z.literal('Notification'), Message: z.string() });
const EventBridgeS3Schema = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().nonnegative().optional(),
      etag: z.string().optional(),
      'version-id': z.string().optional(),
    }),
  }),
});
const CloudTrailSnsSchema = z.object({
  s3Bucket: z.string().min(1),
  s3ObjectKey: z.array(z.string().min(1)),
});
const ContinuationSchema = z.object({
  type: z.literal(CONTINUATION_TYPE),
  bucket: z.string().min(1),
  key: z.string().min(1),
  size: z.number().nonnegative().optional(),
  etag: z.string().optional(),
  versionId: z.string().optional(),
  startRecord: z.number().int().min(1),
  startByte: z.number().int().min(0).optional(),
});

/** The continuation message that resumes `task` at its `startRecord`. */
export function continuationMessage(task: ObjectTask & { readonly startRecord: number }): string {
  return JSON.stringify({ type: CONTINUATION_TYPE, ...task });
}

/**
 * Reads one SQS message body.
 *
 * @throws UnrecognisedMessageError when the body is none of the accepted shapes; the caller fails
 *   the message so that it reaches the DLQ instead of being silently deleted.
 */
export function parseMessageBody(body: string): MessageContent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UnrecognisedMessageError(`message body is not JSON: ${body.slice(0, 200)}`);
  }
  return parseMessageJson(json, 0);
}

function parseMessageJson(json: unknown, depth: number): MessageContent {
  const continuation = ContinuationSchema.safeParse(json);
  if (continuation.success) {
    const { type: _type, ...task } = continuation.data;
    return { kind: 'objects', objects: [task], ignored: [] };
  }
  const sns = SnsNotificationSchema.safeParse(json);
  if (sns.success && depth === 0) {
    let inner: unknown;
    try {
      inner = JSON.parse(sns.data.Message);
    } catch {
      throw new UnrecognisedMessageError('SNS notification whose Message is not JSON');
    }
    return parseMessageJson(inner, depth + 1);
  }
  const testEvent = S3TestEventSchema.safeParse(json);
  if (testEvent.success)
    return { kind: 'ignored', reason: `s3:TestEvent for bucket ${testEvent.data.Bucket ?? '?'}` };

  const notification = S3NotificationSchema.safeParse(json);
  if (notification.success) return fromS3Records(notification.data.Records);

  const eventBridge = EventBridgeS3Schema.safeParse(json);
  if (eventBridge.success) {
    const { detail } = eventBridge.data;
    if (eventBridge.data['detail-type'] !== 'Object Created') {
      return { kind: 'ignored', reason: `EventBridge ${eventBridge.data['detail-type']} event` };
    }
    // EventBridge carries the key as stored (AWS documents no encoding for it, unlike notifications).
    return {
      kind: 'objects',
      objects: [
        withOptional(
          { bucket: detail.bucket.name, key: detail.object.key },
          detail.object.size,
          detail.object.etag,
          detail.object['version-id'],
        ),
      ],
      ignored: [],
    };
  }
  const cloudTrail = CloudTrailSnsSchema.safeParse(json);
  if (cloudTrail.success) {
    // CloudTrail's own notification names keys as stored.
    const { s3Bucket, s3ObjectKey } = cloudTrail.data;
    return { kind: 'objects', objects: s3ObjectKey.map((key) => ({ bucket: s3Bucket, key })), ignored: [] };
  }
  throw new UnrecognisedMessageError(
    'message body is not an S3 notification, SNS notification, EventBridge S3 event, CloudTrail notification or continuation',
  );
}

function fromS3Records(records: readonly unknown[]): MessageContent {
  const objects: ObjectTask[] = [];
  const ignored: string[] = [];
  for (const raw of records) {
    const parsed = S3RecordSchema.safeParse(raw);
    if (!parsed.success)
      throw new UnrecognisedMessageError(
        `S3 notification record without bucket/key: ${parsed.error.message}`,
      );
    const { eventName, s3 } = parsed.data;
    const key = decodeNotificationKey(s3.object.key);
    if (!eventName.startsWith('ObjectCreated:')) {
      ignored.push(`${eventName} s3://${s3.bucket.name}/${key}`);
      continue;
    }
    objects.push(
      withOptional({ bucket: s3.bucket.name, key }, s3.object.size, s3.object.eTag, s3.object.versionId),
    );
  }
  return objects.length === 0
    ? { kind: 'ignored', reason: ignored.join('; ') }
    : { kind: 'objects', objects, ignored };
}

function withOptional(
  task: { bucket: string; key: string },
  size: number | undefined,
  etag: string | undefined,
  versionId: string | undefined,
): ObjectTask {
  const quoteless = unquotedEtag(etag);
  return {
    ...task,
    ...(size !== undefined && { size }),
    ...(quoteless !== undefined && { etag: quoteless }),
    ...(versionId !== undefined && versionId !== '' && { versionId }),
  };
}
