/**
 * S3 → SQS → indexer: the log bucket announces new objects on an encrypted queue, and the indexer
 * Lambda streams them into the search cluster, quarantining what it cannot index.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { LogSource } from '../lambdas/core/log-sources';
import { acknowledgeWildcards } from './nag-acknowledgements';
import { createNodeFunction } from './node-function';
import type { KeyFilter } from './notification-filters';
import type { ISearchTarget } from './search-domain';

/** Powertools service name of the indexer (the `service` dimension of its metrics). */
export const INDEXER_SERVICE_NAME = 'log-indexer';

/** Lambda's advice: a visibility timeout of six times the function timeout, plus the batching window. */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Props of {@link LogIngestion}. */
export interface LogIngestionProps {
  /** The bucket the logs arrive in. */
  readonly logBucket: s3.IBucket;
  /** The indexer's `LOG_SOURCES`: which keys hold which format. */
  readonly logSources: readonly LogSource[];
  /**
   * The ObjectCreated notifications to subscribe, pairwise non-overlapping (see
   * `notificationFiltersFor`); the indexer may read every key they cover.
   */
  readonly notificationFilters: readonly KeyFilter[];
  /**
   * Extra key prefixes the indexer may read, for objects announced another way (CloudTrail's SNS topic).
   * @default - none
   */
  readonly extraReadablePrefixes?: readonly string[];
  readonly searchTarget: ISearchTarget;
  /** Where documents that cannot be indexed are written. */
  readonly quarantineBucket: s3.IBucket;
  /** @default 'quarantine/' */
  readonly quarantinePrefix?: string;
  /** @default 'logs' */
  readonly indexPrefix?: string;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default Duration.minutes(3) */
  readonly timeout?: Duration;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default Duration.seconds(5) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent invocations at most, so a slow cluster is not flooded. @default 5 */
  readonly maxConcurrency?: number;
  /** Messages of a batch indexed at once by one invocation (`MESSAGE_CONCURRENCY`). @default 4 */
  readonly messageConcurrency?: number;
  /** Deliveries of a message before it goes to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Of the queues and the log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default 'lambdas/indexer/handler.ts' */
  readonly entry?: string;
}

function uniqueReadablePrefixes(props: LogIngestionProps): string[] {
  const prefixes = [
    ...props.notificationFilters.map((filter) => filter.prefix),
    ...(props.extraReadablePrefixes ?? []),
  ];
  // A prefix that another prefix starts covers it already.
  return [...new Set(prefixes)].filter(
    (prefix, _, all) => !all.some((other) => other !== prefix && prefix.startsWith(other)),
  );
}

/** The log queue, its DLQ, the indexer and the bucket notifications that feed them. */
export class LogIngestion extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly indexer: lambda.Function;
  /** The indexer's SQS event source mapping: the kill switch pauses and resumes it. */
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: LogIngestionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(3);
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(5);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const quarantinePrefix = props.quarantinePrefix ?? 'quarantine/';

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    // SSE-SQS rather than KMS: S3 can publish to it without a key policy, and it costs nothing.
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(
        VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds() + maxBatchingWindow.toSeconds(),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy,
    });

    this.indexer = createNodeFunction(this, 'Indexer', {
      entry: props.entry ?? 'lambdas/indexer/handler.ts',
      description: 'Indexes S3 log objects announced on SQS into OpenSearch',
      serviceName: INDEXER_SERVICE_NAME,
      memorySize: props.memorySize ?? 1024,
      timeout,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      logRemovalPolicy: removalPolicy,
      environment: {
        OPENSEARCH_ENDPOINT: props.searchTarget.endpointUrl,
        OPENSEARCH_AUTH: props.searchTarget.auth,
        ...props.searchTarget.credentialsEnvironment,
        INDEX_PREFIX: props.indexPrefix ?? 'logs',
        LOG_SOURCES: JSON.stringify(props.logSources),
        QUARANTINE_BUCKET: props.quarantineBucket.bucketName,
        QUARANTINE_PREFIX: quarantinePrefix,
        CONTINUATION_QUEUE_URL: this.queue.queueUrl,
        MESSAGE_CONCURRENCY: String(props.messageConcurrency ?? 4),
      },
    });

    this.eventSource = new SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow,
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? 5,
    });
    this.indexer.addEventSource(this.eventSource);

    // Least privilege: read the announced prefixes only, write the quarantine prefix only, and
    // send continuations to the indexer's own queue.
    const readableObjects = uniqueReadablePrefixes(props).map((prefix) =>
      props.logBucket.arnForObjects(`${prefix}*`),
    );
    iam.Grant.addToPrincipal({
      grantee: this.indexer,
      actions: ['s3:GetObject'],
      resourceArns: readableObjects,
    });
    acknowledgeWildcards(
      this.indexer,
      { resources: readableObjects },
      'The indexer reads every object under the log source prefixes; keys are not known in advance',
    );
    const quarantineObjects = props.quarantineBucket.arnForObjects(`${quarantinePrefix}*`);
    props.quarantineBucket.grantPut(this.indexer, `${quarantinePrefix}*`);
    acknowledgeWildcards(
      this.indexer,
      { resources: [quarantineObjects], actions: ['s3:Abort*'] },
      'The indexer writes new quarantine objects (multipart uploads included) under the quarantine prefix only',
    );
    this.queue.grantSendMessages(this.indexer);
    props.searchTarget.grantIndexing(this.indexer);

    const destination = new s3n.SqsDestination(this.queue);
    for (const filter of props.notificationFilters) {
      const keyFilter: s3.NotificationKeyFilter = {
        ...(filter.prefix !== '' && { prefix: filter.prefix }),
        ...(filter.suffix !== '' && { suffix: filter.suffix }),
      };
      props.logBucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, keyFilter);
    }
  }
}
