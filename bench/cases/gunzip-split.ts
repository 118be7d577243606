/**
 * The limit: plain gunzip and line split, written as simply and as fast as Node allows (a zlib
 * stream with 256 KiB chunks, `Buffer.indexOf` for line feeds, one string per line). No parsing,
 * no bounds, no bookkeeping: every other case is compared with this one.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { BenchCase } from '../bench-case';

export const benchCase: BenchCase = {
  name: 'gunzip-split',
  title: 'gunzip + line split (the limit)',
  order: 1,
  isLimit: true,
  async run({ gzFile }) {
    const lines = createReadStream(gzFile, { highWaterMark: 1024 * 1024 }).pipe(
      createGunzip({ chunkSize: 256 * 1024 }),
    );
    let bytes = 0;
    let records = 0;
    let carry: Buffer | undefined;
    for await (const chunk of lines as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      let start = 0;
      if (carry !== undefined) {
        const newline = chunk.indexOf(10);
        if (newline === -1) {
          carry = Buffer.concat([carry, chunk]);
          continue;
        }
        if (Buffer.concat([carry, chunk.subarray(0, newline)]).toString('utf8').length > 0) records++;
        carry = undefined;
        start = newline + 1;
      }
      for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
        if (chunk.toString('utf8', start, newline).length > 0) records++;
        start = newline + 1;
      }
      if (start < chunk.length) carry = chunk.subarray(start);
    }
    if (carry !== undefined) records++;
    return { bytes, records };
  },
};
