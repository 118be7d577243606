/**
 * Alarms and the dashboard: queue backlog and DLQ, indexer errors and throttles, Firehose processing
 * failures and partition limits, cluster health and storage, and the documents the handlers count
 * with Powertools metrics.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FIREHOSE_PROCESSOR_SERVICE_NAME } from './firehose-archive';
import { INDEXER_SERVICE_NAME } from './log-ingestion';
import { METRICS_NAMESPACE } from './node-function';

/** Metric names the indexer emits (namespace {@link METRICS_NAMESPACE}, dimension `service`). */
export const INDEXER_METRICS = ['DocumentsIndexed', 'DocumentsQuarantined', 'ObjectsProcessed'] as const;

/** Metric names the Firehose processor emits (namespace {@link METRICS_NAMESPACE}, dimension `service`). */
export const PROCESSOR_METRICS = [
  'RecordsProcessed',
  'RecordsReingested',
  'ProcessingFailed',
  'ReingestFailed',
] as const;

/** Props of {@link Observability}. */
export interface ObservabilityProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly indexer: lambda.IFunction;
  /** @default - no Firehose alarms or widgets */
  readonly archive?: {
    readonly deliveryStream: firehose.IDeliveryStream;
    readonly processor: lambda.IFunction;
  };
  /**
   * The search domain: its health drives {@link Observability.indexingBlockedAlarm}.
   * @default - no cluster alarms and no kill switch
   */
  readonly searchDomain?: opensearch.IDomain;
  /** Free storage per node (MiB) at or below which indexing must stop. @default 10240 */
  readonly freeStorageAlarmMiB?: number;
  /** @default - alarms notify the topic without a subscriber */
  readonly alarmEmail?: string;
  /** Age of the oldest queued message that counts as a backlog. @default Duration.minutes(30) */
  readonly backlogAge?: Duration;
}

function powertoolsMetric(service: string, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
  });
}

/** The alarm topic, the alarms and the dashboard. */
export class Observability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * In ALARM while the cluster is red, blocks writes or runs out of storage: the kill switch pauses
   * indexing on it. Undefined without a known domain.
   */
  public readonly indexingBlockedAlarm?: cloudwatch.CompositeAlarm;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Log pipeline alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (alarmId: string, description: string, options: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };

    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'DeadLetterQueueNotEmpty',
      'Messages the indexer gave up on: inspect, then redrive (docs/deploy.md)',
      {
        metric: deadLetters,
        ...atLeastOne,
      },
    );
    const oldestMessageAge = props.queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm('QueueBacklog', 'The log queue is not drained: indexer paused, throttled or failing', {
      metric: oldestMessageAge,
      threshold: (props.backlogAge ?? Duration.minutes(30)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const indexerErrors = props.indexer.metricErrors({ period: Duration.minutes(5) });
    alarm('IndexerErrors', 'Indexer invocations failed as a whole', { metric: indexerErrors, ...atLeastOne });
    const indexerThrottles = props.indexer.metricThrottles({ period: Duration.minutes(5) });
    alarm('IndexerThrottles', 'Indexer invocations were throttled', {
      metric: indexerThrottles,
      ...atLeastOne,
    });

    const widgets: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.GraphWidget({
          title: 'Documents',
          left: INDEXER_METRICS.map((name) => powertoolsMetric(INDEXER_SERVICE_NAME, name)),
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Queue',
          left: [props.queue.metricApproximateNumberOfMessagesVisible(), deadLetters],
          right: [oldestMessageAge],
          width: 12,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Indexer',
          left: [props.indexer.metricInvocations(), indexerErrors, indexerThrottles],
          right: [props.indexer.metricDuration({ statistic: cloudwatch.Stats.p(99) })],
          width: 24,
        }),
      ],
    ];

    if (props.archive !== undefined) {
      const { deliveryStream, processor } = props.archive;
      const processingFailed = powertoolsMetric(FIREHOSE_PROCESSOR_SERVICE_NAME, 'ProcessingFailed');
      alarm('ProcessorFailures', 'The Firehose processor could not process records', {
        metric: processingFailed,
        ...atLeastOne,
      });
      alarm('ReingestFailures', 'The Firehose processor could not re-ingest records into its stream', {
        metric: powertoolsMetric(FIREHOSE_PROCESSOR_SERVICE_NAME, 'ReingestFailed'),
        ...atLeastOne,
      });
      const processingSuccess = deliveryStream.metric('ExecuteProcessing.Success', {
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MINIMUM,
      });
      alarm('ProcessorInvocationFailures', 'Firehose failed to invoke the processor', {
        metric: processingSuccess,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      });
      const partitionCountExceeded = deliveryStream.metric('PartitionCountExceeded', {
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      });
      alarm('PartitionLimitExceeded', 'Too many active partitions: records go to the error prefix', {
        metric: partitionCountExceeded,
        ...atLeastOne,
      });
      widgets.push([
        new cloudwatch.GraphWidget({
          title: 'Firehose processor',
          left: PROCESSOR_METRICS.map((name) => powertoolsMetric(FIREHOSE_PROCESSOR_SERVICE_NAME, name)),
          right: [processor.metricErrors(), processor.metricThrottles()],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Firehose delivery',
          left: [deliveryStream.metricIncomingRecords(), deliveryStream.metric('PartitionCount')],
          right: [processingSuccess, partitionCountExceeded],
          width: 12,
        }),
      ]);
    }

    if (props.searchDomain !== undefined) {
      const domain = props.searchDomain;
      const red = alarm('ClusterRed', 'The search cluster is red: indexing is paused', {
        metric: domain.metricClusterStatusRed({ period: Duration.minutes(1) }),
        ...atLeastOne,
      });
      const writesBlocked = alarm(
        'ClusterWritesBlocked',
        'The search cluster blocks writes: indexing is paused',
        {
          metric: domain.metricClusterIndexWritesBlocked({ period: Duration.minutes(1) }),
          ...atLeastOne,
        },
      );
      const freeStorage = domain.metricFreeStorageSpace({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MINIMUM,
      });
      const lowStorage = alarm(
        'ClusterLowStorage',
        'The search cluster runs out of storage: indexing is paused',
        {
          metric: freeStorage,
          threshold: props.freeStorageAlarmMiB ?? 10_240,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      );
      this.indexingBlockedAlarm = new cloudwatch.CompositeAlarm(this, 'IndexingBlocked', {
        alarmDescription: 'The cluster cannot take writes; the kill switch pauses the indexer until it is OK',
        alarmRule: cloudwatch.AlarmRule.anyOf(red, writesBlocked, lowStorage),
      });
      widgets.push([
        new cloudwatch.GraphWidget({
          title: 'Search cluster',
          left: [
            domain.metricClusterStatusRed(),
            domain.metricClusterStatusYellow(),
            domain.metricClusterIndexWritesBlocked(),
          ],
          right: [freeStorage],
          width: 24,
        }),
      ]);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { widgets });
  }
}
