/**
 * Delimited log lines: the layout shared by the Elastic Load Balancing family, CloudFront standard
 * logs and S3 server access logs. Values are separated by one character, `-` stands for "no value",
 * a `"quoted"` value may hold the separator and `\"`, and S3 writes its time in `[brackets]`.
 *
 * {@link DelimitedScanner} cuts a line into values without copying them; {@link DelimitedRecordWriter}
 * writes the values as JSON members straight from the line's text, following a field layout. An
 * ALB log runs to hundreds of megabytes, so this is the hottest code of the pipeline: index
 * arithmetic instead of per-line regular expressions, and slices of the line instead of
 * intermediate objects.
 */

import type { CodeUnits } from '../char-codes';
import * as charCodes from '../char-codes';
import { quoteJson } from '../json';
import { toIsoUtcFast } from '../time';
import type { RecordResult } from '../types';

// Hot per-character helpers as local bindings: where modules are compiled to CommonJS one by one
// (tsx, Jest), every use of an imported name goes through a getter, a cost per character here.
const { codeUnitAt, indexOfCode, isDigitCode, lastIndexOfCode } = charCodes;

const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const DASH = 45;
const DOT = 46;
const ZERO = 48;
const NINE_CODE = 57;
const COLON = 58;
const QUESTION_MARK = 63;
const SLASH = 47;
const LETTER_H = 72;
const LETTER_P = 80;
const LETTER_T = 84;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const BACKSLASH = 92;

/** How a format delimits its values. */
export interface DelimitedSyntax {
  /**
   * `space`: runs of spaces separate values (ELB family, S3). `tab`: each tab separates two values,
   * so two tabs in a row enclose an empty value (CloudFront).
   */
  readonly separator: 'space' | 'tab';
  /** A value that starts with `"` runs to the next unescaped `"` and may hold separators and `\"`. */
  readonly quotes: boolean;
  /** A value that starts with `[` runs to the next `]` (S3's `[06/Feb/2019:00:00:38 +0000]`). */
  readonly brackets: boolean;
}

