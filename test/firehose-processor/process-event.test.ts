import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import type { ProcessorConfig } from '../../lambdas/firehose-processor/config';
import {
  MAX_RESPONSE_BYTES,
  type ProcessEventOptions,
  processFirehoseEvent,
} from '../../lambdas/firehose-processor/process-event';
import type {
  RecordBatchSender,
  ReingestEntry,
  ReingestTarget,
} from '../../lambdas/firehose-processor/reingest';
import {
  base64Text,
  CONTROL_MESSAGE,
  dataMessage,
  firehoseEvent,
  firehoseRecord,
  gzippedJson,
  type LogEventShape,
  logEvent,
  NO_DELAY,
  outputText,
  reingestedPayload,
} from './firehose-events';

const RAW: ProcessorConfig = {
  outputFormat: 'raw',
  partitionKeys: ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'],
};

/** A stream stand-in: records every put, and fails the entries `failWhen` picks. */
class FakeStream {
  readonly targets: ReingestTarget[] = [];
  readonly calls: ReingestEntry[][] = [];
  constructor(
    private readonly failWhen: (entry: ReingestEntry, call: number) => string | undefined = () => undefined,
  ) {}

  get accepted(): ReingestEntry[] {
    return this.calls.flatMap((call, index) =>
      call.filter((entry) => this.failWhen(entry, index) === undefined),
    );
  }

  senderFor = (target: ReingestTarget): RecordBatchSender => {
    this.targets.push(target);
    return {
      send: async (entries) => {
        const call = this.calls.push([...entries]) - 1;
        return entries.map((entry) => this.failWhen(entry, call));
      },
    };
  };
}

function process(
  event: FirehoseTransformationEvent,
  stream: FakeStream,
  extra: Partial<ProcessEventOptions> = {},
) {
  return processFirehoseEvent(event, { config: RAW, senderFor: stream.senderFor, retry: NO_DELAY, ...extra });
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 10, 13, 15, 0); // 2024-03-10T13:15:00Z

