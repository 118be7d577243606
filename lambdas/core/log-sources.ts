/**
 * Log sources: which objects hold which format, and with which options. One schema serves the CDK
 * app (where sources also become S3 event notification filters) and the indexer (`LOG_SOURCES`).
 */
import { z } from 'zod';
import { compileTimestampFormat } from './time';
import { FORMAT_NAMES, type FormatOptions } from './types';

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const regexText = z.string().min(1).refine(isValidRegex, { message: 'must be a valid regular expression' });

/** A `timestampFormat` the core can compile: a mistake is a deployment error, not a failed line per event. */
const timestampFormatText = z
  .string()
  .min(1)
  .superRefine((format, context) => {
    try {
      compileTimestampFormat(format);
    } catch (error: unknown) {
      context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    }
  });

/**
 * How to parse a source's objects, apart from the format: the options a log source carries, and
 * the CLI's `--key-fields`, `--timestamp-field`, `--timestamp-format`, `--pattern`, `--field-list`.
 */
export const ParseOptionsSchema = z
  .object({
    /** Regular expression with named groups, matched on the key: the groups become document fields. */
    keyFields: regexText
      .refine((pattern) => /\(\?<[A-Za-z_][A-Za-z0-9_]*>/.test(pattern), {
        message: 'must contain at least one named group, e.g. (?<account>\\d{12})',
      })
      .optional(),
    timestampField: z.string().min(1).optional(),
    timestampFormat: timestampFormatText.optional(),
    /** `regex` format: the line pattern with named groups. */
    pattern: regexText.optional(),
    /** VPC Flow Logs without a header line: the custom format's field list. */
    fieldList: z.string().min(1).optional(),
  })
  .strict();

/** Parse options, validated. */
export type ParseOptions = z.infer<typeof ParseOptionsSchema>;

/** One log source: a set of keys (prefix, suffix and/or pattern) and how to parse them. */
export const LogSourceSchema = ParseOptionsSchema.extend({
  /** Key prefix; also the S3 event notification's prefix filter. */
  prefix: z.string().optional(),
  /** Key suffix; also the S3 event notification's suffix filter. */
  suffix: z.string().optional(),
  /** Regular expression the decoded key must match (unanchored). */
  keyPattern: regexText.optional(),
  format: z.enum(FORMAT_NAMES),
})
  .strict()
  .refine(
    (source) => source.prefix !== undefined || source.suffix !== undefined || source.keyPattern !== undefined,
    {
      message: 'a log source needs a prefix, a suffix or a keyPattern',
    },
  )
  .refine((source) => source.format !== 'regex' || source.pattern !== undefined, {
    message: 'the regex format needs a pattern',
  });

/** One log source, validated. */
export type LogSource = z.infer<typeof LogSourceSchema>;

/** The ordered list of log sources; the first that matches a key wins. */
export const LogSourcesSchema = z.array(LogSourceSchema);

/** True when `key` belongs to `source`. */
export function sourceMatchesKey(source: LogSource, key: string): boolean {
  if (source.prefix !== undefined && !key.startsWith(source.prefix)) return false;
  if (source.suffix !== undefined && !key.endsWith(source.suffix)) return false;
  return source.keyPattern === undefined || new RegExp(source.keyPattern).test(key);
}

/** The first source that matches `key`, or undefined (then the format is detected). */
export function resolveLogSource(sources: readonly LogSource[], key: string): LogSource | undefined {
  return sources.find((source) => sourceMatchesKey(source, key));
}

/** The parser options a source (or the CLI's flags) carries. */
export function formatOptionsOf(source: ParseOptions): FormatOptions {
  return {
    ...(source.timestampField !== undefined && { timestampField: source.timestampField }),
    ...(source.timestampFormat !== undefined && { timestampFormat: source.timestampFormat }),
    ...(source.pattern !== undefined && { pattern: source.pattern }),
    ...(source.fieldList !== undefined && { fieldList: source.fieldList }),
  };
}
