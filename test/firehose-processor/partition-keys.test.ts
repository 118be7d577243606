import {
  MAX_PARTITION_VALUE_LENGTH,
  safePartitionValue,
  TimePartitioner,
} from '../../lambdas/firehose-processor/partition-keys';

// What Athena's url_decode (and Python's unquote_plus) does: the inverse of the mapping.
function formUrlDecode(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

describe('safePartitionValue', () => {
  it('escapes the slashes of a log group name, reversibly', () => {
    // Prepare
    const logGroup = '/aws/lambda/orders-api_v2.prod';

    // Act
    const value = safePartitionValue(logGroup);

    // Assess
    expect(value).toBe('%2Faws%2Flambda%2Forders-api_v2.prod');
    expect(formUrlDecode(value)).toBe(logGroup);
  });

  it('writes names as java.net.URLEncoder (Athena url_encode) does', () => {
    // Prepare
    const names = ['a b', 'x#y', 'star*', "it's (ok)!~", 'ä'];

    // Act
    const values = names.map(safePartitionValue);

    // Assess
    expect(values).toEqual(['a+b', 'x%23y', 'star*', 'it%27s+%28ok%29%21%7E', '%C3%A4']);
  });

  it('leaves no slash, control character or non-ASCII byte in any name', () => {
    // Prepare
    const names = [
      'a/b',
      'tab\there',
      'nul\u0000',
      'line\nbreak',
      'del\u007f',
      '日本/ログ',
      '%2F',
      'a:b*c?d',
    ];

    // Act
    const values = names.map(safePartitionValue);

    // Assess
    for (const [index, value] of values.entries()) {
      expect(value).toMatch(/^[A-Za-z0-9._*%+-]+$/);
      expect(formUrlDecode(value)).toBe(names[index]);
    }
  });

  it('keeps distinct names distinct, including names that look escaped', () => {
    // Prepare
    const names = ['/a/b', '%2Fa%2Fb', '.a.b', '_a_b', '-a-b', 'a b', 'a+b'];

    // Act
    const values = new Set(names.map(safePartitionValue));

    // Assess
    expect(values.size).toBe(names.length);
  });

  it('writes an empty name as "-" and never a "." or ".." segment', () => {
    // Prepare, Act
    const values = ['', '.', '..'].map(safePartitionValue);

    // Assess
    expect(values).toEqual(['-', '%2E', '%2E%2E']);
  });

  it('replaces a lone surrogate instead of throwing', () => {
    // Prepare
    const name = 'stream\ud800x';

    // Act
    const value = safePartitionValue(name);

    // Assess
    expect(formUrlDecode(value)).toBe('stream\ufffdx');
  });

  it('shortens long values with a digest, never cutting an escape, and keeps them apart', () => {
    // Prepare
    const stem = `/aws/${'a'.repeat(200)}/`;
    const first = `${stem}one`;
    const second = `${stem}two`;

    // Act
    const one = safePartitionValue(first);
    const two = safePartitionValue(second);

    // Assess
    expect(one.length).toBeLessThanOrEqual(MAX_PARTITION_VALUE_LENGTH);
    expect(one).toMatch(/^%2Faws%2Fa+!([0-9a-f]{16})$/);
    expect(one).not.toBe(two);
    expect(one.slice(0, -17)).toBe(two.slice(0, -17));
  });

  it('does not cut a multi-byte escape in half when shortening', () => {
    // Prepare: every character is a 6-character escape, so a cut can land inside one.
    const name = 'é'.repeat(200);

    // Act
    const value = safePartitionValue(name);

    // Assess
    const kept = value.slice(0, value.indexOf('!'));
    expect(kept).toMatch(/^(%C3%A9)+$/);
    expect(value.length).toBeLessThanOrEqual(MAX_PARTITION_VALUE_LENGTH);
  });
});

describe('TimePartitioner', () => {
  const allKeys = ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'] as const;

  it('gives an hour bucket with zero-padded UTC keys', () => {
    // Prepare
    const partitioner = new TimePartitioner(allKeys);
    const time = Date.UTC(2024, 2, 5, 7, 59, 59, 999);

    // Act
    const bucket = partitioner.bucketOf(time);

    // Assess
    expect(bucket.keys).toEqual({ year: '2024', month: '03', day: '05', hour: '07' });
    expect(bucket.start).toBe(Date.UTC(2024, 2, 5, 7));
    expect(bucket.end).toBe(Date.UTC(2024, 2, 5, 8));
  });

  it('starts a new bucket exactly at the hour, and at a year boundary', () => {
    // Prepare
    const partitioner = new TimePartitioner(allKeys);

    // Act
    const before = partitioner.bucketOf(Date.UTC(2023, 11, 31, 23, 59, 59, 999));
    const after = partitioner.bucketOf(Date.UTC(2024, 0, 1, 0, 0, 0, 0));

    // Assess
    expect(before.keys).toEqual({ year: '2023', month: '12', day: '31', hour: '23' });
    expect(after.keys).toEqual({ year: '2024', month: '01', day: '01', hour: '00' });
  });

  it('widens the bucket to the finest configured unit', () => {
    // Prepare
    const daily = new TimePartitioner(['logGroup', 'year', 'month', 'day']);
    const monthly = new TimePartitioner(['year', 'month']);
    const timeless = new TimePartitioner(['logGroup']);
    const time = Date.UTC(2024, 1, 29, 13, 30);

    // Act
    const day = daily.bucketOf(time);
    const month = monthly.bucketOf(time);
    const none = timeless.bucketOf(time);

    // Assess
    expect(day).toMatchObject({ start: Date.UTC(2024, 1, 29), end: Date.UTC(2024, 2, 1) });
    expect(day.keys).toEqual({ year: '2024', month: '02', day: '29' });
    expect(month).toMatchObject({ start: Date.UTC(2024, 1, 1), end: Date.UTC(2024, 2, 1) });
    expect(month.keys).toEqual({ year: '2024', month: '02' });
    expect(none.keys).toEqual({});
    expect(none.start).toBeLessThanOrEqual(0);
  });

  it('writes four-digit years before year 1000', () => {
    // Prepare
    const partitioner = new TimePartitioner(['year', 'month']);
    const time = new Date(0).setUTCFullYear(33, 5, 15);

    // Act
    const bucket = partitioner.bucketOf(time);

    // Assess
    expect(bucket.keys).toEqual({ year: '0033', month: '06' });
    expect(new Date(bucket.start).getUTCFullYear()).toBe(33);
  });
});
