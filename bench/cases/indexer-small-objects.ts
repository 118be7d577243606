/**
 * The indexer end to end on many small objects, as S3 delivers ALB logs (one object per load
 * balancer node every five minutes): the bench log cut into 2,000 gzip objects (~100 KB
 * decompressed, ~16 KB gzip each), one S3 notification each, drained through the real handler
 * (10 messages an invocation) against fauxqs and the OpenSearch test server in processes of their
 * own. The clock runs from the first invocation to the last document counted; the peak RSS is the
 * handler's process.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import {
  albKey,
  drainIndexer,
  expectIndexedOnce,
  type IndexerRig,
  measureLog,
  putObject,
  s3NotificationBody,
  sendMessages,
  startIndexerRig,
} from '../../test/indexer/support';
import type { BenchCase } from '../bench-case';

const OBJECTS = 2_000;
/** The handler's MESSAGE_CONCURRENCY; `BENCH_MESSAGE_CONCURRENCY` overrides it. */
const MESSAGE_CONCURRENCY = Number(process.env.BENCH_MESSAGE_CONCURRENCY ?? 4);
/** Milliseconds added to each S3 and OpenSearch request (`BENCH_LATENCY_MS`), as remote services have. */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const PREFIX = 'bench-small';

let rig: IndexerRig;
let bytes = 0;
let lines = 0;

/** Cuts the plain log into `OBJECTS` gzip objects of consecutive lines and announces each. */
async function uploadObjects(rig: IndexerRig, plainFile: string, totalLines: number): Promise<void> {
  const perObject = Math.ceil(totalLines / OBJECTS);
  const bodies: string[] = [];
  let pending: string[] = [];
  const flush = async (): Promise<void> => {
    const text = `${pending.join('\n')}\n`;
    const object = await putObject(
      rig.fauxqs,
      rig.logBucket,
      albKey(`small-${bodies.length}`),
      gzipSync(text),
    );
    bodies.push(s3NotificationBody(object));
    bytes += Buffer.byteLength(text);
    lines += pending.length;
    pending = [];
  };
  for await (const line of createInterface({
    input: createReadStream(plainFile),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    pending.push(line);
    if (pending.length === perObject) await flush();
  }
  if (pending.length > 0) await flush();
  await sendMessages(rig.fauxqs, rig.queue.queueUrl, bodies);
}

/** Found by `bench/run.ts` like every case under `bench/cases/`. */
export const benchCase: BenchCase = {
  name: 'indexer-small-objects',
  title: `indexer end to end: ${OBJECTS.toLocaleString('en')} small gzip objects, ${MESSAGE_CONCURRENCY} at a time${LATENCY_MS > 0 ? `, +${LATENCY_MS} ms a request` : ''}`,
  order: 10,
  bundled: false,
  async prepare({ plainFile }) {
    rig = await startIndexerRig({
      indexPrefix: PREFIX,
      latencyMs: LATENCY_MS,
      extra: { MESSAGE_CONCURRENCY: String(MESSAGE_CONCURRENCY) },
    });
    await uploadObjects(rig, plainFile, (await measureLog(plainFile)).lines);
  },
  async run() {
    const started = Date.now();
    const drained = await drainIndexer(rig.handler, rig.fauxqs, rig.queue, { idleMs: 100 });
    await expectIndexedOnce(rig, drained, `${PREFIX}-alb-*`, lines);
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `  ${OBJECTS} objects in ${drained.invocations} invocations: ${(OBJECTS / seconds).toFixed(0)} objects/s\n`,
    );
    void rig.stop();
    return { bytes, records: lines };
  },
};