describe('processFirehoseEvent: CloudWatch Logs records', () => {
  it('delivers one hour of events as newline-terminated messages with their partition keys', async () => {
    // Prepare
    const events = [logEvent(T0, 'first line'), logEvent(T0 + 1000, 'second "quoted" line')];
    const record = firehoseRecord(gzippedJson(dataMessage(events)));
    const stream = new FakeStream();

    // Act
    const { response, counts } = await process(firehoseEvent([record]), stream);

    // Assess
    expect(response.records).toHaveLength(1);
    const [result] = response.records;
    expect(result).toMatchObject({ recordId: record.recordId, result: 'Ok' });
    expect(outputText(result)).toBe('first line\nsecond "quoted" line\n');
    expect(result?.metadata?.partitionKeys).toEqual({
      logGroup: '%2Faws%2Flambda%2Forders',
      logStream: '2024%2F03%2F10%2F%5B%24LATEST%5D0123456789abcdef',
      year: '2024',
      month: '03',
      day: '10',
      hour: '13',
    });
    expect(stream.calls).toHaveLength(0);
    expect(counts).toMatchObject({ ok: 1, eventsDelivered: 2, eventsReingested: 0 });
  });

  it('drops a CONTROL_MESSAGE', async () => {
    // Prepare
    const record = firehoseRecord(gzippedJson(CONTROL_MESSAGE));

    // Act
    const { response, notes } = await process(firehoseEvent([record]), new FakeStream());

    // Assess
    expect(response.records).toEqual([{ recordId: record.recordId, result: 'Dropped' }]);
    expect(notes).toEqual([{ recordId: record.recordId, result: 'Dropped', reason: 'CONTROL_MESSAGE' }]);
  });

  it('fails only the garbage records, each with its reason, and delivers the rest', async () => {
    // Prepare
    const good = firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'fine')])));
    const garbage = [
      firehoseRecord('not base64 at all!'),
      firehoseRecord(gzipSync('{"messageType":').toString('base64')),
      firehoseRecord(gzipSync('<html>').toString('base64')),
      firehoseRecord(gzippedJson({ messageType: 'SURPRISE_MESSAGE' })),
      firehoseRecord(gzippedJson([1, 2, 3])),
      firehoseRecord(gzippedJson({ ...dataMessage([]), logEvents: [{ id: '1', message: 'no time' }] })),
      firehoseRecord(gzipSync('x'.repeat(100)).subarray(0, 20).toString('base64')),
      firehoseRecord(Buffer.from([0xff, 0xfe, 0x00, 0x81]).toString('base64')),
      firehoseRecord(base64Text('plain words that are not syslog\n')),
    ];
    const event = firehoseEvent([garbage[0], good, ...garbage.slice(1)].filter((r) => r !== undefined));

    // Act
    const { response, notes, counts } = await process(event, new FakeStream());

    // Assess
    expect(response.records.map((record) => record.result)).toEqual([
      'ProcessingFailed',
      'Ok',
      ...garbage.slice(1).map(() => 'ProcessingFailed'),
    ]);
    expect(response.records.map((record) => record.recordId)).toEqual(event.records.map((r) => r.recordId));
    expect(notes.map((note) => note.reason)).toEqual([
      'data is not base64',
      expect.stringContaining("gzip'd data is not JSON"),
      expect.stringContaining("gzip'd data is not JSON"),
      'unknown messageType "SURPRISE_MESSAGE"',
      'payload is not a JSON object',
      'logEvents[0] has no valid epoch-millisecond timestamp',
      expect.stringContaining('data is not valid gzip'),
      'data is neither gzip nor UTF-8 text',
      'data is neither gzip nor newline-delimited syslog',
    ]);
    expect(counts).toMatchObject({ ok: 1, failed: 9, dropped: 0 });
  });

  it('keeps the first hour in the record and re-ingests the next hour as a CloudWatch Logs payload', async () => {
    // Prepare
    const hour13 = [logEvent(T0, 'a'), logEvent(T0 + 10, 'b')];
    const hour14 = [logEvent(T0 + HOUR, 'c'), logEvent(T0 + HOUR + 5, 'd')];
    const payload = dataMessage([hour13[0], hour14[0], hour13[1], hour14[1]] as LogEventShape[]);
    const record = firehoseRecord(gzippedJson(payload));
    const stream = new FakeStream();

    // Act
    const { response, counts } = await process(firehoseEvent([record]), stream);

    // Assess
    const [result] = response.records;
    expect(result?.result).toBe('Ok');
    expect(outputText(result)).toBe('a\nb\n');
    expect(result?.metadata?.partitionKeys).toMatchObject({ day: '10', hour: '13' });
    expect(stream.targets).toEqual([
      { service: 'firehose', region: 'eu-west-1', streamName: 'logs-archive' },
    ]);
    expect(stream.calls).toHaveLength(1);
    const reingested = reingestedPayload(stream.calls[0]?.[0]?.data);
    expect(reingested).toEqual({ ...payload, logEvents: hour14 });
    expect(counts).toMatchObject({
      splitRecords: 1,
      eventsDelivered: 2,
      eventsReingested: 2,
      reingestedPayloads: 1,
    });
  });

  it('splits at a day boundary, and a re-ingested payload comes back whole in its own partition', async () => {
    // Prepare
    const midnight = Date.UTC(2024, 11, 31, 23, 59, 59, 999);
    const events = [logEvent(midnight, 'old year'), logEvent(midnight + 1, 'new year')];
    const stream = new FakeStream();
    const first = await process(firehoseEvent([firehoseRecord(gzippedJson(dataMessage(events)))]), stream);
    const reingested = stream.calls[0]?.[0]?.data;
    if (reingested === undefined) throw new Error('nothing was re-ingested');

    // Act
    const second = await process(
      firehoseEvent([firehoseRecord(Buffer.from(reingested).toString('base64'))]),
      stream,
    );

    // Assess
    const keysOf = (result: typeof first) => result.response.records[0]?.metadata?.partitionKeys;
    expect(keysOf(first)).toMatchObject({ year: '2024', month: '12', day: '31', hour: '23' });
    expect(outputText(first.response.records[0])).toBe('old year\n');
    expect(keysOf(second)).toMatchObject({ year: '2025', month: '01', day: '01', hour: '00' });
    expect(outputText(second.response.records[0])).toBe('new year\n');
    expect(stream.calls).toHaveLength(1);
  });

  it('groups events of many hours into one payload per hour, in order of first appearance', async () => {
    // Prepare: hours 13, 15, 14, 15, 13, 14
    const events = [0, 2, 1, 2, 0, 1].map((hour, index) =>
      logEvent(T0 + hour * HOUR + index, `event ${index}`),
    );
    const stream = new FakeStream();

    // Act
    const { response } = await process(
      firehoseEvent([firehoseRecord(gzippedJson(dataMessage(events)))]),
      stream,
    );

    // Assess
    expect(outputText(response.records[0])).toBe('event 0\nevent 4\n');
    const payloads = (stream.calls[0] ?? []).map((entry) => reingestedPayload(entry.data));
    expect(payloads.map((payload) => payload.logEvents.map((event) => event.message))).toEqual([
      ['event 1', 'event 3'],
      ['event 2', 'event 5'],
    ]);
  });

  it('writes one JSON object per event with OUTPUT_FORMAT=json', async () => {
    // Prepare
    const events = [logEvent(Date.UTC(2024, 2, 10, 13, 0, 0, 7), 'tab\there "quoted"')];
    const record = firehoseRecord(gzippedJson(dataMessage(events, { logStream: 'i-0abc' })));

    // Act
    const { response } = await process(firehoseEvent([record]), new FakeStream(), {
      config: { ...RAW, outputFormat: 'json' },
    });

    // Assess
    const lines = outputText(response.records[0]).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      timestamp: '2024-03-10T13:00:00.007Z',
      id: events[0]?.id,
      logGroup: '/aws/lambda/orders',
      logStream: 'i-0abc',
      message: 'tab\there "quoted"',
    });
  });

  it.each(['raw', 'json'] as const)(
    'delivers a payload the kernels decline after growing their memory, through the general path (%s)',
    async (outputFormat) => {
      // Prepare: payloads larger than any before, whose last event the kernels do not take
      // (extractedFields), so the kernels grow their memory before they decline.
      const records = [3000, 12_000, 40_000].map((count) => {
        const events: LogEventShape[] = Array.from({ length: count }, (_, index) =>
          logEvent(T0 + index, `line ${index} ${'x'.repeat(index % 90)}`),
        );
        const withFields = { ...logEvent(T0 + count, 'with fields'), extractedFields: { a: '1' } };
        return firehoseRecord(gzippedJson(dataMessage([...events, withFields])));
      });

      // Act
      const { response, counts } = await process(firehoseEvent(records), new FakeStream(), {
        config: { ...RAW, outputFormat },
        maxResponseBytes: Number.POSITIVE_INFINITY,
      });

      // Assess
      expect(response.records.map((record) => record.result)).toEqual(['Ok', 'Ok', 'Ok']);
      expect(counts.eventsDelivered).toBe(3001 + 12_001 + 40_001);
      const lines = outputText(response.records[2]).split('\n');
      expect(lines).toHaveLength(40_002);
      const last = lines[40_000] ?? '';
      expect(outputFormat === 'raw' ? last : JSON.parse(last).message).toBe('with fields');
    },
  );

  it('returns only the configured partition keys', async () => {
    // Prepare
    const record = firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'x')])));

    // Act
    const { response } = await process(firehoseEvent([record]), new FakeStream(), {
      config: { outputFormat: 'raw', partitionKeys: ['logGroup', 'year', 'month', 'day'] },
    });

    // Assess
    expect(response.records[0]?.metadata?.partitionKeys).toEqual({
      logGroup: '%2Faws%2Flambda%2Forders',
      year: '2024',
      month: '03',
      day: '10',
    });
  });
});

