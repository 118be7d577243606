import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDemoArgs } from '../../bin/cli/demo';
import { archivePrefix } from '../../bin/cli/demo/firehose';
import { cloudWatchSampleFiles, readSample, SAMPLE_OBJECTS } from '../../bin/cli/demo/samples';
import { CliUsageError } from '../../bin/cli/shared';
import { safePartitionValue } from '../../lambdas/firehose-processor/partition-keys';
import { createOpenSearchClient } from '../../lambdas/shared/opensearch/client';
import { spawnLogpipe } from '../support/fauxqs';
import { deleteTestIndices, openSearchTarget } from '../support/opensearch-server';

interface DemoRun {
  readonly out: string;
  readonly exitCode: number | NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `logpipe demo --out <out>` in a child process, as `npm run demo` does. */
async function runDemo(out: string, env: Record<string, string> = {}): Promise<DemoRun> {
  // No OPENSEARCH_URL from the developer's environment unless a test gives one: files by default.
  const child = spawnLogpipe(['demo', '--out', out], { OPENSEARCH_URL: '', INDEX_PREFIX: '', ...env });
  const exitCode = await child.exited;
  return { out, exitCode, stdout: child.stdout(), stderr: child.stderr() };
}

/** Every file under `directory`, relative path → content. */
async function tree(directory: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(path.relative(directory, file), await readFile(file, 'utf8'));
  }
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface BulkEntry {
  readonly index: string;
  readonly id: string;
  readonly source: { readonly log: { readonly type: string; readonly file: string; readonly line: number } };
}

/** The documents of every bulk file, action and source line paired. */
async function bulkEntries(bulkDirectory: string): Promise<BulkEntry[]> {
  const entries: BulkEntry[] = [];
  for (const [name, text] of await tree(bulkDirectory)) {
    if (!name.endsWith('.ndjson')) continue;
    const lines = text.split('\n').filter((line) => line !== '');
    for (let at = 0; at < lines.length; at += 2) {
      const action = JSON.parse(lines[at] ?? '') as { create: { _index: string; _id: string } };
      entries.push({
        index: action.create._index,
        id: action.create._id,
        source: JSON.parse(lines[at + 1] ?? '') as BulkEntry['source'],
      });
    }
  }
  return entries;
}

function countByIndexSuffix(entries: readonly BulkEntry[], prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { index } of entries) {
    const suffix = index.slice(prefix.length);
    counts.set(suffix, (counts.get(suffix) ?? 0) + 1);
  }
  return counts;
}

/** A quarantine file's records without their `at` (when they were quarantined, which differs per run). */
function withoutQuarantineTime(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { at: _at, ...record } = JSON.parse(line) as Record<string, unknown>;
      return record;
    });
}

