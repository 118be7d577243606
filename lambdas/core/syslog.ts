/**
 * Syslog lines (RFC 5424 and RFC 3164) parsed into their parts. Pure and shared: the `syslog` log
 * format wraps it, and the Firehose processor reuses it for its JSON output.
 *
 * Written here rather than taken from npm: the maintained parsers (`glossy`, `nsyslog-parser`)
 * give an RFC 3164 line the current year, where this pipeline must take it from the time the
 * object was written, and they accept any text as a message, where a line that is not syslog must
 * be reported.
 *
 * The parser is strict about what makes a line syslog (a `<PRI>`, or a timestamp where the header
 * starts) and lenient inside, as relays in the field are: a missing PRI or hostname, a TAG without
 * a colon, a space after `=` in structured data, a malformed SD-PARAM (skipped, the rest kept).
 *
 * It is also the hot loop of the Firehose processor's JSON output (a hundred thousand lines a
 * batch), so it scans character codes instead of running regular expressions, parses into one
 * reusable {@link SyslogParts} instead of building an object per line, remembers the last header
 * time it converted (the lines of one stream share their second), and writes the JSON members
 * as one string.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { CharCode } from './char-codes';
import { type JsonFields, quoteJson, setOwn } from './json';
import {
  INFERRED_YEAR_TOLERANCE_MILLIS,
  monthFromName,
  toIsoUtc,
  utcMillisFromParts,
  utcMillisInferringYear,
} from './time';

/** RFC 5424 structured data: SD-ID → PARAM-NAME → value, or the values of a repeated PARAM-NAME. */
export type StructuredData = Record<string, Record<string, string | string[]>>;

/** One syslog message's parts. Absent parts were absent, or the nil value `-`, in the line. */
export interface SyslogMessage {
  /** Which header the line had. */
  readonly protocol: 'rfc5424' | 'rfc3164';
  /** Facility code 0-23, from the PRI; absent when the line had no PRI. */
  readonly facility?: number;
  /** Severity code 0-7, from the PRI; absent when the line had no PRI. */
  readonly severity?: number;
  /** RFC 5424 VERSION. */
  readonly version?: number;
  /** Header time as ISO-8601 UTC; RFC 3164 times are read as UTC, their year inferred. */
  readonly timestamp?: string;
  readonly hostname?: string;
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG's program name. */
  readonly appName?: string;
  /** RFC 5424 PROCID, or the RFC 3164 TAG's `[pid]`: usually, not always, a number. */
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData?: StructuredData;
  /** MSG, without a leading byte order mark. */
  readonly message: string;
}

/** Facility names by code, as syslog(3) and rsyslog call them (RFC 5424 table 1). */
export const SYSLOG_FACILITY_NAMES: readonly string[] = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

/** Severity names by code, as syslog(3) calls them (RFC 5424 table 2). */
export const SYSLOG_SEVERITY_NAMES: readonly string[] = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
];

/**
 * The parts of the last line given to {@link parseSyslogLineInto}. One instance serves line after
 * line: each parse overwrites every part, so a caller that keeps a part across lines copies it.
 * `message` is cut from the line only when it is read, since the Firehose processor never needs it.
 */
export class SyslogParts implements SyslogMessage {
  protocol: 'rfc5424' | 'rfc3164' = 'rfc3164';
  facility: number | undefined;
  severity: number | undefined;
  version: number | undefined;
  timestamp: string | undefined;
  hostname: string | undefined;
  appName: string | undefined;
  procId: string | undefined;
  msgId: string | undefined;
  structuredData: StructuredData | undefined;
  /** The line the parts were read from. */
  line = '';
  /** Where MSG starts in the line (after any byte order mark). */
  messageStart = 0;

  get message(): string {
    return this.line.slice(this.messageStart);
  }