describe('processFirehoseEvent: re-ingestion', () => {
  const splitRecord = () =>
    firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'this hour'), logEvent(T0 + HOUR, 'next hour')])));

  it('retries entries that failed until they are accepted', async () => {
    // Prepare: the first three calls refuse everything.
    const stream = new FakeStream((_, call) => (call < 3 ? 'ServiceUnavailableException' : undefined));

    // Act
    const { response, counts } = await process(firehoseEvent([splitRecord()]), stream);

    // Assess
    expect(response.records[0]?.result).toBe('Ok');
    expect(stream.calls).toHaveLength(4);
    expect(counts).toMatchObject({ reingestedPayloads: 1, reingestFailedPayloads: 0, reingestCalls: 4 });
  });

  it('fails a split record whose other partition was never accepted, after 20 attempts, and only that record', async () => {
    // Prepare: the stream refuses the payload holding "doomed", accepts the others.
    const doomed = firehoseRecord(
      gzippedJson(
        dataMessage([logEvent(T0, 'kept'), logEvent(T0 + HOUR, 'doomed')], { logStream: 'doomed' }),
      ),
    );
    const stream = new FakeStream((entry) =>
      reingestedPayload(entry.data).logStream === 'doomed' ? 'ServiceUnavailableException' : undefined,
    );

    // Act
    const { response, notes } = await process(firehoseEvent([splitRecord(), doomed]), stream);

    // Assess
    expect(response.records.map((record) => record.result)).toEqual(['Ok', 'ProcessingFailed']);
    expect(response.records[1]?.data).toBeUndefined();
    expect(stream.calls).toHaveLength(20);
    expect(stream.calls[19]).toHaveLength(1);
    expect(notes[0]?.reason).toContain('not accepted after 20 attempts (ServiceUnavailableException)');
  });

  it('fails records that need re-ingestion when it is disabled', async () => {
    // Prepare
    const single = firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'alone')])));

    // Act
    const { response, notes } = await processFirehoseEvent(firehoseEvent([splitRecord(), single]), {
      config: RAW,
    });

    // Assess
    expect(response.records.map((record) => record.result)).toEqual(['ProcessingFailed', 'Ok']);
    expect(notes[0]?.reason).toBe('re-ingestion failed: disabled');
  });

  it('re-ingests into the source Kinesis stream with each record’s own partition key', async () => {
    // Prepare
    const record = firehoseRecord(
      gzippedJson(dataMessage([logEvent(T0, 'now'), logEvent(T0 + HOUR, 'later')])),
      { kinesis: true },
    );
    const stream = new FakeStream();

    // Act
    const { response } = await process(firehoseEvent([record], { kinesis: true }), stream);

    // Assess
    expect(response.records[0]?.result).toBe('Ok');
    expect(stream.targets).toEqual([{ service: 'kinesis', region: 'eu-west-1', streamName: 'cwl-fanout' }]);
    expect(stream.calls[0]?.[0]?.partitionKey).toBe(record.kinesisRecordMetadata?.partitionKey);
    expect(reingestedPayload(stream.calls[0]?.[0]?.data).logEvents.map((e) => e.message)).toEqual(['later']);
  });
});

