/**
 * AWS WAF logs: one JSON object per line, kept as it is (its reserved names renamed, see
 * {@link jsonObjectFields}). `@timestamp` is the record's `timestamp`, epoch milliseconds.
 *
 * @see https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html
 */
import { jsonObjectFields } from '../json';
import { isoFromEpochMillis } from '../time';
import type { LogFormat, RecordParser, RecordResult } from '../types';
import { ownMember, parseJsonObjectRecord } from './json-lines';

function createWafParser(): RecordParser {
  return {
    parse(record: string): RecordResult {
      const object = parseJsonObjectRecord(record);
      if (object instanceof Error) return { kind: 'error', reason: object.message };
      const millis = ownMember(object, 'timestamp');
      const timestamp = typeof millis === 'number' ? isoFromEpochMillis(millis) : undefined;
      return {
        kind: 'event',
        ...(timestamp === undefined ? {} : { timestamp }),
        fields: jsonObjectFields(object),
      };
    },
  };
}

// Firehose delivery requires a stream named aws-waf-logs-*, which names its objects; direct S3
// delivery writes AWSLogs/<account>/WAFLogs/<region>/<web-acl>/....
const WAF_KEY = /aws-waf-logs-|(?:^|\/)AWSLogs\/[^/]+\/WAFLogs\//;

/** AWS WAF (v2) web ACL traffic logs. */
export const wafFormat: LogFormat = {
  name: 'waf',
  framing: 'lines',
  matchesKey: (key) => WAF_KEY.test(key),
  matchesContent: (firstLine) =>
    firstLine.trimStart().startsWith('{') &&
    firstLine.includes('"webaclId"') &&
    firstLine.includes('"httpRequest"'),
  createParser: createWafParser,
};
