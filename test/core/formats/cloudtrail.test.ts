import { cloudtrailFormat } from '../../../lambdas/core/formats/cloudtrail';
import { toCorpusTimestamp } from '../../support/conformance';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
} from './format-harness';

describe('cloudtrail conformance corpus', () => {
  itHoldsEveryConformanceRow('cloudtrail', cloudtrailFormat, {
    timestamp: (document) => toCorpusTimestamp(document.timestamp ?? ''),
    client_ip: (document) => document.fields.sourceIPAddress,
    user_agent: (document) => document.fields.userAgent,
    event_name: (document) => document.fields.eventName,
    event_id: (document) => {
      expect(document.naturalId).toBe(document.fields.eventID);
      return document.naturalId;
    },
  });
});

describe('cloudtrail records', () => {
  it('keeps free-form subtrees verbatim, eventTime as @timestamp and eventID as the id', () => {
    // Prepare
    const record = {
      eventVersion: '1.09',
      eventTime: '2024-03-01T10:20:30Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      eventID: 'a1b2c3d4-0000-1111-2222-333344445555',
      requestParameters: {
        bucketName: 'b',
        key: 'k',
        'x-amz-acl': ['private'],
        nested: { deep: [1, { two: 2 }] },
      },
      responseElements: null,
      additionalEventData: { bytesTransferredIn: 42.5 },
    };

    // Act
    const document = documentOf(parseOne(cloudtrailFormat, JSON.stringify(record)));

    // Assess
    expect(document).toEqual({
      timestamp: '2024-03-01T10:20:30Z',
      naturalId: 'a1b2c3d4-0000-1111-2222-333344445555',
      fields: record,
    });
  });

  it('skips a digest record', () => {
    const digest = {
      awsAccountId: '123456789012',
      digestStartTime: '2024-03-01T10:00:00Z',
      digestEndTime: '2024-03-01T11:00:00Z',
      logFiles: [],
    };

    expect(parseOne(cloudtrailFormat, JSON.stringify(digest))).toEqual({ kind: 'skip' });
  });

  it('reports a Records envelope that reached the parser whole', () => {
    expect(errorReasonOf(parseOne(cloudtrailFormat, '{"Records":[{"eventID":"x"}]}'))).toContain('envelope');
  });

  it('keeps a record without a valid eventTime, for the core to stamp', () => {
    const document = documentOf(parseOne(cloudtrailFormat, '{"eventTime":"soon","eventName":"X"}'));

    expect(document.timestamp).toBeUndefined();
    expect(document.naturalId).toBeUndefined();
  });
});

describe('cloudtrail detection', () => {
  itMatchesKeys(cloudtrailFormat, {
    claimed: [
      'AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/123456789012_CloudTrail_us-east-1_20240301T1020Z_abc.json.gz',
      'trail-prefix/AWSLogs/o-exampleorgid/123456789012/CloudTrail/eu-west-1/2024/03/01/x.json.gz',
      'AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2024/03/01/x.json.gz',
      'AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/03/01/x.json.gz',
    ],
    left: ['AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/01/x.log.gz'],
  });

  it('ignores digest files only', () => {
    expect(
      cloudtrailFormat.isIgnoredKey?.(
        'AWSLogs/o-exampleorgid/123456789012/CloudTrail-Digest/us-east-1/2024/03/01/x',
      ),
    ).toBe(true);
    expect(
      cloudtrailFormat.isIgnoredKey?.('AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/x.json.gz'),
    ).toBe(false);
  });

  itMatchesContent(cloudtrailFormat, {
    claimed: [
      '{"Records":[{"eventVersion":"1.08"',
      '{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z"}',
    ],
    left: ['{"timestamp":1,"webaclId":"arn:x","httpRequest":{}}'],
  });
});