  /** A detached copy as a plain {@link SyslogMessage}, with only the parts the line had. */
  toMessage(): SyslogMessage {
    const priority =
      this.facility === undefined ? {} : { facility: this.facility, severity: this.severity as number };
    if (this.protocol === 'rfc5424')
      return {
        protocol: 'rfc5424',
        ...priority,
        version: this.version,
        ...(this.timestamp === undefined ? {} : { timestamp: this.timestamp }),
        hostname: this.hostname,
        appName: this.appName,
        procId: this.procId,
        msgId: this.msgId,
        ...(this.structuredData === undefined ? {} : { structuredData: this.structuredData }),
        message: this.message,
      };
    return {
      protocol: 'rfc3164',
      ...priority,
      ...(this.timestamp === undefined ? {} : { timestamp: this.timestamp }),
      ...(this.hostname === undefined ? {} : { hostname: this.hostname }),
      ...(this.appName === undefined ? {} : { appName: this.appName }),
      ...(this.procId === undefined ? {} : { procId: this.procId }),
      message: this.message,
    };
  }
}

// Codes the syslog header uses beyond the shared table.
const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const BYTE_ORDER_MARK = 0xfeff;
const LETTER_Z = 0x5a;
const DIGIT_TWO = 0x32;
const DIGIT_FOUR = 0x34;
const MAX_PRI = 191;
const MAX_TAG_LENGTH = 128;
const MAX_PID_LENGTH = 32;
const MAX_NUMERIC_PID_DIGITS = 15;
const NOT_SYSLOG = 'not a syslog line: no <PRI> and no timestamp where the header starts';

const scratch = new SyslogParts();

/**
 * Parses one syslog line, RFC 5424 or RFC 3164 (BSD). `referenceTimeMillis` is when the line was
 * written down (the object's LastModified): an RFC 3164 time has no year, and takes the latest one
 * that does not put it in the future of that time, so a December line in an object written in
 * January belongs to the previous year (see {@link utcMillisInferringYear}). RFC 3164 times carry no
 * zone and are read as UTC.
 *
 * A line with a PRI but no recognisable header is kept whole as the message (RFC 3164 section
 * 4.3.2); a line with neither a PRI nor a timestamp at the start is not syslog.
 *
 * @returns the message's parts, or an Error saying why the line is not syslog.
 */
export function parseSyslogLine(line: string, referenceTimeMillis: number): SyslogMessage | Error {
  const problem = parseSyslogLineInto(line, referenceTimeMillis, scratch);
  return problem === undefined ? scratch.toMessage() : new Error(problem);
}

/**
 * {@link parseSyslogLine} into reusable parts, for hot loops: nothing is allocated per line but the
 * parts' own strings, and a line that is not syslog costs a reason, not an Error.
 *
 * @returns undefined when `parts` now hold the line's parts, or why the line is not syslog.
 */
export function parseSyslogLineInto(
  line: string,
  referenceTimeMillis: number,
  parts: SyslogParts,
): string | undefined {
  parts.line = line;
  parts.facility = undefined;
  parts.severity = undefined;
  let start = 0;
  // <PRI>: one to three digits in angle brackets.
  if (line.charCodeAt(0) === LESS_THAN) {
    let end = 1;
    let value = 0;
    while (end <= 3 && isDigit(line.charCodeAt(end))) {
      value = value * 10 + line.charCodeAt(end) - CharCode.ZERO;
      end += 1;
    }
    if (end > 1 && line.charCodeAt(end) === GREATER_THAN) {
      if (value > MAX_PRI) return `syslog PRI <${value}> is out of range (0-${MAX_PRI})`;
      parts.facility = value >> 3;
      parts.severity = value & 7;
      start = end + 1;
    }
  }
  const version = rfc5424VersionAt(line, start);
  return version > 0
    ? parseRfc5424(line, start, version, parts)
    : parseRfc3164(line, start, referenceTimeMillis, parts);
}

/**
 * The VERSION of an RFC 5424 header at `start` (one to three digits, no leading zero, a space, then
 * the nil value or a date-time up to the next space), or 0 when the text there is no such header.
 */
function rfc5424VersionAt(line: string, start: number): number {
  let position = start;
  let version = 0;
  while (position < start + 3 && isDigit(line.charCodeAt(position))) {
    version = version * 10 + line.charCodeAt(position) - CharCode.ZERO;
    position += 1;
  }
  if (position === start || line.charCodeAt(start) === CharCode.ZERO) return 0;
  if (line.charCodeAt(position) !== CharCode.SPACE) return 0;
  position += 1;
  if (line.charCodeAt(position) === CharCode.DASH) {
    const next = line.charCodeAt(position + 1);
    return position + 1 === line.length || next === CharCode.SPACE ? version : 0;
  }
  if (!isDateAt(line, position) || line.charCodeAt(position + 10) !== CharCode.LETTER_T) return 0;
  return endsWordAtSpace(line, position + 11) ? version : 0;
}

