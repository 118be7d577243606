/**
 * The mapping behaviour of the OpenSearch test server: what a cluster does to a document's fields
 * when it indexes it. A field mapped by a template or by dynamic mapping on first sight rejects an
 * incompatible value with `mapper_parsing_exception`, the dynamic types are inferred as OpenSearch
 * infers them (long, float, boolean, date detection of ISO strings, text with a `keyword`
 * sub-field, object), and `flat_object` fields and `enabled: false` objects accept anything.
 * A document either maps completely or changes nothing, as in OpenSearch.
 *
 * Small on purpose: it covers what the indexer relies on, not analysis or scoring.
 *
 * @see https://docs.opensearch.org/latest/field-types/
 * @see https://docs.opensearch.org/latest/field-types/#dynamic-mapping
 */
import { isIP } from 'node:net';
import { cause, type OpenSearchErrorCause } from './errors';

/** A JSON object, as mappings and sources are. */
export type JsonObject = Record<string, unknown>;

/** The field types the server knows; any other `type` in a mapping is rejected like OpenSearch does. */
const LEAF_TYPES = new Set([
  'text',
  'match_only_text',
  'keyword',
  'wildcard',
  'constant_keyword',
  'long',
  'integer',
  'short',
  'byte',
  'unsigned_long',
  'double',
  'float',
  'half_float',
  'scaled_float',
  'date',
  'date_nanos',
  'boolean',
  'ip',
  'binary',
  'geo_point',
  'flat_object',
]);

const OBJECT_TYPES = new Set(['object', 'nested']);

const ROOT_PARAMETERS = new Set([
  'properties',
  'dynamic',
  'date_detection',
  'numeric_detection',
  'dynamic_date_formats',
  'dynamic_templates',
  '_meta',
  '_source',
  '_routing',
]);

const INTEGER_RANGES: Record<string, readonly [number, number]> = {
  byte: [-128, 127],
  short: [-32_768, 32_767],
  integer: [-2_147_483_648, 2_147_483_647],
  long: [-(2 ** 63), 2 ** 63 - 1],
  unsigned_long: [0, 2 ** 64 - 1],
};

const FLOAT_TYPES = new Set(['double', 'float', 'half_float', 'scaled_float']);
const TEXT_TYPES = new Set(['text', 'match_only_text', 'keyword', 'wildcard', 'constant_keyword']);
const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';
const DYNAMIC_DATE_FORMATS = ['strict_date_optional_time', 'yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z'];

/** The first version of OpenSearch with the `flat_object` field type. */
export const FLAT_OBJECT_SINCE = [2, 7] as const;

/** True when `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(container: JsonObject, name: string): unknown {
  return Object.hasOwn(container, name) ? container[name] : undefined;
}

function isObjectMapping(mapping: JsonObject): boolean {
  const type = mapping.type;
  return type === undefined || (typeof type === 'string' && OBJECT_TYPES.has(type));
}

/**
 * Checks a mapping definition (index creation, index template): unknown root parameters and
 * unknown field types fail as they do in OpenSearch.
 *
 * @param supportsFlatObject whether the emulated version has `flat_object` (OpenSearch ≥ 2.7).
 * @returns the error, or undefined when the mapping is acceptable.
 */
export function validateMappingDefinition(
  mappings: unknown,
  supportsFlatObject: boolean,
): OpenSearchErrorCause | undefined {
  if (mappings === undefined) return undefined;
  if (!isObject(mappings)) return cause('mapper_parsing_exception', 'Failed to parse mapping: not an object');
  const unsupported = Object.keys(mappings).filter((key) => !ROOT_PARAMETERS.has(key));
  if (unsupported.length > 0) {
    const list = unsupported.map((key) => `${key} : ${JSON.stringify(mappings[key])}`).join(', ');
    return cause(
      'mapper_parsing_exception',
      `Root mapping definition has unsupported parameters:  [${list}]`,
    );
  }
  return validateProperties(mappings.properties, '', supportsFlatObject);
}

