/**
 * The text the processor delivers for a group of events: `raw` (each message, newline-terminated,
 * as the AWS blueprint writes it) or `json` (one JSON object per line). Strings are built once and
 * encoded to base64 once per output record by the caller.
 */
import { quoteJson } from '../core/json';
import type { OutputFormat } from './config';
import type { IsoTimeFormatter } from './iso-time';
import type { CloudWatchLogEvent, CloudWatchLogsData } from './record-data';
import { syslogFieldsOf } from './syslog-line';

/** One line of a Direct PUT syslog record, with the host and time that partition it. */
export interface DirectLine {
  readonly text: string;
  /** Epoch milliseconds: the line's own time, or the time of the syslog line it continues, or the arrival time. */
  readonly timeMillis: number;
  /** The syslog host, or `-` when the line has none. */
  readonly hostname: string;
  /** The syslog fields as JSON members; empty for a continuation line. */
  readonly fields: string;
}

/** Writes the output text of CloudWatch Logs events, all from `payload`'s log group and stream. */
export function cloudWatchOutputText(
  events: readonly CloudWatchLogEvent[],
  payload: CloudWatchLogsData,
  format: OutputFormat,
  iso: IsoTimeFormatter,
): string {
  if (format === 'raw') {
    // The hot loop of the default output: no call per event.
    let text = '';
    for (const event of events) text += `${event.message}\n`;
    return text;
  }
  const source = sourceMembers(payload.logGroup, payload.logStream);
  return linesOf(events, (event) => {
    const syslog = syslogFieldsOf(event.message, event.timestamp);
    return `${JSON_LINE.timestamp}${iso.format(event.timestamp)}${JSON_LINE.id}${quoteJson(event.id)}${source}${JSON_LINE.message}${quoteJson(event.message)}${syslog === '' ? '' : `,${syslog}`}}`;
  });
}

/**
 * The text around the values of a CloudWatch Logs event's JSON line, which the JSON kernel
 * (`kernels.ts`) writes as bytes: `{"timestamp":"…","id":…,"logGroup":…,"logStream":…,"message":…,…syslog}`.
 */
export const JSON_LINE = {
  timestamp: '{"timestamp":"',
  id: '","id":',
  message: ',"message":',
} as const;

/** The members every event of one log stream shares: `,"logGroup":…,"logStream":…`. */
export function sourceMembers(logGroup: string, logStream: string): string {
  return `,"logGroup":${quoteJson(logGroup)},"logStream":${quoteJson(logStream)}`;
}

/** The `logGroup` of Direct PUT syslog records, which have none of their own. */
export const DIRECT_LOG_GROUP = 'direct';

/** Writes the output text of Direct PUT syslog lines. */
export function directOutputText(
  lines: readonly DirectLine[],
  format: OutputFormat,
  iso: IsoTimeFormatter,
): string {
  if (format === 'raw') return linesOf(lines, (line) => line.text);
  return linesOf(
    lines,
    (line) =>
      `{"timestamp":"${iso.format(line.timeMillis)}","logGroup":"${DIRECT_LOG_GROUP}","logStream":${quoteJson(line.hostname)},"message":${quoteJson(line.text)}${line.fields === '' ? '' : `,${line.fields}`}}`,
  );
}

/** Each item's line, newline-terminated, in one string (built once, encoded once by the caller). */
function linesOf<T>(items: readonly T[], lineOf: (item: T) => string): string {
  let text = '';
  for (const item of items) text += `${lineOf(item)}\n`;
  return text;
}
