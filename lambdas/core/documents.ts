/**
 * Parsed events → search documents: the `_index`, the `_id` and the `_source` JSON text. Everything
 * that is the same for all records of an object (the identity hash, the key fields, the `log`
 * member's constant part) is computed once per object, so each record costs a few concatenations.
 */
import { createHash } from 'node:crypto';
import { CharCode } from './char-codes';
import { quoteJson } from './json';
import { isoFromEpochMillis } from './time';
import type { ObjectIdentity, ParsedEvent } from './types';

/** The index prefix when none is configured. */
export const DEFAULT_INDEX_PREFIX = 'logs';

// Stricter than OpenSearch (which also allows some punctuation): lower-case letters, digits, `.`,
// `_` and `-`, not starting with `-`, `_` or `.`, which OpenSearch reserves or forbids. The prefix
// leaves room for `-<type>-YYYY.MM.DD` within the 255-byte index name limit.
const INDEX_PREFIX = /^[a-z0-9][a-z0-9._-]{0,199}$/;
const INDEX_TYPE = /^[a-z0-9][a-z0-9_]{0,49}$/;
// OpenSearch rejects an `_id` over 512 bytes; a natural id is also kept short of it.
const MAX_NATURAL_ID_LENGTH = 256;

/**
 * Checks an index prefix.
 *
 * @returns undefined when `prefix` is acceptable, else why not.
 * @see https://docs.opensearch.org/latest/api-reference/index-apis/create-index/
 */
export function indexPrefixProblem(prefix: string): string | undefined {
  return INDEX_PREFIX.test(prefix)
    ? undefined
    : `index prefix "${prefix}" is not valid: use 1-200 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

/**
 * An ETag without the quotes S3 puts around it in listings and GetObject responses (notifications
 * carry it bare), or undefined when there is none: every path to an object then agrees on it.
 */
export function unquotedEtag(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/^"|"$/g, '');
  return bare === '' ? undefined : bare;
}

/**
 * The identity part of every generated `_id` of an object: sha256 over bucket, key and ETag
 * (quotes stripped), or the version id when the ETag is unknown; base64url, 22 characters.
 *
 * The ETag is preferred because every path to an object sees it: the indexer's own GetObject
 * returns it whether the object came from a notification, an SNS message, a continuation or a
 * backfill listing, whereas the version id is in S3 notifications but not in ListObjectsV2. A
 * re-indexed object therefore gets the same ids (the bulk `create` answers 409, no duplicates),
 * and a rewritten object with new content gets new ones.
 */
export function objectIdentityHash(object: ObjectIdentity): string {
  const etag = unquotedEtag(object.etag);
  const version =
    etag !== undefined ? `etag:${etag}` : object.versionId !== undefined ? `version:${object.versionId}` : '';
  return createHash('sha256')
    .update(JSON.stringify([object.bucket ?? '', object.key, version]))
    .digest('base64url')
    .slice(0, 22);
}

/** What every generated `_id` of the object whose identity hash is `identityHash` starts with. */
export function generatedIdStem(identityHash: string): string {
  return `${identityHash}-`;
}

/** The document id of record `recordNumber` of the object whose identity hash is `identityHash`. */
export function generatedDocumentId(identityHash: string, recordNumber: number): string {
  return `${generatedIdStem(identityHash)}${recordNumber}`;
}

/** `s3://bucket/key`, or the local path when there is no bucket: the documents' `log.file`. */
export function objectLocation(object: ObjectIdentity): string {
  return object.bucket === undefined ? object.key : `s3://${object.bucket}/${object.key}`;
}

/**
 * The fields named by the named groups of `pattern` matched on the key (S3logsbeat's
 * `key_regex_fields`), as JSON members in group order; groups that did not take part are left out.
 *
 * @returns the members by name (empty when the key does not match).
 */
export function keyFieldsOf(pattern: RegExp, key: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  const groups = pattern.exec(key)?.groups;
  if (groups === undefined) return fields;
  for (const [name, value] of Object.entries(groups)) {
    if (value !== undefined) fields.set(name, value);
  }
  return fields;
}

/**
 * True when the serialised members `fields` have a top-level member called `name`. A plain
 * substring test answers almost every call; only a hit is confirmed by a scan that skips strings
 * and nested values, so a nested `"account":` does not count.
 */
export function hasTopLevelMember(fields: string, name: string): boolean {
  const needle = `${quoteJson(name)}:`;
  if (!fields.includes(needle)) return false;
  if (fields.startsWith(needle)) return true;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < fields.length; i++) {
    const char = fields.charCodeAt(i);
    if (inString) {
      if (char === CharCode.BACKSLASH) i++;
      else if (char === CharCode.QUOTE) inString = false;
    } else if (char === CharCode.QUOTE) inString = true;
    else if (char === CharCode.OPEN_BRACE || char === CharCode.OPEN_BRACKET) depth++;
    else if (char === CharCode.CLOSE_BRACE || char === CharCode.CLOSE_BRACKET) depth--;
    // Members are written compactly (see JsonFields): a member starts right after a comma.
    else if (char === CharCode.COMMA && depth === 0 && fields.startsWith(needle, i + 1)) return true;
  }
  return false;
}

