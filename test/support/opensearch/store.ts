/**
 * The cluster state of the OpenSearch test server: composable index templates, indices with their
 * mappings, settings and documents, and the bulk operations that change them. No HTTP here: the
 * server (`../opensearch-server.ts`) translates requests into these calls.
 *
 * @see https://docs.opensearch.org/latest/im-plugin/index-templates/
 * @see https://docs.opensearch.org/latest/api-reference/document-apis/bulk/
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  cause,
  illegalArgument,
  indexNotFound,
  type OpenSearchErrorCause,
  OpenSearchHttpError,
} from './errors';
import {
  countFields,
  globMatches,
  isObject,
  type JsonObject,
  mapDocument,
  validateMappingDefinition,
} from './mapping';

/** A stored document. */
export interface StoredDocument {
  readonly source: JsonObject;
  readonly version: number;
  readonly seqNo: number;
  /** When it was written, for the periodic refresh. */
  readonly indexedAt: number;
  /** Size of its source text, for `_cat/indices`. */
  readonly bytes: number;
}

/** One index. */
export interface IndexState {
  readonly name: string;
  readonly uuid: string;
  readonly creationDate: number;
  /** Flat settings (`index.number_of_shards` → `"1"`), as strings like OpenSearch keeps them. */
  readonly settings: Map<string, string>;
  readonly mappings: JsonObject;
  fieldCount: number;
  readonly documents: Map<string, StoredDocument>;
  nextSeqNo: number;
  /** Documents with a lower sequence number are visible to search. */
  refreshedBelow: number;
}

/** A bulk action, parsed. */
export interface BulkOperation {
  readonly action: 'index' | 'create' | 'update' | 'delete';
  readonly index: string;
  readonly id: string;
  /** The source line (or the update body) as sent; absent for `delete`. */
  readonly sourceText?: string;
}

/** One bulk item's result, as OpenSearch writes it under the action's name. */
export type BulkItemResult = JsonObject & { readonly status: number };

const INVALID_INDEX_CHARACTERS = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

/** Why `name` is not a legal index name, or undefined when it is. */
export function invalidIndexName(name: string): string | undefined {
  const invalid = INVALID_INDEX_CHARACTERS.find((character) => name.includes(character));
  if (invalid !== undefined)
    return `must not contain the following characters [${INVALID_INDEX_CHARACTERS.join(', ')}]`;
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/^[_\-+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (Buffer.byteLength(name) > 255) return 'index name is too long';
  return undefined;
}

/** Flattens settings to `index.*` keys with string values, as OpenSearch stores them. */
export function flattenSettings(settings: unknown, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  if (!isObject(settings)) return flat;
  for (const [key, value] of Object.entries(settings)) {
    const path = `${prefix}${key}`;
    if (isObject(value)) {
      for (const [nestedKey, nestedValue] of flattenSettings(value, `${path}.`))
        flat.set(nestedKey, nestedValue);
    } else if (value !== null && value !== undefined) {
      flat.set(path.startsWith('index.') ? path : `index.${path}`, String(value));
    }
  }
  return flat;
}

/** Nests flat settings back into OpenSearch's response form (`{"index":{"number_of_shards":"1"}}`). */
export function nestSettings(flat: ReadonlyMap<string, string>): JsonObject {
  const nested: JsonObject = {};
  for (const [key, value] of flat) {
    const parts = key.split('.');
    let node = nested;
    for (const part of parts.slice(0, -1)) {
      let next = node[part];
      if (!isObject(next)) {
        next = {};
        node[part] = next;
      }
      node = next as JsonObject;
    }
    node[parts[parts.length - 1] ?? key] = value;
  }
  return nested;
}

/**
 * True when some index name could match both patterns. Exact for patterns with one `*` (the
 * templates this project writes); for others it compares the literal prefix and suffix.
 */
function patternsOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return globMatches(b, a);
  if (!b.includes('*')) return globMatches(a, b);
  const prefix = (pattern: string): string => pattern.slice(0, pattern.indexOf('*'));
  const suffix = (pattern: string): string => pattern.slice(pattern.lastIndexOf('*') + 1);
  const compatible = (x: string, y: string, test: (long: string, short: string) => boolean): boolean =>
    x.length >= y.length ? test(x, y) : test(y, x);
  return (
    compatible(prefix(a), prefix(b), (long, short) => long.startsWith(short)) &&
    compatible(suffix(a), suffix(b), (long, short) => long.endsWith(short))
  );
}

