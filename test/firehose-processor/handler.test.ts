import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import {
  dataMessage,
  firehoseEvent,
  firehoseRecord,
  gzippedJson,
  logEvent,
  outputText,
  reingestedPayload,
} from './firehose-events';

const firehose = mockClient(FirehoseClient);
const T0 = Date.UTC(2024, 2, 10, 13, 59, 59);

// Powertools writes through the global console in dev mode, so the test can read its output.
const output: string[] = [];
beforeAll(() => {
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.OUTPUT_FORMAT = 'json';
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => void output.push(String(line)));
  jest.spyOn(console, 'info').mockImplementation((line: unknown) => void output.push(String(line)));
  jest.spyOn(console, 'warn').mockImplementation((line: unknown) => void output.push(String(line)));
});
afterAll(() => jest.restoreAllMocks());

describe('handler', () => {
  it('answers every record, re-ingests the next hour through PutRecordBatch, and publishes metrics', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r' }] });
    const { handler } = await import('../../lambdas/firehose-processor/handler');
    const split = firehoseRecord(
      gzippedJson(dataMessage([logEvent(T0, 'last second'), logEvent(T0 + 1000, 'next')])),
    );
    const garbage = firehoseRecord('%%%');
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 };

    // Act
    const response = await handler(firehoseEvent([split, garbage]), context);

    // Assess
    expect(response.records.map((record) => record.result)).toEqual(['Ok', 'ProcessingFailed']);
    expect(JSON.parse(outputText(response.records[0]))).toMatchObject({
      message: 'last second',
      logStream: expect.any(String),
    });
    const put = firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input;
    expect(put?.DeliveryStreamName).toBe('logs-archive');
    expect(reingestedPayload(put?.Records?.[0]?.Data).logEvents.map((event) => event.message)).toEqual([
      'next',
    ]);
    const lines = output.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        requestId: 'req-1',
        recordId: garbage.recordId,
        reason: 'data is not base64',
      }),
    );
    const metrics = lines.find((line) => '_aws' in line);
    expect(metrics).toMatchObject({
      service: 'firehose-processor',
      RecordsProcessed: 2,
      RecordsOk: 1,
      ProcessingFailed: 1,
      RecordsSplit: 1,
      RecordsReingested: 1,
      EventsDelivered: 1,
      EventsReingested: 1,
    });
  });
});
