/**
 * The conformance corpus through the whole pipeline (reader → parser → documents), one folder per
 * format. The format tests check each field; this checks what the pipeline adds: line numbers,
 * skipped headers, rejected lines, `@timestamp`, unique ids and index names.
 */
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type DocumentItem,
  type ParseItem,
  parseObject,
  type RejectedItem,
} from '../../lambdas/core/parse-object';
import { FORMAT_NAMES, type FormatName } from '../../lambdas/core/types';
import {
  CONFORMANCE_ROOT,
  type ConformanceRow,
  loadConformance,
  toCorpusTimestamp,
} from '../support/conformance';

const FOLDERS = readdirSync(CONFORMANCE_ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const NOT_SAMPLES = new Set(['expected.jsonl', 'SOURCE.md']);
// The one file that mixes formats; each folder lists only its own lines of it.
const MIXED_FILE = 'integrations-test-alb.log';
// Any fixed time: RFC 3164 syslog takes its missing year from it.
const LAST_MODIFIED = Date.UTC(2024, 5, 15);

interface DocumentSource {
  readonly '@timestamp': string;
  readonly log: { readonly type: string; readonly file: string; readonly line: number };
}

function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

async function parseSample(folder: FormatName, dir: string, file: string): Promise<ParseItem[]> {
  const sidecar = path.join(dir, `${file}.format`);
  const fieldList = existsSync(sidecar) ? readFileSync(sidecar, 'utf8').trim() : undefined;
  const items: ParseItem[] = [];
  const parse = parseObject({
    body: createReadStream(path.join(dir, file)),
    object: { bucket: 'conformance', key: `${folder}/${file}`, lastModified: LAST_MODIFIED },
    format: folder,
    ...(fieldList !== undefined && { options: { fieldList } }),
  });
  for await (const batch of parse) items.push(...batch.items);
  return items;
}

it('covers every format folder of the corpus', () => {
  // Assess
  expect(FOLDERS.length).toBeGreaterThan(0);
  expect(FOLDERS.filter((folder) => !isFormatName(folder))).toEqual([]);
});

describe.each(FOLDERS)('%s samples through parseObject', (folder) => {
  const { dir, rows } = loadConformance(folder);
  const files = readdirSync(dir)
    .filter((file) => !NOT_SAMPLES.has(file) && !file.endsWith('.format'))
    .sort();
  const documentIds: { readonly id: string; readonly naturalId: unknown }[] = [];

  it.each(files)('%s', async (file) => {
    // Prepare
    if (!isFormatName(folder)) throw new Error(`${folder} is not a format name`);
    const fileRows = rows.filter((row) => row.file === file);

    // Act
    const items = await parseSample(folder, dir, file);

    // Assess
    const documents = new Map<number, DocumentItem>();
    const rejected = new Map<number, RejectedItem>();
    for (const item of items) {
      const byLine = item.kind === 'document' ? documents : rejected;
      expect(byLine.has(item.recordNumber)).toBe(false);
      if (item.kind === 'document') documents.set(item.recordNumber, item);
      else rejected.set(item.recordNumber, item);
    }
    const problems: string[] = [];
    const check = (row: ConformanceRow, fact: string, ok: boolean) => {
      if (!ok) problems.push(`${file}:${row.line} ${fact}`);
    };
    for (const row of fileRows) {
      const document = documents.get(row.line);
      const rejection = rejected.get(row.line);
      if (row.skip === true) {
        check(
          row,
          'skip row produced a document or a rejection',
          document === undefined && rejection === undefined,
        );
        continue;
      }
      if (row.error === true) {
        check(row, 'error row was not rejected', rejection !== undefined && document === undefined);
        continue;
      }
      if (document === undefined) {
        check(row, `no document (${rejection?.reason ?? 'not rejected either'})`, false);
        continue;
      }
      const source = JSON.parse(document.source) as DocumentSource;
      const type = typeof row.format === 'string' ? row.format : folder;
      check(row, `log.type ${source.log.type}, expected ${type}`, source.log.type === type);
      check(row, `log.line ${source.log.line}`, source.log.line === row.line);
      check(row, `log.file ${source.log.file}`, source.log.file === `s3://conformance/${folder}/${file}`);
      if (typeof row.timestamp === 'string') {
        const timestamp = toCorpusTimestamp(source['@timestamp']);
        check(row, `@timestamp ${timestamp}, expected ${row.timestamp}`, timestamp === row.timestamp);
      }
      const day = source['@timestamp'].slice(0, 10).replaceAll('-', '.');
      check(row, `_index ${document.index}`, document.index === `logs-${source.log.type}-${day}`);
      check(row, 'raw text is not the line', document.raw.length > 0);
      documentIds.push({ id: document.id, naturalId: (source as { eventID?: unknown }).eventID });
    }
    // Outside the mixed file every line has a row: nothing may be produced for a line without one.
    if (file !== MIXED_FILE) {
      const lines = new Set(fileRows.map((row) => row.line));
      for (const recordNumber of [...documents.keys(), ...rejected.keys()]) {
        if (!lines.has(recordNumber))
          problems.push(`${file}:${recordNumber} produced an item but has no row`);
      }
    }
    expect(problems).toEqual([]);
    expect(fileRows.length).toBeGreaterThan(0);
  });

  it('gives every document of the folder its own id, unless it is the same natural id', () => {
    // Prepare: the CloudTrail samples reuse AWS's EXAMPLE eventIDs; a natural id is meant to merge
    // a record delivered twice, so only generated ids must be unique.
    const counts = new Map<string, number>();
    for (const { id } of documentIds) counts.set(id, (counts.get(id) ?? 0) + 1);

    // Assess
    const repeatedGeneratedIds = documentIds.filter(
      ({ id, naturalId }) => (counts.get(id) ?? 0) > 1 && id !== naturalId,
    );
    expect(repeatedGeneratedIds).toEqual([]);
    expect(documentIds.length).toBeGreaterThan(0);
  });
});
