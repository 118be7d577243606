import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CheckpointWriter,
  CompletionFrontier,
  enqueueHandler,
  type ListedObject,
  ProgressReporter,
  parseBackfillArgs,
  readCheckpoint,
  run,
  runBackfill,
} from '../../bin/cli/backfill';
import type { CommandIo } from '../../bin/cli/shared';
import { parseObject } from '../../lambdas/core/parse-object';
import { parseMessageBody } from '../../lambdas/indexer/messages';
import {
  FAUXQS_CREDENTIALS,
  type FauxqsHarness,
  type LatencyProxy,
  spawnLogpipe,
  startLatencyProxy,
  useFauxqs,
} from '../support/fauxqs';
import { useOpenSearchTarget } from '../support/opensearch-server';

/** Output streams that remember what was written, and a stop signal the test controls. */
function captureIo(isTTY = false) {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const err = Object.assign(
    new PassThrough().on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    }),
    { isTTY, columns: 120 },
  );
  const io: CommandIo = { stdout: out, stderr: err, signal: controller.signal };
  return { io, controller, stdout: () => stdout, stderr: () => stderr };
}

/** The keys a queue's messages announce, decoded the way the indexer decodes them. */
function announcedKeys(bodies: readonly (string | undefined)[]): string[] {
  return bodies.flatMap((body) => {
    const content = parseMessageBody(body ?? '');
    return content.kind === 'objects' ? content.objects.map((object) => object.key) : [];
  });
}

describe('parseBackfillArgs', () => {
  it('applies the defaults', () => {
    // Act
    const options = parseBackfillArgs(['--bucket', 'b', '--queue-url', 'http://q']);

    // Assess
    expect(options).toEqual({
      bucket: 'b',
      prefix: '',
      follow: false,
      pollIntervalMs: 60_000,
      mode: 'enqueue',
      queueUrl: 'http://q',
      concurrency: 4,
    });
  });

  it('reads times as ISO-8601, a date alone as midnight UTC', () => {
    const options = parseBackfillArgs([
      '--bucket=b',
      '--queue-url=q',
      '--since=2024-05-01',
      '--until=2024-05-01T12:00:00+02:00',
      '--follow',
      '--poll-interval=0.5',
    ]);

    expect(options).toMatchObject({
      since: Date.UTC(2024, 4, 1),
      until: Date.UTC(2024, 4, 1, 10),
      follow: true,
      pollIntervalMs: 500,
    });
  });

  it.each([
    [[], /--bucket is required/],
    [['--bucket', 'b'], /--queue-url is required in enqueue mode/],
    [['--bucket', 'b', '--queue-url', 'q', '--mode', 'copy'], /--mode must be enqueue or index/],
    [['--bucket', 'b', '--queue-url', 'q', '--since', 'yesterday'], /--since must be an ISO-8601/],
    [
      ['--bucket', 'b', '--queue-url', 'q', '--since', '2024-02-01', '--until', '2024-01-01'],
      /--since must be earlier than --until/,
    ],
    [['--bucket', 'b', '--queue-url', 'q', '--poll-interval', '5'], /only applies with --follow/],
    [['--bucket', 'b', '--queue-url', 'q', '--follow', '--poll-interval', '0'], /positive number/],
    [['--bucket', 'b', '--queue-url', 'q', '--concurrency', '0'], /--concurrency must be an integer from 1/],
    [['--bucket', 'b', '--queue-url', 'q', '--concurrency', '2.5'], /--concurrency must be an integer/],
    [['--bucket', 'b', '--queue-url', 'q', 'extra'], /Unexpected argument 'extra'/],
    [['--bucket', 'b', '--queue-url', 'q', '--colour'], /Unknown option '--colour'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBackfillArgs(argv)).toThrow(message);
  });
});

