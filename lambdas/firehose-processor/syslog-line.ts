/**
 * What the processor takes from a syslog line: its JSON fields for `OUTPUT_FORMAT=json`, and the
 * host and time that partition Direct PUT records. The parsing itself is the core's shared syslog
 * parser; this module only adapts its result.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { parseSyslogLineInto, SyslogParts, syslogFieldsJson } from '../core/syslog';

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
