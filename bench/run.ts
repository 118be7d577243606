/**
 * `npm run bench`: the streaming core's throughput against its limit, plain gunzip + line split.
 *
 * On a generated ~200 MB realistic ALB log (cached under `bench/tmp/`), every case under
 * `bench/cases/` runs in a fresh child process several times; the median MB/s (decompressed
 * bytes, wall clock and CPU time) and peak RSS are reported with each case's ratio to the limit.
 * The cases that scale also run on a 50 MB and a 1 GB object, to show that RSS does not grow with
 * the object. Results go to `bench/results.json` and a table on stdout. Then `bench/firehose.ts`
 * compares the Firehose processor with the AWS blueprint (`--only firehose` runs it alone).
 *
 * Options: `--runs N` (default 5), `--only a,b` (case names), `--size-mb N` (default 200),
 * `--scaling-runs N` (default 1; 0 skips the 50 MB / 1 GB runs).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { BENCH_TMP, cachedAlbLog } from './alb-log-generator';
import type { BenchCase, BenchInput, BenchRun } from './bench-case';

const CASES_DIR = path.join(__dirname, 'cases');
const RESULTS_FILE = path.join(__dirname, 'results.json');
/** What `gz → bulk` must reach as a share of the limit. */
const TARGET_RATIO = 0.4;
const MB = 1e6;

interface LoadedCase {
  readonly file: string;
  /** The node arguments that run the case: its bundle for plain Node (see {@link bundleCase}), or tsx. */
  readonly command: readonly string[];
  readonly benchCase: BenchCase;
}

interface ScalingRow {
  readonly name: string;
  readonly objectMB: number;
  readonly runs: readonly BenchRun[];
  readonly maxRssMiB: number;
  readonly MBps: number;
}

interface CaseSummary {
  readonly name: string;
  readonly title: string;
  readonly runs: readonly BenchRun[];
  readonly medianMBps: number;
  readonly medianCpuMBps: number;
  readonly medianMaxRssMiB: number;
  readonly ratioToLimit: number | undefined;
  readonly cpuRatioToLimit: number | undefined;
  /**
   * The median of each round's own ratio (this run's MB/s over the limit's run of the same
   * round): steadier than the ratio of medians when the machine's load drifts.
   */
  readonly pairedRatioToLimit: number | undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function loadCases(only: readonly string[] | undefined): Promise<LoadedCase[]> {
  const loaded: LoadedCase[] = [];
  for (const name of readdirSync(CASES_DIR).filter((file) => file.endsWith('.ts'))) {
    const file = path.join(CASES_DIR, name);
    const { benchCase } = (await import(file)) as { benchCase?: BenchCase };
    if (benchCase === undefined) throw new Error(`${file} does not export benchCase`);
    if (only === undefined || only.includes(benchCase.name))
      loaded.push({
        file,
        command:
          benchCase.bundled === false
            ? ['--import', 'tsx', path.join(__dirname, 'child.ts'), file]
            : [await bundleCase(file)],
        benchCase,
      });
  }
  return loaded.sort((a, b) => a.benchCase.order - b.benchCase.order);
}

/** The plain log of about `bytes`, and the same gzipped; generated once. */
async function inputOf(bytes: number): Promise<BenchInput> {
  const label = bytes >= 1e9 ? `${bytes / 1e9}gb` : `${Math.round(bytes / MB)}mb`;
  const plainFile = await cachedAlbLog(`alb-${label}.log`, bytes);
  const gzFile = `${plainFile}.gz`;
  if (!existsSync(gzFile)) {
    await pipeline(createReadStream(plainFile), createGzip({ level: 6 }), createWriteStream(`${gzFile}.tmp`));
    renameSync(`${gzFile}.tmp`, gzFile);
  }
  return { gzFile, plainFile };
}

/**
 * A gzip object that decompresses to `copies` × the base log: the base gzip repeated as members
 * (as `cat a.gz b.gz` does), so a 1 GB object costs no 1 GB of disk for its plain twin.
 */
function repeatedGzip(base: BenchInput, copies: number, name: string): BenchInput {
  const gzFile = path.join(BENCH_TMP, name);
  if (!existsSync(gzFile)) {
    execFileSync('sh', [
      '-c',
      `for i in $(seq ${copies}); do cat "$0"; done > "$1.tmp" && mv "$1.tmp" "$1"`,
      base.gzFile,
      gzFile,
    ]);
  }
  return { gzFile, plainFile: base.plainFile };
}

/**
 * The case module and `child.ts` bundled by esbuild into one script for plain Node, as the
 * Lambdas are bundled (packages stay external): the code measured is the code that runs.
 */
async function bundleCase(file: string): Promise<string> {
  const { buildSync } = await import('esbuild');
  const outfile = path.join(BENCH_TMP, 'bundles', `${path.basename(file, '.ts')}.cjs`);
  buildSync({
    stdin: {
      contents: `import { benchCase } from ${JSON.stringify(file)};\nimport { runBenchCase } from ${JSON.stringify(path.join(__dirname, 'child'))};\nrunBenchCase(benchCase);\n`,
      resolveDir: __dirname,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

function runChild(command: readonly string[], input: BenchInput): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, input.gzFile, input.plainFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(output) as BenchRun);
    });
  });
}

