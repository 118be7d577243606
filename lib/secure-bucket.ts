/**
 * The one way this app makes a bucket: private, encrypted, TLS-only, with server access logs and
 * lifecycle rules, so the log, quarantine and archive buckets cannot drift apart on security.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Options of {@link createSecureBucket}. */
export interface SecureBucketProps {
  /**
   * Where server access logs go; undefined only for the access-log bucket itself.
   * @default - no server access logs
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Prefix of this bucket's access logs in the access-log bucket. @default - the construct id */
  readonly serverAccessLogsPrefix?: string;
  /** @default false */
  readonly versioned?: boolean;
  /** Days before objects move to Standard-IA; 0 never. @default 0 */
  readonly infrequentAccessAfterDays?: number;
  /** Days before objects are deleted; 0 never. @default 0 */
  readonly expireAfterDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Needed by a bucket that receives S3 server access logs.
   * @default s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
   */
  readonly objectOwnership?: s3.ObjectOwnership;
}

/** A private, SSE-S3-encrypted, TLS-only bucket with the given lifecycle. */
export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps = {}): s3.Bucket {
  // S3 refuses a transition to Standard-IA earlier than 30 days.
  const infrequentAccessAfterDays =
    (props.infrequentAccessAfterDays ?? 0) > 0 ? Math.max(30, props.infrequentAccessAfterDays ?? 0) : 0;
  const expireAfterDays = props.expireAfterDays ?? 0;
  const transitions =
    infrequentAccessAfterDays > 0 && (expireAfterDays === 0 || infrequentAccessAfterDays < expireAfterDays)
      ? [
          {
            storageClass: s3.StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(infrequentAccessAfterDays),
          },
        ]
      : undefined;
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: props.objectOwnership ?? s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: props.versioned ?? false,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    ...(props.serverAccessLogsBucket !== undefined && {
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? `${id}/`,
    }),
    lifecycleRules: [
      {
        id: 'lifecycle',
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        ...(transitions !== undefined && { transitions }),
        ...(expireAfterDays > 0 && { expiration: Duration.days(expireAfterDays) }),
        ...((props.versioned ?? false) && { noncurrentVersionExpiration: Duration.days(30) }),
      },
    ],
  });
}
