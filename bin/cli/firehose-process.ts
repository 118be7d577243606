/**
 * `logpipe firehose-process`: runs the Firehose processor on a saved transformation event and
 * prints the response Firehose would get. Records that were dropped or failed, with the reason,
 * and the batch's counts go to stderr as JSON lines.
 */
import { readFile } from 'node:fs/promises';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { z } from 'zod';
import { loadProcessorConfig, type ProcessorConfig } from '../../lambdas/firehose-processor/config';
import { type ProcessedEvent, processFirehoseEvent } from '../../lambdas/firehose-processor/process-event';
import { sdkBatchSender } from '../../lambdas/firehose-processor/reingest-clients';
import { CliUsageError, errorMessage, OutputChannel, parseCommandArgs } from './shared';

/** The usage text of `logpipe firehose-process`. */
export const FIREHOSE_PROCESS_USAGE = `Usage: logpipe firehose-process [options] EVENT.json

Runs the Firehose processor on a saved Firehose transformation event (the JSON Firehose invokes
the Lambda with) and prints the response, {"records":[...]}, on stdout. Each Dropped or
ProcessingFailed record, with the reason, and the batch's counts are printed to stderr.

Records whose events span several partitions, or that do not fit in the 6 MB response, are put
back into the event's stream (Firehose PutRecordBatch, or Kinesis PutRecords when the event has a
sourceKinesisStreamArn) with your AWS credentials, unless --no-reingest is given.

Options:
  --output-format F     raw or json (default: $OUTPUT_FORMAT, else raw)
  --partition-keys K    comma-separated, of logGroup,logStream,year,month,day,hour
                        (default: $PARTITION_KEYS, else all of them)
  --no-reingest         put nothing back: the records that needed it are ProcessingFailed
  --decode              print each Ok record's data as text ("text") next to its base64 data
  -h, --help            show this help

Exit status: 0 when the event was processed (whatever its records' results), 1 when the event
cannot be read, 2 on a usage error.`;

/** The streams `logpipe firehose-process` writes to; tests inject their own. */
export interface FirehoseProcessIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** What the command line asks for. */
export interface FirehoseProcessOptions {
  readonly eventFile: string;
  readonly config: ProcessorConfig;
  readonly reingest: boolean;
  readonly decode: boolean;
}

// The fields of a transformation event the processor reads; anything else is kept as it is.
const EventSchema = z.object({
  deliveryStreamArn: z.string(),
  sourceKinesisStreamArn: z.string().optional(),
  records: z.array(
    z.looseObject({
      recordId: z.string(),
      approximateArrivalTimestamp: z.number(),
      data: z.string(),
      kinesisRecordMetadata: z.looseObject({ partitionKey: z.string() }).optional(),
    }),
  ),
});

/**
 * Reads the command line.
 *
 * @throws CliUsageError for unknown options, a missing or extra EVENT file, or a bad value.
 */
export function parseFirehoseProcessArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): FirehoseProcessOptions | 'help' {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'output-format': { type: 'string' },
      'partition-keys': { type: 'string' },
      'no-reingest': { type: 'boolean', default: false },
      decode: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const [eventFile, ...extra] = positionals;
  if (eventFile === undefined) throw new CliUsageError('give the EVENT.json file to process');
  if (extra.length > 0) throw new CliUsageError(`one EVENT file only, got also ${extra.join(' ')}`);
  let config: ProcessorConfig;
  try {
    config = loadProcessorConfig({
      ...env,
      ...(values['output-format'] !== undefined && { OUTPUT_FORMAT: values['output-format'] }),
      ...(values['partition-keys'] !== undefined && { PARTITION_KEYS: values['partition-keys'] }),
    });
  } catch (error: unknown) {
    throw new CliUsageError(errorMessage(error));
  }
  return { eventFile, config, reingest: !values['no-reingest'], decode: values.decode };
}

/** Reads and checks a saved transformation event. */
export async function readFirehoseEvent(file: string): Promise<FirehoseTransformationEvent> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error: unknown) {
    throw new Error(`${file} is not JSON: ${errorMessage(error)}`);
  }
  const parsed = EventSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new Error(
      `${file} is not a Firehose transformation event: ${problem?.path.join('.') || 'event'}: ${problem?.message}`,
    );
  }
  return json as FirehoseTransformationEvent;
}

/** Processes the event and writes the response (stdout) and the notes and counts (stderr). */
export async function firehoseProcess(
  options: FirehoseProcessOptions,
  io: FirehoseProcessIo,
): Promise<number> {
  let event: FirehoseTransformationEvent;
  try {
    event = await readFirehoseEvent(options.eventFile);
  } catch (error: unknown) {
    io.stderr.write(`logpipe firehose-process: ${errorMessage(error)}\n`);
    return 1;
  }
  const processed = await processFirehoseEvent(event, {
    config: options.config,
    ...(options.reingest && { senderFor: sdkBatchSender }),
  });
  const stderr = new OutputChannel(io.stderr);
  for (const note of processed.notes) await stderr.write(`${JSON.stringify(note)}\n`);
  if (processed.reingestErrors.length > 0)
    await stderr.write(`${JSON.stringify({ reingestErrors: processed.reingestErrors })}\n`);
  await stderr.write(`${JSON.stringify({ counts: processed.counts })}\n`);
  await new OutputChannel(io.stdout).write(`${JSON.stringify(responseToPrint(processed, options.decode))}\n`);
  return 0;
}

function responseToPrint(processed: ProcessedEvent, decode: boolean): unknown {
  if (!decode) return processed.response;
  return {
    records: processed.response.records.map((record) =>
      record.data === undefined
        ? record
        : { ...record, text: Buffer.from(record.data, 'base64').toString('utf8') },
    ),
  };
}

/** `logpipe firehose-process` entry point. */
export async function run(
  argv: readonly string[],
  io: FirehoseProcessIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let options: FirehoseProcessOptions | 'help';
  try {
    options = parseFirehoseProcessArgs(argv);
  } catch (error: unknown) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`logpipe firehose-process: ${error.message}\n\n${FIREHOSE_PROCESS_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(`${FIREHOSE_PROCESS_USAGE}\n`);
    return 0;
  }
  return firehoseProcess(options, io);
}