// A line free of these characters can be copied into JSON strings as it is, except for a `"`,
// which the scanner tracks on its own. The separator itself is never part of a value.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON must escape
const UNSAFE_IN_SPACE_SEPARATED = /[\\\u0000-\u001f\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON must escape
const UNSAFE_IN_TAB_SEPARATED = /[\\\u0000-\u0008\u000a-\u001f\ud800-\udfff]/;

/**
 * Cuts one line into values, one {@link next} call a value. The current value is the range
 * `[start, end)` of {@link line}, inside any quotes or brackets, read with {@link text},
 * {@link json} or {@link numberJson}. One scanner serves every line of an object, so scanning
 * allocates nothing but the strings it returns.
 */
export class DelimitedScanner {
  /** The line being scanned. */
  line = '';
  /** Start of the current value (inclusive). */
  start = 0;
  /** End of the current value (exclusive). */
  end = 0;
  /** Whether the current value was quoted. */
  quoted = false;
  /** Why the line cannot be cut (an unterminated quote or bracket), once {@link next} returned false. */
  error: string | undefined;

  private readonly separatorCode: number;
  private readonly separator: string;
  private readonly quotes: boolean;
  private readonly brackets: boolean;
  private readonly unsafe: RegExp;
  private position = 0;
  private count = 0;
  /** The line holds no backslash, control character or surrogate. */
  private plain = true;
  /** Index of the next `"` at or after the current position, or -1 when there is none. */
  private nextQuote = -1;
  /** The current value must go through `quoteJson` (and unescaping, when quoted). */
  private needsEscaping = false;

  constructor(syntax: DelimitedSyntax) {
    this.separator = syntax.separator === 'tab' ? '\t' : ' ';
    this.separatorCode = syntax.separator === 'tab' ? TAB : SPACE;
    this.quotes = syntax.quotes;
    this.brackets = syntax.brackets;
    this.unsafe = syntax.separator === 'tab' ? UNSAFE_IN_TAB_SEPARATED : UNSAFE_IN_SPACE_SEPARATED;
  }

  /** Starts scanning `line`. */
  reset(line: string): void {
    this.line = line;
    this.position = 0;
    this.count = 0;
    this.error = undefined;
    this.plain = !this.unsafe.test(line);
    this.nextQuote = this.plain ? line.indexOf('"') : -1;
  }

  /**
   * Moves to the next value.
   *
   * @returns false at the end of the line, or when the line cannot be cut ({@link error} says why).
   */
  next(): boolean {
    const line = this.line;
    const length = line.length;
    let position = this.position;
    if (this.separatorCode === SPACE) {
      while (position < length && line.charCodeAt(position) === SPACE) position++;
    } else if (this.count > 0 && position < length && line.charCodeAt(position) === this.separatorCode) {
      position++;
    }
    if (position >= length) {
      this.position = length;
      return false;
    }
    this.count++;
    const first = line.charCodeAt(position);
    if (first === QUOTE && this.quotes) {
      const close = this.plain ? line.indexOf('"', position + 1) : closingQuoteIndex(line, position + 1);
      if (close < 0) return this.fail(`unterminated quoted value at column ${position + 1}`);
      // Inside quotes of a plain line, no `"` can remain: the first one closes the value.
      this.setValue(position + 1, close, close + 1, true, !this.plain);
      return true;
    }
    if (first === OPEN_BRACKET && this.brackets) {
      const close = line.indexOf(']', position + 1);
      if (close < 0) return this.fail(`unterminated bracketed value at column ${position + 1}`);
      this.setValue(position + 1, close, close + 1, false, !this.plain || this.holdsQuote(position, close));
      return true;
    }
    let end = line.indexOf(this.separator, position);
    if (end < 0) end = length;
    // An unquoted value ends at a separator; a glitch such as `"-"1` (no space after the quote)
    // simply starts the next value right after the quote.
    this.setValue(position, end, end, false, !this.plain || this.holdsQuote(position, end));
    return true;
  }

  /** Whether the current value is absent: `-` or empty. */
  isAbsent(): boolean {
    return isAbsentAt(this.line, this.start, this.end);
  }

  /** The current value, unescaped when it was quoted. */
  text(): string {
    return this.textOf(this.start, this.end);
  }

  /** Part `[from, to)` of the current value (indexes into {@link line}), unescaped when it was quoted. */
  textOf(from: number, to: number): string {
    const raw = this.line.slice(from, to);
    return this.quoted && this.needsEscaping ? unescapeQuoted(raw) : raw;
  }

  /** The current value as a JSON string literal. */
  json(): string {
    if (!this.needsEscaping && this.quoted) return this.line.slice(this.start - 1, this.end + 1);
    return this.jsonOf(this.start, this.end);
  }

  /** Part `[from, to)` of the current value as a JSON string literal. */
  jsonOf(from: number, to: number): string {
    return this.needsEscaping ? quoteJson(this.textOf(from, to)) : `"${this.line.slice(from, to)}"`;
  }

  /**
   * `prefix` (`,"name":`) followed by the current value as a JSON string; `quotedPrefix` is the
   * same prefix with the opening quote, which saves one concatenation for an unquoted value.
   */
  member(prefix: string, quotedPrefix: string): string {
    if (this.needsEscaping) return prefix + quoteJson(this.text());
    if (this.quoted) return prefix + this.line.slice(this.start - 1, this.end + 1);
    return `${quotedPrefix + this.line.slice(this.start, this.end)}"`;
  }

  /** The current value as a JSON number, or undefined when it is not a plain decimal number. */
  numberJson(): string | undefined {
    return decimalJson(this.line, this.start, this.end);
  }

  /** Every value from the current position to the end of the line, as JSON string literals. */
  remainingJson(): string[] {
    const values: string[] = [];
    while (this.next()) values.push(this.json());
    return values;
  }

  private setValue(
    start: number,
    end: number,
    position: number,
    quoted: boolean,
    needsEscaping: boolean,
  ): void {
    this.start = start;
    this.end = end;
    this.position = position;
    this.quoted = quoted;
    this.needsEscaping = needsEscaping;
  }

  private holdsQuote(from: number, to: number): boolean {
    let quote = this.nextQuote;
    if (quote >= 0 && quote < from) {
      quote = this.line.indexOf('"', from);
      this.nextQuote = quote;
    }
    return quote >= 0 && quote < to;
  }

  private fail(reason: string): false {
    this.error = reason;
    this.position = this.line.length;
    return false;
  }
}

function closingQuoteIndex(line: string, from: number): number {
  for (let index = from; index < line.length; index++) {
    const code = line.charCodeAt(index);
    if (code === BACKSLASH) index++;
    else if (code === QUOTE) return index;
  }
  return -1;
}

/** `\"` and `\\` inside a quoted value stand for `"` and `\`; any other backslash is kept. */
function unescapeQuoted(raw: string): string {
  return raw.includes('\\') ? raw.replace(/\\(["\\])/g, '$1') : raw;
}

/** A TCP or UDP port has at most five digits (65535). */
export const MAX_PORT_DIGITS = 5;

/** More integer digits than a 64-bit count ever needs: such a token is not a number AWS wrote. */
const MAX_INTEGER_DIGITS = 19;

/**
 * Where the JSON number written by `[start, end)` of `text` starts after its sign, when the text
 * is a plain decimal (`-1`, `0.000043`, `000`), else -1. Exponents are not accepted: AWS writes
 * none. JSON has no leading zeros (CloudFront writes status `000`), so they are skipped: the
 * number is the sign, if any, then `[returned index, end)`, its digits kept as written (no trip
 * through a double, which would round a 19-digit count).
 */
export function decimalDigitsStart(text: CodeUnits, start: number, end: number): number {
  let position = start;
  if (position < end && codeUnitAt(text, position) === DASH) position++;
  const integerStart = position;
  while (position < end && isDigitCode(codeUnitAt(text, position))) position++;
  const integerDigits = position - integerStart;
  if (integerDigits === 0 || integerDigits > MAX_INTEGER_DIGITS) return -1;
  const integerEnd = position;
  if (position < end && codeUnitAt(text, position) === DOT) {
    const fractionStart = ++position;
    while (position < end && isDigitCode(codeUnitAt(text, position))) position++;
    if (position === fractionStart) return -1;
  }
  if (position !== end) return -1;
  let digits = integerStart;
  while (digits < integerEnd - 1 && codeUnitAt(text, digits) === ZERO) digits++;
  return digits;
}

/**
 * {@link decimalDigitsStart} for UTF-8 bytes only, the same rules: the byte engine calls it for
 * every number, and a function that reads one kind of array compiles to plain loads where the
 * string-or-bytes one pays a type check per character.
 */
export function decimalBytesStart(bytes: Uint8Array, start: number, end: number): number {
  let position = start;
  if (position < end && bytes[position] === DASH) position++;
  const integerStart = position;
  while (position < end && isDigit(bytes[position] as number)) position++;
  const integerDigits = position - integerStart;
  if (integerDigits === 0 || integerDigits > MAX_INTEGER_DIGITS) return -1;
  const integerEnd = position;
  if (position < end && bytes[position] === DOT) {
    const fractionStart = ++position;
    while (position < end && isDigit(bytes[position] as number)) position++;
    if (position === fractionStart) return -1;
  }
  if (position !== end) return -1;
  let digits = integerStart;
  while (digits < integerEnd - 1 && bytes[digits] === ZERO) digits++;
  return digits;
}

function isDigit(byte: number): boolean {
  return byte >= ZERO && byte <= NINE_CODE;
}

/**
 * `[start, end)` of `text` as JSON number text when it is a plain decimal, else undefined (see
 * {@link decimalDigitsStart}): `-1` as it is, `000` as `0`, `0070.50` as `70.50`.
 */
export function decimalJson(text: string, start: number, end: number): string | undefined {
  const digits = decimalDigitsStart(text, start, end);
  if (digits < 0) return undefined;
  const negative = text.charCodeAt(start) === DASH;
  if (digits === start + (negative ? 1 : 0)) return text.slice(start, end);
  return negative ? `-${text.slice(digits, end)}` : text.slice(digits, end);
}

/** Whether `[start, end)` of `text` is an absent value: empty or `-`. */
export function isAbsentAt(text: CodeUnits, start: number, end: number): boolean {
  const size = end - start;
  return size <= 0 || (size === 1 && codeUnitAt(text, start) === DASH);
}

/** Where the parts of an `ip:port` value are (see {@link splitEndpoint}); reused, not allocated per value. */
export interface EndpointRanges {
  hostStart: number;
  hostEnd: number;
  /** Where the port's digits start (they end with the value), or -1 when there is no port. */
  portStart: number;
}

/** Fresh {@link EndpointRanges}, for a writer to reuse for every value. */
export function newEndpointRanges(): EndpointRanges {
  return { hostStart: 0, hostEnd: 0, portStart: -1 };
}

/**
 * Splits `[start, end)` of `text` as `ip:port`, `[v6]:port`, or a bare IPv6 address whose port
 * follows its last colon. One backward walk over the port's digits finds the colon: no search, no
 * second pass. An address without a port is fine; the host may be empty (`:443`).
 *
 * @returns false when what follows the last colon is not a port (`host:http`, six digits).
 */
export function splitEndpoint(text: CodeUnits, start: number, end: number, into: EndpointRanges): boolean {
  let colon = end - 1;
  while (colon >= start && isDigitCode(codeUnitAt(text, colon))) colon--;
  let hostEnd = end;
  into.portStart = -1;
  const bracketed = codeUnitAt(text, start) === OPEN_BRACKET;
  if (colon >= start && codeUnitAt(text, colon) === COLON) {
    if (end - colon - 1 > MAX_PORT_DIGITS) return false;
    hostEnd = colon;
    if (end - colon - 1 > 0) into.portStart = colon + 1;
  } else if (!bracketed && indexOfCode(text, COLON, start, end) >= 0) {
    // No port: anything else after a colon is not an endpoint.
    return false;
  }
  let hostStart = start;
  if (bracketed) {
    if (codeUnitAt(text, hostEnd - 1) !== CLOSE_BRACKET) return false;
    hostStart++;
    hostEnd--;
  }
  into.hostStart = hostStart;
  into.hostEnd = hostEnd;
  return true;
}

/** Where the parts of an HTTP request line are (see {@link splitRequestLine}); -1 for an absent part. */
export interface RequestRanges {
  /** End of the method, or -1 when the line has no space (then it is all target). */
  methodEnd: number;
  targetStart: number;
  targetEnd: number;
  /** The `?` that starts the query inside the target, or -1 (also when not asked for). */
  queryMark: number;
  /** Where the protocol starts (it ends at {@link end}), or -1. */
  protocolStart: number;
  /** The end of the line without its trailing spaces. */
  end: number;
}

/** Fresh {@link RequestRanges}, for a writer to reuse for every value. */
export function newRequestRanges(): RequestRanges {
  return { methodEnd: -1, targetStart: 0, targetEnd: 0, queryMark: -1, protocolStart: -1, end: 0 };
}

/**
 * Splits the HTTP request line `[start, end)` of `text`: the method is the text before the first
 * space, the protocol the text after the last space when it is `HTTP/…` or `-`, and the target
 * all between, spaces included (ALB logs URLs with spaces as received). Trailing spaces are
 * ignored: TCP listeners log `"- - - "`. With `splitQuery`, the target is split at its first `?`.
 */
export function splitRequestLine(
  text: CodeUnits,
  start: number,
  end: number,
  splitQuery: boolean,
  into: RequestRanges,
): void {
  let trimmedEnd = end;
  while (trimmedEnd > start && codeUnitAt(text, trimmedEnd - 1) === SPACE) trimmedEnd--;
  into.end = trimmedEnd;
  into.queryMark = -1;
  into.protocolStart = -1;
  const firstSpace = indexOfCode(text, SPACE, start, trimmedEnd);
  into.methodEnd = firstSpace;
  if (firstSpace < 0) {
    into.targetStart = start;
    into.targetEnd = trimmedEnd;
    return;
  }
  const lastSpace = lastIndexOfCode(text, SPACE, firstSpace, trimmedEnd);
  const hasProtocol = lastSpace > firstSpace && isProtocolAt(text, lastSpace + 1, trimmedEnd);
  into.targetStart = firstSpace + 1;
  into.targetEnd = hasProtocol ? lastSpace : trimmedEnd;
  if (hasProtocol) into.protocolStart = lastSpace + 1;
  if (splitQuery) into.queryMark = indexOfCode(text, QUESTION_MARK, into.targetStart, into.targetEnd);
}

/** Whether `[from, to)` of `text` is a protocol: `-` or `HTTP/…`. */
function isProtocolAt(text: CodeUnits, from: number, to: number): boolean {
  if (to - from === 1) return codeUnitAt(text, from) === DASH;
  return (
    to - from >= 5 &&
    codeUnitAt(text, from) === LETTER_H &&
    codeUnitAt(text, from + 1) === LETTER_T &&
    codeUnitAt(text, from + 2) === LETTER_T &&
    codeUnitAt(text, from + 3) === LETTER_P &&
    codeUnitAt(text, from + 4) === SLASH
  );
}

/** Decodes `%XX` escapes; text with a malformed escape is kept as it is rather than failing the record. */
export function decodePercentEncoded(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The field names an HTTP request line (`GET http://host:80/path?q HTTP/1.1`) is split into. */
export interface RequestLineNames {
  /** The whole request line as written, when the format names it (S3's `request_uri`). */
  readonly whole?: string;
  /** The method: `GET`. */
  readonly method: string;
  /** The request target: ALB's full URL, or S3's path. */
  readonly target: string;
  /** When given, the target is split at its first `?` and the query goes here (without the `?`). */
  readonly query?: string;
  /** The protocol: `HTTP/1.1`. */
  readonly protocol: string;
}

/** Turns a value into the time of the event, or undefined when it is not a valid time. */
export type TimeParser = (text: string) => string | undefined;

/**
 * One value of a delimited line and how it becomes JSON. A `-` value is always left out.
 *
 * - `string`: a JSON string; `url-encoded`: the same, `%XX` decoded.
 * - `number`: a JSON number; a value that is not a number goes to `invalid_fields` (see
 *   {@link DelimitedRecordWriter}).
 * - `endpoint`: `ip:port` (`[v6]:port`, or IPv6 with the port after the last colon) as
 *   `<name>_ip` and `<name>_port`.
 * - `request`: an HTTP request line, split as {@link RequestLineNames} says.
 * - `event-time`: the event's time, not written as a field; the line is an error without it.
 * - `event-date` and `event-clock`: the event time written as a date and a time of day in two
 *   values (CloudFront's `date` and `time`, UTC).
 * - `time`: a time written as an ISO-8601 UTC string.
 * - `custom`: `toMembers` turns the text into JSON members, or undefined when it is not valid.
 */
export type DelimitedField =
  | {
      readonly name: string;
      readonly kind: 'string' | 'url-encoded' | 'number' | 'endpoint' | 'event-date' | 'event-clock';
    }
  | { readonly name: string; readonly kind: 'event-time' | 'time'; readonly parse: TimeParser }
  | { readonly name: string; readonly kind: 'request'; readonly parts: RequestLineNames }
  | {
      readonly name: string;
      readonly kind: 'custom';
      readonly toMembers: (text: string) => string | undefined;
    };

/** A field written as a JSON string. */
export const stringField = (name: string): DelimitedField => ({ name, kind: 'string' });

/** A field written as a JSON number (see {@link DelimitedField}). */
export const numberField = (name: string): DelimitedField => ({ name, kind: 'number' });

/** An `ip:port` field, written as `<name>_ip` and `<name>_port`. */
export const endpointField = (name: string): DelimitedField => ({ name, kind: 'endpoint' });

/** The field that holds the event's time, read by `parse`. */
export const eventTimeField = (name: string, parse: TimeParser): DelimitedField => ({
  name,
  kind: 'event-time',
  parse,
});

/** The values of one delimited log format, in order. */
export interface DelimitedLayout {
  /** What a line is, for error reasons: `ALB access log entry`. */
  readonly description: string;
  readonly syntax: DelimitedSyntax;
  readonly fields: readonly DelimitedField[];
  /** A line with fewer values is reported as truncated (older AWS versions write fewer values). */
  readonly minimumValues: number;
}

/** `,"name":`: the text that precedes a member's value. */
function memberPrefix(name: string): string {
  return `,${quoteJson(name)}:`;
}

interface CompiledField {
  readonly field: DelimitedField;
  /** `,"name":` for the field's own name. */
  readonly member: string;
  /** `,"name":"`: the same with the opening quote of a string value. */
  readonly quotedMember: string;
  /** Prefixes of derived members: `_ip`/`_port` for endpoints; whole, method, target, query, protocol for requests. */
  readonly parts: readonly string[];
}

function compileField(field: DelimitedField): CompiledField {
  let parts: string[] = [];
  if (field.kind === 'endpoint') parts = [`${field.name}_ip`, `${field.name}_port`].map(memberPrefix);
  if (field.kind === 'request') {
    const names = field.parts;
    parts = [names.whole, names.method, names.target, names.query, names.protocol].map((name) =>
      name === undefined ? '' : memberPrefix(name),
    );
  }
  const member = memberPrefix(field.name);
  return { field, member, quotedMember: `${member}"`, parts };
}

/**
 * Writes the lines of one delimited format as parsed events, following a {@link DelimitedLayout}.
 *
 * Decisions where AWS is silent, the same for every delimited format:
 * - a value that is not what its field expects (a number field holding `abc`, an endpoint without
 *   a numeric port, a time field that is no time) is left out of its field and kept as written in
 *   an `invalid_fields` object keyed by the field name, so the document still indexes and the text
 *   is not lost;
 * - values after the layout's last field (AWS appends new fields over the years) are kept as
 *   written, in order, in an `extra_fields` array of strings, `-` included, since only their
 *   positions tell what they are;
 * - a line with fewer than `minimumValues` values, an unterminated quote, or an event time that is
 *   missing or invalid is an error.
 */
export class DelimitedRecordWriter {
  private readonly scanner: DelimitedScanner;
  private readonly fields: readonly CompiledField[];
  /** The current line's members so far, without a leading comma. */
  private members = '';
  /** The current line's `invalid_fields` members so far, each with a leading comma. */
  private invalid = '';
  private readonly endpoint = newEndpointRanges();
  private readonly request = newRequestRanges();

  constructor(private readonly layout: DelimitedLayout) {
    this.scanner = new DelimitedScanner(layout.syntax);
    this.fields = layout.fields.map(compileField);
  }

  /** Parses one line; `type` overrides the event's `log.type` (a line of another flavour). */
  write(line: string, type?: string): RecordResult {
    const scanner = this.scanner;
    const fields = this.fields;
    scanner.reset(line);
    this.members = '';
    this.invalid = '';
    let timestamp: string | undefined;
    let date: string | undefined;
    let clock: string | undefined;
    let count = 0;
    for (; count < fields.length && scanner.next(); count++) {
      const compiled = fields[count] as CompiledField;
      const field = compiled.field;
      if (scanner.isAbsent()) {
        if (field.kind === 'event-time' || field.kind === 'event-date' || field.kind === 'event-clock') {
          return this.error(`no ${field.name} value`);
        }
        continue;
      }
      switch (field.kind) {
        case 'string':
          this.add(scanner.member(compiled.member, compiled.quotedMember));
          break;
        case 'number':
          this.addOrInvalid(compiled, scanner.numberJson());
          break;
        case 'url-encoded': {
          const raw = scanner.text();
          this.add(
            compiled.member + (raw.includes('%') ? quoteJson(decodePercentEncoded(raw)) : scanner.json()),
          );
          break;
        }
        case 'endpoint':
          this.addOrInvalid(compiled, this.endpointMembers(compiled), false);
          break;
        case 'request':
          this.add(this.requestMembers(compiled));
          break;
        case 'event-time':
          timestamp = field.parse(scanner.text());
          if (timestamp === undefined)
            return this.error(`${field.name} ${scanner.json()} is not a valid time`);
          break;
        case 'event-date':
          date = scanner.text();
          break;
        case 'event-clock':
          clock = scanner.text();
          break;
        case 'time': {
          const time = field.parse(scanner.text());
          this.addOrInvalid(compiled, time === undefined ? undefined : `"${time}"`);
          break;
        }
        case 'custom': {
          const custom = field.toMembers(scanner.text());
          this.addOrInvalid(compiled, custom === undefined ? undefined : `,${custom}`, false);
          break;
        }
      }
    }
    if (scanner.error !== undefined) return this.error(scanner.error);
    if (count < this.layout.minimumValues) {
      return this.error(`truncated: ${count} values, at least ${this.layout.minimumValues} expected`);
    }
    if (count === fields.length) {
      const extra = scanner.remainingJson();
      if (scanner.error !== undefined) return this.error(scanner.error);
      if (extra.length > 0) this.add(`,"extra_fields":[${extra.join(',')}]`);
    }
    if (date !== undefined || clock !== undefined) {
      timestamp = date === undefined || clock === undefined ? undefined : toIsoUtcFast(`${date}T${clock}Z`);
      if (timestamp === undefined) {
        return this.error(
          `date ${quoteJson(date ?? '-')} and time ${quoteJson(clock ?? '-')} are not a valid time`,
        );
      }
    }
    if (this.invalid !== '') this.add(`,"invalid_fields":{${this.invalid.slice(1)}}`);
    const members = this.members;
    if (timestamp === undefined) {
      return type === undefined
        ? { kind: 'event', fields: members }
        : { kind: 'event', type, fields: members };
    }
    return type === undefined
      ? { kind: 'event', timestamp, fields: members }
      : { kind: 'event', timestamp, type, fields: members };
  }

  /**
   * Appends members given with a leading comma. Only the first piece of a line loses its comma,
   * and only that small piece is sliced: slicing the whole text at the end would flatten it.
   */
  private add(piece: string): void {
    this.members = this.members === '' ? piece.slice(1) : this.members + piece;
  }

  /**
   * Appends `value` under the field's own name (or, with `named` false, `value` as ready members),
   * or keeps the current value as written in `invalid_fields` when `value` is undefined.
   */
  private addOrInvalid(compiled: CompiledField, value: string | undefined, named = true): void {
    if (value === undefined) this.invalid += compiled.member + this.scanner.json();
    else if (value !== '') this.add(named ? compiled.member + value : value);
  }

  private error(reason: string): RecordResult {
    return { kind: 'error', reason: `${this.layout.description}: ${reason}` };
  }

  /**
   * `,"x_ip":"…","x_port":N` for the current `ip:port` value (see {@link splitEndpoint}), or
   * undefined when what follows the last colon is not a port.
   */
  private endpointMembers(compiled: CompiledField): string | undefined {
    const scanner = this.scanner;
    const endpoint = this.endpoint;
    if (!splitEndpoint(scanner.line, scanner.start, scanner.end, endpoint)) return undefined;
    const port =
      endpoint.portStart < 0
        ? ''
        : compiled.parts[1] + (decimalJson(scanner.line, endpoint.portStart, scanner.end) as string);
    return endpoint.hostEnd > endpoint.hostStart
      ? compiled.parts[0] + scanner.jsonOf(endpoint.hostStart, endpoint.hostEnd) + port
      : port;
  }

  /** The members of an HTTP request line, split as {@link splitRequestLine} says. */
  private requestMembers(compiled: CompiledField): string {
    const scanner = this.scanner;
    // Indexed reads: array destructuring would run the iterator protocol on every line.
    const parts = compiled.parts;
    const whole = parts[0] as string;
    const query = parts[3] as string;
    const request = this.request;
    splitRequestLine(scanner.line, scanner.start, scanner.end, query !== '', request);
    let members = whole === '' ? '' : whole + scanner.json();
    if (request.methodEnd >= 0) members += this.part(parts[1] as string, scanner.start, request.methodEnd);
    if (request.queryMark < 0) {
      members += this.part(parts[2] as string, request.targetStart, request.targetEnd);
    } else {
      members +=
        this.part(parts[2] as string, request.targetStart, request.queryMark) +
        this.part(query, request.queryMark + 1, request.targetEnd);
    }
    return request.protocolStart < 0
      ? members
      : members + this.part(parts[4] as string, request.protocolStart, request.end);
  }

  /** `prefix` + part `[from, to)` as a JSON string, or nothing when the part is empty or `-`. */
  private part(prefix: string, from: number, to: number): string {
    if (prefix === '' || isAbsentAt(this.scanner.line, from, to)) return '';
    return prefix + this.scanner.jsonOf(from, to);
  }
}
