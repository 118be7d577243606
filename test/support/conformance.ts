/**
 * Loads the peers' conformance corpus (`../shared/conformance/<format>/`): the sample files and the
 * facts each peer states per line. The corpus lives beside the repository (as in CI); a missing
 * corpus fails the suite instead of skipping it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One row of `expected.jsonl`: a sample line and the facts a peer states for it. */
export interface ConformanceRow {
  readonly file: string;
  readonly line: number;
  readonly [fact: string]: unknown;
}

/** The corpus root: `shared/conformance` beside the repository. */
export const CONFORMANCE_ROOT = path.resolve(__dirname, '..', '..', '..', 'shared', 'conformance');

/** The rows of one format folder, and a reader for its sample files. */
export function loadConformance(folder: string): {
  readonly dir: string;
  readonly rows: readonly ConformanceRow[];
  /** The sample file's physical lines (1-based index = line - 1), without line terminators. */
  readonly lines: (file: string) => readonly string[];
} {
  const dir = path.join(CONFORMANCE_ROOT, folder);
  if (!existsSync(dir))
    throw new Error(`conformance corpus not found at ${dir}: clone shared/ beside the repo`);
  const rows = readFileSync(path.join(dir, 'expected.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ConformanceRow);
  const cache = new Map<string, readonly string[]>();
  const lines = (file: string): readonly string[] => {
    let fileLines = cache.get(file);
    if (fileLines === undefined) {
      fileLines = readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/);
      cache.set(file, fileLines);
    }
    return fileLines;
  };
  return { dir, rows, lines };
}

/**
 * The corpus' timestamp form: ISO-8601 UTC with exactly three fraction digits, finer precision
 * truncated (`2018-07-02T22:23:00.186641Z` → `2018-07-02T22:23:00.186Z`).
 */
export function toCorpusTimestamp(isoUtc: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(isoUtc);
  if (match === null) throw new Error(`not an ISO-8601 UTC timestamp: ${isoUtc}`);
  return `${match[1]}.${(match[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}