function validateProperties(
  properties: unknown,
  prefix: string,
  supportsFlatObject: boolean,
): OpenSearchErrorCause | undefined {
  if (properties === undefined) return undefined;
  if (!isObject(properties)) return cause('mapper_parsing_exception', `[properties] must be an object`);
  for (const [name, field] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    if (!isObject(field)) return cause('mapper_parsing_exception', `Expected map for property [${path}]`);
    const type = field.type;
    if (type !== undefined) {
      const known =
        typeof type === 'string' &&
        (OBJECT_TYPES.has(type) || (LEAF_TYPES.has(type) && (type !== 'flat_object' || supportsFlatObject)));
      if (!known) {
        return cause(
          'mapper_parsing_exception',
          `No handler for type [${String(type)}] declared on field [${path}]`,
        );
      }
    }
    const nested =
      validateProperties(field.properties, `${path}.`, supportsFlatObject) ??
      validateProperties(field.fields, `${path}.`, supportsFlatObject);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** How many fields a mapping declares (objects and multi-fields count), for the total-fields limit. */
export function countFields(mapping: JsonObject): number {
  let count = 0;
  for (const container of [mapping.properties, mapping.fields]) {
    if (!isObject(container)) continue;
    for (const field of Object.values(container)) {
      count += 1 + (isObject(field) ? countFields(field) : 0);
    }
  }
  return count;
}

/** What indexing one document needs from its index. */
export interface MappingTarget {
  /** The index's root mapping (`mappings`), changed in place when the document maps. */
  readonly root: JsonObject;
  readonly documentId: string;
  /** Fields already mapped, and `index.mapping.total_fields.limit`. */
  readonly fieldCount: number;
  readonly totalFieldsLimit: number;
  /** `index.mapping.ignore_malformed`. */
  readonly ignoreMalformed: boolean;
}

/** The result of mapping one document. */
export type MappingOutcome =
  | { readonly ok: true; readonly addedFields: number }
  | { readonly ok: false; readonly error: OpenSearchErrorCause };

class MappingFailure extends Error {
  constructor(readonly error: OpenSearchErrorCause) {
    super(error.reason);
  }
}

type Dynamic = 'true' | 'false' | 'strict';

/**
 * Maps a document's fields into its index's mapping, adding dynamic fields. On failure nothing is
 * changed and the error is the one OpenSearch reports for the bulk item.
 */
export function mapDocument(target: MappingTarget, source: JsonObject): MappingOutcome {
  const run = new MappingRun(target);
  try {
    run.mapObject(source, target.root, '', dynamicOf(target.root, 'true'));
  } catch (error: unknown) {
    if (error instanceof MappingFailure) return { ok: false, error: error.error };
    throw error;
  }
  if (target.fieldCount + run.addedFields > target.totalFieldsLimit) {
    return {
      ok: false,
      error: cause(
        'illegal_argument_exception',
        `Limit of total fields [${target.totalFieldsLimit}] has been exceeded`,
      ),
    };
  }
  run.commit();
  return { ok: true, addedFields: run.addedFields };
}

function dynamicOf(mapping: JsonObject, inherited: Dynamic): Dynamic {
  const value = mapping.dynamic;
  if (value === undefined) return inherited;
  if (value === false || value === 'false') return 'false';
  if (value === 'strict' || value === 'strict_allow_templates') return 'strict';
  return 'true';
}

/** One document's mapping pass: new fields are staged and attached only when the whole document maps. */
class MappingRun {
  addedFields = 0;
  /** New fields destined for existing `properties` objects; attached by {@link commit}. */
  private readonly staged = new Map<JsonObject, Map<string, JsonObject>>();
  /** `properties` objects of mappings created in this run: safe to fill directly. */
  private readonly fresh = new Set<JsonObject>();

  constructor(private readonly target: MappingTarget) {}

  commit(): void {
    for (const [properties, fields] of this.staged) {
      for (const [name, mapping] of fields) properties[name] = mapping;
    }
  }

  mapObject(source: JsonObject, objectMapping: JsonObject, prefix: string, dynamic: Dynamic): void {
    for (const [key, value] of Object.entries(source)) {
      const segments = key.split('.');
      if (segments.some((segment) => segment.trim() === '')) {
        throw new MappingFailure(
          cause(
            'mapper_parsing_exception',
            key === '' ? 'field name cannot be an empty string' : `field name [${key}] is invalid`,
          ),
        );
      }
      this.mapPath(segments, value, objectMapping, prefix, dynamic);
    }
  }

  /** A dotted name (`a.b`) is the object `a` holding the field `b`, as OpenSearch expands it. */
  private mapPath(
    segments: readonly string[],
    value: unknown,
    objectMapping: JsonObject,
    prefix: string,
    dynamic: Dynamic,
  ): void {
    const [name, ...rest] = segments;
    if (name === undefined) return;
    if (rest.length === 0) {
      this.mapValue(name, value, objectMapping, prefix, dynamic);
      return;
    }
    const child = this.objectField(name, objectMapping, prefix, dynamic);
    if (child === undefined || child.enabled === false || child.type === 'flat_object') return;
    this.mapPath(rest, value, child, `${prefix}${name}.`, dynamicOf(child, dynamic));
  }

  private mapValue(
    name: string,
    value: unknown,
    objectMapping: JsonObject,
    prefix: string,
    dynamic: Dynamic,
  ): void {
    if (value === null) return;
    if (Array.isArray(value)) {
      for (const element of value) this.mapValue(name, element, objectMapping, prefix, dynamic);
      return;
    }
    const path = `${prefix}${name}`;
    if (isObject(value)) {
      const existing = this.lookup(objectMapping, name);
      if (existing !== undefined && !isObjectMapping(existing) && existing.type !== 'flat_object') {
        throw this.parseFailure(
          path,
          existing,
          value,
          cause('illegal_state_exception', "Can't get text on a START_OBJECT"),
        );
      }
      const child = this.objectField(name, objectMapping, prefix, dynamic);
      if (child === undefined || child.enabled === false || child.type === 'flat_object') return;
      this.mapObject(value, child, `${path}.`, dynamicOf(child, dynamic));
      return;
    }
    let mapping = this.lookup(objectMapping, name);
    if (mapping === undefined) {
      mapping = this.dynamicLeaf(name, path, value, dynamic);
      if (mapping === undefined) return;
      this.add(objectMapping, name, mapping);
    }
    this.checkLeaf(path, mapping, value);
  }

  /** The object mapping for `name`, created when dynamic mapping allows; undefined when ignored. */
  private objectField(
    name: string,
    objectMapping: JsonObject,
    prefix: string,
    dynamic: Dynamic,
  ): JsonObject | undefined {
    const existing = this.lookup(objectMapping, name);
    if (existing !== undefined) {
      if (isObjectMapping(existing) || existing.type === 'flat_object') return existing;
      throw new MappingFailure(
        cause(
          'mapper_parsing_exception',
          `Could not dynamically add mapping for field [${prefix}${name}]. Existing mapping for [${prefix}${name}] must be of type object but found [${String(existing.type)}].`,
        ),
      );
    }
    const template = this.dynamicTemplate(name, `${prefix}${name}`, 'object');
    if (template === undefined && !this.allowNew(name, prefix, dynamic)) return undefined;
    const created: JsonObject = { ...(template ?? {}) };
    if (isObjectMapping(created)) {
      const properties: JsonObject = {};
      created.properties = properties;
      this.fresh.add(properties);
    }
    this.add(objectMapping, name, created);
    return created;
  }

  private dynamicLeaf(name: string, path: string, value: unknown, dynamic: Dynamic): JsonObject | undefined {
    const root = this.target.root;
    let detected: 'string' | 'date' | 'long' | 'double' | 'boolean';
    if (typeof value === 'string') {
      detected =
        root.date_detection !== false && DYNAMIC_DATE_FORMATS.some((f) => parsesAsDate(value, f))
          ? 'date'
          : 'string';
    } else if (typeof value === 'number') {
      detected = Number.isInteger(value) ? 'long' : 'double';
    } else {
      detected = 'boolean';
    }
    const template = this.dynamicTemplate(name, path, detected);
    if (template !== undefined) return template;
    if (!this.allowNew(name, path.slice(0, path.length - name.length), dynamic)) return undefined;
    switch (detected) {
      case 'date':
        return { type: 'date' };
      case 'string':
        return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
      case 'long':
        return { type: 'long' };
      case 'double':
        return { type: 'float' };
      case 'boolean':
        return { type: 'boolean' };
    }
  }

  private allowNew(name: string, prefix: string, dynamic: Dynamic): boolean {
    if (dynamic === 'strict') {
      const within = prefix === '' ? '_doc' : prefix.slice(0, -1);
      throw new MappingFailure(
        cause(
          'strict_dynamic_mapping_exception',
          `mapping set to strict, dynamic introduction of [${name}] within [${within}] is not allowed`,
        ),
      );
    }
    return dynamic === 'true';
  }

  /** The mapping of the first matching `dynamic_templates` entry, placeholders filled in. */
  private dynamicTemplate(name: string, path: string, detected: string): JsonObject | undefined {
    const templates = this.target.root.dynamic_templates;
    if (!Array.isArray(templates)) return undefined;
    for (const entry of templates) {
      if (!isObject(entry)) continue;
      for (const rule of Object.values(entry)) {
        if (!isObject(rule) || !isObject(rule.mapping)) continue;
        if (!templateRuleMatches(rule, name, path, detected)) continue;
        const dynamicType = detected === 'string' ? 'text' : detected === 'double' ? 'float' : detected;
        const text = JSON.stringify(rule.mapping)
          .replaceAll('{dynamic_type}', dynamicType)
          .replaceAll('{name}', name);
        return JSON.parse(text) as JsonObject;
      }
    }
    return undefined;
  }

  private lookup(objectMapping: JsonObject, name: string): JsonObject | undefined {
    const properties = objectMapping.properties;
    if (!isObject(properties)) return undefined;
    const mapping = this.staged.get(properties)?.get(name) ?? own(properties, name);
    return isObject(mapping) ? mapping : undefined;
  }

  private add(objectMapping: JsonObject, name: string, mapping: JsonObject): void {
    this.addedFields += 1 + countFields(mapping);
    let properties = objectMapping.properties;
    if (!isObject(properties)) {
      // An object mapped without `properties` ({"type":"object"}) gains them: empty, so harmless if
      // the document fails.
      properties = {};
      objectMapping.properties = properties;
    }
    const container = properties as JsonObject;
    if (this.fresh.has(container)) {
      container[name] = mapping;
      return;
    }
    let staged = this.staged.get(container);
    if (staged === undefined) {
      staged = new Map();
      this.staged.set(container, staged);
    }
    staged.set(name, mapping);
  }

  private checkLeaf(path: string, mapping: JsonObject, value: unknown): void {
    if (isObjectMapping(mapping)) {
      if (mapping.enabled === false) return;
      const name = path.slice(path.lastIndexOf('.') + 1);
      throw new MappingFailure(
        cause(
          'mapper_parsing_exception',
          `object mapping for [${path}] tried to parse field [${name}] as object, but found a concrete value`,
        ),
      );
    }
    const problem = leafProblem(mapping, value);
    const ignoreMalformed = mapping.ignore_malformed === true || this.target.ignoreMalformed;
    if (problem !== undefined && !ignoreMalformed) {
      throw this.parseFailure(path, mapping, value, problem);
    }
    const subFields = mapping.fields;
    if (!isObject(subFields)) return;
    for (const [name, subField] of Object.entries(subFields)) {
      if (isObject(subField)) this.checkLeaf(`${path}.${name}`, subField, value);
    }
  }

  private parseFailure(
    path: string,
    mapping: JsonObject,
    value: unknown,
    causedBy: OpenSearchErrorCause,
  ): MappingFailure {
    const preview = isObject(value) ? JSON.stringify(value) : String(value);
    return new MappingFailure(
      cause(
        'mapper_parsing_exception',
        `failed to parse field [${path}] of type [${String(mapping.type)}] in document with id '${this.target.documentId}'. Preview of field's value: '${preview}'`,
        { caused_by: causedBy },
      ),
    );
  }
}

function templateRuleMatches(rule: JsonObject, name: string, path: string, detected: string): boolean {
  const mappingType = rule.match_mapping_type;
  if (typeof mappingType === 'string' && mappingType !== '*' && mappingType !== detected) return false;
  const globs: readonly [string, string, boolean][] = [
    ['match', name, true],
    ['unmatch', name, false],
    ['path_match', path, true],
    ['path_unmatch', path, false],
  ];
  return globs.every(([key, subject, wanted]) => {
    const pattern = rule[key];
    if (pattern === undefined) return true;
    const patterns = Array.isArray(pattern) ? pattern : [pattern];
    return patterns.some((p) => typeof p === 'string' && globMatches(p, subject)) === wanted;
  });
}

/** OpenSearch's simple wildcard match: `*` stands for any run of characters. */
export function globMatches(pattern: string, subject: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === subject;
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!subject.startsWith(first) || subject.length < first.length + last.length || !subject.endsWith(last)) {
    return false;
  }
  let position = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = subject.indexOf(middle, position);
    if (found < 0 || found + middle.length > subject.length - last.length) return false;
    position = found + middle.length;
  }
  return true;
}

