/**
 * `logpipe parse`: runs log files through the same core as the indexer and prints each document as
 * an OpenSearch hit (`{"_index","_id","_source"}`, one per line). Records that cannot be parsed go
 * to stderr as JSON (`{"file","line","reason","raw"}`) and do not stop the run.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DEFAULT_INDEX_PREFIX, indexPrefixProblem } from '../../lambdas/core/documents';
import { formatOptionsOf, ParseOptionsSchema } from '../../lambdas/core/log-sources';
import { parseObject } from '../../lambdas/core/parse-object';
import { FORMAT_NAMES, type FormatName, type FormatOptions } from '../../lambdas/core/types';
import { type CliCommand, CliUsageError, errorMessage, OutputChannel, parseCommandArgs } from './shared';

/** The usage text of `logpipe parse`. */
export const PARSE_USAGE = `Usage: logpipe parse [options] FILE...

Parses log files (gzip or plain, detected by content) as the indexer would and prints one
OpenSearch hit per event on stdout: {"_index":...,"_id":...,"_source":{...}}. Records that cannot
be parsed are printed to stderr as {"file","line","reason","raw"}; the run goes on. FILE - reads stdin.

Options:
  --format F             auto (default), ${FORMAT_NAMES.join(', ')}
                         auto detects from the key (--key, else the file path), then the content
  --key KEY              the S3 key the file had (detection, _id, log.file); one FILE only
  --bucket NAME          the bucket it came from (_id, log.file = s3://NAME/KEY)
  --key-fields REGEX     named groups matched on the key become fields, e.g. AWSLogs/(?<account>\\d{12})/
  --index-prefix P       index name prefix (default ${DEFAULT_INDEX_PREFIX}): P-<type>-YYYY.MM.DD
  --timestamp-field F    json: the field holding the event time
  --timestamp-format F   json: epoch_millis, epoch_seconds, iso8601, or a pattern like yyyy-MM-dd HH:mm:ss
  --pattern REGEX        regex: the line pattern; its named groups become fields
  --field-list "a b c"   vpcflow: the custom format's fields when the file has no header line
  -h, --help             show this help

Exit status: 0 when every file was read (even with rejected records), 1 when a file could not be
read or its format not detected, 2 on a usage error.`;

