/**
 * The CDK app's configuration: one zod schema for the `logPipeline` context (defaults in `cdk.json`,
 * overridable with `-c`). The log sources use the same schema the indexer reads from `LOG_SOURCES`,
 * so a source the app accepts is a source the indexer accepts.
 */
import { z } from 'zod';
import { type LogSource, LogSourceSchema } from '../lambdas/core/log-sources';
import { PROCESSOR_BUFFER_MIB_RANGE } from '../lambdas/firehose-processor/buffer-size';
import { UNEVEN_NODES_MESSAGE, zoneCountFor } from './search-domain';

/** The context key that holds the whole configuration. */
export const CONFIG_CONTEXT_KEY = 'logPipeline';

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lower-case characters)');

const iamPrincipalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, 'must be an IAM role or user ARN');

const openSearchDomainArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:es:[a-z0-9-]+:\d{12}:domain\/[a-z][a-z0-9-]{2,27}$/,
    'must be an OpenSearch domain ARN (arn:aws:es:<region>:<account>:domain/<name>)',
  );

const days = z.number().int().min(0);

/** Where logs land. `create` makes a bucket with secure defaults; `import` uses one by name. */
const LogBucketSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      versioned: z.boolean().default(false),
      /** Days before objects move to S3 Standard-IA; 0 keeps them in Standard. */
      infrequentAccessAfterDays: days.default(30),
      /** Days before objects are deleted; 0 keeps them forever. */
      expireAfterDays: days.default(365),
    })
    .strict(),
  z.object({ mode: z.literal('import'), bucketName }).strict(),
]);

const IndexerSchema = z
  .object({
    memoryMiB: z.number().int().min(256).max(10_240).default(1024),
    timeoutSeconds: z.number().int().min(30).max(900).default(180),
    batchSize: z.number().int().min(1).max(10_000).default(10),
    maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(5),
    /** Concurrent indexer invocations at most: how hard the cluster can be pushed. */
    maxConcurrency: z.number().int().min(2).max(1000).default(5),
    /**
     * Messages of a batch one invocation indexes at once. S3 and OpenSearch latency dominate small
     * objects, so a few at once multiply throughput; each holds at most one object's bulk bodies.
     */
    messageConcurrency: z.number().int().min(1).max(10).default(4),
    indexPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _, not starting with - or _')
      .default('logs'),
    quarantinePrefix: z.string().default('quarantine/'),
    logRetentionDays: z.number().int().min(1).default(30),
  })
  .strict()
  .refine((indexer) => indexer.batchSize <= 10 || indexer.maxBatchingWindowSeconds > 0, {
    message: 'a batchSize above 10 needs maxBatchingWindowSeconds of at least 1 (an SQS event source rule)',
    path: ['maxBatchingWindowSeconds'],
  });

const CreateDomainSchema = z
  .object({
    mode: z.literal('create'),
    /** The domain's name; fixed so that its access policy can name it without a circular reference. */
    domainName: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{2,27}$/,
        '3-28 characters: lower-case letters, digits and -, starting with a letter',
      )
      .default('log-pipeline'),
    engineVersion: z
      .string()
      .regex(/^\d+\.\d+$/, 'an OpenSearch version such as 2.19')
      .default('2.19'),
    instanceType: z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+\.search$/, 'an OpenSearch instance type such as r7g.large.search')
      .default('r7g.large.search'),
    instanceCount: z.number().int().min(1).max(80).default(1),
    ebsVolumeSizeGiB: z.number().int().min(10).max(16_384).default(100),
    /** Who may administer the domain besides the indexer (dashboards, index templates). */
    adminPrincipalArn: iamPrincipalArn.optional(),
    fineGrainedAccessControl: z
      .object({
        enabled: z.boolean().default(false),
        /** The IAM master user; required when fine-grained access control is enabled. */
        masterUserArn: iamPrincipalArn.optional(),
      })
      .strict()
      .prefault({})
      .refine((fgac) => !fgac.enabled || fgac.masterUserArn !== undefined, {
        message: 'fine-grained access control needs masterUserArn (an IAM role or user ARN)',
        path: ['masterUserArn'],
      }),
    /** Alarm (and stop indexing) below this free storage per node; default 20% of the volume. */
    freeStorageAlarmMiB: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((domain) => zoneCountFor(domain.instanceCount) !== undefined, {
    message: UNEVEN_NODES_MESSAGE,
    path: ['instanceCount'],
  });

