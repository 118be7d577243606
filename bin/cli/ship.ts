/**
 * `logpipe ship`: reads log lines from files or stdin and stores them in S3 as NXLog's S3 output
 * does — keys `NAME/YYYY-MM-DD/HH.MM.SS.N` (UTC; N counts the objects written in the same second,
 * from 1), gzip'd, one JSON event per line — so that `backfill --prefix NAME/` and the indexer
 * read them back.
 *
 * Each event is `{"@timestamp", "host", "message", ...parsed}`: `host` is this machine, `message`
 * the line as read, and `@timestamp` the time it was read. A syslog line (RFC 5424/3164) adds the
 * shared syslog parser's header fields (`hostname`, `app_name`, `pid`, `severity`...) and its own
 * time, as the Firehose processor's JSON output does. A line that is a JSON object is kept as that
 * object: its keys override the three above (its `@timestamp` only when it is an ISO-8601 time;
 * otherwise the line is shipped as plain text, so nothing is lost).
 *
 * Lines are read with the core's object reader: gzip'd input is recognised, CRLF accepted, lines
 * are trimmed and empty ones skipped, and a line over 1 MiB is reported and shipped as its
 * bounded prefix with a `ship_error` field. Nothing read is lost: on EOF, SIGINT or SIGTERM the
 * reading stops, what Node has already buffered is still read, and the last batch is flushed.
 *
 * @see https://docs.nxlog.co/refman/current/om/amazons3.html
 */
import { createReadStream } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isJsonObject, parseUntrustedJson, setOwn } from '../../lambdas/core/json';
import { readRecords } from '../../lambdas/core/object-reader';
import { toIsoUtc } from '../../lambdas/core/time';
import { readSyslogLine } from '../../lambdas/firehose-processor/syslog-line';
import { createS3Client } from '../../lambdas/shared/aws-clients';
import { CliUsageError, type CommandIo, errorMessage, parseCommandArgs, runStoppableCommand } from './shared';

/** The usage text of `logpipe ship`. */
export const SHIP_USAGE = `Usage: logpipe ship --bucket B --server NAME [options] [FILE|-]...

Reads lines from the files (or stdin: - or nothing) and stores them in S3 under NXLog's key scheme
NAME/YYYY-MM-DD/HH.MM.SS.N (UTC), gzip'd, one JSON event per line with @timestamp, host, message
and the fields parsed from syslog or JSON lines.

Options:
  --bucket NAME          destination bucket (required)
  --server NAME          first part of every key: this server's or service's name (required)
  --batch-lines N        lines per object at most (default ${10_000})
  --batch-seconds S      seconds a partial batch waits before it is written (default 60)
  --endpoint URL         S3 endpoint for S3-compatible stores (default: AWS_ENDPOINT_URL*)
  --help                 show this help

SIGINT/SIGTERM (and the end of the input) write the last batch before exiting. A JSON summary goes
to stdout, one line per object written to stderr.`;

/** Validated options of `logpipe ship`. */
export interface ShipOptions {
  readonly bucket: string;
  readonly server: string;
  readonly batchLines: number;
  readonly batchMs: number;
  readonly endpoint?: string;
  /** Paths, `-` for stdin. */
  readonly inputs: readonly string[];
}

/** What a ship run did: printed as JSON on stdout. */
export interface ShipSummary {
  readonly objects: number;
  readonly events: number;
  /** Lines reported as bad (too long, truncated gzip) and shipped with `ship_error`. */
  readonly lineErrors: number;
  /** The first and last keys written (keys ascend: NAME/date/time.N). */
  readonly firstKey?: string;
  readonly lastKey?: string;
  readonly outcome: 'completed' | 'interrupted' | 'failed';
  readonly error?: string;
  /** Where the events of a batch that could not be written were saved. */
  readonly unsentFile?: string;
}

