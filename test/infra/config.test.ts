/**
 * The `logPipeline` context schema: defaults, `-c` overrides, and the messages invalid values get,
 * including through the real app entry point.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  gatherConfigContext,
  indexerLogSources,
  notifiedLogSources,
  PipelineConfigError,
  parsePipelineConfig,
} from '../../lib/config';
import { cdkJsonContext } from './synth';

const ALB_SOURCE = { prefix: 'AWSLogs/', format: 'alb' } as const;

function errorOf(raw: unknown): string {
  try {
    parsePipelineConfig(raw);
  } catch (error: unknown) {
    if (error instanceof PipelineConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('defaults', () => {
  it('fills every section from a minimal configuration', () => {
    // Act
    const config = parsePipelineConfig({ logSources: [ALB_SOURCE] });

    // Assess
    expect(config.logBucket).toEqual({
      mode: 'create',
      versioned: false,
      infrequentAccessAfterDays: 30,
      expireAfterDays: 365,
    });
    expect(config.indexer).toMatchObject({
      timeoutSeconds: 180,
      batchSize: 10,
      maxConcurrency: 5,
      messageConcurrency: 4,
      indexPrefix: 'logs',
    });
    expect(config.openSearch).toMatchObject({ mode: 'create', instanceCount: 1, engineVersion: '2.19' });
    expect(config.openSearch.mode === 'create' && config.openSearch.fineGrainedAccessControl).toEqual({
      enabled: false,
    });
    expect(config.firehose).toMatchObject({
      enabled: false,
      bufferSizeMiB: 128,
      outputFormat: 'raw',
      destination: { mode: 'create', expireAfterDays: 365 },
    });
    // Unset: the stack picks the processor buffer that suits the output format.
    expect(config.firehose.processorBufferSizeMiB).toBeUndefined();
    expect(config.cloudTrail).toMatchObject({
      enabled: false,
      notification: 's3',
      s3KeyPrefix: 'cloudtrail',
    });
    expect(config.removalPolicy).toBe('retain');
  });

  it('accepts the defaults shipped in cdk.json', () => {
    const config = parsePipelineConfig(gatherConfigContext(cdkJsonContext()));

    expect(config.logSources.map((source) => source.format)).toEqual(['alb', 'vpcflow', 'cloudfront']);
  });
});

describe('context overrides', () => {
  it('applies dotted -c keys over the logPipeline object, parsing JSON values', () => {
    // Prepare
    const context = {
      logPipeline: { logSources: [ALB_SOURCE], alarmEmail: 'old@example.com' },
      'logPipeline.alarmEmail': 'ops@example.com',
      'logPipeline.firehose.enabled': 'true',
      'logPipeline.indexer.maxConcurrency': '20',
      'logPipeline.openSearch': '{"mode":"existing","endpoint":"https://search.example.com","auth":"none"}',
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
    };

    // Act
    const config = parsePipelineConfig(gatherConfigContext(context));

    // Assess
    expect(config.alarmEmail).toBe('ops@example.com');
    expect(config.firehose.enabled).toBe(true);
    expect(config.indexer.maxConcurrency).toBe(20);
    expect(config.openSearch).toMatchObject({
      mode: 'existing',
      endpoint: 'https://search.example.com',
      auth: 'none',
    });
  });

  it('accepts the whole object as one JSON string (-c logPipeline=...)', () => {
    const config = parsePipelineConfig(
      gatherConfigContext({ logPipeline: JSON.stringify({ logSources: [ALB_SOURCE] }) }),
    );

    expect(config.logSources).toEqual([ALB_SOURCE]);
  });

  it('refuses a key that would reach an object prototype', () => {
    expect(() => gatherConfigContext({ 'logPipeline.__proto__.polluted': 'yes' })).toThrow(
      PipelineConfigError,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('invalid configuration', () => {
  it.each([
    [{}, 'logPipeline.logSources: configure at least one log source'],
    [{ logSources: [{ prefix: 'x/', format: 'apache' }] }, 'logPipeline.logSources.0.format'],
    [
      { logSources: [{ format: 'alb' }] },
      'logPipeline.logSources.0: a log source needs a prefix, a suffix or a keyPattern',
    ],
    [
      { logSources: [ALB_SOURCE], logBucket: { mode: 'import' } },
      'logPipeline.logBucket.bucketName: Invalid input: expected string',
    ],
    [
      { logSources: [ALB_SOURCE], logBucket: { mode: 'import', bucketName: 'Not_A_Bucket' } },
      'logPipeline.logBucket.bucketName: must be a valid S3 bucket name',
    ],
    [
      { logSources: [ALB_SOURCE], openSearch: { mode: 'existing', endpoint: 'https://search.example.com' } },
      'logPipeline.openSearch.domainArn: sigv4 auth needs domainArn',
    ],
    [
      {
        logSources: [ALB_SOURCE],
        openSearch: { mode: 'existing', endpoint: 'http://search.example.com', auth: 'none' },
      },
      'logPipeline.openSearch.endpoint: must be an https URL',
    ],
    [
      {
        logSources: [ALB_SOURCE],
        openSearch: { mode: 'existing', endpoint: 'https://search.example.com', auth: 'basic' },
      },
      'logPipeline.openSearch.basicAuthSecretName: basic auth needs basicAuthSecretName',
    ],
    [
      { logSources: [ALB_SOURCE], openSearch: { mode: 'create', instanceCount: 5 } },
      'logPipeline.openSearch.instanceCount: data nodes must spread evenly over 2 or 3 availability zones',
    ],
    [
      {
        logSources: [ALB_SOURCE],
        openSearch: { mode: 'create', fineGrainedAccessControl: { enabled: true } },
      },
      'logPipeline.openSearch.fineGrainedAccessControl.masterUserArn: fine-grained access control needs masterUserArn',
    ],
    [
      { logSources: [ALB_SOURCE], firehose: { enabled: true, processorBufferSizeMiB: 4 } },
      'logPipeline.firehose.processorBufferSizeMiB: Too big: expected number to be <=3',
    ],
    [
      { logSources: [ALB_SOURCE], firehose: { enabled: true, processorBufferSizeMiB: 0.1 } },
      'logPipeline.firehose.processorBufferSizeMiB: Too small: expected number to be >=0.2',
    ],
    [
      { logSources: [ALB_SOURCE], firehose: { bufferSizeMiB: 32 } },
      'logPipeline.firehose.bufferSizeMiB: Too small: expected number to be >=64',
    ],
    [
      { logSources: [ALB_SOURCE], indexer: { batchSize: 100, maxBatchingWindowSeconds: 0 } },
      'logPipeline.indexer.maxBatchingWindowSeconds: a batchSize above 10 needs maxBatchingWindowSeconds',
    ],
    [
      { cloudTrail: { enabled: true }, logBucket: { mode: 'import', bucketName: 'existing-logs' } },
      'logPipeline.cloudTrail.enabled: cloudTrail.enabled needs logBucket.mode "create"',
    ],
    [
      { logSources: [ALB_SOURCE], alarmEmail: 'not-an-address' },
      'logPipeline.alarmEmail: must be an e-mail address',
    ],
    [{ logSources: [ALB_SOURCE], unknownSetting: true }, 'Unrecognized key: "unknownSetting"'],
  ])('rejects %j naming the setting and the problem', (raw, expected) => {
    expect(errorOf(raw)).toContain(expected);
  });

  it('lists every problem at once', () => {
    const message = errorOf({ logSources: [ALB_SOURCE], alarmEmail: 'x', removalPolicy: 'keep' });

    expect(message.split('\n')).toEqual([
      'Invalid CDK context "logPipeline":',
      expect.stringContaining('logPipeline.alarmEmail:'),
      expect.stringContaining('logPipeline.removalPolicy:'),
    ]);
  });

  it('stops `cdk synth` with the message and exit code 1 (bin/app.ts)', () => {
    // Prepare: the CLI hands -c values to the app in CDK_CONTEXT_JSON
    const root = path.join(__dirname, '../..');
    const context = {
      'logPipeline.openSearch.mode': 'existing',
      'logPipeline.openSearch.endpoint': 'https://x.example.com',
    };

    // Act
    const run = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'bin/app.ts'],
      {
        cwd: root,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...context }) },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid CDK context "logPipeline":');
    expect(run.stderr).toContain('logPipeline.openSearch.domainArn: sigv4 auth needs domainArn');
    expect(run.stderr).not.toContain('    at ');
  });
});

describe('derived sources', () => {
  it('adds the trail to LOG_SOURCES, and to the S3 notifications only in s3 mode', () => {
    const s3Mode = parsePipelineConfig({ logSources: [ALB_SOURCE], cloudTrail: { enabled: true } });
    const snsMode = parsePipelineConfig({
      logSources: [ALB_SOURCE],
      cloudTrail: { enabled: true, notification: 'sns', s3KeyPrefix: 'trail' },
    });
    const trail = { prefix: 'cloudtrail/AWSLogs/', suffix: '.json.gz', format: 'cloudtrail' };

    expect(indexerLogSources(s3Mode)).toEqual([ALB_SOURCE, trail]);
    expect(notifiedLogSources(s3Mode)).toEqual([ALB_SOURCE, trail]);
    expect(indexerLogSources(snsMode)).toEqual([ALB_SOURCE, { ...trail, prefix: 'trail/AWSLogs/' }]);
    expect(notifiedLogSources(snsMode)).toEqual([ALB_SOURCE]);
  });
});