describe('parseBackfillArgs in index mode', () => {
  it('takes the OpenSearch settings from flags, then from the indexer’s environment variables', () => {
    // Prepare
    const env = {
      OPENSEARCH_URL: 'https://search-logs-abc.eu-west-1.es.amazonaws.com',
      INDEX_PREFIX: 'prod',
      LOG_SOURCES: '[{"prefix":"app/","format":"json","timestampField":"ts"}]',
    };

    // Act
    const fromEnv = parseBackfillArgs(['--bucket', 'b', '--mode', 'index'], env);
    const fromFlags = parseBackfillArgs(
      [
        '--bucket',
        'b',
        '--mode',
        'index',
        '--opensearch-url',
        'http://127.0.0.1:9200',
        '--index-prefix',
        'test',
      ],
      env,
    );

    // Assess
    expect(fromEnv).toMatchObject({
      mode: 'index',
      index: {
        connection: { endpoint: env.OPENSEARCH_URL, auth: 'sigv4' },
        indexPrefix: 'prod',
        logSources: [{ prefix: 'app/', format: 'json', timestampField: 'ts' }],
      },
    });
    expect(fromFlags).toMatchObject({
      index: { connection: { endpoint: 'http://127.0.0.1:9200', auth: 'none' }, indexPrefix: 'test' },
    });
  });

  it('uses basic auth when a username is set', () => {
    const options = parseBackfillArgs(
      ['--bucket', 'b', '--mode', 'index', '--opensearch-url', 'https://os:9200'],
      {
        OPENSEARCH_USERNAME: 'admin',
        OPENSEARCH_PASSWORD: 'secret',
      },
    );

    expect(options).toMatchObject({
      index: { connection: { auth: 'basic', username: 'admin', password: 'secret' } },
    });
  });

  it.each([
    [['--mode', 'index'], {}, /--mode index needs --opensearch-url/],
    [
      ['--mode', 'index', '--opensearch-url', 'http://o', '--queue-url', 'q'],
      {},
      /--queue-url only applies in enqueue/,
    ],
    [['--queue-url', 'q', '--index-prefix', 'p'], {}, /--index-prefix only applies with --mode index/],
    [
      ['--mode', 'index', '--opensearch-url', 'http://o', '--opensearch-auth', 'iam'],
      {},
      /--opensearch-auth must be/,
    ],
    [
      ['--mode', 'index', '--opensearch-url', 'http://o', '--opensearch-auth', 'basic'],
      {},
      /OPENSEARCH_PASSWORD/,
    ],
    [['--mode', 'index', '--opensearch-url', 'http://o', '--index-prefix', 'Bad'], {}, /prefix/i],
    [['--mode', 'index', '--opensearch-url', 'http://o'], { LOG_SOURCES: '{' }, /LOG_SOURCES is not JSON/],
    [
      ['--mode', 'index', '--opensearch-url', 'http://o'],
      { LOG_SOURCES: '[{"format":"json"}]' },
      /LOG_SOURCES: .*prefix/,
    ],
  ])('rejects %j with %j', (argv, env, message) => {
    expect(() => parseBackfillArgs(['--bucket', 'b', ...argv], env)).toThrow(message);
  });
});

describe('CompletionFrontier', () => {
  it('passes a key only when every batch before it is done', () => {
    // Prepare
    const frontier = new CompletionFrontier('start');
    const [first, second, third] = ['a/10', 'a/20', 'a/30'].map((key) => frontier.register(key)) as [
      number,
      number,
      number,
    ];

    // Act & Assess: out of order, the frontier waits for the first batch.
    expect(frontier.complete(third)).toBe(false);
    expect(frontier.complete(second)).toBe(false);
    expect(frontier.lastCompleted).toBe('start');
    expect(frontier.complete(first)).toBe(true);
    expect(frontier.lastCompleted).toBe('a/30');
    expect(frontier.outstanding).toBe(0);
    expect(() => frontier.complete(first)).toThrow(/already passed/);
  });
});

