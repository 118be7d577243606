/**
 * Writing JSON text directly. Every document goes through here once, so the common case (a
 * string with nothing to escape) is a concatenation, and only the rare string that needs escaping
 * pays for `JSON.stringify`.
 */

// Quotes, backslashes and control characters must be escaped; surrogates are sent to
// JSON.stringify too, which escapes a lone one instead of writing invalid UTF-8.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Quotes a string as a JSON string literal. */
export function quoteJson(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** A member's name as it starts the member: quoted, followed by the colon (`"name":`). */
export function memberPrefix(name: string): string {
  return `${quoteJson(name)}:`;
}

/**
 * Accumulates JSON object members (`"a":1,"b":"x"`) without the surrounding braces, in the order
 * they are written. The caller guarantees that names are unique.
 */
export class JsonFields {
  private text = '';

  /** Adds a string member. */
  string(name: string, value: string): this {
    return this.raw(name, quoteJson(value));
  }

  /** Adds a number member; a non-finite number is written as `null`. */
  number(name: string, value: number): this {
    return this.raw(name, Number.isFinite(value) ? String(value) : 'null');
  }

  /** Adds a boolean member. */
  boolean(name: string, value: boolean): this {
    return this.raw(name, value ? 'true' : 'false');
  }

  /** Adds any JSON-serialisable value (objects, arrays), through `JSON.stringify`. */
  value(name: string, value: unknown): this {
    const json = JSON.stringify(value);
    return json === undefined ? this : this.raw(name, json);
  }

  /** Adds a member whose value is already JSON text. */
  raw(name: string, json: string): this {
    return this.rawAfterPrefix(memberPrefix(name), json);
  }

  /**
   * Adds a member from its {@link memberPrefix} and its value as JSON text: for hot loops that
   * write the same names for every record and quote them once (VPC Flow Logs).
   */
  rawAfterPrefix(prefix: string, json: string): this {
    this.text = this.text === '' ? `${prefix}${json}` : `${this.text},${prefix}${json}`;
    return this;
  }

  /** Adds members another writer already wrote as JSON text (`"a":1,"b":"x"`); '' adds nothing. */
  members(json: string): this {
    if (json !== '') this.text = this.text === '' ? json : `${this.text},${json}`;
    return this;
  }

  /** True when no member was written. */
  get isEmpty(): boolean {
    return this.text === '';
  }

  /** The members written so far, without braces. */
  toString(): string {
    return this.text;
  }
}

/** Maximum nesting accepted from untrusted JSON, so a hostile record cannot exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses untrusted JSON text. `JSON.parse` creates `__proto__` as an own property (it never
 * reaches a prototype), so the result is safe to read and to serialise again; callers that copy
 * its keys into another object must use {@link setOwn}. Values nested deeper than
 * {@link MAX_JSON_DEPTH} are rejected.
 *
 * @returns the value, or an Error describing why the text is not acceptable JSON.
 */
export function parseUntrustedJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    return new Error(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return depthExceeds(value, MAX_JSON_DEPTH) ? new Error(`JSON nested deeper than ${MAX_JSON_DEPTH}`) : value;
}

function depthExceeds(value: unknown, remaining: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (remaining === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => depthExceeds(child, remaining - 1));
}

/** True when `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property, even one named `__proto__` or `constructor`, without touching prototypes. */
export function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Top-level names a format never writes into a document's fields: the core writes `@timestamp`
 * and `log` itself, and OpenSearch rejects a document whose source holds one of its metadata
 * fields (`_id`, `_index`...).
 */
export const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set([
  '@timestamp',
  'log',
  '_id',
  '_index',
  '_source',
  '_routing',
  '_type',
  '_field_names',
  '_ignored',
  '_seq_no',
  '_primary_term',
  '_version',
  '_doc_count',
  '_data_stream_timestamp',
  '_size',
]);

/**
 * The name a record's own member is stored under: itself, or for a reserved name the name with
 * `_original` appended (`log` → `log_original`), repeated while `isTaken` says the record already
 * uses it. Renaming keeps the value searchable where dropping it would lose data.
 */
export function unreservedFieldName(
  name: string,
  isTaken: (candidate: string) => boolean = () => false,
): string {
  if (!RESERVED_FIELD_NAMES.has(name)) return name;
  let candidate = `${name}_original`;
  while (isTaken(candidate)) candidate += '_original';
  return candidate;
}

/**
 * A parsed JSON object as document fields (members without braces), its reserved top-level names
 * renamed by {@link unreservedFieldName}. Written once by `JSON.stringify`, which also drops the
 * duplicate keys OpenSearch would reject.
 */
export function jsonObjectFields(object: Record<string, unknown>): string {
  const names = Object.keys(object);
  if (!names.some((name) => RESERVED_FIELD_NAMES.has(name))) return JSON.stringify(object).slice(1, -1);
  const renamed: Record<string, unknown> = Object.create(null);
  const isTaken = (candidate: string): boolean =>
    Object.hasOwn(object, candidate) || Object.hasOwn(renamed, candidate);
  for (const name of names) setOwn(renamed, unreservedFieldName(name, isTaken), object[name]);
  return JSON.stringify(renamed).slice(1, -1);
}
