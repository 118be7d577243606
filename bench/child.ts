/**
 * Runs one benchmark case once in this (fresh) process and prints a {@link BenchRun} as JSON.
 * Usage: `node --import tsx bench/child.ts <case module> <gz file> <plain file>`.
 */
import path from 'node:path';
import type { BenchCase, BenchRun } from './bench-case';

async function main(): Promise<void> {
  const [modulePath, gzFile, plainFile] = process.argv.slice(2);
  if (modulePath === undefined || gzFile === undefined || plainFile === undefined) {
    throw new Error('usage: child.ts <case module> <gz file> <plain file>');
  }
  const { benchCase } = (await import(path.resolve(modulePath))) as { benchCase: BenchCase };
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

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