const ExistingDomainSchema = z
  .object({
    mode: z.literal('existing'),
    endpoint: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
    auth: z.enum(['sigv4', 'basic', 'none']).default('sigv4'),
    /** The domain's ARN: scopes the indexer's IAM policy and enables the cluster alarms. */
    domainArn: openSearchDomainArn.optional(),
    /** `basic` auth: a Secrets Manager secret (JSON with `username` and `password`). */
    basicAuthSecretName: z.string().min(1).optional(),
    freeStorageAlarmMiB: z.number().int().min(1).default(10_240),
  })
  .strict()
  .refine((domain) => domain.auth !== 'sigv4' || domain.domainArn !== undefined, {
    message: 'sigv4 auth needs domainArn, to grant the indexer es:ESHttp* on that domain only',
    path: ['domainArn'],
  })
  .refine((domain) => domain.auth !== 'basic' || domain.basicAuthSecretName !== undefined, {
    message: 'basic auth needs basicAuthSecretName (a secret with username and password)',
    path: ['basicAuthSecretName'],
  });

const OpenSearchSchema = z.discriminatedUnion('mode', [CreateDomainSchema, ExistingDomainSchema]);

const SubscribedLogGroupSchema = z
  .object({
    name: z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'must be a CloudWatch Logs log group name'),
    /** CloudWatch Logs filter pattern; empty forwards every event. */
    filterPattern: z.string().default(''),
  })
  .strict();

const FirehoseSchema = z
  .object({
    enabled: z.boolean().default(false),
    logGroups: z.array(SubscribedLogGroupSchema).default([]),
    /** Delivery buffer; dynamic partitioning needs at least 64 MiB. */
    bufferSizeMiB: z.number().int().min(64).max(128).default(128),
    bufferIntervalSeconds: z.number().int().min(0).max(900).default(300),
    /**
     * The processor's input buffer, 0.2 to 3 MiB. Decoded CloudWatch Logs payloads grow several
     * times over and a Lambda response must stay under 6 MB, so by default it follows the output
     * format (`DEFAULT_PROCESSOR_BUFFER_MIB` of the processor's `buffer-size.ts`: 0.5 raw, 0.2 JSON).
     */
    processorBufferSizeMiB: z
      .number()
      .min(PROCESSOR_BUFFER_MIB_RANGE.min)
      .max(PROCESSOR_BUFFER_MIB_RANGE.max)
      .optional(),
    processorBufferIntervalSeconds: z.number().int().min(60).max(900).default(60),
    outputFormat: z.enum(['raw', 'json']).default('raw'),
    destination: z
      .discriminatedUnion('mode', [
        z
          .object({
            mode: z.literal('create'),
            infrequentAccessAfterDays: days.default(30),
            expireAfterDays: days.default(365),
          })
          .strict(),
        z.object({ mode: z.literal('import'), bucketName }).strict(),
      ])
      .prefault({ mode: 'create' }),
    logRetentionDays: z.number().int().min(1).default(30),
  })
  .strict();

const CloudTrailSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Key prefix of the trail's objects in the log bucket. */
    s3KeyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, 'a key prefix without leading or trailing /')
      .default('cloudtrail'),
    /**
     * How the indexer hears of new trail files: `s3` event notifications, or CloudTrail's own SNS
     * topic (for users who also consume those notifications elsewhere).
     */
    notification: z.enum(['s3', 'sns']).default('s3'),
    multiRegion: z.boolean().default(true),
  })
  .strict();

