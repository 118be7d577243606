/**
 * What the indexer logs of an error. Powertools logs every enumerable property of an error and of
 * its causes, and an OpenSearch client error carries its whole request and response under `meta`:
 * a failed bulk request would log its body (up to `BULK_MAX_BYTES`, 5 MiB) once per failed
 * message, past CloudWatch Logs' event size limit. Only names, messages, stacks and the sink's
 * progress counts are kept.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
 */
import {
  type BulkIndexResult,
  BulkRequestRejectedError,
  OpenSearchUnavailableError,
} from '../shared/opensearch/bulk-sink';

/** An error reduced to what is worth a log line. */
export interface LoggableError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** The sink's counts when it gave up. */
  readonly progress?: Readonly<BulkIndexResult>;
  readonly cause?: LoggableError;
}

/** Longest message kept; the rest is cut (a message can quote a response body). */
const MAX_MESSAGE_CHARS = 2_000;
/** Causes followed; a cause chain is short unless it loops. */
const MAX_CAUSE_DEPTH = 3;

function cut(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS
    ? text
    : `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length} chars)`;
}

/** `error` as a small plain object for `logger.error(message, { error: loggableError(error) })`. */
export function loggableError(error: unknown, depth = 0): LoggableError {
  if (!(error instanceof Error)) return { name: typeof error, message: cut(String(error)) };
  const progress =
    error instanceof OpenSearchUnavailableError || error instanceof BulkRequestRejectedError
      ? error.progress
      : undefined;
  return {
    name: error.name,
    message: cut(error.message),
    ...(error.stack !== undefined && { stack: error.stack }),
    ...(progress !== undefined && { progress }),
    ...(error.cause !== undefined &&
      depth < MAX_CAUSE_DEPTH && { cause: loggableError(error.cause, depth + 1) }),
  };
}
