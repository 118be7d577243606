/**
 * The whole pipeline as one stack, composed from the validated configuration: the log bucket and
 * its notifications, the indexer, the search cluster, the optional CloudTrail trail and Firehose
 * archive, the alarms, the dashboard and the kill switch.
 */
import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { CloudTrailSource } from './cloudtrail-source';
import { indexerLogSources, notifiedLogSources, type PipelineConfig } from './config';
import { FirehoseArchive } from './firehose-archive';
import { IndexingKillSwitch } from './kill-switch';
import { LogIngestion } from './log-ingestion';
import { acknowledgeNagRule } from './nag-acknowledgements';
import { notificationFiltersFor } from './notification-filters';
import { Observability } from './observability';
import { ExistingSearchEndpoint, INDEXING_ACTIONS, type ISearchTarget, SearchDomain } from './search-domain';
import { createSecureBucket } from './secure-bucket';

/** Props of {@link LogPipelineStack}. */
export interface LogPipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
}

/** Every retention in days CloudWatch Logs accepts, to round a configured number up to one. */
const RETENTION_DAYS = Object.values(logs.RetentionDays)
  .filter((value): value is logs.RetentionDays => typeof value === 'number' && value > 0)
  .sort((a, b) => a - b);

/** The shortest retention CloudWatch Logs offers that keeps logs at least `days`. */
export function retentionOf(days: number): logs.RetentionDays {
  return RETENTION_DAYS.find((retention) => retention >= days) ?? logs.RetentionDays.INFINITE;
}

/** The S3 → SQS → OpenSearch pipeline, the CloudWatch Logs archive and their monitoring. */
export class LogPipelineStack extends Stack {
  public readonly logBucket: s3.IBucket;
  public readonly ingestion: LogIngestion;
  public readonly searchTarget: ISearchTarget;
  public readonly archive?: FirehoseArchive;
  public readonly cloudTrail?: CloudTrailSource;
  public readonly observability: Observability;
  public readonly killSwitch?: IndexingKillSwitch;

  constructor(scope: Construct, id: string, props: LogPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const indexerLogRetention = retentionOf(config.indexer.logRetentionDays);

    // Created on first use: a stack that imports every bucket has no access logs to keep.
    let accessLogsBucket: s3.Bucket | undefined;
    const serverAccessLogsBucket = () => {
      accessLogsBucket ??= createSecureBucket(this, 'AccessLogsBucket', {
        expireAfterDays: 90,
        removalPolicy,
      });
      return accessLogsBucket;
    };
    this.logBucket =
      config.logBucket.mode === 'create'
        ? createSecureBucket(this, 'LogBucket', {
            versioned: config.logBucket.versioned,
            infrequentAccessAfterDays: config.logBucket.infrequentAccessAfterDays,
            expireAfterDays: config.logBucket.expireAfterDays,
            serverAccessLogsBucket: serverAccessLogsBucket(),
            removalPolicy,
          })
        : s3.Bucket.fromBucketName(this, 'LogBucket', config.logBucket.bucketName);
    const quarantineBucket =
      config.quarantineBucketName !== undefined
        ? s3.Bucket.fromBucketName(this, 'QuarantineBucket', config.quarantineBucketName)
        : createSecureBucket(this, 'QuarantineBucket', {
            expireAfterDays: 90,
            serverAccessLogsBucket: serverAccessLogsBucket(),
            removalPolicy,
          });

    this.searchTarget = this.createSearchTarget(config, removalPolicy);

    const trailPrefix = `${config.cloudTrail.s3KeyPrefix}/AWSLogs/`;
    const trailUsesSns = config.cloudTrail.enabled && config.cloudTrail.notification === 'sns';
    this.ingestion = new LogIngestion(this, 'Ingestion', {
      logBucket: this.logBucket,
      logSources: indexerLogSources(config),
      notificationFilters: notificationFiltersFor(notifiedLogSources(config)),
      ...(trailUsesSns && { extraReadablePrefixes: [trailPrefix] }),
      searchTarget: this.searchTarget,
      quarantineBucket,
      quarantinePrefix: config.indexer.quarantinePrefix,
      indexPrefix: config.indexer.indexPrefix,
      memorySize: config.indexer.memoryMiB,
      timeout: Duration.seconds(config.indexer.timeoutSeconds),
      batchSize: config.indexer.batchSize,
      maxBatchingWindow: Duration.seconds(config.indexer.maxBatchingWindowSeconds),
      maxConcurrency: config.indexer.maxConcurrency,
      messageConcurrency: config.indexer.messageConcurrency,
      logRetention: indexerLogRetention,
      removalPolicy,
    });

    if (config.cloudTrail.enabled) {
      this.cloudTrail = new CloudTrailSource(this, 'CloudTrail', {
        logBucket: this.logBucket,
        s3KeyPrefix: config.cloudTrail.s3KeyPrefix,
        multiRegion: config.cloudTrail.multiRegion,
        ...(trailUsesSns && { notificationQueue: this.ingestion.queue }),
      });
    }

    if (config.firehose.enabled) {
      const destination = config.firehose.destination;
      const archiveBucket =
        destination.mode === 'import'
          ? s3.Bucket.fromBucketName(this, 'ArchiveBucket', destination.bucketName)
          : createSecureBucket(this, 'ArchiveBucket', {
              infrequentAccessAfterDays: destination.infrequentAccessAfterDays,
              expireAfterDays: destination.expireAfterDays,
              serverAccessLogsBucket: serverAccessLogsBucket(),
              removalPolicy,
            });
      this.archive = new FirehoseArchive(this, 'Archive', {
        destinationBucket: archiveBucket,
        logGroups: config.firehose.logGroups,
        bufferSize: Size.mebibytes(config.firehose.bufferSizeMiB),
        bufferInterval: Duration.seconds(config.firehose.bufferIntervalSeconds),
        processorBufferSize:
          config.firehose.processorBufferSizeMiB === undefined
            ? undefined
            : Size.mebibytes(config.firehose.processorBufferSizeMiB),
        processorBufferInterval: Duration.seconds(config.firehose.processorBufferIntervalSeconds),
        outputFormat: config.firehose.outputFormat,
        logRetention: retentionOf(config.firehose.logRetentionDays),
        removalPolicy,
      });
      acknowledgeNagRule(
        this,
        'CloudFormation-Validate::W7001',
        "The Firehose construct always adds the mapping of Firehose's CIDR blocks; an S3 destination never reads it",
      );
    }

    this.observability = new Observability(this, 'Observability', {
      queue: this.ingestion.queue,
      deadLetterQueue: this.ingestion.deadLetterQueue,
      indexer: this.ingestion.indexer,
      ...(this.archive !== undefined && {
        archive: { deliveryStream: this.archive.deliveryStream, processor: this.archive.processor },
      }),
      ...(this.searchTarget.domain !== undefined && { searchDomain: this.searchTarget.domain }),
      freeStorageAlarmMiB: this.searchTarget.freeStorageAlarmMiB,
      ...(config.alarmEmail !== undefined && { alarmEmail: config.alarmEmail }),
    });
    if (this.observability.indexingBlockedAlarm !== undefined) {
      this.killSwitch = new IndexingKillSwitch(this, 'KillSwitch', {
        eventSource: this.ingestion.eventSource,
        blockingAlarm: this.observability.indexingBlockedAlarm,
        logRetention: indexerLogRetention,
        removalPolicy,
      });
    }

    this.addOutputs(config);
    this.acknowledgeBucketNotificationsHandler();
  }

