/**
 * Throughput of the ALB record parser alone (no gunzip, no line splitting, no ids): about 50,000
 * realistic ALB lines in memory, parsed several times; prints lines/s and MB/s of input per run and
 * the median. Run with `npx tsx bench/alb-parse.ts [lines] [runs]`.
 *
 * On a shared machine the wall clock also counts time spent waiting for a core, so each run is
 * reported against this process's CPU time too: that is the parser's own cost.
 */
import { readFileSync } from 'node:fs';
import { albFormat } from '../lambdas/core/formats/alb';
import { cachedAlbLog } from './alb-log-generator';

const lineCount = Number(process.argv[2] ?? 50_000);
const runs = Number(process.argv[3] ?? 7);

async function main(): Promise<void> {
  // The benchmark's own generator, so this measures the same kind of lines as `npm run bench`.
  const file = await cachedAlbLog('alb-parse-sample.log', lineCount * 800);
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .slice(0, lineCount);
  const inputBytes = lines.reduce((total, line) => total + Buffer.byteLength(line) + 1, 0);
  const parser = albFormat.createParser({ object: { key: file }, options: {} });

  let outputChars = 0;
  let errors = 0;
  /** Parses every line once; returns [wall seconds, CPU seconds]. */
  const parseAll = (): [number, number] => {
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    for (let index = 0; index < lines.length; index++) {
      const result = parser.parse(lines[index] as string, index + 1);
      if (result.kind === 'event') outputChars += result.fields.length;
      else errors++;
    }
    const cpu = process.cpuUsage(cpuStarted);
    return [Number(process.hrtime.bigint() - started) / 1e9, (cpu.user + cpu.system) / 1e6];
  };
  const rate = (seconds: number): string =>
    `${(lines.length / seconds / 1e3).toFixed(0)}k lines/s, ${(inputBytes / seconds / 1e6).toFixed(1)} MB/s`;
  const median = (values: readonly number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

  parseAll(); // warm-up: let the JIT optimise the scanner before measuring
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const [wallSeconds, cpuSeconds] = parseAll();
    wall.push(wallSeconds);
    cpu.push(cpuSeconds);
    console.log(`run ${run + 1}: ${rate(wallSeconds)} (wall clock); ${rate(cpuSeconds)} (CPU time)`);
  }
  console.log(
    `median of ${runs}: ${rate(median(wall))} (wall clock); ${rate(median(cpu))} (CPU time); ` +
      `${lines.length} lines, ${(inputBytes / 1e6).toFixed(1)} MB, ${errors} errors, ` +
      `${(outputChars / (runs + 1) / lines.length).toFixed(0)} chars of fields per line`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