/** The whole `logPipeline` context, validated. */
export const PipelineConfigSchema = z
  .object({
    logBucket: LogBucketSchema.prefault({ mode: 'create' }),
    logSources: z.array(LogSourceSchema).default([]),
    /** Where documents that cannot be indexed go; default a dedicated bucket (no notification loop). */
    quarantineBucketName: bucketName.optional(),
    indexer: IndexerSchema.prefault({}),
    openSearch: OpenSearchSchema.prefault({ mode: 'create' }),
    firehose: FirehoseSchema.prefault({}),
    cloudTrail: CloudTrailSchema.prefault({}),
    alarmEmail: z.email('must be an e-mail address').optional(),
    /** `retain` keeps buckets and the domain when the stack is deleted; `destroy` is for test stacks. */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  })
  .strict()
  .refine((config) => config.logSources.length > 0 || config.cloudTrail.enabled, {
    message: 'configure at least one log source (or enable cloudTrail): without one nothing is indexed',
    path: ['logSources'],
  })
  .refine((config) => !config.cloudTrail.enabled || config.logBucket.mode === 'create', {
    message:
      'cloudTrail.enabled needs logBucket.mode "create": CDK cannot add the CloudTrail statements to the ' +
      'policy of an imported bucket. For a trail that already writes there, add a cloudtrail log source.',
    path: ['cloudTrail', 'enabled'],
  });

/** The validated configuration. */
export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;

/** The OpenSearch part of the configuration. */
export type OpenSearchConfig = PipelineConfig['openSearch'];

/** The configuration is invalid; the message names each problem and where it is. */
export class PipelineConfigError extends Error {
  override readonly name = 'PipelineConfigError';
}

/**
 * A `-c` value arrives as a string: read JSON where it is JSON (`false`, `3`, `{...}`), else keep the
 * string (a bucket name, an e-mail address).
 */
function contextValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    Object.defineProperty(target, head, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  const existing = Object.hasOwn(target, head) ? target[head] : undefined;
  const child: Record<string, unknown> = isPlainObject(existing) ? { ...existing } : {};
  setPath(child, rest, value);
  Object.defineProperty(target, head, { value: child, enumerable: true, writable: true, configurable: true });
}

/**
 * Gathers the raw configuration from the CDK context: the `logPipeline` object (from `cdk.json` or
 * `-c logPipeline='{...}'`), then any dotted override such as `-c logPipeline.alarmEmail=ops@example.com`
 * or `-c logPipeline.firehose.enabled=true`, applied in key order.
 */
export function gatherConfigContext(context: Readonly<Record<string, unknown>>): unknown {
  const base = contextValue(context[CONFIG_CONTEXT_KEY]);
  const merged: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  const prefix = `${CONFIG_CONTEXT_KEY}.`;
  const overrides = Object.keys(context)
    .filter((key) => key.startsWith(prefix))
    .sort();
  for (const key of overrides) {
    const path = key.slice(prefix.length).split('.');
    if (path.some((part) => part === '' || part === '__proto__')) {
      throw new PipelineConfigError(`invalid context key "${key}"`);
    }
    setPath(merged, path, contextValue(context[key]));
  }
  return base === undefined && overrides.length === 0 ? {} : merged;
}

/**
 * Validates the configuration.
 *
 * @throws PipelineConfigError listing every problem with its path, e.g.
 *   `logPipeline.openSearch.domainArn: sigv4 auth needs domainArn, ...`.
 */
export function parsePipelineConfig(raw: unknown): PipelineConfig {
  const parsed = PipelineConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `  - ${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new PipelineConfigError(`Invalid CDK context "${CONFIG_CONTEXT_KEY}":\n${problems.join('\n')}`);
}

/** The CloudTrail trail's own log source, when the stack creates a trail. */
export function cloudTrailSource(config: PipelineConfig): LogSource | undefined {
  if (!config.cloudTrail.enabled) return undefined;
  return { prefix: `${config.cloudTrail.s3KeyPrefix}/AWSLogs/`, suffix: '.json.gz', format: 'cloudtrail' };
}

/** Every source the indexer resolves keys against (`LOG_SOURCES`): the configured ones, then the trail. */
export function indexerLogSources(config: PipelineConfig): LogSource[] {
  const trail = cloudTrailSource(config);
  return trail === undefined ? [...config.logSources] : [...config.logSources, trail];
}

/** The sources whose objects are announced by S3 event notifications (not by CloudTrail's SNS topic). */
export function notifiedLogSources(config: PipelineConfig): LogSource[] {
  const trail = config.cloudTrail.notification === 's3' ? cloudTrailSource(config) : undefined;
  return trail === undefined ? [...config.logSources] : [...config.logSources, trail];
}