function parseRfc5424(line: string, start: number, version: number, parts: SyslogParts): string | undefined {
  const length = line.length;
  // Header words are separated by single spaces; an empty word is an empty field.
  const timeStart = line.indexOf(' ', start) + 1;
  const timeEnd = indexOrLength(line, CharCode.SPACE, timeStart);
  const hostnameEnd = headerWordEnd(line, timeEnd);
  const appNameEnd = headerWordEnd(line, hostnameEnd);
  const procIdEnd = headerWordEnd(line, appNameEnd);
  const msgIdEnd = headerWordEnd(line, procIdEnd);
  if (msgIdEnd < 0) return 'RFC 5424 header ends before MSGID';
  const time = line.slice(timeStart, timeEnd);
  let timestamp: string | undefined;
  if (time !== '-') {
    timestamp = isoOfRfc3339(time);
    if (timestamp === undefined) return `invalid RFC 5424 timestamp: ${time}`;
  }
  parts.protocol = 'rfc5424';
  parts.version = version;
  parts.timestamp = timestamp;
  parts.hostname = nonNilWord(line, timeEnd + 1, hostnameEnd);
  parts.appName = nonNilWord(line, hostnameEnd + 1, appNameEnd);
  parts.procId = nonNilWord(line, appNameEnd + 1, procIdEnd);
  parts.msgId = nonNilWord(line, procIdEnd + 1, msgIdEnd);
  parts.structuredData = undefined;
  let messageStart = Math.min(msgIdEnd + 1, length);
  if (line.charCodeAt(messageStart) === CharCode.DASH) {
    const next = line.charCodeAt(messageStart + 1);
    if (messageStart + 1 === length || next === CharCode.SPACE)
      messageStart = Math.min(messageStart + 2, length);
  } else if (line.charCodeAt(messageStart) === CharCode.OPEN_BRACKET) {
    // Unterminated structured data is not structured data: the text stays whole in the message.
    const parsed = parseStructuredDataAt(line, messageStart);
    if (parsed !== undefined) {
      parts.structuredData = parsed.data;
      messageStart = line.charCodeAt(parsed.end) === CharCode.SPACE ? parsed.end + 1 : parsed.end;
    }
  }
  parts.messageStart = afterByteOrderMark(line, messageStart);
  return undefined;
}

function parseRfc3164(
  line: string,
  start: number,
  referenceTimeMillis: number,
  parts: SyslogParts,
): string | undefined {
  parts.protocol = 'rfc3164';
  parts.version = undefined;
  parts.hostname = undefined;
  parts.appName = undefined;
  parts.procId = undefined;
  parts.msgId = undefined;
  parts.structuredData = undefined;
  const headerEnd = readRfc3164Timestamp(line, start, referenceTimeMillis, parts);
  if (headerEnd < 0) {
    if (parts.facility === undefined) return NOT_SYSLOG;
    parts.timestamp = undefined;
    parts.messageStart = afterByteOrderMark(line, start);
    return undefined;
  }
  const length = line.length;
  let position = skipSpaces(line, headerEnd);
  if (!isTagInsteadOfHostname(line, position)) {
    const end = indexOrLength(line, CharCode.SPACE, position);
    if (end > position) parts.hostname = line.slice(position, end);
    // The TAG follows the hostname after exactly one space; two spaces mean there is no TAG.
    position =
      line.charCodeAt(end) === CharCode.SPACE && line.charCodeAt(end + 1) !== CharCode.SPACE ? end + 1 : end;
  }
  const tagEnd = readTag(line, position, parts);
  if (tagEnd >= 0) position = tagEnd;
  parts.messageStart = afterByteOrderMark(line, Math.min(skipSpaces(line, position), length));
  return undefined;
}