describe('checkpoint files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'backfill-checkpoint-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves the newest key atomically and reads it back', async () => {
    // Prepare
    const file = path.join(dir, 'nested', 'checkpoint.json');
    const writer = new CheckpointWriter(file, 'bucket', 'logs/');

    // Act
    for (const key of ['logs/1', 'logs/2', 'logs/3']) writer.save(key);
    await writer.flush();

    // Assess
    expect(await readCheckpoint(file, 'bucket', 'logs/')).toBe('logs/3');
    expect(await readdir(path.dirname(file))).toEqual(['checkpoint.json']);
  });

  it('starts over when the file does not exist', async () => {
    expect(await readCheckpoint(path.join(dir, 'absent.json'), 'bucket', '')).toBeUndefined();
  });

  it('refuses a checkpoint of another bucket or prefix, or a file that is not one', async () => {
    // Prepare
    const file = path.join(dir, 'checkpoint.json');
    const writer = new CheckpointWriter(file, 'bucket', 'logs/');
    writer.save('logs/1');
    await writer.flush();
    const garbage = path.join(dir, 'garbage.json');
    await writeFile(garbage, 'logs/1\n');

    // Act & Assess
    await expect(readCheckpoint(file, 'other', 'logs/')).rejects.toThrow(/is for s3:\/\/bucket\/logs\//);
    await expect(readCheckpoint(file, 'bucket', '')).rejects.toThrow(/not s3:\/\/bucket\//);
    await expect(readCheckpoint(garbage, 'bucket', 'logs/')).rejects.toThrow(
      /not a logpipe backfill checkpoint/,
    );
  });
});

describe('enqueueHandler', () => {
  // Mock one instance: mocking the class would also mock the fauxqs harness' client.
  const sqs = new SQSClient({ region: 'us-east-1' });
  const sqsMock = mockClient(sqs);
  const objects: ListedObject[] = ['k0', 'k1', 'k2'].map((key, index) => ({
    key,
    size: index,
    etag: `"e${index}"`,
    lastModified: Date.UTC(2024, 0, 1),
  }));

  afterEach(() => {
    sqsMock.reset();
  });

  it('sends again only the entries SQS failed, until they are accepted', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError' }], Successful: [] })
      .resolves({ Failed: [], Successful: [] });
    const handler = enqueueHandler(sqs, 'http://queue', 'bucket', 'us-east-1', { baseDelayMs: 1 });

    // Act
    await handler.handle(objects);

    // Assess
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.Entries?.map((entry) => entry.Id)).toEqual(['0', '1', '2']);
    expect(calls[1]?.args[0].input.Entries?.map((entry) => entry.Id)).toEqual(['1']);
    expect(announcedKeys(calls[1]?.args[0].input.Entries?.map((entry) => entry.MessageBody) ?? [])).toEqual([
      'k1',
    ]);
  });

  it('gives up after the last attempt with the keys and the reasons', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: '2', SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' }] });
    const handler = enqueueHandler(sqs, 'http://queue', 'bucket', 'us-east-1', {
      maxAttempts: 3,
      baseDelayMs: 1,
    });

    // Act & Assess
    await expect(handler.handle(objects)).rejects.toThrow(
      'SQS failed "k2" (ServiceUnavailable: busy) after 3 attempts',
    );
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('does not retry a message SQS refuses as such', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameterValue', Message: 'too big' }],
    });
    const handler = enqueueHandler(sqs, 'http://queue', 'bucket', 'us-east-1', { baseDelayMs: 1 });

    // Act & Assess
    await expect(handler.handle(objects)).rejects.toThrow(
      'SQS refused "k0" (InvalidParameterValue: too big)',
    );
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});