describe('processFirehoseEvent: response size', () => {
  it('counts the size of a response of every kind of result exactly', async () => {
    // Prepare: Ok records (one with a record id JSON must escape), a control message, garbage,
    // a record split over two hours, and one whose re-ingestion fails.
    const odd = {
      ...firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'odd id')]))),
      recordId: 'id "é" \\ ✓',
    };
    const records = [
      firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'first'), logEvent(T0 + 1, 'second')]))),
      odd,
      firehoseRecord(gzippedJson(CONTROL_MESSAGE)),
      firehoseRecord('not base64 at all!'),
      firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'now'), logEvent(T0 + HOUR, 'later')]))),
      firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'a'), logEvent(T0 + 2 * HOUR, 'fails')]))),
    ];
    const stream = new FakeStream((entry) =>
      reingestedPayload(entry.data).logEvents.some((e) => e.message === 'fails')
        ? 'InternalFailure'
        : undefined,
    );

    // Act
    const { response, counts } = await process(firehoseEvent(records), stream);

    // Assess
    expect(response.records.map((record) => record.result)).toEqual([
      'Ok',
      'Ok',
      'Dropped',
      'ProcessingFailed',
      'Ok',
      'ProcessingFailed',
    ]);
    expect(counts.responseBytes).toBe(Buffer.byteLength(JSON.stringify(response)));
  });

  // Random text compresses poorly, so each record's output is close to its share of the batch.
  function bulkyRecord(events: number, messageBytes: number, kinesis = false) {
    const messages = Array.from({ length: events }, (_, index) =>
      logEvent(T0 + index, randomBytes(messageBytes / 2).toString('hex')),
    );
    return firehoseRecord(gzippedJson(dataMessage(messages)), { kinesis });
  }

  it('keeps a 7 MB batch’s response under 6 MB by re-ingesting the records that do not fit', async () => {
    // Prepare: 8 records of ~0.9 MB of messages each, ~9.6 MB of base64 output in all.
    const records = Array.from({ length: 8 }, () => bulkyRecord(900, 1000));
    const event = firehoseEvent(records);
    const stream = new FakeStream();

    // Act
    const { response, counts } = await process(event, stream);

    // Assess
    const responseBytes = Buffer.byteLength(JSON.stringify(response));
    expect(responseBytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(counts.responseBytes).toBe(responseBytes);
    const results = response.records.map((record) => record.result);
    expect(results.filter((result) => result === 'Ok').length).toBe(4);
    expect(results.filter((result) => result === 'Dropped').length).toBe(4);
    // Unsplit records go back exactly as they came.
    const dropped = event.records.filter((_, index) => results[index] === 'Dropped');
    expect(stream.accepted.map((entry) => Buffer.from(entry.data).toString('base64'))).toEqual(
      dropped.map((record) => record.data),
    );
  });

  it('fails the records that do not fit when their re-ingestion is refused', async () => {
    // Prepare
    const records = Array.from({ length: 8 }, () => bulkyRecord(900, 1000, true));
    const stream = new FakeStream(() => 'ProvisionedThroughputExceededException');

    // Act
    const { response } = await process(firehoseEvent(records, { kinesis: true }), stream);

    // Assess
    const results = response.records.map((record) => record.result);
    expect(results).toEqual(['Ok', 'Ok', 'Ok', 'Ok', ...Array(4).fill('ProcessingFailed')]);
    expect(stream.calls[0]?.map((entry) => entry.partitionKey)).toEqual(
      records.slice(4).map((record) => record.kinesisRecordMetadata?.partitionKey),
    );
  });

  it('re-ingests both partitions of a split record that does not fit, one payload each', async () => {
    // Prepare: the first record fills the response; the second spans two hours.
    const filler = bulkyRecord(6, 1000);
    const [thisHour, nextHour] = ['a', 'b'].map((letter) => letter.repeat(3000));
    const split = firehoseRecord(
      gzippedJson(dataMessage([logEvent(T0, thisHour ?? ''), logEvent(T0 + HOUR, nextHour ?? '')])),
    );
    const stream = new FakeStream();
    // Room for the filler's output (and the processor's margin), not for the split record's 4 kB.
    const fillerAlone = await process(firehoseEvent([filler]), new FakeStream());
    const maxResponseBytes = fillerAlone.counts.responseBytes + 1_000;

    // Act
    const { response, counts } = await process(firehoseEvent([filler, split]), stream, { maxResponseBytes });

    // Assess
    expect(response.records.map((record) => record.result)).toEqual(['Ok', 'Dropped']);
    const payloads = stream.accepted.map((entry) =>
      reingestedPayload(entry.data).logEvents.map((e) => e.message),
    );
    expect(payloads).toEqual([[thisHour], [nextHour]]);
    expect(counts).toMatchObject({
      overflowRecords: 1,
      splitRecords: 1,
      eventsDelivered: 6,
      eventsReingested: 2,
    });
  });

  it('re-ingests an output too large for any response in smaller payloads, losing no event', async () => {
    // Prepare: a 60 kB output against a 20 kB response limit.
    const record = bulkyRecord(60, 1000);
    const stream = new FakeStream();

    // Act
    const { response, counts } = await process(firehoseEvent([record]), stream, { maxResponseBytes: 20_000 });

    // Assess
    expect(response.records).toEqual([{ recordId: record.recordId, result: 'Dropped' }]);
    const payloads = stream.accepted.map((entry) => reingestedPayload(entry.data));
    expect(payloads.length).toBeGreaterThan(1);
    const original = reingestedPayload(Buffer.from(record.data, 'base64'));
    expect(payloads.flatMap((payload) => payload.logEvents)).toEqual(original.logEvents);
    for (const payload of payloads) expect(payload.logEvents.length * 1000 * (4 / 3)).toBeLessThan(20_000);
    expect(counts.eventsReingested).toBe(60);
  });
});