// The minute of the last BSD header time converted (`Mar 10 13:05:`), its ISO-8601 text up to the
// seconds, and its epoch time in the inferred year and in the next year that has the date: the
// lines of a stream share their minute, and the year inference is what costs.
let bsdMinuteText = '';
let bsdMinuteIso = '';
let bsdMinuteMillis = 0;
let bsdNextYearMinuteMillis = Number.NaN;
const LATEST_TIME = 8.64e15;

/**
 * Reads the RFC 3164 header time at `start` into `parts.timestamp`: a BSD time (`Oct 11 22:14:15`,
 * optionally with up to six fraction digits) or, as rsyslog's high-precision template writes it,
 * an RFC 3339 time, either followed by a space or the end of the line.
 *
 * @returns the index after the time, or -1 when there is none.
 */
function readRfc3164Timestamp(
  line: string,
  start: number,
  referenceTimeMillis: number,
  parts: SyslogParts,
): number {
  if (isDigit(line.charCodeAt(start))) {
    if (!isDateAt(line, start) || line.charCodeAt(start + 10) !== CharCode.LETTER_T) return -1;
    const end = wordEnd(line, start + 11);
    if (end === start + 11 || !endsWordAtSpace(line, start + 11)) return -1;
    parts.timestamp = isoOfRfc3339(line.slice(start, end));
    return parts.timestamp === undefined ? -1 : end;
  }
  if (bsdMinuteText !== '' && line.startsWith(bsdMinuteText, start)) {
    const end = readSameMinute(line, start + bsdMinuteText.length, referenceTimeMillis, parts);
    if (end >= 0) return end;
  }
  const end = bsdTimestampEnd(line, start);
  if (end < 0) return -1;
  const month = monthFromName(line.slice(start, start + 3));
  if (month === undefined) return -1;
  const dayStart = line.charCodeAt(start + 4) === CharCode.SPACE ? start + 5 : start + 4;
  const dayDigits = isDigit(line.charCodeAt(dayStart + 1)) ? 2 : 1;
  const clock = dayStart + dayDigits + 1;
  const second = Number(line.slice(clock + 6, clock + 8));
  const millisecond = Number(fractionMillis(line, clock + 8, end));
  const minute = {
    month,
    day: Number(line.slice(dayStart, dayStart + dayDigits)),
    hour: Number(line.slice(clock, clock + 2)),
    minute: Number(line.slice(clock + 3, clock + 5)),
    second: 0,
    millisecond: 0,
  };
  const millis = utcMillisInferringYear({ ...minute, second, millisecond }, referenceTimeMillis);
  if (millis === undefined) return -1;
  parts.timestamp = new Date(millis).toISOString();
  bsdMinuteText = line.slice(start, clock + 6);
  bsdMinuteMillis = millis - second * 1000 - millisecond;
  bsdMinuteIso = parts.timestamp.slice(0, -7);
  bsdNextYearMinuteMillis = Number.NaN;
  const year = new Date(millis).getUTCFullYear();
  // 29 February comes back within eight years.
  for (let next = year + 1; next <= year + 8; next++) {
    const later = utcMillisFromParts({ ...minute, year: next });
    if (later !== undefined) {
      bsdNextYearMinuteMillis = later;
      break;
    }
  }
  return end;
}

/**
 * Reads the seconds (and fraction) of a BSD time at `secondsStart` whose minute is the cached one,
 * when the reference time infers the same year for it as {@link utcMillisInferringYear} would: the
 * time is no later than the reference allows, and the same date a year on would be.
 *
 * @returns the index after the time, or -1 when the cache cannot answer.
 */
