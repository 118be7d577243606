/**
 * What the `logpipe` subcommands share: the command contract the dispatcher loads, usage errors,
 * argument parsing with clear messages, and output that respects backpressure and a closed pipe.
 */
import { once } from 'node:events';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * A subcommand module, as `bin/logpipe.ts` loads it: `run` parses its own arguments, prints its
 * own `--help`, and resolves to the exit code (0 done, 1 failed, 2 usage error).
 */
export interface CliCommand {
  run(argv: readonly string[]): Promise<number>;
}

/** A command-line mistake: reported with the usage, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/**
 * `util.parseArgs` with its errors (unknown option, missing value) turned into
 * {@link CliUsageError}, so every command reports them the same way.
 */
export function parseCommandArgs<Config extends ParseArgsConfig>(
  config: Config,
): ReturnType<typeof parseArgs<Config>> {
  try {
    return parseArgs(config);
  } catch (error: unknown) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new CliUsageError(errorMessage(error));
    throw error;
  }
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  // Duck-typed: errors from another realm (Node's internals seen from a test sandbox) count too.
  const message =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

/**
 * Writes to a stream with backpressure: `write` resolves once the stream can take more, so a slow
 * reader (`| less`) bounds memory. When the reader goes away (`| head` exits: EPIPE) `closed`
 * turns true and further writes are dropped, so the command can stop instead of crashing.
 */
export class OutputChannel {
  private broken = false;

  constructor(private readonly stream: NodeJS.WritableStream) {
    // Without a listener an EPIPE would be an uncaught 'error' event.
    stream.on('error', () => {
      this.broken = true;
    });
  }

  /** True once the reader has gone away. */
  get closed(): boolean {
    return this.broken;
  }

  async write(text: string): Promise<void> {
    if (this.broken || text === '') return;
    if (this.stream.write(text)) return;
    try {
      await once(this.stream, 'drain');
    } catch {
      this.broken = true;
    }
  }
}

/** The streams and stop signal of a long-running command (`backfill`, `ship`); tests inject their own. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
  /** Aborted when the command must stop gracefully (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/**
 * Runs `fn` with the process' streams, SIGINT and SIGTERM turned into a graceful stop (the
 * signal aborts, the command finishes the work in hand); a second signal exits at once with 130.
 */
export async function withStopSignals<T>(fn: (io: CommandIo) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${name}: finishing the work in hand (send it again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn({ stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** How a long-running command ended; its summary (printed as JSON on stdout) carries this. */
export interface CommandOutcome {
  /** `interrupted`: stopped by SIGINT/SIGTERM after finishing the work in hand. */
  readonly outcome: 'completed' | 'interrupted' | 'failed';
  readonly error?: string;
}

/** A long-running command: its arguments, and its work from validated options to a summary. */
export interface StoppableCommand<Options, Summary extends CommandOutcome> {
  readonly name: string;
  readonly usage: string;
  /** @throws CliUsageError */
  parse(argv: readonly string[]): Options | 'help';
  execute(options: Options, io: CommandIo): Promise<Summary>;
}

/**
 * Runs a long-running command the same way for every such command: `--help`, usage errors (exit
 * 2, with a hint), graceful SIGINT/SIGTERM when `io` is the process', the summary as one JSON
 * line on stdout, and exit 1 when it failed (its error also on stderr), 0 otherwise.
 */
export async function runStoppableCommand<Options, Summary extends CommandOutcome>(
  command: StoppableCommand<Options, Summary>,
  argv: readonly string[],
  io?: CommandIo,
): Promise<number> {
  if (io === undefined) return withStopSignals((processIo) => runStoppableCommand(command, argv, processIo));
  const stdout = new OutputChannel(io.stdout);
  try {
    const options = command.parse(argv);
    if (options === 'help') {
      await stdout.write(`${command.usage}\n`);
      return 0;
    }
    const summary = await command.execute(options, io);
    if (summary.error !== undefined) io.stderr.write(`${command.name}: failed: ${summary.error}\n`);
    await stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.outcome === 'failed' ? 1 : 0;
  } catch (error: unknown) {
    if (error instanceof CliUsageError) {
      io.stderr.write(
        `logpipe ${command.name}: ${error.message}\nRun 'logpipe ${command.name} --help' for the options.\n`,
      );
      return 2;
    }
    io.stderr.write(`logpipe ${command.name}: ${errorMessage(error)}\n`);
    return 1;
  }
}