/** Why `value` does not fit a leaf mapping, or undefined when it does. */
function leafProblem(mapping: JsonObject, value: unknown): OpenSearchErrorCause | undefined {
  const type = String(mapping.type);
  if (isObject(value)) return cause('illegal_state_exception', "Can't get text on a START_OBJECT");
  if (type === 'flat_object' || TEXT_TYPES.has(type) || type === 'binary' || type === 'geo_point')
    return undefined;
  if (type === 'boolean') {
    if (typeof value === 'boolean' || value === 'true' || value === 'false' || value === '') return undefined;
    return cause(
      'illegal_argument_exception',
      `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`,
    );
  }
  if (type === 'ip') {
    return typeof value === 'string' && isIP(value) !== 0
      ? undefined
      : cause('illegal_argument_exception', `'${String(value)}' is not an IP string literal.`);
  }
  if (type === 'date' || type === 'date_nanos') {
    const format = typeof mapping.format === 'string' ? mapping.format : DEFAULT_DATE_FORMAT;
    const text = typeof value === 'boolean' ? undefined : String(value);
    return text !== undefined && parsesAsDate(text, format)
      ? undefined
      : cause(
          'illegal_argument_exception',
          `failed to parse date field [${String(value)}] with format [${format}]`,
        );
  }
  return numberProblem(type, mapping.coerce !== false, value);
}