function readSameMinute(
  line: string,
  secondsStart: number,
  referenceTimeMillis: number,
  parts: SyslogParts,
): number {
  const tens = line.charCodeAt(secondsStart) - CharCode.ZERO;
  const ones = line.charCodeAt(secondsStart + 1) - CharCode.ZERO;
  if (!(tens >= 0 && tens <= 5 && ones >= 0 && ones <= 9)) return -1;
  let end = secondsStart + 2;
  if (line.charCodeAt(end) === CharCode.DOT) {
    let digits = 0;
    while (digits < 7 && isDigit(line.charCodeAt(end + 1 + digits))) digits += 1;
    if (digits === 0 || digits > 6) return -1;
    end += 1 + digits;
  }
  if (!isSpaceOrEnd(line, end)) return -1;
  const millisText = fractionMillis(line, secondsStart + 2, end);
  const offset = (tens * 10 + ones) * 1000 + Number(millisText);
  const millis = bsdMinuteMillis + offset;
  const latest = referenceTimeMillis + INFERRED_YEAR_TOLERANCE_MILLIS;
  if (!(millis <= latest && bsdNextYearMinuteMillis + offset > latest && Math.abs(millis) <= LATEST_TIME))
    return -1;
  parts.timestamp = `${bsdMinuteIso}${line.slice(secondsStart, secondsStart + 2)}.${millisText}Z`;
  return end;
}

/** The milliseconds of a BSD time's optional fraction in `[dot, end)` as three digits (`.5` → `500`). */
function fractionMillis(line: string, dot: number, end: number): string {
  if (dot >= end) return '000';
  return line.slice(dot + 1, Math.min(end, dot + 4)).padEnd(3, '0');
}

/**
 * The end of a BSD time at `start` (`Mmm dd hh:mm:ss`, the day after one or two spaces and of one
 * or two digits, then optionally `.` and one to six digits, then a space or the end of the line),
 * or -1. The month's letters are checked here, the month's name by the caller.
 */
function bsdTimestampEnd(line: string, start: number): number {
  for (let index = start; index < start + 3; index++) if (!isAsciiLetter(line.charCodeAt(index))) return -1;
  let position = start + 3;
  if (line.charCodeAt(position) !== CharCode.SPACE) return -1;
  position += line.charCodeAt(position + 1) === CharCode.SPACE ? 2 : 1;
  if (!isDigit(line.charCodeAt(position))) return -1;
  position += isDigit(line.charCodeAt(position + 1)) ? 2 : 1;
  if (line.charCodeAt(position) !== CharCode.SPACE) return -1;
  position += 1;
  for (let index = 0; index < 8; index++) {
    const code = line.charCodeAt(position + index);
    if (index === 2 || index === 5 ? code !== CharCode.COLON : !isDigit(code)) return -1;
  }
  position += 8;
  if (line.charCodeAt(position) === CharCode.DOT) {
    let digits = 0;
    while (digits < 7 && isDigit(line.charCodeAt(position + 1 + digits))) digits += 1;
    if (digits === 0 || digits > 6) return -1;
    position += 1 + digits;
  }
  return isSpaceOrEnd(line, position) ? position : -1;
}

// The last RFC 3339 time converted: every line of a stream may repeat it. And the second of the
// last one that was already canonical UTC (`2024-03-10T13:05:12`), which lines with another
// fraction of that second share: whether `Date.parse` takes such a time depends on its date and
// time of day, not on its fraction, except at hour 24, which is never cached.
let rfc3339Text = '';
let rfc3339Iso: string | undefined;
let rfc3339Second = '';
const UTC_SECOND_LENGTH = 19;

/** An RFC 3339 header time (any case) as ISO-8601 UTC, or undefined when it is not one. */
function isoOfRfc3339(text: string): string | undefined {
  if (rfc3339Second !== '' && text.startsWith(rfc3339Second) && isUtcFractionTail(text)) return text;
  if (text !== rfc3339Text) {
    rfc3339Iso = toIsoUtc(text.toUpperCase());
    rfc3339Text = text;
    // Equal to its input only when it was canonical UTC already (an offset always changes it).
    if (rfc3339Iso === text && !(text.charCodeAt(11) === DIGIT_TWO && text.charCodeAt(12) === DIGIT_FOUR))
      rfc3339Second = text.slice(0, UTC_SECOND_LENGTH);
  }
  return rfc3339Iso;
}

/** Whether what follows the seconds of a canonical UTC time is `Z`, or `.`, one to nine digits and `Z`. */
function isUtcFractionTail(text: string): boolean {
  const length = text.length;
  if (text.charCodeAt(length - 1) !== LETTER_Z) return false;
  if (length === UTC_SECOND_LENGTH + 1) return true;
  if (length < UTC_SECOND_LENGTH + 3 || length > UTC_SECOND_LENGTH + 11) return false;
  if (text.charCodeAt(UTC_SECOND_LENGTH) !== CharCode.DOT) return false;
  for (let index = UTC_SECOND_LENGTH + 1; index < length - 1; index++)
    if (!isDigit(text.charCodeAt(index))) return false;
  return true;
}