  /** The singleton function CDK adds to manage bucket notifications is not ours to shape. */
  private acknowledgeBucketNotificationsHandler(): void {
    const handler = this.node.children.find((child) =>
      child.node.id.startsWith('BucketNotificationsHandler'),
    );
    if (handler === undefined) return;
    acknowledgeNagRule(
      handler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's bucket-notifications custom resource needs only CloudWatch Logs writes from this managed policy",
    );
  }

  private createSearchTarget(config: PipelineConfig, removalPolicy: RemovalPolicy): ISearchTarget {
    const search = config.openSearch;
    if (search.mode === 'existing') {
      return new ExistingSearchEndpoint(this, 'Search', {
        endpointUrl: search.endpoint,
        auth: search.auth,
        ...(search.domainArn !== undefined && { domainArn: search.domainArn }),
        ...(search.basicAuthSecretName !== undefined && { basicAuthSecretName: search.basicAuthSecretName }),
        freeStorageAlarmMiB: search.freeStorageAlarmMiB,
      });
    }
    return new SearchDomain(this, 'Search', {
      domainName: search.domainName,
      engineVersion: opensearch.EngineVersion.openSearch(search.engineVersion),
      instanceType: search.instanceType,
      instanceCount: search.instanceCount,
      volumeSize: Size.gibibytes(search.ebsVolumeSizeGiB),
      ...(search.adminPrincipalArn !== undefined && { adminPrincipalArn: search.adminPrincipalArn }),
      ...(search.fineGrainedAccessControl.enabled &&
        search.fineGrainedAccessControl.masterUserArn !== undefined && {
          fineGrainedMasterUserArn: search.fineGrainedAccessControl.masterUserArn,
        }),
      ...(search.freeStorageAlarmMiB !== undefined && { freeStorageAlarmMiB: search.freeStorageAlarmMiB }),
      logRetention: retentionOf(config.indexer.logRetentionDays),
      removalPolicy,
    });
  }

  private addOutputs(config: PipelineConfig): void {
    const indexerRoleArn = this.ingestion.indexer.role?.roleArn ?? '';
    new CfnOutput(this, 'LogBucketName', { value: this.logBucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.ingestion.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.ingestion.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.ingestion.deadLetterQueue.queueArn });
    new CfnOutput(this, 'SearchEndpoint', { value: this.searchTarget.endpointUrl });
    new CfnOutput(this, 'IndexerRoleArn', { value: indexerRoleArn });
    if (this.archive !== undefined) {
      new CfnOutput(this, 'DeliveryStreamName', { value: this.archive.deliveryStream.deliveryStreamName });
    }
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.observability.dashboard.dashboardName}`,
    });
    const search = config.openSearch;
    const needsRoleMapping =
      (search.mode === 'create' && search.fineGrainedAccessControl.enabled) ||
      (search.mode === 'existing' && search.auth === 'sigv4');
    if (needsRoleMapping) {
      new CfnOutput(this, 'OpenSearchRoleMapping', {
        description:
          'Map the indexer role to an OpenSearch role that may write the log indices (docs/deploy.md)',
        value: `PUT _plugins/_security/api/rolesmapping/log_pipeline_writer {"backend_roles":["${indexerRoleArn}"]}`,
      });
    }
    if (search.mode === 'existing' && search.auth === 'sigv4' && search.domainArn !== undefined) {
      new CfnOutput(this, 'OpenSearchAccessPolicyStatement', {
        description: "Add to the existing domain's access policy unless it already allows this role",
        value: this.toJsonString({
          Effect: 'Allow',
          Principal: { AWS: indexerRoleArn },
          Action: INDEXING_ACTIONS,
          Resource: `${search.domainArn}/*`,
        }),
      });
    }
  }
}