function numberProblem(type: string, coerce: boolean, value: unknown): OpenSearchErrorCause | undefined {
  let number: number;
  if (typeof value === 'number') {
    number = value;
  } else if (
    typeof value === 'string' &&
    coerce &&
    /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)
  ) {
    number = Number(value);
  } else if (typeof value === 'string') {
    return cause('number_format_exception', `For input string: "${value}"`);
  } else {
    return cause(
      'illegal_argument_exception',
      `Current token (VALUE_${String(value).toUpperCase()}) not numeric, can not use numeric value accessors`,
    );
  }
  if (FLOAT_TYPES.has(type)) return undefined;
  const range = INTEGER_RANGES[type];
  if (range === undefined) return undefined;
  if (!Number.isInteger(number) && !coerce) {
    return cause('illegal_argument_exception', `Value [${String(value)}] has a decimal part`);
  }
  const integer = Math.trunc(number);
  if (integer < range[0] || integer > range[1]) {
    return cause(
      'illegal_argument_exception',
      `Value [${String(value)}] is out of range for ${articleFor(type)}`,
    );
  }
  return undefined;
}

function articleFor(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

const STRICT_DATE_OPTIONAL_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;
const jodaPatternCache = new Map<string, RegExp>();

/** True when `text` parses with one of the `||`-separated formats of a date mapping. */
export function parsesAsDate(text: string, formats: string): boolean {
  return formats.split('||').some((format) => parsesWithFormat(text, format.trim()));
}

function parsesWithFormat(text: string, format: string): boolean {
  switch (format) {
    case 'strict_date_optional_time':
    case 'date_optional_time':
    case 'strict_date_optional_time_nanos':
    case 'strict_date_time':
    case 'date_time':
      return isValidIsoDate(text);
    case 'epoch_millis':
    case 'epoch_second':
      return EPOCH.test(text);
    default: {
      let pattern = jodaPatternCache.get(format);
      if (pattern === undefined) {
        pattern = jodaPatternToRegex(format);
        jodaPatternCache.set(format, pattern);
      }
      return pattern.test(text);
    }
  }
}

function isValidIsoDate(text: string): boolean {
  const match = STRICT_DATE_OPTIONAL_TIME.exec(text);
  if (match === null) return false;
  const [, , month, day, hour, minute, second] = match;
  const inRange = (part: string | undefined, min: number, max: number): boolean =>
    part === undefined || (Number(part) >= min && Number(part) <= max);
  return (
    inRange(month, 1, 12) &&
    inRange(day, 1, 31) &&
    inRange(hour, 0, 23) &&
    inRange(minute, 0, 59) &&
    inRange(second, 0, 59)
  );
}

/**
 * A regular expression for a Java-style date pattern (`yyyy-MM-dd HH:mm:ss`, `dd/MMM/yyyy:HH:mm:ss Z`):
 * enough to accept the values a custom format is meant for and reject others.
 */
function jodaPatternToRegex(format: string): RegExp {
  let source = '';
  for (const [token] of format.matchAll(/'[^']*'|([A-Za-z])\1*|./g)) {
    if (token.startsWith("'")) {
      source += escapeRegex(token.slice(1, -1));
    } else if (/^[yuY]+$/.test(token)) {
      source += token.length === 2 ? '\\d{2}' : '\\d{4}';
    } else if (/^M{3,}$/.test(token) || /^E+$/.test(token)) {
      source += '[A-Za-z]{3,9}';
    } else if (/^[MdHhmsk]+$/.test(token)) {
      source += '\\d{1,2}';
    } else if (/^S+$/.test(token)) {
      source += '\\d{1,9}';
    } else if (/^[ZXx]+$/.test(token)) {
      source += '(?:Z|[+-]\\d{2}:?\\d{2})';
    } else if (/^[a]+$/.test(token)) {
      source += '(?:AM|PM|am|pm)';
    } else {
      source += escapeRegex(token);
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
