/**
 * The "import existing" configuration: an existing log bucket, an existing OpenSearch endpoint
 * (SigV4, with its domain ARN), an imported quarantine bucket, and the Firehose archive into an
 * existing bucket. One synthesis serves every test of the file.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  joinedText,
  logicalIdOf,
  onlyResource,
  processorParametersOf,
  type SynthesizedPipeline,
  synthesize,
} from './synth';

const DOMAIN_ARN = 'arn:aws:es:eu-west-1:123456789012:domain/logs';
const ENDPOINT = 'https://search-logs-abc123.eu-west-1.es.amazonaws.com';

let synthesized: SynthesizedPipeline;
let template: Template;

beforeAll(() => {
  // Prepare / Act: what a user passes with -c
  synthesized = synthesize({
    'logPipeline.logBucket': '{"mode":"import","bucketName":"my-existing-logs"}',
    'logPipeline.quarantineBucketName': 'my-quarantine',
    'logPipeline.openSearch': JSON.stringify({ mode: 'existing', endpoint: ENDPOINT, domainArn: DOMAIN_ARN }),
    'logPipeline.firehose': JSON.stringify({
      enabled: true,
      logGroups: [
        { name: '/aws/lambda/orders', filterPattern: '' },
        { name: '/ec2/syslog', filterPattern: '?ERROR ?WARN' },
      ],
      destination: { mode: 'import', bucketName: 'my-archive' },
    }),
    'logPipeline.alarmEmail': 'ops@example.com',
  });
  template = synthesized.template;
});

function functionOf(serviceName: string) {
  return onlyResource(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: serviceName }) },
  });
}

function policyStatementsOf(serviceName: string): { Action: string | string[]; Resource: unknown }[] {
  const roleId = functionOf(serviceName).Properties.Role['Fn::GetAtt'][0];
  return onlyResource(template, 'AWS::IAM::Policy', { Roles: [{ Ref: roleId }] }).Properties.PolicyDocument
    .Statement;
}

describe('cdk-nag', () => {
  it('leaves no AwsSolutions finding unacknowledged', () => {
    expect(synthesized.nagFindings).toEqual([]);
  });
});

describe('imported buckets', () => {
  it('creates no bucket at all, not even for access logs', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('adds the notifications to the existing bucket without replacing its other notifications', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'my-existing-logs',
      Managed: false,
      NotificationConfiguration: {
        QueueConfigurations: Match.arrayWith([
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'AWSLogs/' }] } },
          }),
        ]),
      },
    });
  });

  it('lets the indexer read the existing bucket and write the existing quarantine bucket', () => {
    const statements = policyStatementsOf('log-indexer');
    const resourcesOf = (action: string) =>
      statements
        .filter((statement) => [statement.Action].flat().includes(action))
        .flatMap((statement) => [statement.Resource].flat().map(joinedText));

    expect(resourcesOf('s3:GetObject')).toEqual([
      'arn:<AWS::Partition>:s3:::my-existing-logs/AWSLogs/*',
      'arn:<AWS::Partition>:s3:::my-existing-logs/cloudfront/*',
    ]);
    expect(resourcesOf('s3:PutObject')).toEqual(['arn:<AWS::Partition>:s3:::my-quarantine/quarantine/*']);
    const variables = functionOf('log-indexer').Properties.Environment.Variables;
    expect(variables.QUARANTINE_BUCKET).toBe('my-quarantine');
  });
});

describe('existing OpenSearch endpoint', () => {
  it('creates no domain and points the indexer at the endpoint with SigV4', () => {
    template.resourceCountIs('AWS::OpenSearchService::Domain', 0);
    expect(functionOf('log-indexer').Properties.Environment.Variables).toMatchObject({
      OPENSEARCH_ENDPOINT: ENDPOINT,
      OPENSEARCH_AUTH: 'sigv4',
    });
  });

  it('grants the indexing HTTP actions on that domain only', () => {
    const esStatements = policyStatementsOf('log-indexer').filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('es:')),
    );

    expect(esStatements).toEqual([
      expect.objectContaining({
        Action: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
        Resource: `${DOMAIN_ARN}/*`,
      }),
    ]);
  });

  it('prints the role mapping and the access policy statement the user must add', () => {
    const outputs = template.findOutputs('*');
    const roleId = functionOf('log-indexer').Properties.Role['Fn::GetAtt'][0];

    expect(joinedText(outputs.OpenSearchRoleMapping?.Value)).toBe(
      `PUT _plugins/_security/api/rolesmapping/log_pipeline_writer {"backend_roles":["<${roleId}.Arn>"]}`,
    );
    expect(JSON.parse(joinedText(outputs.OpenSearchAccessPolicyStatement?.Value))).toEqual({
      Effect: 'Allow',
      Principal: { AWS: `<${roleId}.Arn>` },
      Action: ['es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpGet'],
      Resource: `${DOMAIN_ARN}/*`,
    });
  });

  it('watches the existing domain for red status, blocked writes and low storage', () => {
    for (const metricName of ['ClusterStatus.red', 'ClusterIndexWritesBlocked', 'FreeStorageSpace']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: 'AWS/ES',
        Dimensions: Match.arrayWith([{ Name: 'DomainName', Value: 'logs' }]),
      });
    }
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });
});

describe('Firehose archive', () => {
  it('partitions by the processor keys into the existing bucket, with an error prefix, gzip and encryption', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-archive']] },
        Prefix:
          'logs/!{partitionKeyFromLambda:logGroup}/!{partitionKeyFromLambda:logStream}/!{partitionKeyFromLambda:year}/!{partitionKeyFromLambda:month}/!{partitionKeyFromLambda:day}/!{partitionKeyFromLambda:hour}/',
        ErrorOutputPrefix: Match.stringLikeRegexp('!\\{firehose:error-output-type\\}'),
        DynamicPartitioningConfiguration: { Enabled: true },
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 },
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      }),
    });
  });

  it('calls the processor with the raw output default buffer, 0.5 MiB', () => {
    const processorId = logicalIdOf(template, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'firehose-processor' }) },
    });
    const processors = onlyResource(template, 'AWS::KinesisFirehose::DeliveryStream').Properties
      .ExtendedS3DestinationConfiguration.ProcessingConfiguration.Processors;
    const parameters = processorParametersOf(template);

    expect(processors).toHaveLength(1);
    expect(processors[0].Type).toBe('Lambda');
    expect(parameters.LambdaArn).toEqual({ 'Fn::GetAtt': [processorId, 'Arn'] });
    expect(parameters.BufferSizeInMBs).toBe('0.5');
  });

  it('runs the processor for at least a minute with the configured output format', () => {
    const processor = functionOf('firehose-processor').Properties;

    expect(processor.Timeout).toBeGreaterThanOrEqual(60);
    expect(processor).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(processor.Environment.Variables).toMatchObject({
      OUTPUT_FORMAT: 'raw',
      POWERTOOLS_METRICS_NAMESPACE: 'AwsLogPipeline',
      // glibc keeps freed memory for the next batch (malloc-environment.ts).
      MALLOC_MMAP_THRESHOLD_: '33554432',
      MALLOC_TRIM_THRESHOLD_: '536870912',
    });
  });

  it('lets the processor PutRecordBatch into its own stream and nothing else', () => {
    const streamName = joinedText(
      onlyResource(template, 'AWS::KinesisFirehose::DeliveryStream').Properties.DeliveryStreamName,
    );

    expect(policyStatementsOf('firehose-processor')).toEqual([
      {
        Effect: 'Allow',
        Action: 'firehose:PutRecordBatch',
        Resource: expect.anything(),
      },
    ]);
    expect(joinedText(policyStatementsOf('firehose-processor')[0]?.Resource)).toBe(
      `arn:<AWS::Partition>:firehose:eu-west-1:123456789012:deliverystream/${streamName}`,
    );
  });

  it('subscribes each log group with its filter pattern through a role limited to this stream', () => {
    const streamId = logicalIdOf(template, 'AWS::KinesisFirehose::DeliveryStream');
    const filters = Object.values(template.findResources('AWS::Logs::SubscriptionFilter')).map(
      (resource) => resource.Properties,
    );
    const roleId = filters[0]?.RoleArn['Fn::GetAtt'][0];

    expect(filters.map((filter) => [filter.LogGroupName, filter.FilterPattern])).toEqual([
      ['/aws/lambda/orders', ''],
      ['/ec2/syslog', '?ERROR ?WARN'],
    ]);
    for (const filter of filters) expect(filter.DestinationArn).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'logs.amazonaws.com' },
            Condition: { StringLike: Match.anyValue() },
          }),
        ],
      },
    });
    expect(
      onlyResource(template, 'AWS::IAM::Policy', { Roles: [{ Ref: roleId }] }).Properties.PolicyDocument
        .Statement,
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      },
    ]);
  });

  it('alarms on processor failures and on the partition limit', () => {
    for (const [metricName, namespace] of [
      ['ProcessingFailed', 'AwsLogPipeline'],
      ['ReingestFailed', 'AwsLogPipeline'],
      ['ExecuteProcessing.Success', 'AWS/Firehose'],
      ['PartitionCountExceeded', 'AWS/Firehose'],
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: namespace,
      });
    }
  });

  it('outputs the delivery stream name', () => {
    expect(Object.keys(template.findOutputs('*'))).toContain('DeliveryStreamName');
  });
});

describe('alarm e-mail', () => {
  it('subscribes the address to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});