describe('processFirehoseEvent: syslog', () => {
  const JSON_OUTPUT: ProcessorConfig = { ...RAW, outputFormat: 'json' };
  const jsonLines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('adds the syslog header fields to the JSON of a CloudWatch Logs event that is syslog', async () => {
    // Prepare: RFC 5424 section 6.5, example 1; PRI 34 is facility 4 (auth), severity 2 (crit).
    const line =
      '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su 77 ID47 - su root failed on /dev/pts/8';
    const events = [logEvent(T0, line), logEvent(T0 + 1, 'not syslog at all')];
    const record = firehoseRecord(gzippedJson(dataMessage(events, { logStream: 'mymachine' })));

    // Act
    const { response } = await process(firehoseEvent([record]), new FakeStream(), { config: JSON_OUTPUT });

    // Assess
    const [syslog, plain] = jsonLines(outputText(response.records[0]));
    expect(syslog).toEqual({
      timestamp: '2024-03-10T13:15:00.000Z',
      id: events[0]?.id,
      logGroup: '/aws/lambda/orders',
      logStream: 'mymachine',
      message: line,
      facility: 'auth',
      facility_code: 4,
      severity: 'crit',
      severity_code: 2,
      version: 1,
      hostname: 'mymachine.example.com',
      app_name: 'su',
      pid: 77,
      msgid: 'ID47',
    });
    expect(Object.keys(plain ?? {})).toEqual(['timestamp', 'id', 'logGroup', 'logStream', 'message']);
  });

  it('partitions Direct PUT syslog by host and hour under logGroup "direct"', async () => {
    // Prepare: two hosts, and a line of the next hour.
    const text = [
      '<13>1 2024-03-10T13:01:00Z web-1 nginx 10 - - GET /',
      '<13>1 2024-03-10T13:02:00Z db/primary postgres 20 - - checkpoint',
      '<13>1 2024-03-10T13:03:00Z web-1 nginx 10 - - GET /health',
      '<13>1 2024-03-10T14:00:00Z web-1 nginx 10 - - GET /late',
      '',
    ].join('\r\n');
    const record = firehoseRecord(base64Text(text));
    const stream = new FakeStream();

    // Act
    const { response } = await process(firehoseEvent([record]), stream);

    // Assess
    const [result] = response.records;
    expect(result?.result).toBe('Ok');
    expect(outputText(result)).toBe(
      '<13>1 2024-03-10T13:01:00Z web-1 nginx 10 - - GET /\n<13>1 2024-03-10T13:03:00Z web-1 nginx 10 - - GET /health\n',
    );
    expect(result?.metadata?.partitionKeys).toEqual({
      logGroup: 'direct',
      logStream: 'web-1',
      year: '2024',
      month: '03',
      day: '10',
      hour: '13',
    });
    const payloads = (stream.calls[0] ?? []).map((entry) => Buffer.from(entry.data).toString('utf8'));
    expect(payloads).toEqual([
      '<13>1 2024-03-10T13:02:00Z db/primary postgres 20 - - checkpoint\n',
      '<13>1 2024-03-10T14:00:00Z web-1 nginx 10 - - GET /late\n',
    ]);
  });

  it('keeps continuation lines with the syslog line they follow, and escapes the host', async () => {
    // Prepare: an RFC 3164 line (no year: it comes from the arrival time) and a stack trace.
    const text = 'Mar 10 13:05:00 db/primary app[42]: boom\n    at main (app.js:1:1)\n';
    const record = firehoseRecord(base64Text(text));

    // Act
    const { response } = await process(firehoseEvent([record]), new FakeStream(), { config: JSON_OUTPUT });

    // Assess
    const [result] = response.records;
    expect(result?.metadata?.partitionKeys).toMatchObject({
      logGroup: 'direct',
      logStream: 'db%2Fprimary',
      hour: '13',
    });
    const [line, continuation] = jsonLines(outputText(result));
    expect(line).toMatchObject({
      timestamp: '2024-03-10T13:05:00.000Z',
      logGroup: 'direct',
      logStream: 'db/primary',
      message: 'Mar 10 13:05:00 db/primary app[42]: boom',
      hostname: 'db/primary',
      app_name: 'app',
      pid: 42,
    });
    expect(continuation).toEqual({
      timestamp: '2024-03-10T13:05:00.000Z',
      logGroup: 'direct',
      logStream: 'db/primary',
      message: '    at main (app.js:1:1)',
    });
  });

  it('partitions a syslog line without a host under "-" and without a time by arrival', async () => {
    // Prepare: RFC 5424 with NILVALUE timestamp and hostname.
    const record = firehoseRecord(base64Text('<14>1 - - app - - - no time, no host\n'));

    // Act
    const { response } = await process(firehoseEvent([record]), new FakeStream());

    // Assess
    const arrival = new Date(record.approximateArrivalTimestamp);
    expect(response.records[0]?.metadata?.partitionKeys).toEqual({
      logGroup: 'direct',
      logStream: '-',
      year: String(arrival.getUTCFullYear()),
      month: String(arrival.getUTCMonth() + 1).padStart(2, '0'),
      day: String(arrival.getUTCDate()).padStart(2, '0'),
      hour: String(arrival.getUTCHours()).padStart(2, '0'),
    });
  });
});
