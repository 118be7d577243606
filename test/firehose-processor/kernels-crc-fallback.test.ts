/**
 * On a Node without `zlib.crc32` (before 20.15 and 22.2) the kernels check a payload's CRC-32
 * with their own implementation: the same payloads are taken and the same refused.
 */
import { gzipSync } from 'node:zlib';

jest.mock('node:zlib', () => {
  const { crc32: _withoutCrc32, ...zlib } = jest.requireActual<typeof import('node:zlib')>('node:zlib');
  return zlib;
});

import * as zlib from 'node:zlib';
import { gunzipBase64Payload } from '../../lambdas/firehose-processor/kernels';

describe('gunzipBase64Payload without zlib.crc32', () => {
  it('checks the CRC-32 itself', () => {
    expect(typeof (zlib as { crc32?: unknown }).crc32).toBe('undefined');
    const input = Buffer.from(
      Array.from({ length: 5000 }, (_, index) => `line ${index} of the payload\n`).join(''),
    );
    const gzipped = gzipSync(input);
    expect(gunzipBase64Payload(gzipped.toString('base64'), 1 << 20)?.equals(input)).toBe(true);
    for (const at of [gzipped.length - 8, gzipped.length - 5]) {
      const badCrc = Buffer.from(gzipped);
      badCrc[at] = (badCrc[at] ?? 0) ^ 0x10;
      expect(gunzipBase64Payload(badCrc.toString('base64'), 1 << 20)).toBeUndefined();
    }
  });
});
