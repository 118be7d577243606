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
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { type JsonFields, setOwn } from './json';
import { monthFromName, toIsoUtc, utcMillisInferringYear } from './time';

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

const PRI = /^<(\d{1,3})>/;
const RFC5424_START = /^([1-9]\d{0,2}) (?:-|\d{4}-\d{2}-\d{2}T\S*)(?: |$)/;
const BSD_TIMESTAMP = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?= |$)/;
const RFC3339_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\S+(?= |$)/;
// A first word that is a TAG ("haproxy[73411]:"), not a HOSTNAME: the sender left the hostname out.
const TAG_INSTEAD_OF_HOSTNAME = /[^\s:[\]]+(?:\[[^\]\s]*\])?:(?= |$)/y;
const MAX_TAG_LENGTH = 128;
const MAX_PID_LENGTH = 32;
const BYTE_ORDER_MARK = '\uFEFF';

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
  const pri = PRI.exec(line);
  let priority: { facility: number; severity: number } | undefined;
  if (pri !== null) {
    const value = Number(pri[1]);
    if (value > 191) return new Error(`syslog PRI <${value}> is out of range (0-191)`);
    priority = { facility: value >> 3, severity: value & 7 };
  }
  const rest = pri === null ? line : line.slice(pri[0].length);
  const rfc5424 = RFC5424_START.exec(rest);
  if (rfc5424 !== null) return parseRfc5424(rest, Number(rfc5424[1]), priority);
  return parseRfc3164(rest, priority, referenceTimeMillis);
}

function parseRfc5424(
  text: string,
  version: number,
  priority: { facility: number; severity: number } | undefined,
): SyslogMessage | Error {
  const cursor = new Cursor(text);
  cursor.word(); // VERSION, already read
  const [time, hostname, appName, procId, msgId] = [
    cursor.word(),
    cursor.word(),
    cursor.word(),
    cursor.word(),
    cursor.word(),
  ];
  if (msgId === undefined) return new Error('RFC 5424 header ends before MSGID');
  let timestamp: string | undefined;
  if (time !== '-') {
    timestamp = toIsoUtc((time ?? '').toUpperCase());
    if (timestamp === undefined) return new Error(`invalid RFC 5424 timestamp: ${time}`);
  }
  const afterHeader = cursor.rest();
  let structuredData: StructuredData | undefined;
  let message = afterHeader;
  if (afterHeader === '-' || afterHeader.startsWith('- ')) {
    message = afterHeader.slice(2);
  } else if (afterHeader.startsWith('[')) {
    // Unterminated structured data is not structured data: the text stays whole in the message.
    const parsed = parseStructuredData(afterHeader);
    if (parsed !== undefined) {
      structuredData = parsed.data;
      message = afterHeader.slice(afterHeader.charAt(parsed.end) === ' ' ? parsed.end + 1 : parsed.end);
    }
  }
  return {
    protocol: 'rfc5424',
    ...priority,
    version,
    ...(timestamp === undefined ? {} : { timestamp }),
    hostname: nonNil(hostname),
    appName: nonNil(appName),
    procId: nonNil(procId),
    msgId: nonNil(msgId),
    ...(structuredData === undefined ? {} : { structuredData }),
    message: withoutByteOrderMark(message),
  };
}

function parseRfc3164(
  text: string,
  priority: { facility: number; severity: number } | undefined,
  referenceTimeMillis: number,
): SyslogMessage | Error {
  const header = readRfc3164Timestamp(text, referenceTimeMillis);
  if (header === undefined) {
    if (priority === undefined)
      return new Error('not a syslog line: no <PRI> and no timestamp where the header starts');
    return { protocol: 'rfc3164', ...priority, message: withoutByteOrderMark(text) };
  }
  let position = header.length;
  while (text.charAt(position) === ' ') position += 1;
  let hostname: string | undefined;
  TAG_INSTEAD_OF_HOSTNAME.lastIndex = position;
  if (!TAG_INSTEAD_OF_HOSTNAME.test(text)) {
    const end = indexOrLength(text, ' ', position);
    if (end > position) hostname = text.slice(position, end);
    // The TAG follows the hostname after exactly one space; two spaces mean there is no TAG.
    position = text.charAt(end) === ' ' && text.charAt(end + 1) !== ' ' ? end + 1 : end;
  }
  const tag = readTag(text, position);
  if (tag !== undefined) position = tag.end;
  while (text.charAt(position) === ' ') position += 1;
  return {
    protocol: 'rfc3164',
    ...priority,
    timestamp: header.timestamp,
    ...(hostname === undefined ? {} : { hostname }),
    ...(tag === undefined ? {} : { appName: tag.appName }),
    ...(tag?.procId === undefined ? {} : { procId: tag.procId }),
    message: withoutByteOrderMark(text.slice(position)),
  };
}

