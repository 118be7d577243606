import {
  CONTINUATION_TYPE,
  continuationMessage,
  parseMessageBody,
  UnrecognisedMessageError,
} from '../../lambdas/indexer/messages';
import { decodeNotificationKey } from '../../lambdas/shared/s3-notifications';

function s3Record(
  eventName: string,
  key: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName,
    // IPv6 sources are real; a strict schema would send these messages to the DLQ.
    requestParameters: { sourceIPAddress: '2001:db8::1' },
    s3: { bucket: { name: 'logs' }, object: { key, size: 42, eTag: '"abc123"', ...extra } },
  };
}

describe('parseMessageBody', () => {
  it('reads S3 event notifications and decodes keys as S3 encodes them', () => {
    // Prepare
    const body = JSON.stringify({
      Records: [s3Record('ObjectCreated:Put', 'AWSLogs/a+b%2Bc/%C3%A9t%C3%A9.log.gz')],
    });

    // Act
    const content = parseMessageBody(body);

    // Assess
    expect(content).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'logs', key: 'AWSLogs/a b+c/été.log.gz', size: 42, etag: 'abc123' }],
      ignored: [],
    });
  });

  it('unwraps SNS notifications', () => {
    const inner = {
      Records: [s3Record('ObjectCreated:CompleteMultipartUpload', 'k.gz', { versionId: 'v1' })],
    };
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'm', Message: JSON.stringify(inner) });

    expect(parseMessageBody(body)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'logs', key: 'k.gz', size: 42, etag: 'abc123', versionId: 'v1' }],
      ignored: [],
    });
  });

  it('reads EventBridge Object Created events and ignores other detail types', () => {
    const event = (detailType: string) =>
      JSON.stringify({
        version: '0',
        source: 'aws.s3',
        'detail-type': detailType,
        detail: {
          bucket: { name: 'logs' },
          object: { key: 'a b.log', size: 5, etag: 'e1', 'version-id': 'v9' },
        },
      });

    expect(parseMessageBody(event('Object Created'))).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'logs', key: 'a b.log', size: 5, etag: 'e1', versionId: 'v9' }],
      ignored: [],
    });
    expect(parseMessageBody(event('Object Deleted'))).toEqual({
      kind: 'ignored',
      reason: 'EventBridge Object Deleted event',
    });
  });

  it("reads CloudTrail's own SNS notification, every key of it", () => {
    const message = JSON.stringify({
      s3Bucket: 'trail',
      s3ObjectKey: ['AWSLogs/1/CloudTrail/a.json.gz', 'AWSLogs/1/CloudTrail/b.json.gz'],
    });
    const body = JSON.stringify({ Type: 'Notification', Message: message });

    expect(parseMessageBody(body)).toEqual({
      kind: 'objects',
      objects: [
        { bucket: 'trail', key: 'AWSLogs/1/CloudTrail/a.json.gz' },
        { bucket: 'trail', key: 'AWSLogs/1/CloudTrail/b.json.gz' },
      ],
      ignored: [],
    });
  });

  it('acknowledges s3:TestEvent and non-ObjectCreated events as ignored', () => {
    const test = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Bucket: 'logs',
      RequestId: 'r',
    });
    const removed = JSON.stringify({ Records: [s3Record('ObjectRemoved:Delete', 'gone.log')] });

    expect(parseMessageBody(test)).toEqual({ kind: 'ignored', reason: 's3:TestEvent for bucket logs' });
    expect(parseMessageBody(removed)).toEqual({
      kind: 'ignored',
      reason: 'ObjectRemoved:Delete s3://logs/gone.log',
    });
  });

  it('keeps the ObjectCreated records of a mixed notification and names the others', () => {
    const body = JSON.stringify({
      Records: [s3Record('ObjectRemoved:Delete', 'x'), s3Record('ObjectCreated:Copy', 'y')],
    });

    expect(parseMessageBody(body)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'logs', key: 'y', size: 42, etag: 'abc123' }],
      ignored: ['ObjectRemoved:Delete s3://logs/x'],
    });
  });

  it('round-trips its own continuation message', () => {
    const body = continuationMessage({
      bucket: 'b',
      key: 'big.log',
      etag: 'e',
      startRecord: 1001,
      startByte: 52_000,
    });

    expect(JSON.parse(body).type).toBe(CONTINUATION_TYPE);
    expect(parseMessageBody(body)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'b', key: 'big.log', etag: 'e', startRecord: 1001, startByte: 52_000 }],
      ignored: [],
    });
  });

  it.each([
    ['not JSON', 'hello'],
    ['JSON of another shape', JSON.stringify({ hello: 'world' })],
    [
      'a record without a bucket',
      JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'k' } } }] }),
    ],
    ['SNS with a non-JSON message', JSON.stringify({ Type: 'Notification', Message: 'plain text' })],
    [
      'SNS wrapped twice',
      JSON.stringify({
        Type: 'Notification',
        Message: JSON.stringify({ Type: 'Notification', Message: '{}' }),
      }),
    ],
  ])('rejects %s so that the message reaches the DLQ', (_name, body) => {
    expect(() => parseMessageBody(body)).toThrow(UnrecognisedMessageError);
  });
});

describe('decodeNotificationKey', () => {
  it('turns + into a space, %2B into +, and keeps a malformed escape as text', () => {
    expect(decodeNotificationKey('a+b%2Bc')).toBe('a b+c');
    expect(decodeNotificationKey('100%+done')).toBe('100% done');
  });
});
