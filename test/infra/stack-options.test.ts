/**
 * Optional features: the CloudTrail trail in both notification modes, a multi-node domain with
 * fine-grained access control, and an existing endpoint with basic auth. One synthesis per
 * configuration, shared by the tests that read it.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { joinedText, logicalIdOf, onlyResource, type SynthesizedPipeline, synthesize } from './synth';

const ADMIN = 'arn:aws:iam::123456789012:role/LogAdmin';

let trailAndCluster: SynthesizedPipeline;
let trailViaSnsAndBasicAuth: SynthesizedPipeline;

beforeAll(() => {
  trailAndCluster = synthesize({
    'logPipeline.cloudTrail.enabled': 'true',
    'logPipeline.openSearch': JSON.stringify({
      mode: 'create',
      instanceCount: 3,
      adminPrincipalArn: ADMIN,
      fineGrainedAccessControl: { enabled: true, masterUserArn: ADMIN },
    }),
    'logPipeline.removalPolicy': 'destroy',
  });
  trailViaSnsAndBasicAuth = synthesize({
    'logPipeline.cloudTrail': '{"enabled":true,"notification":"sns","s3KeyPrefix":"trail"}',
    'logPipeline.openSearch': JSON.stringify({
      mode: 'existing',
      endpoint: 'https://opensearch.internal.example.com',
      auth: 'basic',
      basicAuthSecretName: 'log-pipeline/opensearch',
    }),
  });
});

function indexerVariables(synthesized: SynthesizedPipeline): Record<string, unknown> {
  return onlyResource(synthesized.template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'log-indexer' }) },
  }).Properties.Environment.Variables;
}

function notificationFilters(synthesized: SynthesizedPipeline): unknown[] {
  const configurations: { Filter: { Key: { FilterRules: unknown[] } } }[] = onlyResource(
    synthesized.template,
    'Custom::S3BucketNotifications',
  ).Properties.NotificationConfiguration.QueueConfigurations;
  return configurations.map((configuration) => configuration.Filter.Key.FilterRules);
}

describe('cdk-nag', () => {
  it('leaves no AwsSolutions finding unacknowledged in either configuration', () => {
    expect(trailAndCluster.nagFindings).toEqual([]);
    expect(trailViaSnsAndBasicAuth.nagFindings).toEqual([]);
  });
});

describe('CloudTrail with S3 notifications', () => {
  it('delivers a validated multi-region trail to the log bucket under its prefix', () => {
    const { template } = trailAndCluster;
    const logBucketId = logicalIdOf(template, 'AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'LogBucket/' },
    });

    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      S3BucketName: { Ref: logBucketId },
      S3KeyPrefix: 'cloudtrail',
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
      SnsTopicName: Match.absent(),
    });
  });

  it('announces the trail files with an S3 notification and lists the trail in LOG_SOURCES', () => {
    expect(notificationFilters(trailAndCluster)).toContainEqual([
      { Name: 'suffix', Value: '.json.gz' },
      { Name: 'prefix', Value: 'cloudtrail/AWSLogs/' },
    ]);
    expect(JSON.parse(indexerVariables(trailAndCluster).LOG_SOURCES as string)).toContainEqual({
      prefix: 'cloudtrail/AWSLogs/',
      suffix: '.json.gz',
      format: 'cloudtrail',
    });
  });
});

describe('CloudTrail with its SNS topic', () => {
  it('publishes deliveries to an encrypted-in-transit topic the log queue subscribes to', () => {
    const { template } = trailViaSnsAndBasicAuth;
    const topicId = logicalIdOf(template, 'AWS::SNS::Topic', {
      DisplayName: 'CloudTrail log file deliveries',
    });
    const queueId = logicalIdOf(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });

    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      S3KeyPrefix: 'trail',
      SnsTopicName: { 'Fn::GetAtt': [topicId, 'TopicName'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
  });

  it('does not also announce the trail files through S3, but lets the indexer read them', () => {
    const rules = JSON.stringify(notificationFilters(trailViaSnsAndBasicAuth));
    const readable = onlyResource(trailViaSnsAndBasicAuth.template, 'AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject' })]) },
    }).Properties.PolicyDocument.Statement.find(
      (statement: { Action: string }) => statement.Action === 's3:GetObject',
    );

    expect(rules).not.toContain('trail/');
    expect([readable.Resource].flat().map(joinedText)).toContainEqual(
      expect.stringMatching(/\/trail\/AWSLogs\/\*$/),
    );
  });
});

describe('multi-node domain with fine-grained access control', () => {
  it('spreads three nodes over three zones', () => {
    trailAndCluster.template.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({
        InstanceCount: 3,
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
      }),
    });
  });

  it('uses the IAM master user and admits the admin principal and the indexer role only', () => {
    const domain = onlyResource(trailAndCluster.template, 'AWS::OpenSearchService::Domain').Properties;
    const principals = (domain.AccessPolicies.Statement as { Principal: { AWS: unknown } }[]).map(
      (statement) => statement.Principal.AWS,
    );

    expect(domain.AdvancedSecurityOptions).toMatchObject({
      Enabled: true,
      InternalUserDatabaseEnabled: false,
      MasterUserOptions: { MasterUserARN: ADMIN },
    });
    expect(principals).toHaveLength(2);
    expect(principals).toContain(ADMIN);
    expect(principals).not.toContain('*');
  });

  it('prints the role mapping the indexer needs', () => {
    expect(Object.keys(trailAndCluster.template.findOutputs('*'))).toContain('OpenSearchRoleMapping');
  });

  it('deletes the buckets and the domain with the stack when removalPolicy is destroy', () => {
    const { template } = trailAndCluster;
    for (const type of ['AWS::S3::Bucket', 'AWS::OpenSearchService::Domain', 'AWS::SQS::Queue']) {
      for (const resource of Object.values(template.findResources(type)))
        expect(resource.DeletionPolicy).toBe('Delete');
    }
  });
});

describe('existing endpoint with basic auth', () => {
  it('passes the credentials as deploy-time Secrets Manager references, never as values', () => {
    expect(indexerVariables(trailViaSnsAndBasicAuth)).toMatchObject({
      OPENSEARCH_AUTH: 'basic',
      OPENSEARCH_ENDPOINT: 'https://opensearch.internal.example.com',
      OPENSEARCH_USERNAME: '{{resolve:secretsmanager:log-pipeline/opensearch:SecretString:username::}}',
      OPENSEARCH_PASSWORD: '{{resolve:secretsmanager:log-pipeline/opensearch:SecretString:password::}}',
    });
  });

  it('grants no es:* permission and, without a domain ARN, no cluster alarm or kill switch', () => {
    const { template } = trailViaSnsAndBasicAuth;
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((statement) =>
        [statement.Action].flat(),
      ),
    );

    expect(actions.filter((action) => action.startsWith('es:'))).toEqual([]);
    expect(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/ES' } })),
    ).toEqual([]);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });
});
