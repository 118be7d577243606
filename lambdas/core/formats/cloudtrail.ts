/**
 * AWS CloudTrail: each record of a `{"Records":[...]}` log file (the `json-records` framing cuts
 * the file into records) kept as it is, free-form subtrees such as `requestParameters` included;
 * reserved names are renamed (see {@link jsonObjectFields}). `@timestamp` is `eventTime` and the
 * document id is `eventID`, so a record delivered twice (an organization trail and an account
 * trail) is one document. Digest files hold no events and are skipped. Insights events
 * (`eventType: AwsCloudTrailInsight`) are events like any other.
 *
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
 */
import { jsonObjectFields } from '../json';
import { toIsoUtc } from '../time';
import type { LogFormat, RecordParser, RecordResult } from '../types';
import { ownMember, parseJsonObjectRecord } from './json-lines';

function createCloudTrailParser(): RecordParser {
  return {
    parse(record: string): RecordResult {
      const object = parseJsonObjectRecord(record);
      if (object instanceof Error) return { kind: 'error', reason: object.message };
      if (ownMember(object, 'digestStartTime') !== undefined) return { kind: 'skip' };
      if (Array.isArray(ownMember(object, 'Records')))
        return { kind: 'error', reason: 'a whole {"Records":[...]} envelope arrived as one record' };
      const eventTime = ownMember(object, 'eventTime');
      const eventId = ownMember(object, 'eventID');
      const timestamp = typeof eventTime === 'string' ? toIsoUtc(eventTime) : undefined;
      return {
        kind: 'event',
        ...(timestamp === undefined ? {} : { timestamp }),
        ...(typeof eventId === 'string' && eventId !== '' ? { naturalId: eventId } : {}),
        fields: jsonObjectFields(object),
      };
    },
  };
}

// AWSLogs/<account>/CloudTrail/<region>/..., organization trails AWSLogs/<org-id>/<account>/...;
// Insights events go to CloudTrail-Insight/, digests to CloudTrail-Digest/.
const CLOUDTRAIL_KEY = /(?:^|\/)AWSLogs\/(?:[^/]+\/)?[^/]+\/CloudTrail(?:-Insight|-Digest)?\//;
const DIGEST_KEY = /(?:^|\/)AWSLogs\/(?:[^/]+\/)?[^/]+\/CloudTrail-Digest\//;
const RECORDS_ENVELOPE = /^\s*\{\s*"Records"\s*:\s*\[/;

/** AWS CloudTrail log files (management, data and Insights events). */
export const cloudtrailFormat: LogFormat = {
  name: 'cloudtrail',
  framing: 'json-records',
  matchesKey: (key) => CLOUDTRAIL_KEY.test(key),
  matchesContent: (firstLine) =>
    RECORDS_ENVELOPE.test(firstLine) ||
    (firstLine.trimStart().startsWith('{') &&
      ((firstLine.includes('"eventVersion"') && firstLine.includes('"eventTime"')) ||
        firstLine.includes('"digestStartTime"'))),
  isIgnoredKey: (key) => DIGEST_KEY.test(key),
  createParser: createCloudTrailParser,
};