/**
 * Whether the word at `position` is a TAG (`haproxy[73411]:`) rather than a HOSTNAME: the sender
 * left the hostname out. A TAG is a name without whitespace, `:`, `[` or `]`, an optional `[pid]`
 * without whitespace, and a colon followed by a space or the end of the line.
 */
function isTagInsteadOfHostname(line: string, position: number): boolean {
  const length = line.length;
  let end = position;
  while (end < length) {
    const code = line.charCodeAt(end);
    if (
      code === CharCode.COLON ||
      code === CharCode.OPEN_BRACKET ||
      code === CharCode.CLOSE_BRACKET ||
      isWhitespace(code)
    )
      break;
    end += 1;
  }
  if (end === position) return false;
  if (line.charCodeAt(end) === CharCode.OPEN_BRACKET) {
    end += 1;
    while (end < length) {
      const code = line.charCodeAt(end);
      if (code === CharCode.CLOSE_BRACKET || isWhitespace(code)) break;
      end += 1;
    }
    if (line.charCodeAt(end) !== CharCode.CLOSE_BRACKET) return false;
    end += 1;
  }
  return line.charCodeAt(end) === CharCode.COLON && isSpaceOrEnd(line, end + 1);
}

/**
 * Reads an RFC 3164 TAG at `start` into `parts`: a program name ended by a space, `[`, or `:`, an
 * optional `[pid]`, and an optional colon. Without a colon the name still counts as a TAG when a
 * space follows it (`apache_error [Tue Jun 08 ...]`), as relays and the peers read it.
 *
 * @returns the index after the TAG, or -1 when there is none (and `parts` are left unchanged).
 */
function readTag(line: string, start: number, parts: SyslogParts): number {
  const length = line.length;
  const limit = Math.min(length, start + MAX_TAG_LENGTH);
  let position = start;
  while (position < limit) {
    const code = line.charCodeAt(position);
    if (code === CharCode.SPACE || code === CharCode.COLON || code === CharCode.OPEN_BRACKET) break;
    position += 1;
  }
  if (position === start) return -1;
  let procId: string | undefined;
  const nameEnd = position;
  if (line.charCodeAt(position) === CharCode.OPEN_BRACKET) {
    const close = line.indexOf(']', position);
    if (close < 0 || close - position - 1 > MAX_PID_LENGTH) return -1;
    for (let index = position + 1; index < close; index++)
      if (line.charCodeAt(index) === CharCode.SPACE) return -1;
    procId = line.slice(position + 1, close);
    position = close + 1;
  }
  const code = line.charCodeAt(position);
  let end: number;
  if (code === CharCode.COLON) end = position + 1;
  else if (position === length || code === CharCode.SPACE) end = position;
  else return -1;
  parts.appName = line.slice(start, nameEnd);
  parts.procId = procId;
  return end;
}

/**
 * Parses RFC 5424 STRUCTURED-DATA at the start of `text` (which starts with `[`). In a quoted
 * PARAM-VALUE `\"`, `\\` and `\]` are escapes and any other backslash is kept (RFC 5424 section
 * 6.3.3). Objects have no prototype, so an SD-ID or PARAM-NAME such as `__proto__` is plain data.
 *
 * @returns the elements and the index just after the last `]`, or undefined when an element is not
 *   terminated.
 */
export function parseStructuredData(
  text: string,
): { readonly data: StructuredData; readonly end: number } | undefined {
  return parseStructuredDataAt(text, 0);
}

