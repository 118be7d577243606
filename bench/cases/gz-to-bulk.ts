/**
 * The indexer's whole pure path: the gzipped ALB log through `parseObject` (gunzip, lines, the ALB
 * parser, ids, index names, `_source`) and the bulk batcher (5 MiB NDJSON bodies, then dropped).
 */
import { createReadStream } from 'node:fs';
import { BulkBatcher } from '../../lambdas/core/bulk';
import { parseObject } from '../../lambdas/core/parse-object';
import type { BenchCase } from '../bench-case';

export const benchCase: BenchCase = {
  name: 'gz-to-bulk',
  title: 'gz → bulk-ready NDJSON (parseObject + batching)',
  order: 3,
  scales: true,
  async run({ gzFile }) {
    const parse = parseObject({
      body: createReadStream(gzFile, { highWaterMark: 1024 * 1024 }),
      object: {
        bucket: 'bench-logs',
        key: 'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/bench.log.gz',
        etag: '"0123456789abcdef0123456789abcdef"',
      },
      format: 'alb',
    });
    const batcher = new BulkBatcher();
    let records = 0;
    let bodyBytes = 0;
    for await (const batch of parse) {
      for (const item of batch.items) {
        if (item.kind !== 'document') continue;
        records++;
        const body = batcher.add(item);
        if (body?.kind === 'body') bodyBytes += body.bytes;
      }
    }
    bodyBytes += batcher.flush()?.bytes ?? 0;
    if (bodyBytes === 0) throw new Error('no bulk body was produced');
    return { bytes: parse.summary.bytesDecompressed, records };
  },
};
