import {
  type RecordBatchSender,
  reingestEntries,
  reingestTargetOf,
} from '../../lambdas/firehose-processor/reingest';

const refuseAll: RecordBatchSender = {
  send: async (entries) => entries.map(() => 'ServiceUnavailableException'),
};
const entries = [{ data: Buffer.from('x') }];

describe('reingestEntries', () => {
  it('backs off exponentially between attempts, capped, with jitter', async () => {
    // Prepare
    const delays: number[] = [];
    const retry = {
      maxAttempts: 6,
      baseDelayMillis: 100,
      maxDelayMillis: 500,
      reserveMillis: 0,
      sleep: async (millis: number) => void delays.push(millis),
      random: () => 0.5,
    };

    // Act
    const outcome = await reingestEntries(entries, refuseAll, retry);

    // Assess: 100, 200, 400, 500 (cap), 500, each halved by the jitter.
    expect(delays).toEqual([50, 100, 200, 250, 250]);
    expect(outcome).toMatchObject({ attempts: 6, calls: 6, lastErrors: ['ServiceUnavailableException'] });
    expect([...outcome.failed]).toEqual([0]);
  });

  it('stops retrying before the invocation would time out', async () => {
    // Prepare: 10 s left, 1 s per wait, 8 s kept in reserve.
    let remaining = 10_000;
    const retry = {
      maxAttempts: 20,
      baseDelayMillis: 1_000,
      maxDelayMillis: 1_000,
      reserveMillis: 8_000,
      remainingMillis: () => remaining,
      sleep: async (millis: number) => {
        remaining -= millis;
      },
      random: () => 1,
    };

    // Act
    const outcome = await reingestEntries(entries, refuseAll, retry);

    // Assess
    expect(outcome.attempts).toBe(3);
    expect(outcome.failed.size).toBe(1);
    expect(outcome.lastErrors).toContain('stopped retrying: the invocation is about to time out');
  });

  it('makes no call for no entries', async () => {
    // Prepare
    const send = jest.fn(refuseAll.send);

    // Act
    const outcome = await reingestEntries([], { send });

    // Assess
    expect(send).not.toHaveBeenCalled();
    expect(outcome).toMatchObject({ calls: 0, attempts: 0 });
  });
});

describe('reingestTargetOf', () => {
  it('re-ingests into the delivery stream of a Direct PUT batch', () => {
    // Prepare, Act
    const target = reingestTargetOf({
      deliveryStreamArn: 'arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/my-stream',
    });

    // Assess
    expect(target).toEqual({ service: 'firehose', region: 'cn-north-1', streamName: 'my-stream' });
  });

  it('re-ingests into the source stream of a Kinesis-source batch', () => {
    // Prepare, Act
    const target = reingestTargetOf({
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/my-stream',
      sourceKinesisStreamArn: 'arn:aws:kinesis:us-west-2:123456789012:stream/source',
    });

    // Assess
    expect(target).toEqual({ service: 'kinesis', region: 'us-west-2', streamName: 'source' });
  });

  it('refuses an ARN that names no stream', () => {
    // Prepare, Act, Assess
    expect(() => reingestTargetOf({ deliveryStreamArn: 'arn:aws:s3:::bucket' })).toThrow(
      'not a Firehose or Kinesis stream ARN: "arn:aws:s3:::bucket"',
    );
    expect(() =>
      reingestTargetOf({
        deliveryStreamArn: 'arn:aws:firehose:us-east-1:1:deliverystream/a',
        sourceKinesisStreamArn: 'arn:aws:firehose:us-east-1:1:deliverystream/b',
      }),
    ).toThrow('stream ARN of the wrong service');
  });
});
