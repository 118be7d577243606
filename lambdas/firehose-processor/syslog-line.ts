/**
 * What the processor takes from a syslog line: its JSON fields for `OUTPUT_FORMAT=json`, and the
 * host and time that partition Direct PUT records. The parsing itself is the core's shared syslog
 * parser; this module only adapts its result.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { JsonFields } from '../core/json';
import { parseSyslogLine, writeSyslogFields } from '../core/syslog';

/** A syslog line as the processor uses it. */
export interface SyslogLine {
  /** The syslog header fields (`hostname`, `app_name`, `pid`, `severity`, ...) as JSON members without braces. */
  readonly fields: string;
  /** The HOSTNAME field; absent when the line has none (RFC 5424 NILVALUE). */
  readonly hostname?: string;
  /** The line's own time in epoch milliseconds; absent when it has none. */
  readonly timeMillis?: number;
}

/**
 * The syslog fields of a line, except MSG: the processor's `message` already holds the whole line,
 * so repeating its tail would only make the output larger.
 */
class HeaderFields extends JsonFields {
  override string(name: string, value: string): this {
    return name === 'message' ? this : super.string(name, value);
  }
}

/**
 * The syslog header fields of a line, for the JSON output of a CloudWatch Logs event.
 *
 * @param referenceTimeMillis when the line was logged: RFC 3164 infers its missing year from it.
 * @returns JSON members without braces, or '' when the line is not syslog.
 */
export function syslogFieldsOf(line: string, referenceTimeMillis: number): string {
  const message = parseSyslogLine(line, referenceTimeMillis);
  return message instanceof Error ? '' : writeSyslogFields(message, new HeaderFields()).toString();
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
  const message = parseSyslogLine(line, referenceTimeMillis);
  if (message instanceof Error) return undefined;
  const timeMillis = message.timestamp === undefined ? undefined : Date.parse(message.timestamp);
  return {
    fields: withFields ? writeSyslogFields(message, new HeaderFields()).toString() : '',
    ...(message.hostname === undefined ? {} : { hostname: message.hostname }),
    ...(timeMillis === undefined || Number.isNaN(timeMillis) ? {} : { timeMillis }),
  };
}
