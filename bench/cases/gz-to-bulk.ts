/**
 * The indexer's whole pure path, as `indexObject` runs it: the gzipped ALB log through
 * `encodeBulk` (gunzip, lines, the ALB byte engine with the string engine for the lines it
 * declines, ids, index names, `_source`, 5 MiB NDJSON bodies), each body's documents counted and
 * the body released as the bulk sink does once it is sent.
 */
import { createReadStream } from 'node:fs';
import type { BulkBody } from '../../lambdas/core/bulk';
import { encodeBulk } from '../../lambdas/core/bulk-encoder';
import type { BenchCase } from '../bench-case';

export const benchCase: BenchCase = {
  name: 'gz-to-bulk',
  title: 'gz → bulk-ready NDJSON (encodeBulk)',
  order: 3,
  scales: true,
  async run({ gzFile }) {
    const encoding = encodeBulk({
      body: createReadStream(gzFile, { highWaterMark: 1024 * 1024 }),
      object: {
        bucket: 'bench-logs',
        key: 'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/bench.log.gz',
        etag: '"0123456789abcdef0123456789abcdef"',
      },
      format: 'alb',
    });
    let records = 0;
    let bodyBytes = 0;
    const send = (body: BulkBody) => {
      // The sink matches the response's items to `documents`: it reads them for every body, and
      // releases the body once every document is settled.
      records += body.documents.length;
      bodyBytes += body.bytes;
      body.release?.();
    };
    for await (const batch of encoding) {
      for (const body of batch.bodies) send(body);
      if (batch.rejected.length > 0 || batch.oversized.length > 0)
        throw new Error('the bench log has no bad lines');
    }
    const last = encoding.flush();
    if (last !== undefined) send(last);
    if (bodyBytes === 0) throw new Error('no bulk body was produced');
    return { bytes: encoding.summary.bytesDecompressed, records };
  },
};