describe('ProgressReporter', () => {
  it('draws a bar with the ETA on a terminal once the total is known', () => {
    // Prepare
    let now = 0;
    const { io, stderr } = captureIo(true);
    const progress = new ProgressReporter(io.stderr, 5000, () => now);

    // Act
    progress.listed(100, 5);
    progress.listingComplete();
    now = 10_000;
    progress.handled(50, 50_000_000);
    progress.finish();

    // Assess: 50 objects in 10 s, 50 left.
    const lastFrame = stderr().split('\r\u001b[2K').at(-1);
    expect(lastFrame).toContain('50/100 objects, 50.0 MB, 5.0 objects/s, 5.0 MB/s ETA 10s, 5 filtered out');
    expect(lastFrame).toMatch(/^\[#+\.+\] 50% /);
  });

  it('writes plain lines at most every interval when stderr is not a terminal', () => {
    // Prepare
    let now = 0;
    const { io, stderr } = captureIo(false);
    const progress = new ProgressReporter(io.stderr, 5000, () => now);

    // Act
    progress.listed(10, 0);
    now = 1000;
    progress.handled(10, 10);
    now = 6000;
    progress.handled(10, 10);

    // Assess
    expect(stderr().split('\n')).toEqual([
      'backfill: 0 objects (10 listed so far), 0 B, 0.0 objects/s, 0 B/s',
      'backfill: 20 objects (10 listed so far), 20 B, 3.3 objects/s, 3 B/s',
      '',
    ]);
  });
});

describe('logpipe backfill against fauxqs', () => {
  const fauxqs = useFauxqs({ applyEnv: true });
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'backfill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const backfill = async (argv: readonly string[], io = captureIo()) => {
    const code = await run(['--endpoint', fauxqs.endpoint, ...argv], io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  it('announces every object under the prefix, keys encoded as S3 encodes them', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const keys = ['logs/a b.log', 'logs/a+b.log', 'logs/été/日本.log', 'logs/x=1/(1).log', 'logs/😀'];
    const etags = new Map<string, string>();
    for (const key of keys) etags.set(key, await fauxqs.putObject(bucket, key, `body of ${key}`));
    await fauxqs.putObject(bucket, 'other/not-me.log', 'x');

    // Act
    const result = await backfill(['--bucket', bucket, '--prefix', 'logs/', '--queue-url', queueUrl]);
    const messages = await fauxqs.drainQueue(queueUrl);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ handled: 5, outcome: 'completed', filtered: 0 });
    const tasks = messages.flatMap((message) => {
      const content = parseMessageBody(message.Body ?? '');
      return content.kind === 'objects' ? content.objects : [];
    });
    expect(tasks.map((task) => task.key).sort()).toEqual([...keys].sort());
    for (const task of tasks) {
      expect(task).toEqual({
        bucket,
        key: task.key,
        size: Buffer.byteLength(`body of ${task.key}`),
        etag: etags.get(task.key)?.replace(/"/g, ''),
      });
    }
    // The raw bodies carry the encoded key, as S3 would send them.
    const rawKeys = messages.map(
      (message) =>
        (JSON.parse(message.Body ?? '') as { Records: [{ s3: { object: { key: string } } }] }).Records[0].s3
          .object.key,
    );
    expect(rawKeys).toContain('logs/a+b.log');
    expect(rawKeys).toContain('logs/a%2Bb.log');
    expect(rawKeys).toContain('logs/x%3D1/%281%29.log');
  });

  it('keeps only objects modified in [--since, --until)', async () => {
    // Prepare: three generations of objects, told apart by LastModified (fauxqs keeps milliseconds).
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    await fauxqs.putObject(bucket, 'old-1', 'x');
    await fauxqs.putObject(bucket, 'old-2', 'x');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const since = new Date().toISOString();
    await fauxqs.putObject(bucket, 'mid-1', 'x');
    await fauxqs.putObject(bucket, 'mid-2', 'x');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const until = new Date().toISOString();
    await fauxqs.putObject(bucket, 'new-1', 'x');
    const checkpoint = path.join(dir, 'checkpoint.json');

    // Act
    const result = await backfill([
      '--bucket',
      bucket,
      '--queue-url',
      queueUrl,
      '--since',
      since,
      '--until',
      until,
      '--checkpoint',
      checkpoint,
    ]);
    const messages = await fauxqs.drainQueue(queueUrl);

    // Assess: the checkpoint passes the filtered keys too (the listing order is mid-, new-, old-).
    expect(result.code).toBe(0);
    expect(announcedKeys(messages.map((message) => message.Body)).sort()).toEqual(['mid-1', 'mid-2']);
    expect(JSON.parse(result.stdout)).toMatchObject({ handled: 2, filtered: 3, checkpoint: 'old-2' });
    expect(await readCheckpoint(checkpoint, bucket, '')).toBe('old-2');
  });

  it('resumes after the checkpoint and starts over when the file is deleted', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    for (const key of ['k-01', 'k-02', 'k-03']) await fauxqs.putObject(bucket, key, key);
    const checkpoint = path.join(dir, 'checkpoint.json');
    const argv = ['--bucket', bucket, '--queue-url', queueUrl, '--checkpoint', checkpoint];
    await backfill(argv);
    await fauxqs.drainQueue(queueUrl);
    await fauxqs.putObject(bucket, 'k-04', 'k-04');

    // Act
    const resumed = await backfill(argv);
    const afterResume = announcedKeys((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body));
    await rm(checkpoint);
    await backfill(argv);
    const afterDelete = announcedKeys((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body));

    // Assess
    expect(resumed.stderr).toContain('resuming after "k-03"');
    expect(afterResume).toEqual(['k-04']);
    expect(afterDelete.sort()).toEqual(['k-01', 'k-02', 'k-03', 'k-04']);
  });

  it('pages through the listing with several batches in flight and checkpoints past the last page', async () => {
    // Prepare: 10-key pages (the CLI lists 1000) make page boundaries cheap to cross.
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const keys = Array.from({ length: 57 }, (_, index) => `p/${String(index).padStart(3, '0')}`);
    await Promise.all(keys.map((key) => fauxqs.putObject(bucket, key, 'xy')));
    const checkpoint = path.join(dir, 'checkpoint.json');
    const io = captureIo();
    const options = parseBackfillArgs(['--bucket', bucket, '--queue-url', queueUrl, '--concurrency', '3']);
    if (options === 'help') throw new Error('unexpected help');
    const sqs = new SQSClient({
      endpoint: fauxqs.endpoint,
      region: 'us-east-1',
      credentials: FAUXQS_CREDENTIALS,
    });

    // Act
    const summary = await runBackfill(
      { ...options, checkpointFile: checkpoint },
      {
        s3: fauxqs.s3,
        // A handler of 4 objects per batch, so batches straddle pages.
        handler: { ...enqueueHandler(sqs, queueUrl, bucket, 'us-east-1'), batchSize: 4 },
        io: io.io,
        listPageSize: 10,
      },
    );
    const announced = announcedKeys((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body));
    sqs.destroy();

    // Assess
    expect(summary).toEqual({
      bucket,
      prefix: '',
      handled: keys.length,
      handledBytes: 2 * keys.length,
      filtered: 0,
      checkpoint: keys.at(-1),
      outcome: 'completed',
    });
    expect([...announced].sort()).toEqual(keys);
    expect(await readCheckpoint(checkpoint, bucket, '')).toBe(keys.at(-1));
  });

  it('follows the bucket and picks up a new object until stopped', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    await fauxqs.putObject(bucket, 'f-1', 'x');
    const checkpoint = path.join(dir, 'checkpoint.json');
    const io = captureIo();
    const running = backfill(
      [
        '--bucket',
        bucket,
        '--queue-url',
        queueUrl,
        '--checkpoint',
        checkpoint,
        '--follow',
        '--poll-interval',
        '0.1',
      ],
      io,
    );

    // Act
    const first = await waitForKeys(fauxqs, queueUrl, 1);
    await fauxqs.putObject(bucket, 'f-2', 'x');
    const second = await waitForKeys(fauxqs, queueUrl, 1);
    io.controller.abort();
    const result = await running;

    // Assess
    expect(first).toEqual(['f-1']);
    expect(second).toEqual(['f-2']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      handled: 2,
      outcome: 'interrupted',
      checkpoint: 'f-2',
    });
    expect(await readCheckpoint(checkpoint, bucket, '')).toBe('f-2');
  });

  it('fails with a clear error and keeps the checkpoint when the queue does not exist', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    await fauxqs.putObject(bucket, 'k', 'x');
    const checkpoint = path.join(dir, 'checkpoint.json');

    // Act
    const result = await backfill([
      '--bucket',
      bucket,
      '--queue-url',
      `${fauxqs.endpoint}/000000000000/no-such-queue`,
      '--checkpoint',
      checkpoint,
    ]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/backfill: failed: .*queue/i);
    expect(JSON.parse(result.stdout)).toMatchObject({ handled: 0, outcome: 'failed' });
    await expect(readFile(checkpoint)).rejects.toThrow(/ENOENT/);
  });

  it('reports a missing bucket and a foreign checkpoint clearly', async () => {
    // Prepare
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const checkpoint = path.join(dir, 'checkpoint.json');
    await writeFile(
      checkpoint,
      JSON.stringify({ version: 1, bucket: 'elsewhere', prefix: '', lastKey: 'k', updatedAt: '' }),
    );

    // Act
    const missing = await backfill(['--bucket', 'no-such-bucket', '--queue-url', queueUrl]);
    const foreign = await backfill(['--bucket', 'b', '--queue-url', queueUrl, '--checkpoint', checkpoint]);

    // Assess
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/failed: .*bucket/i);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('is for s3://elsewhere/');
  });
});

