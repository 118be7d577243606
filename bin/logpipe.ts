#!/usr/bin/env -S npx tsx
/**
 * `logpipe`: the project's command line. Each subcommand is a module under `bin/cli/` exporting
 * `run(argv)` (see {@link CliCommand}); it is loaded only when called, so one command's
 * dependencies (the AWS SDK) never slow another down. Adding a subcommand is one line below.
 */
import type { CliCommand } from './cli/shared';

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CliCommand>;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  parse: {
    summary: 'print log files as the documents the indexer would write',
    load: () => import('./cli/parse'),
  },
  backfill: {
    summary: 'index or enqueue the log objects already in a bucket',
    load: () => import('./cli/backfill'),
  },
  ship: { summary: 'store local log lines in S3 the way NXLog does', load: () => import('./cli/ship') },
  demo: { summary: 'run the whole pipeline locally on bundled samples', load: () => import('./cli/demo') },
  'firehose-process': {
    summary: 'run the Firehose processor on a saved event',
    load: () => import('./cli/firehose-process'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `Usage: logpipe <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'logpipe <command> --help' for a command's options.\n`;
}

/** Runs the command line `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (entry === undefined) {
    process.stderr.write(
      `${name === undefined ? 'logpipe: no command given' : `logpipe: unknown command ${name}`}\n\n${usage()}`,
    );
    return 2;
  }
  const command = await entry.load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // exitCode, not exit(): pending output still reaches a pipe.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `logpipe: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
