/**
 * The default ("create") configuration from cdk.json: a new log bucket, a new OpenSearch domain,
 * no Firehose archive and no trail. One synthesis serves every test of the file.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { type LogSource, LogSourcesSchema } from '../../lambdas/core/log-sources';
import {
  cdkJsonContext,
  type FoundResource,
  joinedText,
  logicalIdOf,
  onlyResource,
  type SynthesizedPipeline,
  synthesize,
} from './synth';

let synthesized: SynthesizedPipeline;
let template: Template;
let configuredSources: LogSource[];

beforeAll(() => {
  // Prepare / Act
  synthesized = synthesize();
  template = synthesized.template;
  const pipelineContext = cdkJsonContext().logPipeline as { logSources: unknown };
  configuredSources = LogSourcesSchema.parse(pipelineContext.logSources);
});

function logicalId(type: string, properties: Record<string, unknown> = {}): string {
  return logicalIdOf(template, type, properties);
}

function indexerFunction(): FoundResource {
  return onlyResource(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'log-indexer' }) },
  });
}

function indexerRoleId(): string {
  return indexerFunction().Properties.Role['Fn::GetAtt'][0];
}

function indexerPolicyStatements(): { Action: string | string[]; Resource: unknown }[] {
  return onlyResource(template, 'AWS::IAM::Policy', { Roles: [{ Ref: indexerRoleId() }] }).Properties
    .PolicyDocument.Statement;
}

describe('cdk-nag', () => {
  it('leaves no AwsSolutions finding unacknowledged', () => {
    // Assess
    expect(synthesized.nagFindings).toEqual([]);
  });
});

describe('log bucket', () => {
  it('blocks public access, encrypts, enforces TLS and keeps server access logs', () => {
    const logBucketId = logicalId('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'LogBucket/' },
    });

    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'LogBucket/' },
      }),
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('moves objects to Standard-IA after 30 days and expires them after 365', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.anyValue(),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: 365,
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ],
      },
    });
  });

  it('announces ObjectCreated on the queue with one non-overlapping filter per source prefix', () => {
    // The three configured sources share two prefixes: S3 would reject overlapping filters.
    const prefixes = [...new Set(configuredSources.map((source) => source.prefix))].sort();
    const queueId = logicalId('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });

    const notifications = onlyResource(template, 'Custom::S3BucketNotifications');

    const configurations = (
      notifications.Properties.NotificationConfiguration as {
        QueueConfigurations: {
          Events: string[];
          Filter: { Key: { FilterRules: unknown[] } };
          QueueArn: unknown;
        }[];
      }
    ).QueueConfigurations;
    expect(
      configurations
        .map((c) => c.Filter.Key.FilterRules)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(prefixes.map((prefix) => [{ Name: 'prefix', Value: prefix }]));
    for (const configuration of configurations) {
      expect(configuration.Events).toEqual(['s3:ObjectCreated:*']);
      expect(configuration.QueueArn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    }
  });
});

describe('queues', () => {
  it('encrypts both queues with SSE-SQS, which S3 can publish to', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('enforces TLS on both queues', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  it('sets visibility to at least six times the indexer timeout and a DLQ after 5 receives', () => {
    const queue = template.findResources('AWS::SQS::Queue', {
      Properties: { RedrivePolicy: Match.anyValue() },
    });
    const [properties] = Object.values(queue).map((resource) => resource.Properties);
    const indexer = indexerFunction().Properties;

    expect(properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (indexer.Timeout as number));
    expect(properties.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it('keeps dead letters longer than the queue keeps messages', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue')).map(
      (resource) => resource.Properties,
    );
    const main = queues.find((queue) => queue.RedrivePolicy !== undefined);
    const deadLetter = queues.find((queue) => queue.RedrivePolicy === undefined);

    expect(deadLetter.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(deadLetter.MessageRetentionPeriod).toBeGreaterThan(main.MessageRetentionPeriod);
  });

  it('lets only S3 from the log bucket send notifications to the queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('indexer', () => {
  it('runs Node.js 22 on arm64 with the configured memory and timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 180,
      Handler: 'index.handler',
    });
  });

  it('receives the environment the indexer reads', () => {
    const queueId = logicalId('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const variables = (
      indexerFunction().Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

    expect(variables).toMatchObject({
      OPENSEARCH_AUTH: 'sigv4',
      INDEX_PREFIX: 'logs',
      QUARANTINE_PREFIX: 'quarantine/',
      CONTINUATION_QUEUE_URL: { Ref: queueId },
      MESSAGE_CONCURRENCY: '4',
      POWERTOOLS_SERVICE_NAME: 'log-indexer',
      POWERTOOLS_METRICS_NAMESPACE: 'AwsLogPipeline',
    });
    expect(variables.OPENSEARCH_ENDPOINT).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [logicalId('AWS::OpenSearchService::Domain'), 'DomainEndpoint'] }],
      ],
    });
    expect(LogSourcesSchema.parse(JSON.parse(variables.LOG_SOURCES as string))).toEqual(configuredSources);
  });

  it('consumes the queue with ReportBatchItemFailures, a batching window and a concurrency cap', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('writes its logs to its own log group with retention', () => {
    const loggingConfig = indexerFunction().Properties.LoggingConfig as {
      LogGroup: { Ref: string };
      LogFormat: string;
    };
    const logGroup = template.toJSON().Resources[loggingConfig.LogGroup.Ref];

    expect(loggingConfig.LogFormat).toBe('JSON');
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it('may read only the announced prefixes, write only the quarantine prefix, and index only its domain', () => {
    const logBucketId = logicalId('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'LogBucket/' },
    });
    const quarantineId = logicalId('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'QuarantineBucket/' },
    });
    const prefixes = [...new Set(configuredSources.map((source) => source.prefix))].sort();
    const statements = indexerPolicyStatements();
    const byAction = (action: string) =>
      statements.filter((statement) => [statement.Action].flat().includes(action));

    expect(byAction('s3:GetObject')).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: prefixes.map((prefix) => ({
          'Fn::Join': ['', [{ 'Fn::GetAtt': [logBucketId, 'Arn'] }, `/${prefix}*`]],
        })),
      },
    ]);
    expect(byAction('s3:PutObject')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [quarantineId, 'Arn'] }, '/quarantine/*']] },
      }),
    ]);
    expect(byAction('es:ESHttpPost')).toEqual([
      expect.objectContaining({ Action: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'] }),
    ]);
    expect(JSON.stringify(byAction('es:ESHttpPost')[0]?.Resource)).toContain(':domain/log-pipeline/*');
    expect(byAction('sqs:SendMessage')).toHaveLength(1);
    expect(statements.flatMap((statement) => [statement.Action].flat())).not.toContain('s3:*');
  });
});

describe('OpenSearch domain', () => {
  it('encrypts at rest and between nodes, and accepts only HTTPS with TLS 1.2', () => {
    template.hasResourceProperties('AWS::OpenSearchService::Domain', {
      DomainName: 'log-pipeline',
      EngineVersion: 'OpenSearch_2.19',
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
      ClusterConfig: Match.objectLike({
        InstanceCount: 1,
        InstanceType: 'r7g.large.search',
        ZoneAwarenessEnabled: false,
      }),
      EBSOptions: { EBSEnabled: true, VolumeSize: 100, VolumeType: 'gp3' },
    });
  });

  it('admits only the indexer role in its access policy', () => {
    const roleId = indexerRoleId();
    const statements = (
      onlyResource(template, 'AWS::OpenSearchService::Domain').Properties.AccessPolicies as {
        Statement: { Principal: unknown; Action: unknown }[];
      }
    ).Statement;

    expect(statements).toHaveLength(1);
    expect(statements[0]?.Principal).toEqual({ AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    expect(statements[0]?.Action).toEqual(['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut']);
  });

  it('publishes slow and application logs', () => {
    template.hasResourceProperties('AWS::OpenSearchService::Domain', {
      LogPublishingOptions: {
        SEARCH_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        INDEX_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        ES_APPLICATION_LOGS: Match.objectLike({ Enabled: true }),
      },
    });
  });
});

describe('alarms and dashboard', () => {
  const alarmOn = (metricName: string) =>
    Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }),
    ).map((resource) => resource.Properties);

  it.each([
    ['ApproximateNumberOfMessagesVisible', 'AWS/SQS', 1],
    ['ApproximateAgeOfOldestMessage', 'AWS/SQS', 1800],
    ['Errors', 'AWS/Lambda', 1],
    ['Throttles', 'AWS/Lambda', 1],
    ['ClusterStatus.red', 'AWS/ES', 1],
    ['ClusterIndexWritesBlocked', 'AWS/ES', 1],
  ])('alarms on %s (%s) at %d and notifies the alarm topic', (metricName, namespace, threshold) => {
    const topicId = logicalId('AWS::SNS::Topic');
    const [alarm] = alarmOn(metricName);

    expect(alarm).toMatchObject({
      Namespace: namespace,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms when free storage falls to 20% of the volume (MiB)', () => {
    const [alarm] = alarmOn('FreeStorageSpace');

    expect(alarm).toMatchObject({
      Threshold: 100 * 1024 * 0.2,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
    });
  });

  it('combines red, writes blocked and low storage into the alarm that stops indexing', () => {
    const rule = JSON.stringify(
      onlyResource(template, 'AWS::CloudWatch::CompositeAlarm').Properties.AlarmRule,
    );

    for (const metricName of ['ClusterStatus.red', 'ClusterIndexWritesBlocked', 'FreeStorageSpace']) {
      const alarmId = logicalId('AWS::CloudWatch::Alarm', { MetricName: metricName });
      expect(rule).toContain(alarmId);
    }
  });

  it('charts the documents the indexer counts, under the Powertools namespace', () => {
    const body = JSON.parse(
      joinedText(onlyResource(template, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody),
    );
    const charted = (body.widgets as { properties: { metrics?: unknown[][] } }[]).flatMap(
      (widget) => widget.properties.metrics ?? [],
    );

    for (const metricName of ['DocumentsIndexed', 'DocumentsQuarantined', 'ObjectsProcessed']) {
      expect(charted).toContainEqual(
        expect.arrayContaining(['AwsLogPipeline', metricName, 'service', 'log-indexer']),
      );
    }
  });

  it('creates no Firehose alarms when the archive is disabled', () => {
    expect(alarmOn('PartitionCountExceeded')).toEqual([]);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
  });
});

describe('kill switch', () => {
  it('disables the event source while the blocking alarm is in ALARM and re-enables it otherwise', () => {
    const mappingId = logicalId('AWS::Lambda::EventSourceMapping');
    const definition = JSON.parse(
      joinedText(onlyResource(template, 'AWS::StepFunctions::StateMachine').Properties.DefinitionString),
    );
    const blocked = definition.States['ClusterBlocked?'];

    expect(blocked.Choices).toEqual([
      { Variable: '$.alarm.states[0]', StringEquals: 'ALARM', Next: 'PauseIndexing' },
    ]);
    expect(blocked.Default).toBe('ResumeIndexing');
    expect(definition.States.PauseIndexing.Resource).toBe(
      `arn:<AWS::Partition>:states:::aws-sdk:lambda:updateEventSourceMapping`,
    );
    expect(definition.States.PauseIndexing.Parameters).toEqual({ UUID: `<${mappingId}>`, Enabled: false });
    expect(definition.States.ResumeIndexing.Parameters).toEqual({ UUID: `<${mappingId}>`, Enabled: true });
  });

  it('reads the state of the composite alarm, which the rule watches', () => {
    const compositeId = logicalId('AWS::CloudWatch::CompositeAlarm');
    const definition = JSON.parse(
      joinedText(onlyResource(template, 'AWS::StepFunctions::StateMachine').Properties.DefinitionString),
    );

    expect(definition.States.ReadAlarmState.Parameters.AlarmNames).toEqual([`<${compositeId}>`]);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [compositeId, 'Arn'] }],
      },
    });
  });

  it('may update only this event source mapping', () => {
    const mappingId = logicalId('AWS::Lambda::EventSourceMapping');
    const statements: { Action: string; Resource: unknown }[] = onlyResource(template, 'AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:UpdateEventSourceMapping' })]),
      },
    }).Properties.PolicyDocument.Statement;
    const statement = statements.find((candidate) => candidate.Action === 'lambda:UpdateEventSourceMapping');

    expect(joinedText(statement?.Resource)).toBe(
      `arn:<AWS::Partition>:lambda:eu-west-1:123456789012:event-source-mapping:<${mappingId}>`,
    );
  });
});

describe('outputs', () => {
  it('names the bucket, queues, endpoint and dashboard', () => {
    const outputs = Object.keys(template.findOutputs('*'));

    expect(outputs).toEqual(
      expect.arrayContaining([
        'LogBucketName',
        'QueueUrl',
        'DeadLetterQueueUrl',
        'SearchEndpoint',
        'DashboardUrl',
      ]),
    );
    expect(outputs).not.toContain('DeliveryStreamName');
    expect(outputs).not.toContain('OpenSearchRoleMapping');
  });
});
