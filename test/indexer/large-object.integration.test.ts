/**
 * One large object (1 GB decompressed by default; `LARGE_OBJECT_MB` changes it) through the real
 * handler: uploaded to fauxqs with a multipart upload, indexed across several invocations linked
 * by continuation messages (a per-invocation budget, `INVOCATION_MAX_CHARS`), into the OpenSearch
 * test server running in its own process without `_source` storage. It checks that every line is
 * indexed exactly once and that the handler's memory stays flat.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeAlbLog } from '../../bench/alb-log-generator';
import { CONTINUATION_TYPE } from '../../lambdas/indexer/messages';
import {
  drainIndexer,
  type IndexerRig,
  measureLog,
  RssSampler,
  type StoredObject,
  s3NotificationBody,
  sendMessages,
  startIndexerRig,
  uploadFile,
} from './support';

const MB = 1e6;
const OBJECT_BYTES = Number(process.env.LARGE_OBJECT_MB ?? 1000) * MB;
/** The object is this many copies of one generated gzip member (as `cat a.gz a.gz` makes). */
const COPIES = 10;
/** About a quarter of the object per invocation: four or five invocations. */
const INVOCATION_MAX_CHARS = Math.ceil(OBJECT_BYTES / 4);
const PREFIX = 'large';
/** The handler's memory may grow by this much, whatever the object's size. */
const MAX_RSS_GROWTH = 384 * 2 ** 20;

let rig: IndexerRig;
let workDirectory: string;
let object: StoredObject;
let lineCount: number;

beforeAll(async () => {
  rig = await startIndexerRig({
    indexPrefix: PREFIX,
    extra: { INVOCATION_MAX_CHARS: String(INVOCATION_MAX_CHARS) },
  });
  workDirectory = mkdtempSync(path.join(tmpdir(), 'indexer-large-'));
  const member = path.join(workDirectory, 'member.log.gz');
  const file = path.join(workDirectory, 'object.log.gz');
  await writeAlbLog(member, OBJECT_BYTES / COPIES);
  for (let copy = 0; copy < COPIES; copy++) {
    await pipeline(createReadStream(member), createWriteStream(file, { flags: copy === 0 ? 'w' : 'a' }));
  }
  lineCount = (await measureLog(member)).lines * COPIES;
  const key =
    'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_20240501T0000Z_10.0.0.1_large.log.gz';
  object = await uploadFile(rig.fauxqs.s3, rig.logBucket, key, file);
  rmSync(workDirectory, { recursive: true, force: true });
}, 240_000);

afterAll(async () => {
  await rig?.stop();
  if (workDirectory !== undefined) rmSync(workDirectory, { recursive: true, force: true });
});

describe('indexer handler on a large object', () => {
  it('indexes every line once across continuations, in bounded memory', async () => {
    // Prepare
    const { fauxqs, opensearch, queue, handler } = rig;
    await sendMessages(fauxqs, queue.queueUrl, [s3NotificationBody(object)]);
    const baselineRss = process.memoryUsage().rss;
    const sampler = new RssSampler();
    const started = Date.now();

    // Act
    const drained = await drainIndexer(handler, fauxqs, queue, { idleMs: 1_000 });
    const seconds = (Date.now() - started) / 1000;
    const peakRss = sampler.stop();
    const indexed = await opensearch.count(`${PREFIX}-alb-*`);
    const sentItems = (await opensearch.bulkRequests()).reduce(
      (sum, request) => sum + (request.items ?? 0),
      0,
    );

    // Assess
    const continuations = drained.bodies.filter((body) => body.includes(CONTINUATION_TYPE));
    process.stderr.write(
      `large object: ${(OBJECT_BYTES / MB).toFixed(0)} MB, ${lineCount} lines, ${drained.invocations} invocations, ` +
        `${seconds.toFixed(1)} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (baseline ${(baselineRss / 2 ** 20).toFixed(0)} MiB)\n`,
    );
    expect(drained.failed).toEqual([]);
    expect(continuations.length).toBeGreaterThanOrEqual(3);
    expect(drained.invocations).toBe(continuations.length + 1);
    expect(indexed).toBe(lineCount);
    // No document was sent twice: the continuations met exactly.
    expect(sentItems).toBe(lineCount);
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
    expect(peakRss - baselineRss).toBeLessThan(MAX_RSS_GROWTH);
  }, 300_000);
});
