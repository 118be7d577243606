/**
 * Parse only: the plain (already decompressed) ALB log through the object reader and the ALB
 * parser; no gunzip, no documents, no bulk. Splitting a plain file costs little next to parsing
 * (the reader splits several hundred MB/s), so this is the parser's own speed.
 */
import { createReadStream } from 'node:fs';
import { albFormat } from '../../lambdas/core/formats/alb';
import { readRecords } from '../../lambdas/core/object-reader';
import type { BenchCase } from '../bench-case';

export const benchCase: BenchCase = {
  name: 'alb-parse-only',
  title: 'ALB parse only (plain input)',
  order: 2,
  async run({ plainFile }) {
    const parser = albFormat.createParser({ object: { key: plainFile }, options: {} });
    const reader = readRecords(createReadStream(plainFile, { highWaterMark: 1024 * 1024 }), 'lines');
    let bytes = 0;
    let records = 0;
    for await (const batch of reader) {
      for (const item of batch.items) {
        if (item.kind !== 'record') continue;
        bytes += item.text.length + 1;
        if (parser.parse(item.text, item.recordNumber).kind === 'event') records++;
      }
    }
    return { bytes, records };
  },
};
