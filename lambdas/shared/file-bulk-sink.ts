/**
 * The file sink: what the indexer would send to OpenSearch, written to a directory instead, so the
 * pipeline runs without a cluster (`npm run demo`, `OPENSEARCH_ENDPOINT=file:DIR`) and its output
 * can be read, diffed, or loaded into a real cluster later with `curl`:
 *
 * - `<dir>/<index>_<id>.ndjson`: one bulk body each, exactly the NDJSON the indexer would POST to
 *   `_bulk`, named after its first document (or a hash of its index and id when those are not
 *   safe as a file name). The same input gives the same files, and a replayed object overwrites
 *   its files instead of adding to them, as the `create` action makes a replay a no-op in a cluster.
 * - `<dir>/_index_template/<name>.json`: the body of each index template the indexer would
 *   install, for `PUT /_index_template/<name>`.
 *
 * Every document is reported as indexed: a file accepts anything, so nothing reaches the quarantine
 * from here (a cluster may still refuse a document when the files are loaded into it).
 *
 * @see https://docs.opensearch.org/latest/api-reference/document-apis/bulk/
 * @see https://docs.opensearch.org/latest/im-plugin/index-templates/
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BulkBody } from '../core/bulk';
import type { BulkIndexOptions, BulkIndexResult } from './opensearch/bulk-sink';
import {
  buildIndexTemplates,
  type FreeFormMapping,
  type IndexTemplateOptions,
} from './opensearch/index-templates';

/** The sub-directory that holds the index templates. */
export const INDEX_TEMPLATE_DIRECTORY = '_index_template';

/** The extension of a bulk body file. */
export const BULK_FILE_EXTENSION = '.ndjson';

// Generated ids are base64url and index names hold no `/`; anything else is hashed, so that a
// natural id can never name a path outside the directory. A name never starts with `.` or `-`.
const SAFE_INDEX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;
const SAFE_ID = /^[A-Za-z0-9._-]{1,120}$/;

/**
 * The directory a `file:` endpoint names: `file:///abs/dir` (a file URL), `file:/abs/dir`, or
 * `file:relative/dir` and `file:./dir`, resolved against `cwd`.
 *
 * @returns undefined when `endpoint` is not a `file:` endpoint naming a local directory.
 */
export function fileEndpointDirectory(endpoint: string, cwd: string = process.cwd()): string | undefined {
  if (!endpoint.startsWith('file:')) return undefined;
  if (endpoint.startsWith('file://')) {
    try {
      // Percent-escapes decoded; a host other than localhost is refused.
      return fileURLToPath(endpoint);
    } catch {
      return undefined;
    }
  }
  const rest = endpoint.slice('file:'.length);
  return rest === '' ? undefined : path.resolve(cwd, rest);
}

/** The file name of a bulk body: after its first document, so a replay lands on the same file. */
export function bulkFileName(body: Pick<BulkBody, 'documents'>): string {
  const [first] = body.documents;
  if (first === undefined) throw new Error('a bulk body without documents has no file name');
  if (SAFE_INDEX.test(first.index) && SAFE_ID.test(first.id))
    return `${first.index}_${first.id}${BULK_FILE_EXTENSION}`;
  const digest = createHash('sha256').update(`${first.index}\u0000${first.id}`).digest('hex').slice(0, 32);
  return `${digest}${BULK_FILE_EXTENSION}`;
}

/** Options of {@link FileBulkSink.writeIndexTemplates}. */
export interface WriteIndexTemplatesOptions extends Omit<IndexTemplateOptions, 'freeForm'> {
  /**
   * The mapping of free-form subtrees. No cluster answers here, so the default is the one every
   * OpenSearch version and Elasticsearch-based domain accepts. @default 'disabled'
   */
  readonly freeForm?: FreeFormMapping;
}

/** What {@link FileBulkSink.writeIndexTemplates} wrote. */
export interface WrittenIndexTemplates {
  readonly freeForm: FreeFormMapping;
  /** Template names, one file each. */
  readonly written: readonly string[];
}

/** Writes bulk bodies and index templates under one directory (created when missing). */
export class FileBulkSink {
  constructor(readonly directory: string) {}

  /**
   * Writes each body to its own file as it is pulled, so memory holds one body at a time. The
   * `deadline` is not checked: a local write takes milliseconds, far less than any margin.
   *
   * @throws the file system's error (the directory cannot be created, the disk is full); the
   * indexer then fails the message and it is delivered again.
   */
  async bulkIndex(
    bodies: Iterable<BulkBody> | AsyncIterable<BulkBody>,
    _options: BulkIndexOptions,
  ): Promise<BulkIndexResult> {
    const result: BulkIndexResult = { indexed: 0, duplicates: 0, quarantined: 0, retried: 0, requests: 0 };
    await mkdir(this.directory, { recursive: true });
    for await (const body of bodies) {
      if (body.documents.length === 0) continue;
      await writeFileAtomically(path.join(this.directory, bulkFileName(body)), body.body);
      result.indexed += body.documents.length;
      result.requests += 1;
    }
    return result;
  }

  /** Writes the body of every index template to `<dir>/_index_template/<name>.json`. */
  async writeIndexTemplates(options: WriteIndexTemplatesOptions): Promise<WrittenIndexTemplates> {
    const freeForm = options.freeForm ?? 'disabled';
    const directory = path.join(this.directory, INDEX_TEMPLATE_DIRECTORY);
    await mkdir(directory, { recursive: true });
    const written: string[] = [];
    for (const template of buildIndexTemplates({ ...options, freeForm })) {
      await writeFileAtomically(
        path.join(directory, `${template.name}.json`),
        `${JSON.stringify(template.body, null, 2)}\n`,
      );
      written.push(template.name);
    }
    return { freeForm, written };
  }
}

/** Writes a temporary file and renames it over `file`: a reader never sees half a body. */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, file);
  } catch (error: unknown) {
    await rm(temporary, { force: true });
    throw error;
  }
}