/** What a document keeps when sources are not stored: one shared empty object. */
const NO_SOURCE: JsonObject = Object.freeze({}) as JsonObject;

/** Cluster state: templates, indices, documents. */
export class ClusterStore {
  readonly templates = new Map<string, JsonObject>();
  readonly indices = new Map<string, IndexState>();

  constructor(
    private readonly options: {
      readonly supportsFlatObject: boolean;
      readonly refreshIntervalMs: number;
      /** False: documents keep an empty source (see `OpenSearchTestServerOptions.storeSources`). @default true */
      readonly storeSources?: boolean;
      /** False: created documents are neither parsed nor mapped (see `OpenSearchTestServerOptions.mapDocuments`). @default true */
      readonly mapDocuments?: boolean;
    },
  ) {}

  /** Removes every template and index. */
  clear(): void {
    this.templates.clear();
    this.indices.clear();
  }

  /** `PUT /_index_template/<name>`: validates and stores a composable template. */
  putTemplate(name: string, body: unknown, createOnly: boolean): void {
    if (!isObject(body)) throw illegalArgument('request body is required');
    const patterns = typeof body.index_patterns === 'string' ? [body.index_patterns] : body.index_patterns;
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string')) {
      throw new OpenSearchHttpError(
        400,
        cause('action_request_validation_exception', 'Validation Failed: 1: index patterns are missing;'),
      );
    }
    if (createOnly && this.templates.has(name))
      throw illegalArgument(`index template [${name}] already exists`);
    const template = isObject(body.template) ? body.template : {};
    const mappingError = validateMappingDefinition(template.mappings, this.options.supportsFlatObject);
    if (mappingError !== undefined) throw new OpenSearchHttpError(400, mappingError);
    const priority = typeof body.priority === 'number' ? body.priority : 0;
    for (const [otherName, other] of this.templates) {
      if (otherName === name || (other.priority ?? 0) !== priority) continue;
      const otherPatterns = other.index_patterns as string[];
      if (patterns.some((p: string) => otherPatterns.some((q) => patternsOverlap(p, q)))) {
        throw illegalArgument(
          `index template [${name}] has index patterns [${patterns.join(', ')}] matching patterns from existing templates [${otherName}] with patterns (${otherName} => [${otherPatterns.join(', ')}]) that have the same priority [${priority}], multiple index templates may not match during index creation, please use a different priority`,
        );
      }
    }
    const stored: JsonObject = {
      index_patterns: patterns,
      template: {
        ...(template.settings !== undefined && {
          settings: nestSettings(flattenSettings(template.settings)),
        }),
        ...(template.mappings !== undefined && { mappings: structuredClone(template.mappings) }),
        ...(template.aliases !== undefined && { aliases: structuredClone(template.aliases) }),
      },
      composed_of: Array.isArray(body.composed_of) ? body.composed_of : [],
      ...(body.priority !== undefined && { priority }),
      ...(body.version !== undefined && { version: body.version }),
      ...(body._meta !== undefined && { _meta: structuredClone(body._meta) }),
    };
    this.templates.set(name, stored);
  }

  /** Templates whose name matches `pattern` (a name or a `*` pattern). */
  findTemplates(pattern: string): [string, JsonObject][] {
    return [...this.templates].filter(([name]) => globMatches(pattern, name));
  }

  /** The template OpenSearch applies to a new index: the matching one with the highest priority. */
  templateFor(index: string): JsonObject | undefined {
    let best: JsonObject | undefined;
    for (const template of this.templates.values()) {
      const patterns = template.index_patterns as string[];
      if (!patterns.some((pattern) => globMatches(pattern, index))) continue;
      if (best === undefined || Number(template.priority ?? 0) > Number(best.priority ?? 0)) best = template;
    }
    return best;
  }

  /** Creates an index from the matching template, overridden by an explicit body (`PUT /<index>`). */
  createIndex(name: string, body: unknown = {}): IndexState {
    const problem = invalidIndexName(name);
    if (problem !== undefined) {
      throw new OpenSearchHttpError(
        400,
        cause('invalid_index_name_exception', `Invalid index name [${name}], ${problem}`, { index: name }),
      );
    }
    if (this.indices.has(name)) {
      throw new OpenSearchHttpError(
        400,
        cause(
          'resource_already_exists_exception',
          `index [${name}/${this.indices.get(name)?.uuid}] already exists`,
          {
            index: name,
          },
        ),
      );
    }
    const explicit = isObject(body) ? body : {};
    const explicitError = validateMappingDefinition(explicit.mappings, this.options.supportsFlatObject);
    if (explicitError !== undefined) throw new OpenSearchHttpError(400, explicitError);
    const template = this.templateFor(name);
    const templateBody = template !== undefined && isObject(template.template) ? template.template : {};
    const mappings: JsonObject = structuredClone(
      isObject(templateBody.mappings) ? templateBody.mappings : {},
    );
    if (isObject(explicit.mappings)) {
      const { properties, ...rest } = structuredClone(explicit.mappings);
      Object.assign(mappings, rest);
      if (isObject(properties)) {
        mappings.properties = {
          ...(isObject(mappings.properties) ? mappings.properties : {}),
          ...properties,
        };
      }
    }
    const settings = new Map([
      ['index.number_of_shards', '1'],
      ['index.number_of_replicas', '1'],
      ...flattenSettings(templateBody.settings),
      ...flattenSettings(explicit.settings),
    ]);
    const index: IndexState = {
      name,
      uuid: randomUUID().replaceAll('-', '').slice(0, 22),
      creationDate: Date.now(),
      settings,
      mappings,
      fieldCount: countFields(mappings),
      documents: new Map(),
      nextSeqNo: 0,
      refreshedBelow: 0,
    };
    this.indices.set(name, index);
    return index;
  }

  /**
   * Indices named by an expression: comma-separated names and `*` patterns, `_all`. A missing
   * concrete name is a 404; a pattern matching nothing matches nothing.
   */
  resolveIndices(expression: string | undefined): IndexState[] {
    if (expression === undefined || expression === '_all' || expression === '*')
      return [...this.indices.values()];
    const found = new Map<string, IndexState>();
    for (const part of expression.split(',')) {
      if (part.includes('*')) {
        for (const index of this.indices.values())
          if (globMatches(part, index.name)) found.set(index.name, index);
        continue;
      }
      const index = this.indices.get(part);
      if (index === undefined) throw indexNotFound(part);
      found.set(part, index);
    }
    return [...found.values()];
  }

  /** Makes every document of these indices visible to search. */
  refresh(indices: readonly IndexState[]): void {
    for (const index of indices) index.refreshedBelow = index.nextSeqNo;
  }

  /** The documents search can see: refreshed explicitly or written more than a refresh interval ago. */
  visibleDocuments(index: IndexState, now = Date.now()): [string, StoredDocument][] {
    const interval = refreshIntervalOf(index, this.options.refreshIntervalMs);
    return [...index.documents].filter(
      ([, document]) =>
        document.seqNo < index.refreshedBelow || (interval >= 0 && now - document.indexedAt >= interval),
    );
  }

  /** Executes one bulk operation and returns its item result. */
  execute(operation: BulkOperation): BulkItemResult {
    const { action, id } = operation;
    const problem = invalidIndexName(operation.index);
    if (problem !== undefined) {
      return this.itemError(
        operation,
        400,
        cause('invalid_index_name_exception', `Invalid index name [${operation.index}], ${problem}`, {
          index: operation.index,
        }),
      );
    }
    let index = this.indices.get(operation.index);
    if (index === undefined) {
      if (action === 'delete') {
        return this.itemError(operation, 404, indexNotFound(operation.index).error);
      }
      index = this.createIndex(operation.index);
    }
    const existing = index.documents.get(id);
    if (action === 'delete') {
      if (existing === undefined)
        return this.itemResult(index, operation, 404, 'not_found', 1, index.nextSeqNo++);
      index.documents.delete(id);
      return this.itemResult(index, operation, 200, 'deleted', existing.version + 1, index.nextSeqNo++);
    }
    if (action === 'create' && existing !== undefined) {
      return this.itemError(
        operation,
        409,
        cause(
          'version_conflict_engine_exception',
          `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
          { index: index.name, shard: '0', index_uuid: index.uuid },
        ),
      );
    }
    if (this.options.mapDocuments === false && action !== 'update') {
      return this.writeDocument(index, operation, existing, NO_SOURCE, operation.sourceText?.length ?? 0);
    }
    const parsed = parseSource(operation.sourceText ?? '');
    if (!parsed.ok) return this.itemError(operation, 400, parsed.error);
    let source = parsed.value;
    if (action === 'update') {
      const updated = updatedSource(id, existing?.source, source);
      if (!updated.ok) return this.itemError(operation, 404, updated.error);
      source = updated.value;
    }
    const outcome = mapDocument(
      {
        root: index.mappings,
        documentId: id,
        fieldCount: index.fieldCount,
        totalFieldsLimit: Number(index.settings.get('index.mapping.total_fields.limit') ?? 1000),
        ignoreMalformed: index.settings.get('index.mapping.ignore_malformed') === 'true',
      },
      source,
    );
    if (!outcome.ok) return this.itemError(operation, 400, outcome.error);
    index.fieldCount += outcome.addedFields;
    const stored = this.options.storeSources === false ? NO_SOURCE : source;
    return this.writeDocument(index, operation, existing, stored, operation.sourceText?.length ?? 0);
  }

  /** Writes a document that passed its checks and returns its item result. */
  private writeDocument(
    index: IndexState,
    operation: BulkOperation,
    existing: StoredDocument | undefined,
    source: JsonObject,
    bytes: number,
  ): BulkItemResult {
    const version = existing === undefined ? 1 : existing.version + 1;
    const seqNo = index.nextSeqNo++;
    index.documents.set(operation.id, { source, version, seqNo, indexedAt: Date.now(), bytes });
    return existing === undefined
      ? this.itemResult(index, operation, 201, 'created', version, seqNo)
      : this.itemResult(index, operation, 200, 'updated', version, seqNo);
  }

  private itemResult(
    index: IndexState,
    operation: BulkOperation,
    status: number,
    result: string,
    version: number,
    seqNo: number,
  ): BulkItemResult {
    const total = Number(index.settings.get('index.number_of_replicas') ?? 1) + 1;
    return {
      _index: index.name,
      _id: operation.id,
      _version: version,
      result,
      _shards: { total, successful: 1, failed: 0 },
      _seq_no: seqNo,
      _primary_term: 1,
      status,
    };
  }

  private itemError(operation: BulkOperation, status: number, error: OpenSearchErrorCause): BulkItemResult {
    return { _index: operation.index, _id: operation.id, status, error };
  }
}

/** A new random document id, in OpenSearch's 20-character base64url form. */
export function generateDocumentId(): string {
  return randomBytes(15).toString('base64url');
}

type Parsed =
  | { readonly ok: true; readonly value: JsonObject }
  | { readonly ok: false; readonly error: OpenSearchErrorCause };

function parseSource(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: cause('mapper_parsing_exception', 'failed to parse', {
        caused_by: cause('json_parse_exception', reason),
      }),
    };
  }
  if (!isObject(value)) {
    return {
      ok: false,
      error: cause('mapper_parsing_exception', 'failed to parse', {
        caused_by: cause(
          'not_x_content_exception',
          'Compressor detection can only be called on some xcontent bytes',
        ),
      }),
    };
  }
  return { ok: true, value };
}

/** An `update` action: a partial `doc` merged into the current source, or an upsert. */
function updatedSource(id: string, current: JsonObject | undefined, body: JsonObject): Parsed {
  const doc = isObject(body.doc) ? body.doc : undefined;
  if (current !== undefined)
    return { ok: true, value: doc === undefined ? current : deepMerge(current, doc) };
  if (body.doc_as_upsert === true && doc !== undefined) return { ok: true, value: doc };
  if (isObject(body.upsert)) return { ok: true, value: body.upsert };
  return { ok: false, error: cause('document_missing_exception', `[${id}]: document missing`) };
}

function deepMerge(target: JsonObject, patch: JsonObject): JsonObject {
  const merged: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const existing = merged[key];
    merged[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return merged;
}

function refreshIntervalOf(index: IndexState, defaultMs: number): number {
  const setting = index.settings.get('index.refresh_interval');
  if (setting === undefined) return defaultMs;
  const match = /^(-?\d+)(ms|s|m)?$/.exec(setting);
  if (match === null) return defaultMs;
  const amount = Number(match[1]);
  if (amount < 0) return -1;
  return amount * (match[2] === 'm' ? 60_000 : match[2] === 'ms' ? 1 : 1_000);
}
