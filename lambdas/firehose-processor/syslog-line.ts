/**
 * What the processor takes from a syslog line: its JSON fields for `OUTPUT_FORMAT=json`, and the
 * host and time that partition Direct PUT records. The parsing itself is the core's shared syslog
 * parser; this module only adapts its result.
 */

/** A syslog line as the processor uses it. */
export interface SyslogLine {
  /** The syslog fields (`hostname`, `app_name`, `pid`, `severity`, ...) as JSON members without braces. */
  readonly fields: string;
  /** The HOSTNAME field; absent when the line has none (RFC 5424 NILVALUE). */
  readonly hostname?: string;
  /** The line's own time in epoch milliseconds; absent when it has none. */
  readonly timeMillis?: number;
}

/**
 * Reads one line as syslog (RFC 5424 or RFC 3164).
 *
 * @param referenceTimeMillis when the line was received: RFC 3164 infers its missing year from it.
 * @returns the line's syslog fields, or undefined when the line is not syslog.
 */
export function readSyslogLine(_line: string, _referenceTimeMillis: number): SyslogLine | undefined {
  // PLACEHOLDER until the core's shared parser (lambdas/core/syslog.ts) lands: no line is syslog.
  return undefined;
}