describe('logpipe demo', () => {
  let workspace: string;
  let first: DemoRun;
  let second: DemoRun;

  beforeAll(async () => {
    workspace = await mkdtemp(path.join(tmpdir(), 'logpipe-demo-'));
    // The second run's --out already holds a stale bulk file and a file of the user's.
    const secondOut = path.join(workspace, 'second');
    await mkdir(path.join(secondOut, 'bulk'), { recursive: true });
    await writeFile(path.join(secondOut, 'bulk', 'stale.ndjson'), 'left over from an older run\n');
    await writeFile(path.join(secondOut, 'notes.txt'), 'the user keeps this\n');
    first = await runDemo(path.join(workspace, 'first'));
    second = await runDemo(secondOut);
  }, 90_000);

  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it('exits 0 and ends with the summary and where to look', () => {
    expect({ exitCode: first.exitCode, stderr: first.stderr }).toEqual({
      exitCode: 0,
      stderr: expect.not.stringContaining('unexpected') as unknown as string,
    });
    expect(first.stdout).toMatch(/^Summary$/m);
    expect(first.stdout).toMatch(
      new RegExp(`objects uploaded and announced\\s+${SAMPLE_OBJECTS.length}$`, 'm'),
    );
    expect(first.stdout).toMatch(/messages in the DLQ\s+1$/m);
    expect(first.stdout).toMatch(/^Where to look$/m);
    expect(first.stdout).toContain('/_bulk');
  });

  it('indexes every sample object, so every format has documents in the bulk files', async () => {
    // Act
    const entries = await bulkEntries(path.join(first.out, 'bulk'));

    // Assess
    const formatsByFile = new Map(entries.map((entry) => [entry.source.log.file, entry.source.log.type]));
    const expected = new Map(
      SAMPLE_OBJECTS.map((sample) => [`s3://logpipe-demo-logs/${sample.key}`, sample.format as string]),
    );
    expect(formatsByFile).toEqual(expected);
    for (const entry of entries)
      expect(entry.index).toMatch(new RegExp(`^logs-${entry.source.log.type}-\\d{4}\\.\\d{2}\\.\\d{2}$`));
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
  });

  it('writes the index templates next to the bulk bodies', async () => {
    // Act
    const templates = await readdir(path.join(first.out, 'bulk', '_index_template'));

    // Assess
    for (const format of new Set(SAMPLE_OBJECTS.map((sample) => sample.format)))
      expect(templates).toContain(`logs-${format}.json`);
  });

  it('quarantines the bad ALB line, and only it, with its reason and origin', async () => {
    // Prepare
    const alb = SAMPLE_OBJECTS.find((sample) => sample.format === 'alb');
    const albLines = (await readSample(alb?.file ?? '')).toString('utf8').split('\n');

    // Act
    const files = [...(await tree(path.join(first.out, 'quarantine'))).values()];

    // Assess
    const records = files.flatMap((text) => withoutQuarantineTime(text));
    expect(records).toEqual([
      expect.objectContaining({
        reason: 'parse-error',
        record: 4,
        raw: albLines[3],
        format: 'alb',
        object: expect.objectContaining({ bucket: 'logpipe-demo-logs', key: alb?.key }),
      }),
    ]);
    const entries = await bulkEntries(path.join(first.out, 'bulk'));
    const albLinesIndexed = entries
      .filter((entry) => entry.source.log.type === 'alb')
      .map((entry) => entry.source.log.line)
      .sort();
    expect(albLinesIndexed).toEqual([1, 2, 3, 5]);
  });

  it('archives every CloudWatch Logs event exactly once, in the partition of its own hour', async () => {
    // Prepare
    const payloads = await Promise.all(
      (await cloudWatchSampleFiles()).map(async (file) =>
        JSON.parse((await readSample(file)).toString('utf8')),
      ),
    );
    // The control message is dropped by the processor: only data messages' events are archived.
    const expectedIds = payloads
      .filter((payload: { messageType: string }) => payload.messageType === 'DATA_MESSAGE')
      .flatMap((payload: { logEvents: { id: string }[] }) => payload.logEvents.map((event) => event.id));

    // Act
    const archive = await tree(path.join(first.out, 'firehose'));

    // Assess
    const archived = [...archive.entries()].flatMap(([file, text]) =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => ({
          file,
          ...(JSON.parse(line) as { id: string; timestamp: string; logGroup: string; logStream: string }),
        })),
    );
    expect(archived.map((event) => event.id).sort()).toEqual(expectedIds.sort());
    for (const event of archived) {
      const time = new Date(event.timestamp);
      const prefix = archivePrefix({
        logGroup: safePartitionValue(event.logGroup),
        logStream: safePartitionValue(event.logStream),
        year: String(time.getUTCFullYear()),
        month: String(time.getUTCMonth() + 1).padStart(2, '0'),
        day: String(time.getUTCDate()).padStart(2, '0'),
        hour: String(time.getUTCHours()).padStart(2, '0'),
      });
      expect(path.dirname(event.file) + path.sep).toBe(prefix);
    }
    const hours = await readdir(
      path.join(first.out, 'firehose', 'logs', '%2Fec2%2Fsyslog', 'i-0a1b2c3d4e5f67890', '2024', '03', '01'),
    );
    expect(hours.sort()).toEqual(['10', '11']);
  });

  it('gives the same documents, ids and archive on a second run, and cleans only its own folders', async () => {
    // Act
    const [firstBulk, secondBulk, firstArchive, secondArchive, firstQuarantine, secondQuarantine] =
      await Promise.all([
        tree(path.join(first.out, 'bulk')),
        tree(path.join(second.out, 'bulk')),
        tree(path.join(first.out, 'firehose')),
        tree(path.join(second.out, 'firehose')),
        tree(path.join(first.out, 'quarantine')),
        tree(path.join(second.out, 'quarantine')),
      ]);

    // Assess
    expect(second.exitCode).toBe(0);
    expect(secondBulk).toEqual(firstBulk);
    expect(secondArchive).toEqual(firstArchive);
    expect([...secondQuarantine.keys()]).toEqual([...firstQuarantine.keys()]);
    expect([...secondQuarantine.values()].map(withoutQuarantineTime)).toEqual(
      [...firstQuarantine.values()].map(withoutQuarantineTime),
    );
    expect(await readFile(path.join(second.out, 'notes.txt'), 'utf8')).toBe('the user keeps this\n');
  });

  it('indexes the same documents into the cluster at OPENSEARCH_URL', async () => {
    // Prepare
    const prefix = 'demotest';
    const target = await openSearchTarget();
    const client = createOpenSearchClient(target.connection);
    const out = path.join(workspace, 'cluster');
    try {
      // Act
      const run = await runDemo(out, {
        OPENSEARCH_URL: target.url,
        OPENSEARCH_AUTH: target.connection.auth ?? 'none',
        ...(target.connection.username !== undefined && { OPENSEARCH_USERNAME: target.connection.username }),
        ...(target.connection.password !== undefined && { OPENSEARCH_PASSWORD: target.connection.password }),
        INDEX_PREFIX: prefix,
      });

      // Assess
      expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({
        exitCode: 0,
        stderr: expect.not.stringContaining('unexpected') as unknown as string,
      });
      const expected = countByIndexSuffix(await bulkEntries(path.join(first.out, 'bulk')), 'logs');
      await client.transport.request({ method: 'POST', path: `/${prefix}-*/_refresh` });
      const inCluster = new Map<string, number>();
      for (const suffix of expected.keys()) {
        const response = await client.transport.request({
          method: 'GET',
          path: `/${prefix}${suffix}/_count`,
        });
        inCluster.set(suffix, (response.body as { count: number }).count);
      }
      expect(inCluster).toEqual(expected);
      await expect(readdir(path.join(out, 'bulk'))).rejects.toThrow(/ENOENT/);
    } finally {
      await deleteTestIndices(client, prefix);
      await client.close();
      await target.close();
    }
  }, 60_000);
});

describe('logpipe demo with an unreachable OPENSEARCH_URL', () => {
  it('fails at once with a clear message instead of retrying every message', async () => {
    // Prepare: a port that was free a moment ago, so nothing listens on it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const out = await mkdtemp(path.join(tmpdir(), 'logpipe-demo-unreachable-'));

    try {
      // Act
      const run = await runDemo(out, { OPENSEARCH_URL: `http://127.0.0.1:${port}` });

      // Assess
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(`the cluster at http://127.0.0.1:${port} does not answer`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('parseDemoArgs', () => {
  it('defaults to ./out and stopping the emulator at the end', () => {
    expect(parseDemoArgs([])).toEqual({ out: 'out', keepRunning: false });
  });

  it('reads --out and --keep-running, and --help', () => {
    expect(parseDemoArgs(['--out', '/tmp/x', '--keep-running'])).toEqual({
      out: '/tmp/x',
      keepRunning: true,
    });
    expect(parseDemoArgs(['-h'])).toBe('help');
  });

  it.each([[['--bogus']], [['extra']], [['--out', '']]])('refuses %j with a usage error', (argv) => {
    expect(() => parseDemoArgs(argv)).toThrow(CliUsageError);
  });
});