async function measureRun(loaded: LoadedCase, input: BenchInput, label: string): Promise<BenchRun> {
  const result = await runChild(loaded.command, input);
  process.stderr.write(
    `${label}: ${(result.bytes / MB / result.seconds).toFixed(1)} MB/s, ` +
      `${result.seconds.toFixed(2)} s, CPU ${result.cpuSeconds.toFixed(2)} s, RSS ${result.maxRssMiB.toFixed(0)} MiB\n`,
  );
  return result;
}

async function measure(
  loaded: LoadedCase,
  input: BenchInput,
  runs: number,
  label: string,
): Promise<BenchRun[]> {
  const results: BenchRun[] = [];
  for (let index = 0; index < runs; index++)
    results.push(await measureRun(loaded, input, `${label} run ${index + 1}/${runs}`));
  return results;
}

/**
 * Runs every case `runs` times in rounds (each case once per round, the limit first), so that a
 * busy spell of the shared machine falls on all cases alike rather than on one case's runs.
 */
async function measureInRounds(
  cases: readonly LoadedCase[],
  input: BenchInput,
  runs: number,
): Promise<Map<LoadedCase, BenchRun[]>> {
  const results = new Map<LoadedCase, BenchRun[]>(cases.map((loaded) => [loaded, []]));
  for (let round = 0; round < runs; round++) {
    for (const loaded of cases)
      results
        .get(loaded)
        ?.push(await measureRun(loaded, input, `${loaded.benchCase.name} run ${round + 1}/${runs}`));
  }
  return results;
}

