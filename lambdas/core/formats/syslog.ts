/**
 * Syslog files (RFC 5424 and RFC 3164, one message per line), as rsyslog or syslog-ng write them
 * to disk or a relay ships them to S3. The line parsing lives in `../syslog`, shared with the
 * Firehose processor; this module adapts it to the {@link LogFormat} interface.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5424
 * @see https://datatracker.ietf.org/doc/html/rfc3164
 */
import { JsonFields } from '../json';
import { parseSyslogLine, writeSyslogFields } from '../syslog';
import type { LogFormat, ParserContext, RecordParser, RecordResult } from '../types';

function createSyslogParser(context: ParserContext): RecordParser {
  // RFC 3164 lines have no year: it comes from when the object was written. Only an object of
  // unknown age (a stream, a file without mtime) falls back to the present.
  const referenceTimeMillis = context.object.lastModified ?? Date.now();
  return {
    parse(record: string): RecordResult {
      const message = parseSyslogLine(record, referenceTimeMillis);
      if (message instanceof Error) return { kind: 'error', reason: message.message };
      return {
        kind: 'event',
        ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
        fields: writeSyslogFields(message, new JsonFields()).toString(),
      };
    },
  };
}

/** Syslog, RFC 5424 or RFC 3164: `hostname`, `app_name`, `pid`, `facility`, `severity`... */
export const syslogFormat: LogFormat = {
  name: 'syslog',
  framing: 'lines',
  // AWS writes no syslog of its own, so no key pattern identifies it.
  matchesKey: () => false,
  matchesContent: (firstLine) => !(parseSyslogLine(firstLine, Date.now()) instanceof Error),
  createParser: createSyslogParser,
};
