/**
 * What the processor takes from a syslog line: its JSON fields for `OUTPUT_FORMAT=json`, and the
 * host and time that partition Direct PUT records. The parsing itself is the core's shared syslog
 * parser; this module only adapts its result.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { parseSyslogLineInto, SyslogParts, syslogFieldsJson } from '../core/syslog';

// The common headers, as the payload scanner's Latin-1 text holds them, with the closing quote of
// the message's JSON token as a possible end. Each part is printable ASCII without `"` or `\`
// (so no escape can hide in the header); RFC 3164 names exclude `:`, `[` and `]`, a BSD day is
// at most 28 and an RFC 5424 time canonical UTC with day at most 28, so that the time is valid in
// every year the parser might infer; anything else is left to the parser.
const BSD_HEADER =
  /<([0-9]{1,3})>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: [1-9]|1[0-9]|2[0-8]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] ([!#-9;-Z^-~]+) ([!#-9;-Z^-~]{1,64})(?:\[([0-9]{1,15})\])?:/y;
const RFC5424_HEADER =
  /<([0-9]{1,3})>1 (?:-|[12][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z) ([!#-[\]-~]+) ([!#-[\]-~]+) ([!#-[\]-~]+) ([!#-[\]-~]+) -(?=[ "])/y;
const MAX_PRI = 191;
const LESS_THAN = 0x3c;
const BACKSLASH = 0x5c;
// Reference times whose inferred years (up to eight back, one on) all have four digits.
const EARLIEST_REFERENCE = Date.UTC(1980, 0, 1);
const LATEST_REFERENCE = Date.UTC(9990, 0, 1);

/** A syslog line as the processor uses it. */
export interface SyslogLine {
  /** The syslog header fields (`hostname`, `app_name`, `pid`, `severity`, ...) as JSON members without braces. */
  readonly fields: string;
  /** The HOSTNAME field; absent when the line has none (RFC 5424 NILVALUE). */
  readonly hostname?: string;
  /** The line's own time in epoch milliseconds; absent when it has none. */
  readonly timeMillis?: number;
}

// One set of parts serves every line: parsing allocates nothing per line but the parts' strings.
const parts = new SyslogParts();

/**
 * The syslog header fields of a line, for the JSON output of a CloudWatch Logs event. MSG is left
 * out: the processor's `message` already holds the whole line, so repeating its tail would only
 * make the output larger.
 *
 * @param referenceTimeMillis when the line was logged: RFC 3164 infers its missing year from it.
 * @returns JSON members without braces, or '' when the line is not syslog.
 */
export function syslogFieldsOf(line: string, referenceTimeMillis: number): string {
  return parseSyslogLineInto(line, referenceTimeMillis, parts) === undefined
    ? syslogFieldsJson(parts, false)
    : '';
}

/**
 * {@link syslogFieldsOf} for a message the payload scanner found, read from the payload's Latin-1
 * text without decoding the message: the common RFC 3164 and RFC 5424 headers are matched by one
 * regular expression each, a message that cannot start a syslog header gets no fields at once.
 *
 * @param text the payload as Latin-1 text; `start` is the message's first character (after the
 *   opening quote of its JSON token).
 * @returns the fields, or undefined when only the parser can tell (the caller then decodes the
 *   message and asks {@link syslogFieldsOf}).
 */
export function syslogFieldsAt(text: string, start: number, referenceTimeMillis: number): string | undefined {
  const first = text.charCodeAt(start);
  if (first !== LESS_THAN) {
    // Without a PRI a syslog line starts with its timestamp: a month's letter or a year's digit.
    // An escape may stand for either, so only the parser can tell.
    const lower = first | 0x20;
    const mayStartHeader =
      (lower >= 0x61 && lower <= 0x7a) || (first >= 0x30 && first <= 0x39) || first === BACKSLASH;
    return mayStartHeader ? undefined : '';
  }
  if (!(referenceTimeMillis >= EARLIEST_REFERENCE && referenceTimeMillis < LATEST_REFERENCE))
    return undefined;
  BSD_HEADER.lastIndex = start;
  const bsd = BSD_HEADER.exec(text);
  if (bsd !== null) {
    const priority = Number(bsd[1]);
    if (priority > MAX_PRI) return undefined;
    return syslogFieldsJson(
      {
        protocol: 'rfc3164',
        facility: priority >> 3,
        severity: priority & 7,
        hostname: bsd[2],
        appName: bsd[3],
        procId: bsd[4],
        message: '',
      },
      false,
    );
  }
  RFC5424_HEADER.lastIndex = start;
  const header = RFC5424_HEADER.exec(text);
  if (header === null) return undefined;
  const priority = Number(header[1]);
  if (priority > MAX_PRI) return undefined;
  return syslogFieldsJson(
    {
      protocol: 'rfc5424',
      facility: priority >> 3,
      severity: priority & 7,
      version: 1,
      hostname: nonNil(header[2]),
      appName: nonNil(header[3]),
      procId: nonNil(header[4]),
      msgId: nonNil(header[5]),
      message: '',
    },
    false,
  );
}

/** An RFC 5424 header word, or undefined for the nil value. */
function nonNil(word: string | undefined): string | undefined {
  return word === '-' ? undefined : word;
}

/**
 * Reads one line of a Direct PUT record as syslog (RFC 5424 or RFC 3164), with the core's shared
 * parser: its host and time partition it.
 *
 * @param referenceTimeMillis when the line was received: RFC 3164 infers its missing year from it.
 * @param withFields whether to write `fields` (only JSON output needs them); when false they are empty.
 * @returns the line's syslog fields, or undefined when the line is not syslog.
 */
export function readSyslogLine(
  line: string,
  referenceTimeMillis: number,
  withFields: boolean,
): SyslogLine | undefined {
  if (parseSyslogLineInto(line, referenceTimeMillis, parts) !== undefined) return undefined;
  const timeMillis = parts.timestamp === undefined ? undefined : Date.parse(parts.timestamp);
  return {
    fields: withFields ? syslogFieldsJson(parts, false) : '',
    ...(parts.hostname === undefined ? {} : { hostname: parts.hostname }),
    ...(timeMillis === undefined || Number.isNaN(timeMillis) ? {} : { timeMillis }),
  };
}
