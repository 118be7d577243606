/**
 * Drives one log format the way the core does, for the format tests: one parser per object, its
 * records fed in order and numbered from 1, empty lines counted but not parsed.
 */
import type { FormatOptions, LogFormat, ObjectIdentity, RecordResult } from '../../../lambdas/core/types';
import { type ConformanceRow, loadConformance } from '../../support/conformance';

/** A parsed document: the event's fields as an object, with the event's own metadata. */
export interface ParsedDocument {
  readonly timestamp?: string;
  readonly naturalId?: string;
  readonly type?: string;
  readonly fields: Record<string, unknown>;
}

/** Written on 2025-06-01, as S3 LastModified. */
export const SAMPLE_LAST_MODIFIED = Date.UTC(2025, 5, 1, 12, 0, 0);

/**
 * Parses `records` (one object's records, in order) with a new parser of `format`.
 *
 * @returns one result per record, `undefined` for an empty line (the core never parses those).
 */
export function parseRecords(
  format: LogFormat,
  records: readonly string[],
  options: FormatOptions = {},
  object: Partial<ObjectIdentity> = {},
): (RecordResult | undefined)[] {
  const parser = format.createParser({
    object: { key: 'sample.log', lastModified: SAMPLE_LAST_MODIFIED, ...object },
    options,
  });
  return records.map((record, index) => (record === '' ? undefined : parser.parse(record, index + 1)));
}

/** Parses one record with a new parser. */
export function parseOne(
  format: LogFormat,
  record: string,
  options: FormatOptions = {},
  object: Partial<ObjectIdentity> = {},
): RecordResult | undefined {
  return parseRecords(format, [record], options, object)[0];
}

/**
 * The document of an event result. Fails the test when the result is not an event, when its
 * fields are not valid JSON object members, or when they use a name the core reserves.
 */
export function documentOf(result: RecordResult | undefined): ParsedDocument {
  if (result?.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  const fields: unknown = JSON.parse(`{${result.fields}}`);
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw new Error(`fields are not an object: ${result.fields}`);
  for (const reserved of ['@timestamp', 'log'])
    if (Object.hasOwn(fields, reserved)) throw new Error(`fields hold the reserved name ${reserved}`);
  return {
    fields: fields as Record<string, unknown>,
    ...(result.timestamp === undefined ? {} : { timestamp: result.timestamp }),
    ...(result.naturalId === undefined ? {} : { naturalId: result.naturalId }),
    ...(result.type === undefined ? {} : { type: result.type }),
  };
}

/** The reason of an error result; fails the test for any other result. */
export function errorReasonOf(result: RecordResult | undefined): string {
  if (result?.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.reason;
}

/** A nested member of a document, by path. */
export function memberAt(document: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = document;
  for (const name of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** Reads the value of one corpus fact (`client_ip`, `timestamp`...) from a parsed document. */
export type FactReader = (document: ParsedDocument) => unknown;

/**
 * Parses every sample file of a corpus folder with one parser per file, and returns, per row of
 * `expected.jsonl`, the row and the result for its line.
 */
export function conformanceCases(
  folder: string,
  format: LogFormat,
  optionsFor: (file: string, dir: string) => FormatOptions = () => ({}),
): { readonly name: string; readonly row: ConformanceRow; readonly result: RecordResult | undefined }[] {
  const corpus = loadConformance(folder);
  const resultsByFile = new Map<string, (RecordResult | undefined)[]>();
  return corpus.rows.map((row) => {
    let results = resultsByFile.get(row.file);
    if (results === undefined) {
      results = parseRecords(format, corpus.lines(row.file), optionsFor(row.file, corpus.dir));
      resultsByFile.set(row.file, results);
    }
    return { name: `${row.file}:${row.line}`, row, result: results[row.line - 1] };
  });
}

/**
 * Asserts a corpus row against its result: `skip` and `error` rows by the result's kind, others
 * fact by fact through `facts`. A fact the test cannot read fails, so no stated fact is ignored.
 */
export function expectRowHolds(
  row: ConformanceRow,
  result: RecordResult | undefined,
  facts: Readonly<Record<string, FactReader>>,
): void {
  if (row.skip === true) {
    expect(result?.kind).toBe('skip');
    return;
  }
  if (row.error === true) {
    expect(errorReasonOf(result)).not.toBe('');
    return;
  }
  const document = documentOf(result);
  for (const [fact, expected] of Object.entries(row)) {
    if (fact === 'file' || fact === 'line') continue;
    const read = facts[fact];
    if (read === undefined) throw new Error(`no reader for the corpus fact "${fact}"`);
    expect({ [fact]: read(document) }).toEqual({ [fact]: expected });
  }
}

/** Declares one test per row of a corpus folder, each asserted by {@link expectRowHolds}. */
export function itHoldsEveryConformanceRow(
  folder: string,
  format: LogFormat,
  facts: Readonly<Record<string, FactReader>>,
  optionsFor?: (file: string, dir: string) => FormatOptions,
): void {
  it.each(conformanceCases(folder, format, optionsFor))('$name', ({ row, result }) => {
    expectRowHolds(row, result, facts);
  });
}

/** Declares tests that `format` claims each `claimed` S3 key and leaves each `left` key to others. */
export function itMatchesKeys(
  format: LogFormat,
  keys: { readonly claimed: readonly string[]; readonly left: readonly string[] },
): void {
  // Jest refuses an empty table; a format may claim no key at all (syslog, json, regex).
  if (keys.claimed.length > 0)
    it.each(keys.claimed)('claims the key %s', (key) => {
      expect(format.matchesKey(key)).toBe(true);
    });
  if (keys.left.length > 0)
    it.each(keys.left)('leaves the key %s to other formats', (key) => {
      expect(format.matchesKey(key)).toBe(false);
    });
}

/** Declares tests that `format` recognises each `claimed` first line and no `left` one. */
export function itMatchesContent(
  format: LogFormat,
  lines: { readonly claimed: readonly string[]; readonly left: readonly string[] },
): void {
  if (lines.claimed.length > 0)
    it.each(lines.claimed)('recognises the first line %s', (line) => {
      expect(format.matchesContent(line)).toBe(true);
    });
  if (lines.left.length > 0)
    it.each(lines.left)('does not claim the first line %s', (line) => {
      expect(format.matchesContent(line)).toBe(false);
    });
}
