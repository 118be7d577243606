/**
 * The indexer end to end on one large object: the bench's gzip ALB log (200 MB decompressed by
 * default) uploaded to fauxqs with a multipart upload, announced once, and drained through the
 * real handler against the OpenSearch test server in a process of its own. The clock runs from
 * the first invocation to the last document counted; the peak RSS is the handler's process.
 */
import {
  albKey,
  drainIndexer,
  expectIndexedOnce,
  type IndexerRig,
  measureLog,
  s3NotificationBody,
  sendMessages,
  startIndexerRig,
  uploadFile,
} from '../../test/indexer/support';
import type { BenchCase } from '../bench-case';

const PREFIX = 'bench-large';

let rig: IndexerRig;
let bytes = 0;
let lines = 0;

/** Found by `bench/run.ts` like every case under `bench/cases/`. */
export const benchCase: BenchCase = {
  name: 'indexer-large-object',
  title: 'indexer end to end: one large gzip object',
  order: 11,
  bundled: false,
  async prepare({ gzFile }) {
    rig = await startIndexerRig({ indexPrefix: PREFIX });
    ({ lines, bytes } = await measureLog(gzFile));
    const object = await uploadFile(rig.fauxqs.s3, rig.logBucket, albKey('large'), gzFile);
    await sendMessages(rig.fauxqs, rig.queue.queueUrl, [s3NotificationBody(object)]);
  },
  async run() {
    const drained = await drainIndexer(rig.handler, rig.fauxqs, rig.queue, { idleMs: 100 });
    await expectIndexedOnce(rig, drained, `${PREFIX}-alb-*`, lines);
    void rig.stop();
    return { bytes, records: lines };
  },
};