/** {@link parseStructuredData} of the text from `start`; `end` counts from the start of `text`. */
function parseStructuredDataAt(
  text: string,
  start: number,
): { readonly data: StructuredData; readonly end: number } | undefined {
  const data: StructuredData = Object.create(null);
  let position = start;
  while (text.charAt(position) === '[') {
    const idEnd = indexOfAny(text, ' ]', position + 1);
    if (idEnd < 0) return undefined;
    const id = text.slice(position + 1, idEnd);
    const params: Record<string, string | string[]> = data[id] ?? Object.create(null);
    setOwn(data, id, params);
    position = idEnd;
    for (;;) {
      while (text.charAt(position) === ' ') position += 1;
      if (position >= text.length) return undefined;
      if (text.charAt(position) === ']') {
        position += 1;
        break;
      }
      const nameEnd = indexOfAny(text, '= ]', position);
      if (nameEnd < 0) return undefined;
      const name = text.slice(position, nameEnd);
      position = nameEnd;
      // A name without `=` ("[incorrect x]") is not a parameter: skipped, the element kept.
      if (text.charAt(position) !== '=') continue;
      position += 1;
      while (text.charAt(position) === ' ') position += 1;
      const value =
        text.charAt(position) === '"' ? readQuotedValue(text, position) : readBareValue(text, position);
      if (value === undefined) return undefined;
      position = value.end;
      if (name !== '') addParam(params, name, value.text);
    }
  }
  return { data, end: position };
}

function readQuotedValue(
  text: string,
  quote: number,
): { readonly text: string; readonly end: number } | undefined {
  let value = '';
  let position = quote + 1;
  while (position < text.length) {
    const char = text.charAt(position);
    if (char === '"') return { text: value, end: position + 1 };
    if (char === '\\' && '"\\]'.includes(text.charAt(position + 1)) && position + 1 < text.length) {
      value += text.charAt(position + 1);
      position += 2;
    } else {
      value += char;
      position += 1;
    }
  }
  return undefined;
}

function readBareValue(
  text: string,
  start: number,
): { readonly text: string; readonly end: number } | undefined {
  const end = indexOfAny(text, ' ]', start);
  return end < 0 ? undefined : { text: text.slice(start, end), end };
}

function addParam(params: Record<string, string | string[]>, name: string, value: string): void {
  // RFC 5424 lets an SD-PARAM repeat; its values are kept in order.
  const existing = Object.hasOwn(params, name) ? params[name] : undefined;
  if (existing === undefined) setOwn(params, name, value);
  else setOwn(params, name, Array.isArray(existing) ? [...existing, value] : [existing, value]);
}

/** The end of the header word after the one ending at `previousEnd` (a space or the line's end), or -1 when there is none. */
function headerWordEnd(line: string, previousEnd: number): number {
  if (previousEnd < 0 || previousEnd + 1 >= line.length) return -1;
  return indexOrLength(line, CharCode.SPACE, previousEnd + 1);
}

/** The header word in `[start, end)`, or undefined for an empty word or the nil value `-`. */
function nonNilWord(line: string, start: number, end: number): string | undefined {
  if (end === start || (end === start + 1 && line.charCodeAt(start) === CharCode.DASH)) return undefined;
  return line.slice(start, end);
}

function indexOrLength(text: string, code: number, from: number): number {
  for (let position = from; position < text.length; position++)
    if (text.charCodeAt(position) === code) return position;
  return text.length;
}

function indexOfAny(text: string, chars: string, from: number): number {
  for (let position = from; position < text.length; position++) {
    if (chars.includes(text.charAt(position))) return position;
  }
  return -1;
}

function skipSpaces(line: string, from: number): number {
  let position = from;
  while (line.charCodeAt(position) === CharCode.SPACE) position += 1;
  return position;
}

function afterByteOrderMark(line: string, messageStart: number): number {
  return line.charCodeAt(messageStart) === BYTE_ORDER_MARK ? messageStart + 1 : messageStart;
}

function isSpaceOrEnd(line: string, position: number): boolean {
  return position === line.length || line.charCodeAt(position) === CharCode.SPACE;
}

/** Whether a run of non-whitespace from `from` ends at a space or the end of the line (`\S*(?= |$)`). */
function endsWordAtSpace(line: string, from: number): boolean {
  return isSpaceOrEnd(line, wordEnd(line, from));
}

/** The first whitespace at or after `from` (as a regular expression's `\s` sees it), or the line's end. */
function wordEnd(line: string, from: number): number {
  let position = from;
  while (position < line.length && !isWhitespace(line.charCodeAt(position))) position += 1;
  return position;
}