/** The streams `logpipe parse` uses; tests inject their own. */
export interface ParseIo {
  readonly stdin: AsyncIterable<Uint8Array>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** What the command line asks for. */
export interface ParseCommandOptions {
  readonly files: readonly string[];
  readonly format: FormatName | 'auto';
  readonly key?: string;
  readonly bucket?: string;
  readonly keyFields?: string;
  readonly indexPrefix?: string;
  readonly formatOptions: FormatOptions;
}

const OPTION_FLAGS: Readonly<Record<string, string>> = {
  keyFields: '--key-fields',
  timestampField: '--timestamp-field',
  timestampFormat: '--timestamp-format',
  pattern: '--pattern',
  fieldList: '--field-list',
};

/**
 * Reads the command line.
 *
 * @returns the options, or `help` when help was asked for.
 * @throws CliUsageError with a message saying what is wrong.
 */
export function parseParseArgs(argv: readonly string[]): ParseCommandOptions | 'help' {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string', default: 'auto' },
      key: { type: 'string' },
      bucket: { type: 'string' },
      'key-fields': { type: 'string' },
      'index-prefix': { type: 'string' },
      'timestamp-field': { type: 'string' },
      'timestamp-format': { type: 'string' },
      pattern: { type: 'string' },
      'field-list': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const format = values.format;
  if (format !== 'auto' && !(FORMAT_NAMES as readonly string[]).includes(format)) {
    throw new CliUsageError(`unknown --format ${format}: use auto, ${FORMAT_NAMES.join(', ')}`);
  }
  if (positionals.length === 0) throw new CliUsageError('no FILE given (use - for stdin)');
  if (values.key !== undefined && positionals.length > 1) {
    throw new CliUsageError('--key names one object: give a single FILE with it');
  }
  if (positionals.filter((file) => file === '-').length > 1)
    throw new CliUsageError('stdin (-) can be read only once');
  const prefix = values['index-prefix'];
  const prefixProblem = prefix === undefined ? undefined : indexPrefixProblem(prefix);
  if (prefixProblem !== undefined) throw new CliUsageError(prefixProblem);
  const parsed = ParseOptionsSchema.safeParse({
    keyFields: values['key-fields'],
    timestampField: values['timestamp-field'],
    timestampFormat: values['timestamp-format'],
    pattern: values.pattern,
    fieldList: values['field-list'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = OPTION_FLAGS[String(issue?.path[0])] ?? 'an option';
    throw new CliUsageError(`${flag}: ${issue?.message ?? 'invalid'}`);
  }
  if (format === 'regex' && parsed.data.pattern === undefined)
    throw new CliUsageError('--format regex needs --pattern');
  return {
    files: positionals,
    format: format as FormatName | 'auto',
    ...(values.key !== undefined && { key: values.key }),
    ...(values.bucket !== undefined && { bucket: values.bucket }),
    ...(parsed.data.keyFields !== undefined && { keyFields: parsed.data.keyFields }),
    ...(prefix !== undefined && { indexPrefix: prefix }),
    formatOptions: formatOptionsOf(parsed.data),
  };
}

/** How one file went. */
type FileOutcome = 'read' | 'unreadable' | 'undetected' | 'output-closed';

async function parseFile(
  file: string,
  options: ParseCommandOptions,
  io: ParseIo,
  stdout: OutputChannel,
  stderr: OutputChannel,
): Promise<FileOutcome> {
  const fromStdin = file === '-';
  let lastModified = Date.now();
  if (!fromStdin) {
    try {
      const stats = await stat(file);
      if (!stats.isFile()) throw new Error('not a regular file');
      lastModified = stats.mtimeMs;
    } catch (error: unknown) {
      await stderr.write(`logpipe parse: cannot read ${file}: ${errorMessage(error)}\n`);
      return 'unreadable';
    }
  }
  const body = fromStdin ? io.stdin : createReadStream(file, { highWaterMark: 1024 * 1024 });
  const parse = parseObject({
    body,
    object: {
      ...(options.bucket !== undefined && { bucket: options.bucket }),
      key: options.key ?? file,
      lastModified: Math.floor(lastModified),
    },
    format: options.format,
    options: options.formatOptions,
    ...(options.keyFields !== undefined && { keyFields: options.keyFields }),
    ...(options.indexPrefix !== undefined && { indexPrefix: options.indexPrefix }),
  });
  const fileJson = JSON.stringify(file);
  try {
    for await (const batch of parse) {
      // One write per batch: a write per document would dominate the run time.
      let hits = '';
      let rejected = '';
      for (const item of batch.items) {
        if (item.kind === 'document') {
          hits += `{"_index":"${item.index}","_id":${JSON.stringify(item.id)},"_source":${item.source}}\n`;
        } else {
          rejected += `{"file":${fileJson},"line":${item.recordNumber},"reason":${JSON.stringify(item.reason)},"raw":${JSON.stringify(item.raw)}}\n`;
        }
      }
      await stdout.write(hits);
      await stderr.write(rejected);
      if (stdout.closed) return 'output-closed';
    }
  } catch (error: unknown) {
    await stderr.write(`logpipe parse: cannot read ${file}: ${errorMessage(error)}\n`);
    return 'unreadable';
  }
  return parse.summary.error === undefined ? 'read' : 'undetected';
}

/**
 * Runs `logpipe parse`.
 *
 * @returns the exit code: 0 when every file was read, 1 when one could not be read or its format
 *   not detected, 2 on a usage error.
 */
export async function run(
  argv: readonly string[],
  io: ParseIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const stdout = new OutputChannel(io.stdout);
  const stderr = new OutputChannel(io.stderr);
  let options: ParseCommandOptions | 'help';
  try {
    options = parseParseArgs(argv);
  } catch (error: unknown) {
    if (!(error instanceof CliUsageError)) throw error;
    await stderr.write(`logpipe parse: ${error.message}\n\n${PARSE_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    await stdout.write(`${PARSE_USAGE}\n`);
    return 0;
  }
  let exitCode = 0;
  for (const file of options.files) {
    const outcome = await parseFile(file, options, io, stdout, stderr);
    if (outcome === 'output-closed') return 0;
    if (outcome !== 'read') exitCode = 1;
  }
  return exitCode;
}

/** The command, as the dispatcher loads it. */
export const parseCommand: CliCommand = { run: (argv) => run(argv) };