function summarise(
  loaded: LoadedCase,
  runs: readonly BenchRun[],
  limit: CaseSummary | undefined,
): CaseSummary {
  const medianMBps = median(runs.map((run) => run.bytes / MB / run.seconds));
  const medianCpuMBps = median(runs.map((run) => run.bytes / MB / run.cpuSeconds));
  return {
    name: loaded.benchCase.name,
    title: loaded.benchCase.title,
    runs,
    medianMBps,
    medianCpuMBps,
    medianMaxRssMiB: median(runs.map((run) => run.maxRssMiB)),
    ratioToLimit: limit === undefined ? undefined : medianMBps / limit.medianMBps,
    cpuRatioToLimit: limit === undefined ? undefined : medianCpuMBps / limit.medianCpuMBps,
    pairedRatioToLimit:
      limit === undefined
        ? undefined
        : median(
            runs.flatMap((run, round) => {
              const limitRun = limit.runs[round];
              return limitRun === undefined ? [] : [limitRun.seconds / run.seconds];
            }),
          ),
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      only: { type: 'string' },
      'size-mb': { type: 'string', default: '200' },
      'scaling-runs': { type: 'string', default: '1' },
    },
  });
  const runs = Number(values.runs);
  const scalingRuns = Number(values['scaling-runs']);
  const sizeBytes = Number(values['size-mb']) * MB;
  if (!(runs >= 1 && scalingRuns >= 0 && sizeBytes > 0))
    throw new Error('--runs ≥ 1, --scaling-runs ≥ 0, --size-mb > 0');
  const cases = await loadCases(values.only?.split(','));

  process.stderr.write(`preparing inputs under ${BENCH_TMP} (generated once)...\n`);
  const input = await inputOf(sizeBytes);
  // The limit runs first: every other case's ratio is taken against it.
  const limitFirst = [...cases].sort(
    (a, b) => Number(b.benchCase.isLimit === true) - Number(a.benchCase.isLimit === true),
  );
  const byName = new Map<string, CaseSummary>();
  let limit: CaseSummary | undefined;
  for (const [loaded, caseRuns] of await measureInRounds(limitFirst, input, runs)) {
    const summary = summarise(loaded, caseRuns, limit);
    if (loaded.benchCase.isLimit === true) limit = summary;
    byName.set(summary.name, summary);
  }
  const summaries = cases.flatMap((loaded) => byName.get(loaded.benchCase.name) ?? []);

  const scaling: ScalingRow[] = [];
  if (scalingRuns > 0) {
    type ScaledObject = readonly [objectMB: number, input: BenchInput | undefined];
    const largeName = `alb-1gb-from-${Math.round(sizeBytes / MB)}mb.log.gz`;
    const objects: ScaledObject[] = [
      [50, await inputOf(50 * MB)],
      [Math.round(sizeBytes / MB), undefined], // the main runs
      [1000, repeatedGzip(input, Math.round(1e9 / sizeBytes), largeName)],
    ];
    objects.sort((a, b) => a[0] - b[0]);
    for (const loaded of cases.filter((entry) => entry.benchCase.scales === true)) {
      for (const [objectMB, scaledInput] of objects) {
        const scaledRuns =
          scaledInput === undefined
            ? (byName.get(loaded.benchCase.name)?.runs ?? [])
            : await measure(loaded, scaledInput, scalingRuns, `${loaded.benchCase.name} @${objectMB} MB`);
        scaling.push({
          name: loaded.benchCase.name,
          objectMB,
          runs: scaledRuns,
          maxRssMiB: median(scaledRuns.map((run) => run.maxRssMiB)),
          MBps: median(scaledRuns.map((run) => run.bytes / MB / run.seconds)),
        });
      }
    }
  }

  const bulk = summaries.find((summary) => summary.name === 'gz-to-bulk');
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      platform: `${process.platform} ${process.arch}`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    input: {
      plainBytes: statSync(input.plainFile).size,
      gzBytes: statSync(input.gzFile).size,
      runsPerCase: runs,
    },
    cases: summaries,
    target: {
      case: 'gz-to-bulk',
      ratioToLimit: TARGET_RATIO,
      met: bulk?.ratioToLimit === undefined ? undefined : bulk.ratioToLimit >= TARGET_RATIO,
    },
    scaling,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);

  const ratio = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(2));
  console.log(
    `\n${results.machine.cpu} × ${results.machine.cores}, Node ${results.node}, ` +
      `${(results.input.plainBytes / MB).toFixed(0)} MB ALB log (${(results.input.gzBytes / MB).toFixed(0)} MB gz), median of ${runs} runs\n`,
  );
  console.log(
    table(
      ['case', 'MB/s', 'ratio', 'CPU MB/s', 'CPU ratio', 'peak RSS MiB'],
      summaries.map((summary) => [
        summary.title,
        summary.medianMBps.toFixed(1),
        ratio(summary.ratioToLimit),
        summary.medianCpuMBps.toFixed(1),
        ratio(summary.cpuRatioToLimit),
        summary.medianMaxRssMiB.toFixed(0),
      ]),
    ),
  );
  if (scaling.length > 0) {
    console.log(
      `\n${table(
        ['case', 'object MB', 'MB/s', 'peak RSS MiB'],
        scaling.map((row) => [row.name, String(row.objectMB), row.MBps.toFixed(1), row.maxRssMiB.toFixed(0)]),
      )}`,
    );
  }
  if (bulk?.ratioToLimit !== undefined) {
    console.log(
      `\ngz → bulk / limit = ${bulk.ratioToLimit.toFixed(2)} (median of the rounds' own ratios ${bulk.pairedRatioToLimit?.toFixed(2)}; target ≥ ${TARGET_RATIO}: ${results.target.met === true ? 'met' : 'MISSED'})`,
    );
  }
  console.log(`results: ${path.relative(process.cwd(), RESULTS_FILE)}`);

  // The Firehose processor against the AWS Python blueprint: its own events and baseline, so its own script.
  if (values.only === undefined || values.only.split(',').includes('firehose'))
    execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'firehose.ts'), String(runs)], {
      stdio: 'inherit',
    });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
