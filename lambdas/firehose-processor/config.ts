/**
 * The Firehose processor's configuration, read from the environment once at cold start: a bad
 * value stops the function with one message naming every problem, before any record is touched.
 */
import { z } from 'zod';
import { PARTITION_KEY_NAMES, type PartitionKeyName } from './partition-keys';

/** What the processor writes for each log event. */
export const OUTPUT_FORMATS = ['raw', 'json'] as const;

/**
 * `raw`: the message, newline-terminated. `json`: one JSON object per line, with `timestamp`,
 * `id`, `logGroup`, `logStream`, `message` and, for a syslog message, the syslog fields.
 */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const partitionKeyList = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  )
  .pipe(
    z
      .array(z.enum(PARTITION_KEY_NAMES))
      .min(1, 'name at least one partition key')
      .refine((names) => new Set(names).size === names.length, 'names a partition key twice'),
  );

const EnvSchema = z.object({
  OUTPUT_FORMAT: z.enum(OUTPUT_FORMATS).default('raw'),
  /** Comma-separated partition keys to return; the S3 prefix must use exactly these. */
  PARTITION_KEYS: partitionKeyList.default([...PARTITION_KEY_NAMES]),
});

/** The processor's validated configuration. */
export interface ProcessorConfig {
  readonly outputFormat: OutputFormat;
  /** The keys of `metadata.partitionKeys`, in {@link PARTITION_KEY_NAMES} order. */
  readonly partitionKeys: readonly PartitionKeyName[];
}

/** The configuration is invalid; the message lists every problem. */
export class ProcessorConfigError extends Error {
  override readonly name = 'ProcessorConfigError';
}

/**
 * Validates the environment (`OUTPUT_FORMAT`, `PARTITION_KEYS`).
 *
 * @throws ProcessorConfigError naming each invalid variable.
 */
export function loadProcessorConfig(env: NodeJS.ProcessEnv): ProcessorConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ProcessorConfigError(`invalid Firehose processor configuration: ${problems.join('; ')}`);
  }
  const keys = parsed.data.PARTITION_KEYS;
  return {
    outputFormat: parsed.data.OUTPUT_FORMAT,
    partitionKeys: PARTITION_KEY_NAMES.filter((name) => keys.includes(name)),
  };
}
