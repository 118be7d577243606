import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { run } from '../../bin/cli/parse';

const REPO = path.resolve(__dirname, '..', '..');
const LINES = [
  JSON.stringify({ time: '2024-05-01T10:00:00Z', msg: 'first' }),
  'not json at all',
  '',
  JSON.stringify({ time: '2024-05-02T11:00:00Z', msg: 'fourth' }),
];
const TEXT = `${LINES.join('\n')}\n`;

interface Hit {
  readonly _index: string;
  readonly _id: string;
  readonly _source: Record<string, unknown> & {
    readonly log: { readonly line: number; readonly file: string };
  };
}

let dir: string;
let fixtures: Record<'plain' | 'gz' | 'copy' | 'empty' | 'truncated' | 'noSuffixGz' | 'fakeGz', string>;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'logpipe-parse-'));
  const file = (name: string, content: string | Buffer) => {
    const target = path.join(dir, name);
    writeFileSync(target, content);
    return target;
  };
  const many = Array.from({ length: 2000 }, (_, index) =>
    JSON.stringify({ time: 1714557600000 + index, n: index }),
  ).join('\n');
  const manyGz = gzipSync(many);
  fixtures = {
    plain: file('app.log', TEXT),
    gz: file('app.log.gz', gzipSync(TEXT)),
    copy: file('other.log', TEXT),
    empty: file('empty.log', ''),
    truncated: file('cut.log.gz', manyGz.subarray(0, Math.floor(manyGz.length / 2))),
    noSuffixGz: file('compressed-without-suffix', gzipSync(TEXT)),
    fakeGz: file('plain-with-gz-suffix.gz', TEXT),
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command in this process with captured streams. */
async function runInProcess(
  argv: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await run(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** Runs `bin/logpipe.ts` as a child process, as a user would. */
function runChild(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/logpipe.ts', ...argv], { cwd: REPO });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

const hitsOf = (stdout: string): Hit[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Hit);

const errorsOf = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { file: string; line: number; reason: string; raw: string });

describe('logpipe parse (child process)', () => {
  it('prints one hit per event, reports the bad line on stderr and exits 0', async () => {
    // Act
    const { code, stdout, stderr } = await runChild(['parse', fixtures.gz]);

    // Assess
    expect(code).toBe(0);
    const hits = hitsOf(stdout);
    expect(hits.map((hit) => [hit._index, hit._source.log.line, hit._source.msg])).toEqual([
      ['logs-json-2024.05.01', 1, 'first'],
      ['logs-json-2024.05.02', 4, 'fourth'],
    ]);
    expect(hits[0]?._source['@timestamp']).toBe('2024-05-01T10:00:00Z');
    expect(hits[0]?._source.log.file).toBe(fixtures.gz);
    expect(errorsOf(stderr)).toEqual([
      { file: fixtures.gz, line: 2, reason: expect.stringMatching(/JSON/), raw: 'not json at all' },
    ]);
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    // Prepare: enough output to fill the pipe many times over
    const big = path.join(dir, 'big.log.gz');
    const line = (index: number) => JSON.stringify({ time: 1714557600000 + index, pad: 'p'.repeat(300) });
    writeFileSync(big, gzipSync(Array.from({ length: 100_000 }, (_, index) => line(index)).join('\n')));

    // Act: read the first chunk, then close the pipe
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/logpipe.ts', 'parse', big], { cwd: REPO });
    const err: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    // Assess
    expect(first.startsWith('{"_index":"logs-json-2024.05.01"')).toBe(true);
    expect(code).toBe(0);
    expect(Buffer.concat(err).toString()).toBe('');
  });

  it('exits 2 with the usage for a usage error, and prints help', async () => {
    // Act
    const usageError = await runChild(['parse', '--format', 'apache', fixtures.plain]);
    const help = await runChild(['parse', '--help']);
    const unknownCommand = await runChild(['frobnicate']);

    // Assess
    expect(usageError.code).toBe(2);
    expect(usageError.stderr).toMatch(/unknown --format apache/);
    expect(usageError.stderr).toMatch(/Usage: logpipe parse/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--index-prefix P/);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/unknown command frobnicate[\s\S]*parse/);
  });
});

describe('logpipe parse (in process)', () => {
  it('gives the same ids on every run, and different ids to the same lines in another file', async () => {
    // Act
    const first = hitsOf((await runInProcess([fixtures.plain])).stdout);
    const again = hitsOf((await runInProcess([fixtures.plain])).stdout);
    const other = hitsOf((await runInProcess([fixtures.copy])).stdout);

    // Assess
    expect(first.map((hit) => hit._id)).toEqual(again.map((hit) => hit._id));
    expect(first).toHaveLength(2);
    expect(other.map((hit) => hit._id).filter((id) => first.some((hit) => hit._id === id))).toEqual([]);
  });

  it('detects gzip by content, not by the file name', async () => {
    // Act
    const noSuffix = await runInProcess([fixtures.noSuffixGz]);
    const fakeSuffix = await runInProcess([fixtures.fakeGz]);

    // Assess
    expect(hitsOf(noSuffix.stdout).map((hit) => hit._source.msg)).toEqual(['first', 'fourth']);
    expect(hitsOf(fakeSuffix.stdout).map((hit) => hit._source.msg)).toEqual(['first', 'fourth']);
  });

  it('prints nothing for an empty file and exits 0', async () => {
    // Act
    const result = await runInProcess([fixtures.empty]);

    // Assess
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('keeps the lines of a truncated gzip and reports the cut on stderr', async () => {
    // Act
    const { code, stdout, stderr } = await runInProcess([fixtures.truncated]);

    // Assess
    const hits = hitsOf(stdout);
    const errors = errorsOf(stderr);
    expect(code).toBe(0);
    expect(hits.length).toBeGreaterThan(100);
    expect(hits.map((hit) => hit._source.log.line)).toEqual(hits.map((_, index) => index + 1));
    expect(errors).toEqual([
      {
        file: fixtures.truncated,
        line: hits.length + 1,
        reason: expect.stringMatching(/truncated/),
        raw: expect.any(String),
      },
    ]);
  });

  it('goes on after a file that cannot be read, and exits 1', async () => {
    // Act
    const { code, stdout, stderr } = await runInProcess([path.join(dir, 'missing.log'), fixtures.plain, dir]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot read .*missing\.log: ENOENT/);
    expect(stderr).toMatch(/cannot read .*: not a regular file/);
    expect(hitsOf(stdout)).toHaveLength(2);
  });

  it('reads stdin for -, with --key, --bucket, --key-fields and --index-prefix', async () => {
    // Act
    const { code, stdout } = await runInProcess(
      [
        '--key',
        'apps/checkout/2024/x.log',
        '--bucket',
        'archive',
        '--key-fields',
        '^apps/(?<app>[^/]+)/',
        '--index-prefix',
        'dev',
        '-',
      ],
      TEXT,
    );

    // Assess
    const hits = hitsOf(stdout);
    expect(code).toBe(0);
    expect(hits[0]?._index).toBe('dev-json-2024.05.01');
    expect(hits[0]?._source).toMatchObject({
      app: 'checkout',
      log: { file: 's3://archive/apps/checkout/2024/x.log', line: 1 },
    });
  });

  it('passes the format options to the parser', async () => {
    // Prepare
    const line = '2024-05-01 10:00:00 GET /index.html';

    // Act
    const { code, stdout } = await runInProcess(
      [
        '--format',
        'regex',
        '--pattern',
        '^(?<when>\\S+ \\S+) (?<method>\\S+) (?<path>\\S+)$',
        '--timestamp-field',
        'when',
        '--timestamp-format',
        'yyyy-MM-dd HH:mm:ss',
        '-',
      ],
      `${line}\n`,
    );

    // Assess
    expect(code).toBe(0);
    expect(hitsOf(stdout)[0]?._source).toMatchObject({
      '@timestamp': '2024-05-01T10:00:00.000Z',
      method: 'GET',
      path: '/index.html',
    });
  });

  it('explains what is wrong with the arguments', async () => {
    // Act
    const results = await Promise.all([
      runInProcess([]),
      runInProcess(['--key', 'k', 'a', 'b']),
      runInProcess(['--index-prefix', 'Upper', 'a']),
      runInProcess(['--key-fields', '(no named group)', 'a']),
      runInProcess(['--pattern', '(unclosed', 'a']),
      runInProcess(['--format', 'regex', 'a']),
      runInProcess(['--bogus', 'a']),
      runInProcess(['-', '-']),
    ]);

    // Assess
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(results.map((result) => result.stderr.split('\n')[0])).toEqual([
      'logpipe parse: no FILE given (use - for stdin)',
      'logpipe parse: --key names one object: give a single FILE with it',
      expect.stringMatching(/^logpipe parse: index prefix "Upper" is not valid/),
      expect.stringMatching(/^logpipe parse: --key-fields: must contain at least one named group/),
      'logpipe parse: --pattern: must be a valid regular expression',
      'logpipe parse: --format regex needs --pattern',
      expect.stringMatching(/^logpipe parse: Unknown option '--bogus'/),
      'logpipe parse: stdin (-) can be read only once',
    ]);
  });

  it('exits 1 when a file format cannot be detected', async () => {
    // Act
    const { code, stderr } = await runInProcess(['-'], 'something unrecognisable\n');

    // Assess
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      {
        file: '-',
        line: 1,
        reason: expect.stringMatching(/cannot detect the log format/),
        raw: 'something unrecognisable',
      },
    ]);
  });
});
