import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FirehoseTransformationResult } from 'aws-lambda';
import { run } from '../../bin/cli/firehose-process';
import {
  CONTROL_MESSAGE,
  dataMessage,
  firehoseEvent,
  firehoseRecord,
  gzippedJson,
  logEvent,
} from './firehose-events';

const REPO = path.resolve(__dirname, '..', '..');
const T0 = Date.UTC(2024, 2, 10, 13, 30);

let dir: string;
let eventFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'logpipe-firehose-'));
  eventFile = path.join(dir, 'event.json');
  const event = firehoseEvent([
    firehoseRecord(gzippedJson(dataMessage([logEvent(T0, 'one hour')]))),
    firehoseRecord(
      gzippedJson(dataMessage([logEvent(T0, 'this hour'), logEvent(T0 + 3_600_000, 'next hour')])),
    ),
    firehoseRecord(gzippedJson(CONTROL_MESSAGE)),
  ]);
  writeFileSync(eventFile, JSON.stringify(event));
  writeFileSync(path.join(dir, 'not-json.json'), '{');
  writeFileSync(path.join(dir, 'not-event.json'), '{"records":[{"recordId":1}]}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCli(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await run(argv, { stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('logpipe firehose-process', () => {
  it('prints the response, and why records were dropped or failed, without re-ingesting', async () => {
    // Prepare, Act
    const result = await runCli([eventFile, '--no-reingest', '--decode']);

    // Assess
    expect(result.code).toBe(0);
    const response = JSON.parse(result.stdout) as FirehoseTransformationResult & {
      records: { text?: string }[];
    };
    expect(response.records.map((record) => record.result)).toEqual(['Ok', 'ProcessingFailed', 'Dropped']);
    expect(response.records[0]?.text).toBe('one hour\n');
    const notes = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(notes).toContainEqual(
      expect.objectContaining({ result: 'ProcessingFailed', reason: 're-ingestion failed: disabled' }),
    );
    expect(notes).toContainEqual(expect.objectContaining({ result: 'Dropped', reason: 'CONTROL_MESSAGE' }));
    expect(notes.at(-1)).toMatchObject({ counts: { records: 3, ok: 1, dropped: 1, failed: 1 } });
  });

  it('takes the output format and partition keys from its options', async () => {
    // Prepare, Act
    const result = await runCli([
      eventFile,
      '--no-reingest',
      '--output-format',
      'json',
      '--partition-keys',
      'logGroup,day',
    ]);

    // Assess
    const response = JSON.parse(result.stdout) as FirehoseTransformationResult;
    const first = response.records[0];
    expect(first?.metadata?.partitionKeys).toEqual({ logGroup: '%2Faws%2Flambda%2Forders', day: '10' });
    expect(JSON.parse(Buffer.from(first?.data ?? '', 'base64').toString())).toMatchObject({
      message: 'one hour',
    });
  });

  it('reports usage errors with exit status 2 and unreadable events with 1', async () => {
    // Prepare, Act
    const noFile = await runCli([]);
    const badFormat = await runCli([eventFile, '--output-format', 'xml']);
    const notJson = await runCli([path.join(dir, 'not-json.json')]);
    const notEvent = await runCli([path.join(dir, 'not-event.json')]);
    const help = await runCli(['--help']);

    // Assess
    expect(noFile).toMatchObject({ code: 2, stderr: expect.stringContaining('give the EVENT.json file') });
    expect(badFormat).toMatchObject({ code: 2, stderr: expect.stringContaining('OUTPUT_FORMAT') });
    expect(notJson).toMatchObject({ code: 1, stderr: expect.stringContaining('is not JSON') });
    expect(notEvent).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is not a Firehose transformation event'),
    });
    expect(help).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Usage: logpipe firehose-process'),
    });
  });

  it('runs through the logpipe dispatcher', () => {
    // Prepare, Act
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bin/logpipe.ts', 'firehose-process', eventFile, '--no-reingest'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );

    // Assess
    expect(child.status).toBe(0);
    const response = JSON.parse(child.stdout) as FirehoseTransformationResult;
    expect(response.records).toHaveLength(3);
  });
});
