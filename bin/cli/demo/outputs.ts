/**
 * What the demo reads back after the pipeline ran: documents per index (from the bulk files, or
 * from the cluster), and the quarantine, copied out of the emulated bucket so that it can be read.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@opensearch-project/opensearch';
import { isJsonObject, parseUntrustedJson } from '../../../lambdas/core/json';
import { BULK_FILE_EXTENSION } from '../../../lambdas/shared/file-bulk-sink';

/** Documents per index, in index name order. */
export type IndexCounts = ReadonlyMap<string, number>;

/**
 * Counts the documents of every bulk file in `directory` by index, from their action lines.
 *
 * @throws Error naming the file and line when an action line is not `{"<action>":{"_index":...}}`.
 */
export async function countBulkFileDocuments(directory: string): Promise<IndexCounts> {
  const counts = new Map<string, number>();
  const names = (await readdir(directory)).filter((name) => name.endsWith(BULK_FILE_EXTENSION)).sort();
  for (const name of names) {
    const lines = createInterface({ input: createReadStream(path.join(directory, name), 'utf8') });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber += 1;
      // Action and source lines alternate: odd lines are actions.
      if (lineNumber % 2 === 0) continue;
      const index = indexOfActionLine(line);
      if (index === undefined) throw new Error(`${name}:${lineNumber} is not a bulk action line`);
      counts.set(index, (counts.get(index) ?? 0) + 1);
    }
  }
  return sortedByKey(counts);
}

function indexOfActionLine(line: string): string | undefined {
  const action = parseUntrustedJson(line);
  if (action instanceof Error || !isJsonObject(action)) return undefined;
  const [target] = Object.values(action);
  const index = isJsonObject(target) ? target._index : undefined;
  return typeof index === 'string' ? index : undefined;
}

/**
 * Documents per index in a cluster, for the indices named `<prefix>-*` (refreshed first, so the
 * documents just written count). Indices that held documents before the demo count them too.
 */
export async function countClusterDocuments(client: Client, prefix: string): Promise<IndexCounts> {
  await client.transport.request({ method: 'POST', path: `/${prefix}-*/_refresh` }, { ignore: [404] });
  const response = await client.transport.request({
    method: 'GET',
    path: `/_cat/indices/${prefix}-*`,
    querystring: { format: 'json', h: 'index,docs.count' },
  });
  const counts = new Map<string, number>();
  const rows: unknown = response.body;
  for (const row of Array.isArray(rows) ? rows : []) {
    if (!isJsonObject(row) || typeof row.index !== 'string') continue;
    counts.set(row.index, Number(row['docs.count'] ?? 0));
  }
  return sortedByKey(counts);
}

function sortedByKey(counts: ReadonlyMap<string, number>): IndexCounts {
  return new Map([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What {@link copyQuarantine} copied. */
export interface QuarantineCopy {
  /** The files written, relative to the target directory, in key order. */
  readonly files: readonly string[];
  /** Quarantine records (lines) in them. */
  readonly records: number;
}

/**
 * Copies every quarantine object under `prefix` in `bucket` to `directory`, decompressed:
 * `<prefix><rest>.gz` becomes `<directory>/<rest>` (JSON lines), streamed, so a large quarantine
 * object is never held whole.
 */
export async function copyQuarantine(
  s3: S3Client,
  bucket: string,
  prefix: string,
  directory: string,
): Promise<QuarantineCopy> {
  const files: string[] = [];
  let records = 0;
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(continuationToken !== undefined && { ContinuationToken: continuationToken }),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      const relative = object.Key.slice(prefix.length).replace(/\.gz$/, '');
      const target = path.resolve(directory, relative);
      // Keys hold source keys; a `..` segment in one must not write outside the directory.
      if (!target.startsWith(`${path.resolve(directory)}${path.sep}`)) continue;
      const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))).Body;
      if (body === undefined) continue;
      await mkdir(path.dirname(target), { recursive: true });
      const lineCounter = new LineCounter();
      await pipeline(body as NodeJS.ReadableStream, createGunzip(), lineCounter, createWriteStream(target));
      records += lineCounter.lines;
      files.push(relative);
    }
    continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
  return { files, records };
}

/** Passes bytes through and counts the line feeds. */
class LineCounter extends Transform {
  lines = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.lines += 1;
    this.push(chunk);
    callback();
  }
}