const DEFAULT_BATCH_LINES = 10_000;
const DEFAULT_BATCH_SECONDS = 60;
/** Uncompressed bytes per object at most, whatever --batch-lines says: bounds memory. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Objects per second at most: N stays one digit, so keys sort in the order they were written. */
const MAX_OBJECTS_PER_SECOND = 9;
const SERVER_NAME = /^[^/\p{Cc}]{1,200}$/u;

/** Parses and validates `logpipe ship` arguments. @throws CliUsageError */
export function parseShipArgs(argv: readonly string[]): ShipOptions | 'help' {
  const { values, positionals } = parseCommandArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      bucket: { type: 'string' },
      server: { type: 'string' },
      'batch-lines': { type: 'string' },
      'batch-seconds': { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (values.bucket === undefined || values.bucket === '') throw new CliUsageError('--bucket is required');
  if (values.server === undefined) throw new CliUsageError('--server is required');
  if (!SERVER_NAME.test(values.server))
    throw new CliUsageError('--server must be 1-200 characters without "/" or control characters');
  const batchLines =
    values['batch-lines'] === undefined ? DEFAULT_BATCH_LINES : Number(values['batch-lines']);
  if (!Number.isInteger(batchLines) || batchLines < 1)
    throw new CliUsageError(`--batch-lines must be a positive integer, got ${values['batch-lines']}`);
  const batchSeconds =
    values['batch-seconds'] === undefined ? DEFAULT_BATCH_SECONDS : Number(values['batch-seconds']);
  if (!Number.isFinite(batchSeconds) || batchSeconds <= 0)
    throw new CliUsageError(`--batch-seconds must be a positive number, got ${values['batch-seconds']}`);
  return {
    bucket: values.bucket,
    server: values.server,
    batchLines,
    batchMs: batchSeconds * 1000,
    ...(values.endpoint !== undefined && { endpoint: values.endpoint }),
    inputs: positionals.length === 0 ? ['-'] : positionals,
  };
}

/**
 * Names objects as NXLog does: `NAME/YYYY-MM-DD/HH.MM.SS.N` in UTC, N from 1 within one second.
 * Past {@link MAX_OBJECTS_PER_SECOND} in a second it asks the caller to wait for the next one, so
 * that `.10` never sorts before `.9` and a backfill following the prefix misses nothing.
 */
export class NxlogKeyNamer {
  private second = Number.NaN;
  private count = 0;

  constructor(private readonly server: string) {}

  /** The next key at `nowMillis`, or the milliseconds to wait before asking again. */
  next(nowMillis: number): { readonly key: string } | { readonly waitMs: number } {
    const second = Math.floor(nowMillis / 1000);
    if (second !== this.second) {
      this.second = second;
      this.count = 0;
    }
    if (this.count >= MAX_OBJECTS_PER_SECOND) return { waitMs: (second + 1) * 1000 - nowMillis };
    this.count += 1;
    const iso = new Date(second * 1000).toISOString();
    const time = iso.slice(11, 19).replaceAll(':', '.');
    return { key: `${this.server}/${iso.slice(0, 10)}/${time}.${this.count}` };
  }
}

/**
 * One line as a shipped event (a JSON object's text).
 *
 * @param readAt when the line was read, epoch ms: the default `@timestamp`, and the reference
 *   from which RFC 3164 syslog infers its missing year.
 */
export function eventFromLine(line: string, host: string, readAt: number): string {
  const readIso = new Date(readAt).toISOString();
  if (line.startsWith('{')) {
    const event = jsonLineEvent(line, host, readIso);
    if (event !== undefined) return event;
  }
  const syslog = readSyslogLine(line, readAt, true);
  if (syslog !== undefined) {
    const time = syslog.timeMillis === undefined ? readIso : new Date(syslog.timeMillis).toISOString();
    const envelope = JSON.stringify({ '@timestamp': time, host, message: line });
    return syslog.fields === '' ? envelope : `${envelope.slice(0, -1)},${syslog.fields}}`;
  }
  return JSON.stringify({ '@timestamp': readIso, host, message: line });
}

function jsonLineEvent(line: string, host: string, readIso: string): string | undefined {
  const parsed = parseUntrustedJson(line);
  if (!isJsonObject(parsed)) return undefined;
  const ownTime = parsed['@timestamp'];
  let timestamp = readIso;
  if (ownTime !== undefined) {
    const iso = typeof ownTime === 'string' ? toIsoUtc(ownTime) : undefined;
    if (iso === undefined) return undefined;
    timestamp = iso;
  }
  // Built without a prototype, so keys such as __proto__ stay plain data.
  const event: Record<string, unknown> = Object.create(null);
  setOwn(event, '@timestamp', timestamp);
  setOwn(event, 'host', host);
  setOwn(event, 'message', line);
  for (const [name, value] of Object.entries(parsed)) if (name !== '@timestamp') setOwn(event, name, value);
  return JSON.stringify(event);
}

/**
 * The chunks of `stream` until it ends or `signal` aborts. After the abort it still yields what
 * the stream has already buffered, so bytes Node has read are never dropped, and then stops
 * without waiting for more.
 */
export async function* readUntilStopped(stream: Readable, signal: AbortSignal): AsyncGenerator<Buffer> {
  let failure: unknown;
  const onError = (error: unknown) => {
    failure = error;
  };
  stream.on('error', onError);
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const chunk: unknown = stream.read();
      if (chunk !== null) {
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        continue;
      }
      if (stream.readableEnded || signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('readable', done);
          stream.off('end', done);
          stream.off('error', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        stream.once('readable', done);
        stream.once('end', done);
        stream.once('error', done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    stream.off('error', onError);
  }
}

/** What {@link runShip} works with; {@link run} builds them from the options. */
export interface ShipDependencies {
  readonly s3: S3Client;
  readonly io: CommandIo;
  /** Opens an input; defaults to stdin for `-` and a file stream otherwise. */
  readonly open?: (input: string) => Readable;
  readonly host?: string;
  readonly now?: () => number;
  /** Where the events of batches that could not be uploaded are saved. @default the working directory */
  readonly unsentDir?: string;
}

/** A batch being filled: events (JSON texts) and their size. */
interface Batch {
  readonly events: string[];
  bytes: number;
}

/** Ships every input, in order, until their end, an interruption or a failed upload. */
export async function runShip(options: ShipOptions, deps: ShipDependencies): Promise<ShipSummary> {
  const { s3, io } = deps;
  const now = deps.now ?? Date.now;
  const host = deps.host ?? hostname();
  const open = deps.open ?? ((input: string) => (input === '-' ? process.stdin : createReadStream(input)));
  const namer = new NxlogKeyNamer(options.server);
  let objects = 0;
  let events = 0;
  let lineErrors = 0;
  let firstKey: string | undefined;
  let lastKey: string | undefined;
  let failure: unknown;
  let unsentFile: string | undefined;
  let batch: Batch = { events: [], bytes: 0 };
  let timer: NodeJS.Timeout | undefined;
  let uploading: Promise<void> = Promise.resolve();

  const upload = async (full: Batch) => {
    const body = await gzipAsync(Buffer.from(`${full.events.join('\n')}\n`));
    for (;;) {
      const next = namer.next(now());
      if ('waitMs' in next) {
        await delay(next.waitMs);
        continue;
      }
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: options.bucket,
            Key: next.key,
            Body: body,
            ContentType: 'application/x-ndjson',
            // Another writer (a restarted ship in the same second) may own this key: never overwrite.
            IfNoneMatch: '*',
          }),
        );
      } catch (error: unknown) {
        if (isKeyTaken(error)) continue;
        throw error;
      }
      firstKey ??= next.key;
      lastKey = next.key;
      objects += 1;
      events += full.events.length;
      io.stderr.write(
        `ship: s3://${options.bucket}/${next.key} (${full.events.length} events, ${body.length} bytes)\n`,
      );
      return;
    }
  };

  // After a failed upload, this batch and every later one go to a local file instead.
  const keepUnsent = async (unsent: Batch) => {
    unsentFile ??= path.join(
      deps.unsentDir ?? process.cwd(),
      `logpipe-ship-unsent-${new Date(now()).toISOString().replaceAll(':', '')}.ndjson`,
    );
    await appendFile(unsentFile, `${unsent.events.join('\n')}\n`);
  };

  /** Hands the current batch to the uploader; resolves when the upload before it is done. */
  const flush = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (batch.events.length === 0) return uploading;
    const full = batch;
    batch = { events: [], bytes: 0 };
    const previous = uploading;
    uploading = previous.then(async () => {
      if (failure === undefined) {
        try {
          await upload(full);
          return;
        } catch (error: unknown) {
          failure = error;
        }
      }
      await keepUnsent(full);
    });
    // Observed here so an early rejection is not reported as unhandled; awaited at the end.
    uploading.catch(() => undefined);
    return previous;
  };

  const add = async (event: string) => {
    batch.events.push(event);
    batch.bytes += event.length + 1;
    if (batch.events.length >= options.batchLines || batch.bytes >= MAX_BATCH_BYTES) await flush();
    else timer ??= setTimeout(() => void flush().catch(() => undefined), options.batchMs);
  };

  let readFailure: unknown;
  try {
    for (const input of options.inputs) {
      if (io.signal.aborted || failure !== undefined) break;
      const stream = open(input);
      const name = input === '-' ? 'stdin' : input;
      io.stderr.write(`ship: reading ${name} into s3://${options.bucket}/${options.server}/\n`);
      try {
        for await (const { items } of readRecords(readUntilStopped(stream, io.signal), 'lines')) {
          const readAt = now();
          for (const item of items) {
            if (item.kind === 'record') {
              await add(eventFromLine(item.text, host, readAt));
              continue;
            }
            lineErrors += 1;
            io.stderr.write(`ship: ${name}:${item.recordNumber}: ${item.reason}\n`);
            await add(
              JSON.stringify({
                '@timestamp': new Date(readAt).toISOString(),
                host,
                message: item.raw,
                ship_error: item.reason,
              }),
            );
          }
          if (failure !== undefined) break;
        }
      } finally {
        // Also stdin: a stream left reading would keep the process alive after the last batch.
        stream.destroy();
      }
    }
  } catch (error: unknown) {
    readFailure = error;
  }
  let saveFailure: unknown;
  try {
    // Everything read is flushed: uploaded, or kept in the unsent file when uploads failed.
    await flush();
    await uploading;
  } catch (error: unknown) {
    saveFailure = error;
  }
  if (timer !== undefined) clearTimeout(timer);
  const errors = [failure, readFailure, saveFailure].filter((error) => error !== undefined).map(errorMessage);
  return {
    objects,
    events,
    lineErrors,
    ...(firstKey !== undefined && { firstKey }),
    ...(lastKey !== undefined && { lastKey }),
    outcome: errors.length > 0 ? 'failed' : io.signal.aborted ? 'interrupted' : 'completed',
    ...(errors.length > 0 && {
      error: `${errors.join('; ')}${unsentFile === undefined ? '' : `; the unsent events are in ${unsentFile}`}`,
    }),
    ...(unsentFile !== undefined && { unsentFile }),
  };
}

function gzipAsync(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    gzip(data, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** True for S3's answers to `If-None-Match: *` on an existing key. */
function isKeyTaken(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: unknown }).name;
  return status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

/** Ships with an S3 client built from the options. */
async function executeShip(options: ShipOptions, io: CommandIo): Promise<ShipSummary> {
  const s3 = createS3Client({
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    maxAttempts: 5,
  });
  try {
    return await runShip(options, { s3, io });
  } finally {
    s3.destroy();
  }
}

/**
 * `logpipe ship`: parses `argv`, ships, prints the summary.
 *
 * @returns the exit code: 0 when completed or interrupted, 1 on a failure, 2 on a usage error.
 */
export function run(argv: readonly string[], io?: CommandIo): Promise<number> {
  return runStoppableCommand(
    { name: 'ship', usage: SHIP_USAGE, parse: parseShipArgs, execute: executeShip },
    argv,
    io,
  );
}