/** `\d{4}-\d{2}-\d{2}` at `start`. */
function isDateAt(line: string, start: number): boolean {
  for (let index = 0; index < 10; index++) {
    const code = line.charCodeAt(start + index);
    if (index === 4 || index === 7 ? code !== CharCode.DASH : !isDigit(code)) return false;
  }
  return true;
}

function isDigit(code: number): boolean {
  return code >= CharCode.ZERO && code <= CharCode.NINE;
}

function isAsciiLetter(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/** Exactly what a regular expression's `\s` matches: ASCII whitespace, the Unicode spaces and line breaks, and U+FEFF. */
function isWhitespace(code: number): boolean {
  if (code <= CharCode.SPACE) return code === CharCode.SPACE || (code >= CharCode.TAB && code <= CharCode.CR);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === BYTE_ORDER_MARK
  );
}

// Facility and severity members, written once per code rather than once per line.
const FACILITY_MEMBERS = SYSLOG_FACILITY_NAMES.map((name, code) => facilityMembers(name, code));
const SEVERITY_MEMBERS = SYSLOG_SEVERITY_NAMES.map((name, code) => severityMembers(name, code));

function facilityMembers(name: string, code: number): string {
  return `"facility":${quoteJson(name)},"facility_code":${jsonNumber(code)}`;
}

function severityMembers(name: string, code: number): string {
  return `"severity":${quoteJson(name)},"severity_code":${jsonNumber(code)}`;
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** Whether PROCID is a process id: one to fifteen digits, so that it is exact as a number. */
function isNumericProcId(procId: string): boolean {
  if (procId.length === 0 || procId.length > MAX_NUMERIC_PID_DIGITS) return false;
  for (let index = 0; index < procId.length; index++) if (!isDigit(procId.charCodeAt(index))) return false;
  return true;
}

/**
 * A message's parts as document fields, JSON members without braces: `facility` and `severity` as
 * names (what people filter on: `severity:err`) with `facility_code` and `severity_code` as numbers
 * (for ranges: `severity_code <= 3` is "error or worse"), then `version`, `hostname`, `app_name`,
 * `pid` (a number) or `procid` (when PROCID is not a number, so `pid` keeps one type), `msgid`,
 * `structured_data` (an object) and, unless `withMessage` is false, `message`. The timestamp is the
 * caller's to write.
 */
export function syslogFieldsJson(message: SyslogMessage, withMessage = true): string {
  const { facility, severity, procId } = message;
  let text = '';
  if (facility !== undefined)
    text =
      FACILITY_MEMBERS[facility] ??
      facilityMembers(SYSLOG_FACILITY_NAMES[facility] ?? String(facility), facility);
  if (severity !== undefined) {
    const members =
      SEVERITY_MEMBERS[severity] ??
      severityMembers(SYSLOG_SEVERITY_NAMES[severity] ?? String(severity), severity);
    text = text === '' ? members : `${text},${members}`;
  }
  if (message.version !== undefined) text = member(text, '"version":', jsonNumber(message.version));
  if (message.hostname !== undefined) text = member(text, '"hostname":', quoteJson(message.hostname));
  if (message.appName !== undefined) text = member(text, '"app_name":', quoteJson(message.appName));
  if (procId !== undefined)
    text = isNumericProcId(procId)
      ? member(text, '"pid":', String(Number(procId)))
      : member(text, '"procid":', quoteJson(procId));
  if (message.msgId !== undefined) text = member(text, '"msgid":', quoteJson(message.msgId));
  if (message.structuredData !== undefined)
    text = member(text, '"structured_data":', JSON.stringify(message.structuredData));
  return withMessage ? member(text, '"message":', quoteJson(message.message)) : text;
}

function member(text: string, prefix: string, json: string): string {
  return text === '' ? `${prefix}${json}` : `${text},${prefix}${json}`;
}

/** Writes {@link syslogFieldsJson} (with the message) into `fields`. */
export function writeSyslogFields(message: SyslogMessage, fields: JsonFields): JsonFields {
  return fields.members(syslogFieldsJson(message));
}
