/**
 * CloudWatch Logs → Firehose → S3: subscription filters feed a delivery stream whose processor
 * Lambda decodes the payloads and returns partition keys, so every log group lands under
 * `logs/<group>/<stream>/yyyy/mm/dd/hh/`.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
 */
import {
  Aws,
  Duration,
  type IResolvable,
  RemovalPolicy,
  Size,
  SizeRoundingBehavior,
  Tokenization,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DEFAULT_PROCESSOR_BUFFER_MIB,
  PROCESSOR_BUFFER_MIB_RANGE,
} from '../lambdas/firehose-processor/buffer-size';
import type { OutputFormat } from '../lambdas/firehose-processor/config';
import { PROCESSOR_MALLOC_ENVIRONMENT } from '../lambdas/firehose-processor/malloc-environment';
import { acknowledgeWildcards } from './nag-acknowledgements';
import { createNodeFunction } from './node-function';

/** Powertools service name of the processor (the `service` dimension of its metrics). */
export const FIREHOSE_PROCESSOR_SERVICE_NAME = 'firehose-processor';

/** The partition keys the processor returns, in the order of the S3 prefix. */
export const ARCHIVE_PREFIX =
  'logs/!{partitionKeyFromLambda:logGroup}/!{partitionKeyFromLambda:logStream}/' +
  '!{partitionKeyFromLambda:year}/!{partitionKeyFromLambda:month}/!{partitionKeyFromLambda:day}/' +
  '!{partitionKeyFromLambda:hour}/';

/** Failed records, by failure kind and arrival day. */
export const ARCHIVE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/';

/** What the processor writes: each message as it is, or JSON lines with the syslog fields. */
export type ArchiveOutputFormat = OutputFormat;

/** A log group to subscribe, with its CloudWatch Logs filter pattern ('' forwards every event). */
export interface SubscribedLogGroup {
  readonly name: string;
  readonly filterPattern: string;
}

/** Props of {@link FirehoseArchive}. */
export interface FirehoseArchiveProps {
  readonly destinationBucket: s3.IBucket;
  /** @default - none: other stacks may subscribe to the stream */
  readonly logGroups?: readonly SubscribedLogGroup[];
  /** Dynamic partitioning needs at least 64 MiB. @default Size.mebibytes(128) */
  readonly bufferSize?: Size;
  /** @default Duration.minutes(5) */
  readonly bufferInterval?: Duration;
  /**
   * The processor's input buffer, 0.2 to 3 MiB (fractions allowed); its decoded output must stay
   * under Lambda's 6 MB response limit.
   * @default - {@link DEFAULT_PROCESSOR_BUFFER_MIB} of the output format: 0.5 MiB raw, 0.2 MiB JSON
   */
  readonly processorBufferSize?: Size;
  /** @default Duration.minutes(1) */
  readonly processorBufferInterval?: Duration;
  /** The processor's `OUTPUT_FORMAT`: the log lines as they are, or JSON lines. @default 'raw' */
  readonly outputFormat?: ArchiveOutputFormat;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Of the log groups. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default 'lambdas/firehose-processor/handler.ts' */
  readonly entry?: string;
}

/** The delivery stream, its processor and the log group subscriptions. */
export class FirehoseArchive extends Construct {
  public readonly deliveryStream: firehose.DeliveryStream;
  public readonly processor: lambda.Function;
  /** Assumed by CloudWatch Logs to put records into this stream, and nothing else. */
  public readonly subscriptionRole: iam.Role;
  public readonly subscriptionFilters: logs.SubscriptionFilter[];