/** What the documents of one object share. */
export interface DocumentSettings {
  readonly object: ObjectIdentity;
  /** The format's name: `log.type` and the index's middle part unless an event overrides it. */
  readonly type: string;
  /** Index name prefix. Default {@link DEFAULT_INDEX_PREFIX}. */
  readonly indexPrefix?: string;
  /** Named groups matched on the key become fields of every document. */
  readonly keyFields?: RegExp;
}

/** How every `_source` starts: the time follows, then `"`. */
export const SOURCE_HEAD = '{"@timestamp":"';

/**
 * The parts of one object's documents of one type that are the same for every record, for an
 * engine that writes documents as bytes (`bulk-encoder.ts`). A document of record `n` whose event
 * time is `T` (ISO-8601 UTC) and whose members are `M` (each with a leading comma) has
 * - the index `indexStem` + `T`'s day as `YYYY.MM.DD`,
 * - the generated id `idStem` + `n`,
 * - the `_source` {@link SOURCE_HEAD} + `T` + `"` + `M` + `tail` + `n` + `}}`,
 * exactly as {@link DocumentBuilder.build} writes it, which is built from the same parts.
 */
export interface DocumentFraming {
  /** `<prefix>-<type>-` */
  readonly indexStem: string;
  /** `<identity hash>-` */
  readonly idStem: string;
  /** The key fields' members (each with a leading comma), then `,"log":{"type":…,"file":…,"line":` */
  readonly tail: string;
  /** The key fields' names: a record with a member of one of these names keeps its own value. */
  readonly keyFieldNames: readonly string[];
}

/** What closes a `_source`, after the record number. */
export const SOURCE_CLOSE = '}}';

/** One search document. */
export interface SearchDocument {
  readonly index: string;
  readonly id: string;
  /** The `_source` as JSON text. */
  readonly source: string;
}

/** Why an event cannot become a document. */
export interface DocumentProblem {
  readonly problem: string;
}

/**
 * Builds the documents of one object. `_source` is
 * `{"@timestamp":…, <event fields>, <key fields>, "log":{"type","file","line"}}`; an event without
 * a time of its own is stamped with the object's `lastModified`.
 */
export class DocumentBuilder {
  private readonly identityHash: string;
  private readonly indexPrefix: string;
  private readonly keyFields: readonly (readonly [name: string, member: string])[];
  private readonly fallbackTimestamp: string | undefined;
  private readonly logFile: string;
  private readonly defaultType: string;
  /** `,"log":{"type":…,"file":…,"line":` per type, and the index name per type and day. */
  private readonly logMemberHeads = new Map<string, string>();
  private readonly indexNames = new Map<string, string>();
  private lastIndex: { readonly type: string; readonly day: string; readonly index: string } | undefined;

