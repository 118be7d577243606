import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { run as runBackfillCommand } from '../../bin/cli/backfill';
import type { CommandIo } from '../../bin/cli/shared';
import {
  eventFromLine,
  NxlogKeyNamer,
  parseShipArgs,
  readUntilStopped,
  run,
  runShip,
  type ShipOptions,
} from '../../bin/cli/ship';
import { parseMessageBody } from '../../lambdas/indexer/messages';
import { spawnLogpipe, useFauxqs } from '../support/fauxqs';

const READ_AT = Date.UTC(2024, 4, 6, 7, 8, 9, 10);
const READ_ISO = '2024-05-06T07:08:09.010Z';

function captureIo() {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    stdout: new PassThrough().on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    }),
    stderr: new PassThrough().on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    }),
    signal: controller.signal,
  };
  return { io, controller, stdout: () => stdout, stderr: () => stderr };
}

const NXLOG_KEY = /^web-01\/\d{4}-\d{2}-\d{2}\/\d{2}\.\d{2}\.\d{2}\.[1-9]$/;

describe('eventFromLine', () => {
  it('wraps a plain line with the time it was read and this host', () => {
    // Act
    const event = JSON.parse(eventFromLine('disk almost full', 'web-01', READ_AT));

    // Assess
    expect(event).toEqual({ '@timestamp': READ_ISO, host: 'web-01', message: 'disk almost full' });
  });

  it('adds the syslog header fields and the line’s own time to a syslog line', () => {
    // Prepare
    const line = '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su 77 ID47 - failed for lonvick';

    // Act
    const event = JSON.parse(eventFromLine(line, 'web-01', READ_AT));

    // Assess: RFC 5424 PRI 34 = facility 4 (auth), severity 2 (crit).
    expect(event).toMatchObject({
      '@timestamp': '2003-10-11T22:14:15.003Z',
      host: 'web-01',
      message: line,
      hostname: 'mymachine.example.com',
      app_name: 'su',
      pid: 77,
      msgid: 'ID47',
      facility: 'auth',
      severity: 'crit',
    });
  });

  it('infers an RFC 3164 year from the time the line was read', () => {
    // Act
    const event = JSON.parse(
      eventFromLine('<13>May  6 07:00:00 host1 cron[12]: job done', 'web-01', READ_AT),
    );

    // Assess
    expect(event).toMatchObject({
      '@timestamp': '2024-05-06T07:00:00.000Z',
      hostname: 'host1',
      app_name: 'cron',
      pid: 12,
    });
  });

  it('keeps a JSON object’s keys, which override host and message', () => {
    // Prepare
    const line =
      '{"level":"warn","message":"slow","host":"app-7","@timestamp":"2024-05-06T09:00:00+02:00","n":[1,2]}';

    // Act
    const event = JSON.parse(eventFromLine(line, 'web-01', READ_AT));

    // Assess
    expect(event).toEqual({
      '@timestamp': '2024-05-06T07:00:00.000Z',
      host: 'app-7',
      message: 'slow',
      level: 'warn',
      n: [1, 2],
    });
  });

  it('ships a JSON object whose @timestamp is not a time as plain text, losing nothing', () => {
    // Prepare
    const line = '{"@timestamp":"yesterday","message":"x"}';

    // Act
    const event = JSON.parse(eventFromLine(line, 'web-01', READ_AT));

    // Assess
    expect(event).toEqual({ '@timestamp': READ_ISO, host: 'web-01', message: line });
  });

  it('keeps __proto__ and constructor keys as plain data', () => {
    // Act
    const text = eventFromLine('{"__proto__":{"polluted":true},"constructor":"c"}', 'web-01', READ_AT);

    // Assess
    expect(text).toBe(
      `{"@timestamp":"${READ_ISO}","host":"web-01","message":"{\\"__proto__\\":{\\"polluted\\":true},\\"constructor\\":\\"c\\"}","__proto__":{"polluted":true},"constructor":"c"}`,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('NxlogKeyNamer', () => {
  it('names objects NAME/YYYY-MM-DD/HH.MM.SS.N in UTC, counting from 1 within a second', () => {
    // Prepare
    const namer = new NxlogKeyNamer('web-01');
    const second = Date.UTC(2024, 0, 2, 3, 4, 5);

    // Act
    const names = [second, second + 400, second + 999, second + 1000].map((now) => namer.next(now));

    // Assess
    expect(names).toEqual([
      { key: 'web-01/2024-01-02/03.04.05.1' },
      { key: 'web-01/2024-01-02/03.04.05.2' },
      { key: 'web-01/2024-01-02/03.04.05.3' },
      { key: 'web-01/2024-01-02/03.04.06.1' },
    ]);
  });

  it('asks to wait for the next second rather than write a tenth object, which would sort before the second', () => {
    // Prepare
    const namer = new NxlogKeyNamer('s');
    const second = Date.UTC(2024, 0, 2, 3, 4, 5);
    for (let index = 0; index < 9; index += 1) namer.next(second);

    // Act
    const tenth = namer.next(second + 250);

    // Assess
    expect(tenth).toEqual({ waitMs: 750 });
  });
});

describe('parseShipArgs', () => {
  it('reads stdin by default, with the default batch bounds', () => {
    expect(parseShipArgs(['--bucket', 'b', '--server', 'web-01'])).toEqual({
      bucket: 'b',
      server: 'web-01',
      batchLines: 10_000,
      batchMs: 60_000,
      inputs: ['-'],
    });
  });

  it.each([
    [['--server', 's'], /--bucket is required/],
    [['--bucket', 'b'], /--server is required/],
    [['--bucket', 'b', '--server', 'a/b'], /--server must be 1-200 characters without "\/"/],
    [['--bucket', 'b', '--server', ''], /--server must be/],
    [['--bucket', 'b', '--server', 's', '--batch-lines', '0'], /--batch-lines must be a positive integer/],
    [['--bucket', 'b', '--server', 's', '--batch-lines', '1.5'], /--batch-lines must be a positive integer/],
    [['--bucket', 'b', '--server', 's', '--batch-seconds=-1'], /--batch-seconds must be a positive number/],
    [['--bucket', 'b', '--server', 's', '--gzip'], /Unknown option '--gzip'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseShipArgs(argv)).toThrow(message);
  });
});

describe('readUntilStopped', () => {
  it('still yields what the stream has buffered when stopped, then stops without waiting', async () => {
    // Prepare
    const stream = new PassThrough();
    const controller = new AbortController();
    stream.write('first\n');
    stream.write('second, not newline-terminated');
    controller.abort();

    // Act
    const chunks: Buffer[] = [];
    for await (const chunk of readUntilStopped(stream, controller.signal)) chunks.push(chunk);

    // Assess
    expect(Buffer.concat(chunks).toString()).toBe('first\nsecond, not newline-terminated');
  });
});

describe('logpipe ship against fauxqs', () => {
  const fauxqs = useFauxqs({ applyEnv: true });
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ship-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Every shipped event under `prefix`, object by object, in key order. */
  const shippedObjects = async (bucket: string, prefix: string) => {
    const listed = await fauxqs.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const objects: { key: string; events: Record<string, unknown>[] }[] = [];
    for (const { Key } of listed.Contents ?? []) {
      const object = await fauxqs.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const text = gunzipSync(
        await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())),
      ).toString();
      objects.push({
        key: Key ?? '',
        events: text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      });
    }
    return objects;
  };

  it('ships files in batches of --batch-lines as gzip NDJSON under NXLog keys, and backfill reads them back', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const lines = Array.from({ length: 7 }, (_, index) => `line ${index + 1}`);
    const file = path.join(dir, 'app.log');
    await writeFile(file, `${lines.slice(0, 5).join('\n')}\n\n${lines.slice(5).join('\r\n')}`);
    const ship = captureIo();

    // Act
    const code = await run(
      ['--bucket', bucket, '--server', 'web-01', '--batch-lines', '3', '--endpoint', fauxqs.endpoint, file],
      ship.io,
    );
    const objects = await shippedObjects(bucket, 'web-01/');
    const backfill = captureIo();
    const backfillCode = await runBackfillCommand(
      ['--bucket', bucket, '--prefix', 'web-01/', '--queue-url', queueUrl, '--endpoint', fauxqs.endpoint],
      backfill.io,
    );
    const announced = (await fauxqs.drainQueue(queueUrl)).flatMap((message) => {
      const content = parseMessageBody(message.Body ?? '');
      return content.kind === 'objects' ? content.objects.map((object) => object.key) : [];
    });

    // Assess
    expect(code).toBe(0);
    expect(objects.map((object) => object.events.length)).toEqual([3, 3, 1]);
    expect(objects.flatMap((object) => object.events.map((event) => event.message))).toEqual(lines);
    for (const { key } of objects) expect(key).toMatch(NXLOG_KEY);
    const summary = JSON.parse(ship.stdout());
    expect(summary).toMatchObject({ objects: 3, events: 7, lineErrors: 0, outcome: 'completed' });
    expect([summary.firstKey, summary.lastKey]).toEqual([objects[0]?.key, objects[2]?.key]);
    expect(backfillCode).toBe(0);
    expect(announced.sort()).toEqual(objects.map((object) => object.key).sort());
  });

  it('writes a partial batch after --batch-seconds while the input stays open', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const input = new PassThrough();
    const { io } = captureIo();
    const options: ShipOptions = { bucket, server: 'web-01', batchLines: 1000, batchMs: 200, inputs: ['-'] };

    // Act
    const running = runShip(options, { s3: fauxqs.s3, io, open: () => input, host: 'h' });
    input.write('one\ntwo\n');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const whileOpen = await shippedObjects(bucket, 'web-01/');
    input.end('three\n');
    const summary = await running;
    const atEnd = await shippedObjects(bucket, 'web-01/');

    // Assess
    expect(whileOpen.map((object) => object.events.map((event) => event.message))).toEqual([['one', 'two']]);
    expect(atEnd.map((object) => object.events.map((event) => event.message))).toEqual([
      ['one', 'two'],
      ['three'],
    ]);
    expect(summary).toMatchObject({ objects: 2, events: 3, outcome: 'completed' });
  });

  it('flushes what it has read when stopped, and reports an over-long line without losing the rest', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const input = new PassThrough();
    const { io, controller, stderr } = captureIo();
    const options: ShipOptions = {
      bucket,
      server: 'web-01',
      batchLines: 1000,
      batchMs: 60_000,
      inputs: ['-'],
    };
    const running = runShip(options, { s3: fauxqs.s3, io, open: () => input, host: 'h' });

    // Act
    input.write(`before\n${'x'.repeat(1024 * 1024 + 10)}\nafter\npartial without newline`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    const summary = await running;
    const objects = await shippedObjects(bucket, 'web-01/');

    // Assess
    const events = objects.flatMap((object) => object.events);
    expect(events.map((event) => (event.ship_error === undefined ? event.message : 'ERROR'))).toEqual([
      'before',
      'ERROR',
      'after',
      'partial without newline',
    ]);
    expect(events[1]?.ship_error).toMatch(/longer than/);
    expect(summary).toMatchObject({ objects: 1, events: 4, lineErrors: 1, outcome: 'interrupted' });
    expect(stderr()).toMatch(/ship: stdin:2: /);
  });

  it('keeps the events of a batch it cannot upload in a local file and fails', async () => {
    // Prepare
    const { io } = captureIo();
    const options: ShipOptions = {
      bucket: 'no-such-bucket',
      server: 'web-01',
      batchLines: 2,
      batchMs: 60_000,
      inputs: ['-'],
    };

    // Act
    const summary = await runShip(options, {
      s3: fauxqs.s3,
      io,
      open: () => Readable.from(['a\nb\nc\n']),
      host: 'h',
      unsentDir: dir,
    });

    // Assess
    expect(summary).toMatchObject({ objects: 0, events: 0, outcome: 'failed' });
    expect(summary.error).toMatch(/bucket/i);
    const unsent = (await readFile(summary.unsentFile ?? '', 'utf8')).trim().split('\n');
    expect(unsent.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual(['a', 'b', 'c']);
  });

  it('flushes the last batch on SIGTERM in a real process and exits 0', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    const child = spawnLogpipe(
      ['ship', '--bucket', bucket, '--server', 'web-01', '--batch-seconds', '600'],
      fauxqs.env,
    );
    await child.waitForStderr('ship: reading stdin');

    // Act
    child.child.stdin.write('<13>May  6 07:00:00 host1 cron[12]: job done\n{"level":"info"}\nlast line');
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.child.kill('SIGTERM');
    const code = await child.exited;
    const objects = await shippedObjects(bucket, 'web-01/');

    // Assess
    expect(code).toBe(0);
    expect(objects).toHaveLength(1);
    expect(objects[0]?.events.map((event) => event.message)).toEqual([
      '<13>May  6 07:00:00 host1 cron[12]: job done',
      '{"level":"info"}',
      'last line',
    ]);
    expect(objects[0]?.events[0]).toMatchObject({ hostname: 'host1', app_name: 'cron' });
    expect(objects[0]?.events[1]).toMatchObject({ level: 'info' });
    expect(JSON.parse(child.stdout())).toMatchObject({ objects: 1, events: 3, outcome: 'interrupted' });
  });
});