  constructor(scope: Construct, id: string, props: FirehoseArchiveProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const outputFormat = props.outputFormat ?? 'raw';
    const processorBufferMiB = processorBufferMiBOf(props.processorBufferSize, outputFormat);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // A name built from the stack name, not a reference: the processor's policy names the stream
    // while the stream names the processor, and references both ways would be circular.
    const deliveryStreamName = `${Aws.STACK_NAME}-logs-archive`;

    this.processor = createNodeFunction(this, 'Processor', {
      entry: props.entry ?? 'lambdas/firehose-processor/handler.ts',
      description: 'Decodes CloudWatch Logs records and returns Firehose partition keys',
      serviceName: FIREHOSE_PROCESSOR_SERVICE_NAME,
      memorySize: 1024,
      timeout: Duration.minutes(2),
      logRetention,
      logRemovalPolicy: removalPolicy,
      // glibc's malloc settings, so that a warm processor reuses the memory of earlier responses.
      environment: { OUTPUT_FORMAT: outputFormat, ...PROCESSOR_MALLOC_ENVIRONMENT },
    });
    firehose.DeliveryStream.fromDeliveryStreamName(this, 'Self', deliveryStreamName).grant(
      this.processor,
      'firehose:PutRecordBatch',
    );

    const deliveryLogGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: logRetention,
      removalPolicy,
    });
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(props.destinationBucket, {
        dataOutputPrefix: ARCHIVE_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        dynamicPartitioning: { enabled: true },
        bufferingSize: props.bufferSize ?? Size.mebibytes(128),
        bufferingInterval: props.bufferInterval ?? Duration.minutes(5),
        compression: firehose.Compression.GZIP,
        loggingConfig: new firehose.EnableLogging(deliveryLogGroup),
        processors: [
          new firehose.LambdaFunctionProcessor(this.processor, {
            // Whole MiB only here; the real size, fractions included, is set on the template below.
            bufferSize: Size.mebibytes(1),
            bufferInterval: props.processorBufferInterval ?? Duration.minutes(1),
            retries: 3,
          }),
        ],
      }),
    });

    overrideProcessorBufferSize(this.deliveryStream, processorBufferMiB);

    acknowledgeWildcards(
      this.deliveryStream,
      {
        resources: [props.destinationBucket.arnForObjects('*'), `${this.processor.functionArn}:*`],
        actions: ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'],
      },
      "The Firehose construct's destination role: read-write on the archive bucket only (Firehose writes objects " +
        'under dynamic prefixes and cleans up failed multipart uploads) and invoke on the processor and its versions',
    );

    this.subscriptionRole = new iam.Role(this, 'SubscriptionRole', {
      description: 'Lets CloudWatch Logs subscription filters put records into the archive stream',
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com').withConditions({
        StringLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
      }),
    });
    this.deliveryStream.grantPutRecords(this.subscriptionRole);
    const destination = new logsDestinations.FirehoseDestination(this.deliveryStream, {
      role: this.subscriptionRole,
    });
    this.subscriptionFilters = (props.logGroups ?? []).map(
      (group, index) =>
        new logs.SubscriptionFilter(this, `Subscription${index}`, {
          logGroup: logs.LogGroup.fromLogGroupName(this, `LogGroup${index}`, group.name),
          destination,
          filterPattern: logs.FilterPattern.literal(group.filterPattern),
        }),
    );
  }
}

/** The configured processor buffer in MiB, or the output format's default; refuses what Firehose would. */
function processorBufferMiBOf(size: Size | undefined, outputFormat: ArchiveOutputFormat): number {
  if (size === undefined) return DEFAULT_PROCESSOR_BUFFER_MIB[outputFormat];
  const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  const { min, max } = PROCESSOR_BUFFER_MIB_RANGE;
  if (!(mebibytes >= min && mebibytes <= max))
    throw new Error(`processorBufferSize must be ${min} to ${max} MiB, got ${mebibytes} MiB`);
  return mebibytes;
}

/**
 * Sets the Lambda processor's `BufferSizeInMBs` on the delivery stream's template. The L2
 * `LambdaFunctionProcessor` renders whole MiB only, where Firehose takes 0.2 to 3 MB, and the
 * sizes that keep a response under 6 MB are fractions; the parameter is found by name, so the
 * override follows the L2 if it ever reorders its parameters.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html
 */
function overrideProcessorBufferSize(deliveryStream: firehose.DeliveryStream, mebibytes: number): void {
  const cfn = deliveryStream.node.defaultChild as firehose.CfnDeliveryStream;
  const parameters = processorParametersOf(cfn);
  const index = parameters.findIndex((parameter) => parameter.parameterName === 'BufferSizeInMBs');
  if (index < 0) throw new Error('the delivery stream has no Lambda processor BufferSizeInMBs to set');
  cfn.addPropertyOverride(
    `ExtendedS3DestinationConfiguration.ProcessingConfiguration.Processors.0.Parameters.${index}.ParameterValue`,
    String(mebibytes),
  );
}

function processorParametersOf(
  cfn: firehose.CfnDeliveryStream,
): readonly firehose.CfnDeliveryStream.ProcessorParameterProperty[] {
  const destination = cfn.extendedS3DestinationConfiguration;
  const processing = isResolved(destination) ? destination.processingConfiguration : undefined;
  const processors = isResolved(processing) ? processing.processors : undefined;
  const first = Array.isArray(processors) ? processors[0] : undefined;
  const parameters = isResolved(first) ? first.parameters : undefined;
  return Array.isArray(parameters) ? parameters.filter(isResolved) : [];
}

/** True for a value the L2 wrote directly, not a token to resolve at synthesis. */
function isResolved<T extends object>(value: T | IResolvable | undefined): value is T {
  return value !== undefined && !Tokenization.isResolvable(value);
}