  /** @throws Error when the prefix or a key field name is not acceptable (configuration errors). */
  constructor(settings: DocumentSettings) {
    this.indexPrefix = settings.indexPrefix ?? DEFAULT_INDEX_PREFIX;
    const prefixProblem = indexPrefixProblem(this.indexPrefix);
    if (prefixProblem !== undefined) throw new Error(prefixProblem);
    this.identityHash = objectIdentityHash(settings.object);
    this.logFile = quoteJson(objectLocation(settings.object));
    this.defaultType = settings.type;
    this.fallbackTimestamp =
      settings.object.lastModified === undefined
        ? undefined
        : isoFromEpochMillis(settings.object.lastModified);
    const keyFields =
      settings.keyFields === undefined ? new Map() : keyFieldsOf(settings.keyFields, settings.object.key);
    this.keyFields = [...keyFields].map(([name, value]) => {
      if (name === 'log') throw new Error('a key field may not be called "log": the documents reserve it');
      return [name, `${quoteJson(name)}:${quoteJson(value)}`] as const;
    });
  }

  /** The document for `event`, record `recordNumber`, or why there is none. */
  build(event: ParsedEvent, recordNumber: number): SearchDocument | DocumentProblem {
    const timestamp = event.timestamp ?? this.fallbackTimestamp;
    if (timestamp === undefined) {
      return {
        problem: 'the record has no time of its own and the object has no LastModified to stamp it with',
      };
    }
    // The day comes straight from the ISO text; a five-digit or negative year (epoch values far
    // out of range) would make an odd index name, so it is refused.
    if (
      timestamp.charCodeAt(4) !== CharCode.DASH ||
      timestamp.charCodeAt(10) !== CharCode.LETTER_T ||
      !timestamp.endsWith('Z')
    ) {
      return { problem: `timestamp ${timestamp} is not ISO-8601 UTC with a four-digit year` };
    }
    const type = event.type ?? this.defaultType;
    const index = this.indexName(type, timestamp);
    if (index === undefined) return { problem: `event type "${type}" cannot be part of an index name` };
    const fields = event.fields;
    let source = fields === '' ? `${SOURCE_HEAD}${timestamp}"` : `${SOURCE_HEAD}${timestamp}",${fields}`;
    for (const [name, member] of this.keyFields) {
      if (fields === '' || !hasTopLevelMember(fields, name)) source += `,${member}`;
    }
    source += `${this.logMemberHead(type)}${recordNumber}${SOURCE_CLOSE}`;
    const naturalId = event.naturalId;
    const id =
      naturalId !== undefined && naturalId !== '' && naturalId.length <= MAX_NATURAL_ID_LENGTH
        ? naturalId
        : generatedDocumentId(this.identityHash, recordNumber);
    return { index, id, source };
  }

  /**
   * The constant parts of this object's documents of `type` (see {@link DocumentFraming}), or
   * undefined when `type` cannot be part of an index name.
   */
  framing(type: string): DocumentFraming | undefined {
    if (!INDEX_TYPE.test(type)) return undefined;
    return {
      indexStem: this.indexStem(type),
      idStem: generatedIdStem(this.identityHash),
      tail: this.keyFields.map(([, member]) => `,${member}`).join('') + this.logMemberHead(type),
      keyFieldNames: this.keyFields.map(([name]) => name),
    };
  }

  private indexName(type: string, timestamp: string): string | undefined {
    // Consecutive records nearly always share the day and type: compare before building a key.
    const last = this.lastIndex;
    if (last !== undefined && last.type === type && timestamp.startsWith(last.day)) return last.index;
    const day = timestamp.slice(0, 10);
    const cacheKey = `${type} ${day}`;
    let index = this.indexNames.get(cacheKey);
    if (index === undefined) {
      if (!INDEX_TYPE.test(type)) return undefined;
      index = `${this.indexStem(type)}${day.replaceAll('-', '.')}`;
      // Keeps the cache small when one object spans many days (a backfilled archive).
      if (this.indexNames.size > 1000) this.indexNames.clear();
      this.indexNames.set(cacheKey, index);
    }
    this.lastIndex = { type, day, index };
    return index;
  }

  private indexStem(type: string): string {
    return `${this.indexPrefix}-${type}-`;
  }

  private logMemberHead(type: string): string {
    let head = this.logMemberHeads.get(type);
    if (head === undefined) {
      head = `,"log":{"type":${quoteJson(type)},"file":${this.logFile},"line":`;
      this.logMemberHeads.set(type, head);
    }
    return head;
  }
}