describe('logpipe backfill --mode index against fauxqs and OpenSearch', () => {
  const PREFIX = 'bftest';
  const fauxqs = useFauxqs({ applyEnv: true });
  const openSearch = useOpenSearchTarget(PREFIX);

  beforeAll(() => {
    // The command reads the indexer's variables; the test's own flags must decide.
    delete process.env.LOG_SOURCES;
    delete process.env.INDEX_PREFIX;
  });

  const indexRun = async (bucket: string) => {
    const io = captureIo();
    const code = await run(
      [
        '--bucket',
        bucket,
        '--mode',
        'index',
        '--opensearch-url',
        openSearch.target.url,
        '--opensearch-auth',
        openSearch.target.connection.auth ?? 'none',
        '--index-prefix',
        PREFIX,
        '--endpoint',
        fauxqs.endpoint,
      ],
      io.io,
    );
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  it('indexes each object with the ids the core gives it, reports bad records, and re-runs without duplicates', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const text =
      '{"time":"2024-05-01T10:00:00Z","msg":"a"}\nnot json\n{"time":"2024-05-01T11:00:00Z","msg":"b"}\n';
    const etag = (await fauxqs.putObject(bucket, 'app/one.log', gzipSync(text))).replace(/"/g, '');
    await fauxqs.putObject(bucket, 'app/two.log', 'plain words that no format claims\n');
    const expectedIds: string[] = [];
    for await (const batch of parseObject({
      body: Readable.from([gzipSync(text)]),
      object: { bucket, key: 'app/one.log', etag },
      indexPrefix: PREFIX,
    }))
      for (const item of batch.items) if (item.kind === 'document') expectedIds.push(item.id);

    // Act
    const first = await indexRun(bucket);
    await openSearch.client.indices.refresh({ index: `${PREFIX}-*` });
    const hits = await openSearch.client.search({
      index: `${PREFIX}-*`,
      body: { query: { match_all: {} }, size: 10 },
    });
    const again = await indexRun(bucket);

    // Assess
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      handled: 2,
      outcome: 'completed',
      index: { documents: 2, duplicates: 0, rejected: 2, undetected: 1 },
    });
    expect(first.stderr).toContain(`s3://${bucket}/app/one.log record 2: parse-error`);
    expect(first.stderr).toContain(
      `s3://${bucket}/app/two.log record 1: parse-error: cannot detect the log format`,
    );
    const found = (hits.body.hits.hits as { _id: string; _source: { msg: string } }[]).map((hit) => [
      hit._id,
      hit._source.msg,
    ]);
    expect(found.sort()).toEqual(
      [
        [expectedIds[0], 'a'],
        [expectedIds[1], 'b'],
      ].sort(),
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ index: { documents: 0, duplicates: 2 } });
  });
});

