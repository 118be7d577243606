/**
 * Runs one benchmark case once in this (fresh) process and prints a {@link BenchRun} as JSON.
 * `bench/run.ts` bundles each case with this module by esbuild, as the Lambdas are bundled, and
 * runs the bundle in plain Node: `node <bundle> <gz file> <plain file>`. Without a bundle:
 * `node --import tsx bench/child.ts <case module> <gz file> <plain file>` (a TypeScript loader
 * adds a getter call to every imported function, which the hot loops feel).
 */
import path from 'node:path';
import type { BenchCase, BenchRun } from './bench-case';

/** Runs `benchCase` on the files named by the process's arguments and prints the run. */
export function runBenchCase(benchCase: BenchCase, [gzFile, plainFile] = process.argv.slice(2)): void {
  if (gzFile === undefined || plainFile === undefined)
    throw new Error('usage: node <case bundle> <gz file> <plain file>');
  measureCase(benchCase, gzFile, plainFile).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

async function measureCase(benchCase: BenchCase, gzFile: string, plainFile: string): Promise<void> {
  await benchCase.prepare?.({ gzFile, plainFile });
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  const work = await benchCase.run({ gzFile, plainFile });
  const cpu = process.cpuUsage(cpuStarted);
  const result: BenchRun = {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: work.bytes,
    records: work.records,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const [modulePath, ...files] = process.argv.slice(2);
  if (modulePath === undefined) throw new Error('usage: child.ts <case module> <gz file> <plain file>');
  const { benchCase } = (await import(path.resolve(modulePath))) as { benchCase: BenchCase };
  runBenchCase(benchCase, files);
}

// Run directly, not from a bundle that holds this module with a case.
if (path.basename(process.argv[1] ?? '') === 'child.ts') void main();
