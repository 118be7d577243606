/**
 * The query subset of the OpenSearch test server: enough of the query DSL for tests, the CLI and
 * the demo to count and find documents (`match_all`, `ids`, `term`, `terms`, `match`, `exists`,
 * `range`, `bool`), with keyword fields compared exactly and text fields by lower-cased tokens.
 * No scoring: every hit scores 1.
 *
 * @see https://docs.opensearch.org/latest/query-dsl/
 */
import { cause, OpenSearchHttpError } from './errors';
import { isObject, type JsonObject } from './mapping';

/** A document as a query sees it. */
export interface QueryableDocument {
  readonly id: string;
  readonly source: JsonObject;
}

/** Parses a query once, returning a predicate; unknown queries fail like OpenSearch (`parsing_exception`). */
export function compileQuery(query: unknown, mappings: JsonObject): (document: QueryableDocument) => boolean {
  if (query === undefined) return () => true;
  if (!isObject(query)) throw parsingError('query malformed, must start with start_object');
  const entries = Object.entries(query);
  const [entry] = entries;
  if (entry === undefined || entries.length > 1) {
    throw parsingError('[_na] query malformed, no start_object after query name');
  }
  const [kind, body] = entry;
  switch (kind) {
    case 'match_all':
      return () => true;
    case 'match_none':
      return () => false;
    case 'ids': {
      const values =
        isObject(body) && Array.isArray(body.values) ? new Set(body.values.map(String)) : new Set();
      return (document) => values.has(document.id);
    }
    case 'term':
    case 'terms':
    case 'match':
    case 'match_phrase':
    case 'range':
    case 'exists':
      return compileFieldQuery(kind, body, mappings);
    case 'bool':
      return compileBool(body, mappings);
    default:
      throw parsingError(`unknown query [${kind}]`);
  }
}

function compileBool(body: unknown, mappings: JsonObject): (document: QueryableDocument) => boolean {
  if (!isObject(body)) throw parsingError('[bool] query malformed');
  const clauses = (name: string): ((document: QueryableDocument) => boolean)[] => {
    const value = body[name];
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).map((clause) => compileQuery(clause, mappings));
  };
  const required = [...clauses('must'), ...clauses('filter')];
  const excluded = clauses('must_not');
  const optional = clauses('should');
  const minimumShould =
    typeof body.minimum_should_match === 'number' ? body.minimum_should_match : required.length > 0 ? 0 : 1;
  return (document) =>
    required.every((clause) => clause(document)) &&
    !excluded.some((clause) => clause(document)) &&
    (optional.length === 0 || optional.filter((clause) => clause(document)).length >= minimumShould);
}

function compileFieldQuery(
  kind: string,
  body: unknown,
  mappings: JsonObject,
): (document: QueryableDocument) => boolean {
  if (!isObject(body)) throw parsingError(`[${kind}] query malformed`);
  if (kind === 'exists') {
    const field = String(body.field);
    const { sourcePath } = resolveField(mappings, field);
    return (document) => valuesAt(document.source, sourcePath).length > 0;
  }
  const [entry] = Object.entries(body);
  if (entry === undefined) throw parsingError(`[${kind}] query doesn't support an empty field`);
  const [field, spec] = entry;
  const { sourcePath, type } = resolveField(mappings, field);
  const isText = type === 'text' || type === 'match_only_text';
  const has = (document: QueryableDocument, test: (value: unknown) => boolean): boolean =>
    valuesAt(document.source, sourcePath).some(test);
  switch (kind) {
    case 'term': {
      const wanted = isObject(spec) ? spec.value : spec;
      return (document) => has(document, (value) => termEquals(value, wanted, type, isText));
    }
    case 'terms': {
      const wanted = Array.isArray(spec) ? spec : [];
      return (document) =>
        has(document, (value) => wanted.some((term) => termEquals(value, term, type, isText)));
    }
    case 'range': {
      const bounds = isObject(spec) ? spec : {};
      return (document) => has(document, (value) => inRange(value, bounds, type));
    }
    default: {
      const wanted = isObject(spec) ? spec.query : spec;
      if (!isText) return (document) => has(document, (value) => termEquals(value, wanted, type, false));
      const tokens = tokenize(String(wanted));
      return (document) =>
        has(document, (value) => {
          const present = new Set(tokenize(String(value)));
          return kind === 'match_phrase'
            ? tokens.every((token) => present.has(token))
            : tokens.some((token) => present.has(token));
        });
    }
  }
}

function termEquals(value: unknown, wanted: unknown, type: string | undefined, isText: boolean): boolean {
  if (isText) return tokenize(String(value)).includes(String(wanted));
  if (type === 'date' || type === 'date_nanos') return toSortable(value, type) === toSortable(wanted, type);
  if (
    typeof value === 'number' ||
    type === 'long' ||
    type === 'integer' ||
    type === 'short' ||
    type === 'float'
  ) {
    return Number(value) === Number(wanted);
  }
  return String(value) === String(wanted);
}

function inRange(value: unknown, bounds: JsonObject, type: string | undefined): boolean {
  const subject = toSortable(value, type);
  const check = (key: string, test: (bound: number | string) => boolean): boolean =>
    bounds[key] === undefined || test(toSortable(bounds[key], type));
  return (
    check('gte', (bound) => subject >= bound) &&
    check('gt', (bound) => subject > bound) &&
    check('lte', (bound) => subject <= bound) &&
    check('lt', (bound) => subject < bound)
  );
}

/** A comparable form of a value: epoch millis for dates, numbers for numbers, else text. */
export function toSortable(value: unknown, type: string | undefined): number | string {
  if (type === 'date' || type === 'date_nanos') {
    return typeof value === 'number' ? value : Date.parse(String(value));
  }
  if (typeof value === 'number') return value;
  return String(value);
}

function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token !== '');
}

/**
 * Where a queried field's values live in `_source`, and its mapped type. A multi-field
 * (`user_agent.keyword`) reads its parent's values.
 */
export function resolveField(mappings: JsonObject, field: string): { sourcePath: string; type?: string } {
  let container: unknown = mappings.properties;
  let current: JsonObject | undefined;
  const path: string[] = [];
  for (const segment of field.split('.')) {
    const next = isObject(container) ? container[segment] : undefined;
    if (isObject(next)) {
      current = next;
      path.push(segment);
      container = next.properties;
      continue;
    }
    const subField = current !== undefined && isObject(current.fields) ? current.fields[segment] : undefined;
    if (isObject(subField)) {
      return {
        sourcePath: path.join('.'),
        ...(typeof subField.type === 'string' && { type: subField.type }),
      };
    }
    return { sourcePath: field };
  }
  return {
    sourcePath: path.join('.'),
    ...(current !== undefined && typeof current.type === 'string' && { type: current.type }),
  };
}

/** Every leaf value at a dotted path, through arrays and dotted source keys (`{"a.b": 1}`). */
export function valuesAt(node: unknown, path: string): unknown[] {
  const found: unknown[] = [];
  collect(node, path.split('.'), 0, found);
  return found;
}

function collect(node: unknown, segments: readonly string[], start: number, found: unknown[]): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const element of node) collect(element, segments, start, found);
    return;
  }
  if (start === segments.length) {
    found.push(node);
    return;
  }
  if (!isObject(node)) return;
  for (let end = segments.length; end > start; end -= 1) {
    const key = segments.slice(start, end).join('.');
    if (Object.hasOwn(node, key)) collect(node[key], segments, end, found);
  }
}

function parsingError(reason: string): OpenSearchHttpError {
  return new OpenSearchHttpError(400, cause('parsing_exception', reason));
}
