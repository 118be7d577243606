/**
 * How much input Firehose should buffer before it calls the processor (the Lambda processor's
 * `BufferSizeInMBs`): the response to a full buffer has to stay under Lambda's 6 MB limit, or the
 * processor re-ingests what does not fit. Shared by the stack, which configures the buffer, and
 * the benchmark, which checks a full buffer of each output format.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 */
import type { OutputFormat } from './config';

/**
 * The buffer by output format when none is configured, in MiB. On CloudWatch Logs syslog payloads
 * (`npm run bench`) the response measured 4.2 times the buffered (gzip'd) bytes for raw output and
 * 13.3 times for JSON, so a full buffer is answered with about 2.2 MB and 2.8 MB: room for
 * payloads that compress two to three times better than those. Data that expands even more is
 * still delivered, through re-ingestion.
 */
export const DEFAULT_PROCESSOR_BUFFER_MIB: Readonly<Record<OutputFormat, number>> = { raw: 0.5, json: 0.2 };

/** The processor buffer sizes Firehose accepts, in MiB. */
export const PROCESSOR_BUFFER_MIB_RANGE = { min: 0.2, max: 3 } as const;