function readRfc3164Timestamp(
  text: string,
  referenceTimeMillis: number,
): { readonly timestamp: string; readonly length: number } | undefined {
  const bsd = BSD_TIMESTAMP.exec(text);
  if (bsd !== null) {
    const month = monthFromName(bsd[1] ?? '');
    if (month === undefined) return undefined;
    const millis = utcMillisInferringYear(
      {
        month,
        day: Number(bsd[2]),
        hour: Number(bsd[3]),
        minute: Number(bsd[4]),
        second: Number(bsd[5]),
        millisecond: Number((bsd[6] ?? '').padEnd(3, '0').slice(0, 3)),
      },
      referenceTimeMillis,
    );
    return millis === undefined
      ? undefined
      : { timestamp: new Date(millis).toISOString(), length: bsd[0].length };
  }
  // rsyslog's high-precision template puts an RFC 3339 time where the BSD one goes.
  const rfc3339 = RFC3339_TIMESTAMP.exec(text);
  const timestamp = rfc3339 === null ? undefined : toIsoUtc(rfc3339[0].toUpperCase());
  return rfc3339 === null || timestamp === undefined ? undefined : { timestamp, length: rfc3339[0].length };
}

/**
 * Reads an RFC 3164 TAG at `start`: a program name ended by a space, `[`, or `:`, an optional
 * `[pid]`, and an optional colon. Without a colon the name still counts as a TAG when a space
 * follows it (`apache_error [Tue Jun 08 ...]`), as relays and the peers read it.
 */
function readTag(
  text: string,
  start: number,
): { readonly appName: string; readonly procId?: string; readonly end: number } | undefined {
  let position = start;
  const limit = Math.min(text.length, start + MAX_TAG_LENGTH);
  while (position < limit && !' :['.includes(text.charAt(position))) position += 1;
  if (position === start) return undefined;
  const appName = text.slice(start, position);
  let procId: string | undefined;
  if (text.charAt(position) === '[') {
    const close = text.indexOf(']', position);
    const inside = close < 0 ? '' : text.slice(position + 1, close);
    if (close < 0 || inside.length > MAX_PID_LENGTH || inside.includes(' ')) return undefined;
    procId = inside;
    position = close + 1;
  }
  if (text.charAt(position) === ':') return { appName, procId, end: position + 1 };
  return position === text.length || text.charAt(position) === ' '
    ? { appName, procId, end: position }
    : undefined;
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
  const data: StructuredData = Object.create(null);
  let position = 0;
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

/** Reads space-separated words, RFC 5424 header fields. */
class Cursor {
  private position = 0;

  constructor(private readonly text: string) {}

  /** The next word, or undefined at the end of the text. */
  word(): string | undefined {
    if (this.position >= this.text.length) return undefined;
    const end = indexOrLength(this.text, ' ', this.position);
    const word = this.text.slice(this.position, end);
    this.position = end + 1;
    return word;
  }

  /** The text after the words read so far. */
  rest(): string {
    return this.position >= this.text.length ? '' : this.text.slice(this.position);
  }
}

function indexOrLength(text: string, char: string, from: number): number {
  const index = text.indexOf(char, from);
  return index < 0 ? text.length : index;
}

function indexOfAny(text: string, chars: string, from: number): number {
  for (let position = from; position < text.length; position += 1) {
    if (chars.includes(text.charAt(position))) return position;
  }
  return -1;
}

function nonNil(value: string | undefined): string | undefined {
  return value === '-' || value === '' ? undefined : value;
}

function withoutByteOrderMark(message: string): string {
  return message.startsWith(BYTE_ORDER_MARK) ? message.slice(1) : message;
}

/**
 * Writes a message's parts as document fields: `facility` and `severity` as names (what people
 * filter on: `severity:err`) with `facility_code` and `severity_code` as numbers (for ranges:
 * `severity_code <= 3` is "error or worse"), then `version`, `hostname`, `app_name`, `pid` (a
 * number) or `procid` (when PROCID is not a number, so `pid` keeps one type), `msgid`,
 * `structured_data` (an object) and `message`. The timestamp is the caller's to write.
 */
export function writeSyslogFields(message: SyslogMessage, fields: JsonFields): JsonFields {
  if (message.facility !== undefined)
    fields
      .string('facility', SYSLOG_FACILITY_NAMES[message.facility] ?? String(message.facility))
      .number('facility_code', message.facility);
  if (message.severity !== undefined)
    fields
      .string('severity', SYSLOG_SEVERITY_NAMES[message.severity] ?? String(message.severity))
      .number('severity_code', message.severity);
  if (message.version !== undefined) fields.number('version', message.version);
  if (message.hostname !== undefined) fields.string('hostname', message.hostname);
  if (message.appName !== undefined) fields.string('app_name', message.appName);
  if (message.procId !== undefined) {
    if (/^\d{1,15}$/.test(message.procId)) fields.number('pid', Number(message.procId));
    else fields.string('procid', message.procId);
  }
  if (message.msgId !== undefined) fields.string('msgid', message.msgId);
  if (message.structuredData !== undefined) fields.value('structured_data', message.structuredData);
  return fields.string('message', message.message);
}