describe('logpipe backfill interrupted in a real process', () => {
  const KEYS = Array.from({ length: 150 }, (_, index) => `k-${String(index).padStart(3, '0')}`);
  const CONCURRENCY = 2;
  const fauxqs = useFauxqs({ applyEnv: true });
  let proxy: LatencyProxy;
  let dir: string;

  beforeAll(async () => {
    // 100 ms per request: a run of 15 SendMessageBatch calls lasts long enough to interrupt.
    proxy = await startLatencyProxy(fauxqs.endpoint, 100);
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'backfill-kill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await proxy.stop();
  });

  /** A bucket of {@link KEYS}, a queue, and a child backfill that has saved its first checkpoint. */
  const startInterruptibleRun = async () => {
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    await Promise.all(KEYS.map((key) => fauxqs.putObject(bucket, key, key)));
    const checkpoint = path.join(dir, 'checkpoint.json');
    const argv = ['--bucket', bucket, '--queue-url', queueUrl, '--checkpoint', checkpoint];
    const child = spawnLogpipe(
      ['backfill', ...argv, '--concurrency', String(CONCURRENCY), '--endpoint', proxy.endpoint],
      fauxqs.env,
    );
    await waitForFile(checkpoint);
    return { bucket, queueUrl, checkpoint, argv, child };
  };

  const resume = async (argv: readonly string[]) => {
    const io = captureIo();
    return { code: await run(['--endpoint', fauxqs.endpoint, ...argv], io.io), stderr: io.stderr() };
  };

  it('after SIGTERM finishes the batches in hand, exits 0, and a resumed run announces each key exactly once', async () => {
    // Prepare
    const { bucket, queueUrl, checkpoint, argv, child } = await startInterruptibleRun();

    // Act
    child.child.kill('SIGTERM');
    const code = await child.exited;
    const savedAtStop = await readCheckpoint(checkpoint, bucket, '');
    const resumed = await resume(argv);
    const announced = announcedKeys((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body));

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(child.stdout())).toMatchObject({ outcome: 'interrupted', checkpoint: savedAtStop });
    expect(savedAtStop).not.toBe(KEYS.at(-1));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming after ${JSON.stringify(savedAtStop)}`);
    expect([...announced].sort()).toEqual(KEYS);
  });

  it('after SIGKILL skips nothing on resume, and re-announces only keys after the saved checkpoint', async () => {
    // Prepare
    const { bucket, queueUrl, checkpoint, argv, child } = await startInterruptibleRun();

    // Act
    child.child.kill('SIGKILL');
    await child.exited;
    const savedAtKill = (await readCheckpoint(checkpoint, bucket, '')) ?? '';

    const resumed = await resume(argv);
    const announced = announcedKeys((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body));

    // Assess
    const counts = new Map<string, number>();
    for (const key of announced) counts.set(key, (counts.get(key) ?? 0) + 1);
    const repeated = [...counts].filter(([, count]) => count > 1).map(([key]) => key);
    expect(resumed.code).toBe(0);
    expect([...counts.keys()].sort()).toEqual(KEYS);
    expect(savedAtKill).not.toBe(KEYS.at(-1));
    for (const key of repeated) expect(key > savedAtKill).toBe(true);
    // The batches in flight, and those whose checkpoint write the kill interrupted.
    expect(repeated.length).toBeLessThanOrEqual((CONCURRENCY + 1) * 10);
  });
});

async function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await readFile(file);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Waits until `count` more announcements are in the queue and returns their keys. */
async function waitForKeys(fauxqs: FauxqsHarness, queueUrl: string, count: number): Promise<string[]> {
  const keys: string[] = [];
  const deadline = Date.now() + 15_000;
  while (keys.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${keys.length} of ${count} announcements arrived`);
    keys.push(...announcedKeys((await fauxqs.drainQueue(queueUrl, 50)).map((message) => message.Body)));
  }
  return keys;
}
