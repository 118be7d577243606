/**
 * The indexer's configuration, read from the environment once at cold start. A bad value stops
 * the function with one message naming every problem, instead of failing later on a record.
 */
import { z } from 'zod';
import { type LogSource, LogSourcesSchema } from '../core/log-sources';
import { fileEndpointDirectory } from '../shared/file-bulk-sink';

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const jsonText = z.string().transform((text, context) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    context.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

const EnvSchema = z
  .object({
    // `file:DIR` writes the bulk bodies to files instead (the demo); the auth settings are then ignored.
    OPENSEARCH_ENDPOINT: z.union(
      [
        z.url({ protocol: /^https?$/ }),
        z.string().refine((text) => fileEndpointDirectory(text) !== undefined),
      ],
      { error: 'must be an http(s) URL, or file:DIR to write the bulk bodies to files' },
    ),
    OPENSEARCH_AUTH: z.enum(['sigv4', 'basic', 'none']).default('sigv4'),
    OPENSEARCH_USERNAME: z.string().min(1).optional(),
    OPENSEARCH_PASSWORD: z.string().min(1).optional(),
    INDEX_PREFIX: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _, not starting with - or _')
      .default('logs'),
    LOG_SOURCES: jsonText.pipe(LogSourcesSchema).default([]),
    QUARANTINE_BUCKET: z.string().min(3),
    QUARANTINE_PREFIX: z
      .string()
      .default('quarantine/')
      .transform((prefix) => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`)),
    CONTINUATION_QUEUE_URL: z.url().optional(),
    S3_FORCE_PATH_STYLE: booleanText.default(false),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    /** Stop starting new work when less than this remains of the invocation. */
    TIME_SAFETY_MARGIN_MS: z.coerce.number().int().min(1_000).default(30_000),
    BULK_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(100 * 1024 * 1024)
      .default(5 * 1024 * 1024),
    /**
     * Most record text (characters) one invocation parses of one object before the rest goes to a
     * continuation; unset: only the invocation's time limits it. A deterministic way to bound the
     * work per invocation (and to test continuations).
     */
    INVOCATION_MAX_CHARS: z.coerce.number().int().min(1).optional(),
    /**
     * Messages of a batch processed at once. Each holds one object's pipeline in memory and up to
     * the sink's concurrency (2) bulk requests on the cluster.
     */
    MESSAGE_CONCURRENCY: z.coerce.number().int().min(1).max(10).default(1),
  })
  .refine(
    (env) =>
      env.OPENSEARCH_AUTH !== 'basic' ||
      env.OPENSEARCH_ENDPOINT.startsWith('file:') ||
      (env.OPENSEARCH_USERNAME && env.OPENSEARCH_PASSWORD),
    {
      message: 'OPENSEARCH_AUTH=basic needs OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD',
      path: ['OPENSEARCH_AUTH'],
    },
  );

/** The indexer's validated configuration. */
export interface IndexerConfig {
  readonly opensearch: {
    readonly endpoint: string;
    readonly auth: 'sigv4' | 'basic' | 'none';
    readonly username?: string;
    readonly password?: string;
    readonly region: string;
  };
  /** Set by a `file:` `OPENSEARCH_ENDPOINT`: the bulk bodies go to files here, not to a cluster. */
  readonly bulkFileDirectory?: string;
  readonly indexPrefix: string;
  readonly logSources: readonly LogSource[];
  readonly quarantine: { readonly bucket: string; readonly prefix: string };
  /** Where continuations go; the indexer's own queue. Without it, huge objects fail their message. */
  readonly continuationQueueUrl?: string;
  readonly s3ForcePathStyle: boolean;
  readonly timeSafetyMarginMs: number;
  readonly bulkMaxBytes: number;
  /** Most record text one invocation parses of one object; absent: no limit but time. */
  readonly maxCharsPerInvocation?: number;
  /** Messages of a batch processed at once (1-10). */
  readonly messageConcurrency: number;
}

/** The configuration is invalid; the message lists every problem. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/**
 * Validates the environment.
 *
 * @throws ConfigurationError naming each invalid variable.
 */
export function loadIndexerConfig(env: NodeJS.ProcessEnv): IndexerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
    );
    throw new ConfigurationError(`invalid indexer configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    opensearch: {
      endpoint: e.OPENSEARCH_ENDPOINT,
      auth: e.OPENSEARCH_AUTH,
      ...(e.OPENSEARCH_USERNAME !== undefined && { username: e.OPENSEARCH_USERNAME }),
      ...(e.OPENSEARCH_PASSWORD !== undefined && { password: e.OPENSEARCH_PASSWORD }),
      region: e.AWS_REGION,
    },
    ...(e.OPENSEARCH_ENDPOINT.startsWith('file:') && {
      bulkFileDirectory: fileEndpointDirectory(e.OPENSEARCH_ENDPOINT),
    }),
    indexPrefix: e.INDEX_PREFIX,
    logSources: e.LOG_SOURCES,
    quarantine: { bucket: e.QUARANTINE_BUCKET, prefix: e.QUARANTINE_PREFIX },
    ...(e.CONTINUATION_QUEUE_URL !== undefined && { continuationQueueUrl: e.CONTINUATION_QUEUE_URL }),
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    timeSafetyMarginMs: e.TIME_SAFETY_MARGIN_MS,
    bulkMaxBytes: e.BULK_MAX_BYTES,
    ...(e.INVOCATION_MAX_CHARS !== undefined && { maxCharsPerInvocation: e.INVOCATION_MAX_CHARS }),
    messageConcurrency: e.MESSAGE_CONCURRENCY,
  };
}
