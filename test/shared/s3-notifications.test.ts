import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { parseMessageBody } from '../../lambdas/indexer/messages';
import {
  type AnnouncedObject,
  decodeNotificationKey,
  encodeNotificationKey,
  notificationBody,
  notificationFor,
} from '../../lambdas/shared/s3-notifications';

const object: AnnouncedObject = {
  bucket: 'my-logs',
  key: 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/file name+1.json.gz',
  size: 1234,
  etag: '"0123456789abcdef0123456789abcdef"',
  lastModified: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
};

describe('encodeNotificationKey', () => {
  it.each([
    // The example of the S3 documentation.
    ['red flower.jpg', 'red+flower.jpg'],
    // A literal plus must not read back as a space.
    ['a+b', 'a%2Bb'],
    // Hive-style partitions arrive as %3D (aws-sam-cli#379); slashes stay (minio#11665).
    ['data/dt=2024-01-01/part-0.gz', 'data/dt%3D2024-01-01/part-0.gz'],
    // UTF-8 bytes, upper-case hex.
    ['été/日本.log', '%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC.log'],
    // Form encoding keeps only - _ . * among punctuation.
    ["x(1)!~'.*-_", 'x%281%29%21%7E%27.*-_'],
    ['10:47:07?#&%', '10%3A47%3A07%3F%23%26%25'],
  ])('encodes %j as S3 does', (key, expected) => {
    // Act
    const encoded = encodeNotificationKey(key);

    // Assess
    expect(encoded).toBe(expected);
  });

  it('round-trips through the decoder the indexer uses, for every printable ASCII character and beyond', () => {
    // Prepare
    const ascii = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)).join('');
    const keys = [ascii, `${ascii}/${ascii}`, 'a  b++c%2B', 'emoji 😀/ü+ß', '%', '+', ' '];

    // Act
    const decoded = keys.map((key) => decodeNotificationKey(encodeNotificationKey(key)));

    // Assess
    expect(decoded).toEqual(keys);
  });

  it('rejects a key that is not well-formed Unicode with a clear error', () => {
    expect(() => encodeNotificationKey('bad\ud800key')).toThrow(/not well-formed Unicode/);
  });
});

describe('notificationFor', () => {
  it('builds an ObjectCreated:Put record that Powertools S3Schema accepts', () => {
    // Act
    const event = notificationFor(object, { region: 'eu-west-1' });

    // Assess
    const parsed = S3Schema.parse(event);
    const record = parsed.Records[0];
    expect(parsed.Records).toHaveLength(1);
    expect(record?.eventName).toBe('ObjectCreated:Put');
    expect(record?.eventTime).toBe('2024-01-02T03:04:05.678Z');
    expect(record?.awsRegion).toBe('eu-west-1');
    expect(record?.s3.bucket).toEqual({
      name: 'my-logs',
      ownerIdentity: { principalId: 'logpipe-backfill' },
      arn: 'arn:aws:s3:::my-logs',
    });
    expect(record?.s3.object).toEqual({
      key: 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/file+name%2B1.json.gz',
      size: 1234,
      // Notifications carry the ETag without the quotes of a listing.
      eTag: '0123456789abcdef0123456789abcdef',
      sequencer: expect.stringMatching(/^[0-9A-F]{16}$/),
    });
    // The sequencer orders events on one key; LastModified (in hex) orders them the same way.
    expect(Number.parseInt(record?.s3.object.sequencer ?? '', 16)).toBe(object.lastModified);
  });

  it('uses the partition of the region in the bucket ARN', () => {
    const arnIn = (region: string) => notificationFor(object, { region }).Records[0]?.s3.bucket.arn;

    expect([arnIn('cn-north-1'), arnIn('us-gov-west-1'), arnIn('us-east-1')]).toEqual([
      'arn:aws-cn:s3:::my-logs',
      'arn:aws-us-gov:s3:::my-logs',
      'arn:aws:s3:::my-logs',
    ]);
  });

  it('is deterministic, and distinct objects get distinct request ids', () => {
    // Act
    const first = notificationBody(object, { region: 'us-east-1' });
    const again = notificationBody({ ...object }, { region: 'us-east-1' });
    const other = notificationFor({ ...object, etag: 'ffff' }, { region: 'us-east-1' });

    // Assess
    expect(again).toBe(first);
    const firstIds = (JSON.parse(first) as { Records: [{ responseElements: object }] }).Records[0]
      .responseElements;
    expect(other.Records[0]?.responseElements).not.toEqual(firstIds);
  });
});

describe('notificationBody read by the indexer', () => {
  it('names the same bucket, key, size and ETag the listing gave', () => {
    // Prepare
    const body = notificationBody({ ...object, versionId: 'v-1' }, { region: 'us-east-1' });

    // Act
    const content = parseMessageBody(body);

    // Assess
    expect(content).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'my-logs',
          key: object.key,
          size: 1234,
          etag: '0123456789abcdef0123456789abcdef',
          versionId: 'v-1',
        },
      ],
      ignored: [],
    });
  });
});
