import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { reingestEntries } from '../../lambdas/firehose-processor/reingest';
import {
  firehoseBatchSender,
  kinesisBatchSender,
  sdkBatchSender,
} from '../../lambdas/firehose-processor/reingest-clients';
import { NO_DELAY } from './firehose-events';

// One mock per client class for the whole file: a second mockClient on a class replaces the first.
const firehose = mockClient(FirehoseClient);
const kinesis = mockClient(KinesisClient);
afterEach(() => {
  firehose.reset();
  kinesis.reset();
});

const entry = (text: string, partitionKey?: string) => ({
  data: Buffer.from(text),
  ...(partitionKey !== undefined && { partitionKey }),
});

describe('firehoseBatchSender', () => {
  it('re-sends only the entries PutRecordBatch refused, until all are accepted', async () => {
    // Prepare: the first call refuses the second record; the retry accepts it.
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [
          { RecordId: 'r1' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r2' }] });
    const sender = firehoseBatchSender(new FirehoseClient({ region: 'eu-west-1' }), 'logs-archive');

    // Act
    const outcome = await reingestEntries([entry('one'), entry('two')], sender, NO_DELAY);

    // Assess
    expect(outcome.failed.size).toBe(0);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(
      calls.map((call) => call.args[0].input.Records?.map((r) => Buffer.from(r.Data ?? []).toString())),
    ).toEqual([['one', 'two'], ['two']]);
    expect(calls[0]?.args[0].input.DeliveryStreamName).toBe('logs-archive');
  });

  it('gives up after 20 attempts when a call keeps throwing, reporting the error', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).rejects(new Error('network down'));
    const sender = firehoseBatchSender(new FirehoseClient({ region: 'eu-west-1' }), 'logs-archive');

    // Act
    const outcome = await reingestEntries([entry('one')], sender, NO_DELAY);

    // Assess
    expect([...outcome.failed]).toEqual([0]);
    expect(outcome.attempts).toBe(20);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(20);
    expect(outcome.lastErrors).toEqual(['Error: network down']);
  });

  it('treats a record the response does not mention as refused', async () => {
    // Prepare
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({ FailedPutCount: 1, RequestResponses: [{ RecordId: 'r1' }] })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r2' }] });
    const sender = firehoseBatchSender(new FirehoseClient({ region: 'eu-west-1' }), 'logs-archive');

    // Act
    const outcome = await reingestEntries([entry('one'), entry('two')], sender, NO_DELAY);

    // Assess
    expect(outcome.failed.size).toBe(0);
    expect(firehose.commandCalls(PutRecordBatchCommand)[1]?.args[0].input.Records).toHaveLength(1);
  });

  it('splits calls at 500 records and at 4 MiB', async () => {
    // Prepare: 1,200 small entries, then 5 entries of 1 MB.
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({
      FailedPutCount: 0,
      RequestResponses: input.Records.map(() => ({ RecordId: 'r' })),
    }));
    const sender = firehoseBatchSender(new FirehoseClient({ region: 'eu-west-1' }), 'logs-archive');
    const small = Array.from({ length: 1200 }, (_, index) => entry(`record ${index}`));
    const large = Array.from({ length: 5 }, () => ({ data: Buffer.alloc(1_000_000, 0x61) }));

    // Act
    await reingestEntries(small, sender, NO_DELAY);
    await reingestEntries(large, sender, NO_DELAY);

    // Assess
    const sizes = firehose
      .commandCalls(PutRecordBatchCommand)
      .map((call) => call.args[0].input.Records?.length);
    expect(sizes).toEqual([500, 500, 200, 4, 1]);
  });
});

describe('kinesisBatchSender', () => {
  it('puts records with their partition keys and retries the throttled ones', async () => {
    // Prepare
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [
          { ErrorCode: 'ProvisionedThroughputExceededException' },
          { SequenceNumber: '2', ShardId: 's' },
        ],
      })
      .resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '3', ShardId: 's' }] });
    const sender = kinesisBatchSender(new KinesisClient({ region: 'eu-west-1' }), 'cwl-fanout');

    // Act
    const outcome = await reingestEntries([entry('one', 'pk-1'), entry('two', 'pk-2')], sender, NO_DELAY);

    // Assess
    expect(outcome.failed.size).toBe(0);
    const inputs = kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input);
    expect(inputs[0]?.StreamName).toBe('cwl-fanout');
    expect(inputs.map((input) => input.Records?.map((r) => r.PartitionKey))).toEqual([
      ['pk-1', 'pk-2'],
      ['pk-1'],
    ]);
  });
});

describe('sdkBatchSender', () => {
  it('sends to the service and stream of the target', async () => {
    // Prepare
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1' }] });
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }] });

    // Act
    await sdkBatchSender({ service: 'kinesis', region: 'us-east-2', streamName: 'source' }).send([
      entry('k', 'pk'),
    ]);
    await sdkBatchSender({ service: 'firehose', region: 'us-east-2', streamName: 'archive' }).send([
      entry('f'),
    ]);

    // Assess
    expect(kinesis.commandCalls(PutRecordsCommand)[0]?.args[0].input.StreamName).toBe('source');
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe('archive');
  });
});
