/**
 * The contract of one benchmark case: `bench/run.ts` finds every module under `bench/cases/`
 * that exports `benchCase`, and runs each case in a fresh child process (`bench/child.ts`), so
 * the JIT, the heap and the peak RSS of one case never leak into another. Add a case by adding a
 * module; nothing else changes.
 */

/** The inputs a case may read: the same ALB log, gzipped and plain. */
export interface BenchInput {
  readonly gzFile: string;
  readonly plainFile: string;
}

/** What one run processed. */
export interface BenchWork {
  /** Decompressed bytes processed: every case's MB/s is on this basis, so ratios compare. */
  readonly bytes: number;
  /** Records (lines or documents) produced, to check the cases did the same work. */
  readonly records: number;
}

/** One benchmark case. */
export interface BenchCase {
  /** Short id, used with `--only` and in `results.json`. */
  readonly name: string;
  /** What is measured, for the table. */
  readonly title: string;
  /** Position in the table. */
  readonly order: number;
  /** True for the case the others are compared with (plain gunzip + line split). */
  readonly isLimit?: boolean;
  /** True when the case also runs on the small and the large object to show RSS is flat. */
  readonly scales?: boolean;
  /**
   * False for a case that starts helper processes from TypeScript files beside its module (the
   * emulators): it runs under tsx instead of as an esbuild bundle. @default true
   */
  readonly bundled?: boolean;
  /** Work before the clock starts (servers, uploads), in the same process. @default none */
  prepare?(input: BenchInput): Promise<void>;
  run(input: BenchInput): Promise<BenchWork>;
}

/** One run of a case, as the child process reports it. */
export interface BenchRun {
  readonly seconds: number;
  /** User + system CPU time of the process (all threads): the case's own cost on a busy machine. */
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly records: number;
  /** Peak resident set size, MiB (`process.resourceUsage().maxRSS`). */
  readonly maxRssMiB: number;
}
