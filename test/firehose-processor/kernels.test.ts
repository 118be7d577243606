/**
 * The WebAssembly kernels against Node's own implementations: libdeflate's gunzip against zlib,
 * the base64 writer against `Buffer#toString('base64')`, and the raw kernel reading a payload
 * in place where the gunzip left it against the general path.
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import {
  Base64Batch,
  gunzipBase64Payload,
  rawOutputOfEvents,
} from '../../lambdas/firehose-processor/kernels';
import { PayloadHeaderReader } from '../../lambdas/firehose-processor/payload-header';
import { parseCloudWatchPayload } from '../../lambdas/firehose-processor/record-data';
import { dataMessage, logEvent } from './firehose-events';

const MiB = 1024 * 1024;

/** The kernel's decompression of gzip'd bytes, given as a record's base64 data. */
function gunzipPayload(gzipped: Buffer, maxBytes: number): Buffer | undefined {
  return gunzipBase64Payload(gzipped.toString('base64'), maxBytes);
}

function base64Texts(outputs: readonly Uint8Array[]): string[] {
  const batch = new Base64Batch();
  for (const output of outputs) batch.add(output);
  return batch.texts();
}

/** Text that compresses like logs, with random bytes mixed in so that every block type occurs. */
function logLikeBytes(size: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < size; index++) {
    const line = `<30>Mar 10 13:15:${String(index % 60).padStart(2, '0')} host-${(index * seed) % 97} app[${index}]: ${randomBytes(index % 7).toString('hex')} message ${index}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

describe('gunzipBase64Payload', () => {
  it('decompresses what zlib decompresses, at every level and size, into one reused memory', () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('x'),
      logLikeBytes(1000, 3),
      randomBytes(70_000),
      logLikeBytes(300_000, 7),
      logLikeBytes(2 * MiB, 11),
      logLikeBytes(5000, 13),
    ];
    for (const input of inputs) {
      for (const level of [0, 1, 6, 9]) {
        const gzipped = gzipSync(input, { level });
        const decompressed = gunzipPayload(gzipped, 16 * MiB);
        expect([input.length, level, decompressed?.equals(gunzipSync(gzipped))]).toEqual([
          input.length,
          level,
          true,
        ]);
      }
    }
  });

  it('leaves to zlib whatever is not one valid member within the bound', () => {
    const input = logLikeBytes(50_000, 5);
    const gzipped = gzipSync(input);
    const corrupt = Buffer.from(gzipped);
    const middle = Math.floor(corrupt.length / 2);
    corrupt[middle] = (corrupt[middle] ?? 0) ^ 0xff;
    const badCrc = Buffer.from(gzipped);
    badCrc[badCrc.length - 6] = (badCrc[badCrc.length - 6] ?? 0) ^ 0x01;
    const cases: [string, Buffer, number][] = [
      ['two members', Buffer.concat([gzipSync('a\n'), gzipSync('b\n')]), MiB],
      ['truncated', gzipped.subarray(0, gzipped.length - 10), MiB],
      ['corrupt data', corrupt, MiB],
      ['a wrong CRC', badCrc, MiB],
      ['over the bound', gzipped, input.length - 1],
      ['too short for gzip', Buffer.from([0x1f, 0x8b, 8]), MiB],
      ['trailing garbage', Buffer.concat([gzipped, Buffer.from('junk')]), MiB],
    ];
    for (const [name, data, maxBytes] of cases) {
      expect([name, gunzipPayload(data, maxBytes)]).toEqual([name, undefined]);
    }
    const base64 = gzipped.toString('base64');
    const notStrict: [string, string][] = [
      ['a character outside the alphabet', `${base64.slice(0, 8)}*${base64.slice(9)}`],
      ['a length not a multiple of 4', base64.slice(0, -1)],
      ['padding inside', `${base64.slice(0, 4)}====${base64.slice(8)}`],
    ];
    for (const [name, text] of notStrict) {
      expect([name, gunzipBase64Payload(text, MiB)]).toEqual([name, undefined]);
    }
    // And it still works after every refusal.
    expect(gunzipPayload(gzipped, MiB)?.equals(input)).toBe(true);
  });

  it("reads the header's optional fields, and declines what it does not check", () => {
    const input = logLikeBytes(20_000, 3);
    const member = (flags: number, fields: Buffer, size = input.length) => {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc32(input), 0);
      trailer.writeUInt32LE(size, 4);
      const header = Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]);
      return Buffer.concat([header, fields, deflateRawSync(input), trailer]);
    };
    const extra = Buffer.from([5, 0, 1, 2, 3, 4, 5]);
    const name = Buffer.from('syslog.json\0');
    const comment = Buffer.from('a comment\0');
    const headerCrc = Buffer.from([0, 0]);
    const taken = [
      member(0, Buffer.alloc(0)),
      member(0x04, extra),
      member(0x08, name),
      member(0x04 | 0x08 | 0x10, Buffer.concat([extra, name, comment])),
    ];
    for (const gzipped of taken) {
      expect(gunzipSync(gzipped).equals(input)).toBe(true);
      expect(gunzipPayload(gzipped, MiB)?.equals(input)).toBe(true);
    }
    const declined: [string, Buffer][] = [
      ['a header CRC-16', member(0x02, headerCrc)],
      ['a reserved flag', member(0x20, Buffer.alloc(0))],
      ['a wrong size in the trailer', member(0, Buffer.alloc(0), input.length + 1)],
      ['an extra field longer than the member', member(0x04, Buffer.from([0xff, 0xff]))],
      ['a name without its end', member(0x08, Buffer.from('x')).subarray(0, 12)],
    ];
    for (const [why, gzipped] of declined)
      expect([why, gunzipPayload(gzipped, MiB)]).toEqual([why, undefined]);
  });
});

describe('Base64Batch', () => {
  it('writes Buffer#toString("base64") of each output, for every length and padding', () => {
    const outputs: Buffer[] = Array.from({ length: 70 }, (_, length) => randomBytes(length));
    outputs.push(Buffer.alloc(0), randomBytes(3 * MiB + 1), logLikeBytes(100_000, 2), Buffer.alloc(0));
    const texts = base64Texts(outputs);
    expect(texts).toHaveLength(outputs.length);
    texts.forEach((text, index) => {
      expect([index, text]).toEqual([index, outputs[index]?.toString('base64')]);
    });
  });

  it('encodes outputs around the text chunk size, with the arena at any fill', () => {
    // 786,432 bytes make a text of exactly 1 MiB (the chunk), the largest the arena takes.
    const chunkOutput = (3 * MiB) / 4;
    const outputs = [
      randomBytes(10),
      randomBytes(chunkOutput),
      randomBytes(chunkOutput + 1),
      randomBytes(chunkOutput - 1),
      randomBytes(chunkOutput - 2),
      randomBytes(5),
      randomBytes(chunkOutput + 2),
      randomBytes(1),
    ];
    const texts = base64Texts(outputs);
    texts.forEach((text, index) => {
      expect([index, text]).toEqual([index, outputs[index]?.toString('base64')]);
    });
  });

  it("encodes the kernels' own outputs where they wrote them, record after record", () => {
    const time = Date.UTC(2024, 2, 10, 13, 0, 0);
    const batch = new Base64Batch();
    const expected: string[] = [];
    for (const count of [1, 400, 3000, 20_000, 2, 9000, 9000, 9000]) {
      const events = Array.from({ length: count }, (_, index) =>
        logEvent(time + index, `<30>Mar 10 13:00:00 host app[${index}]: message ${count} ${index}`),
      );
      const payload = gunzipPayload(gzipSync(JSON.stringify(dataMessage(events))), 16 * MiB);
      const eventsStart = payload === undefined ? undefined : new PayloadHeaderReader().read(payload);
      const raw =
        payload === undefined || eventsStart === undefined
          ? undefined
          : rawOutputOfEvents(payload, eventsStart);
      if (raw === undefined) throw new Error('the kernels must take the payload');
      expected.push(raw.output.toString('base64'));
      // As the processor does: encoded at once, before the next record reuses the memory.
      batch.add(raw.output);
    }
    expect(batch.texts()).toEqual(expected);
  });

  it('answers an empty batch and a batch of empty outputs', () => {
    expect(base64Texts([])).toEqual([]);
    expect(base64Texts([Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['', '']);
  });
});

describe('rawOutputOfEvents', () => {
  it('reads a payload in place where gunzipPayload left it, as the general path does', () => {
    const time = Date.UTC(2024, 2, 10, 13, 0, 0);
    const messages = ['<30>Mar 10 13:00:00 h a[1]: x', 'quote " backslash \\ tab \t', 'é 😀 \ud800', ''];
    for (const count of [1, 7, 3000]) {
      const events = Array.from({ length: count }, (_, index) =>
        logEvent(time + index, messages[index % messages.length] as string),
      );
      const json = JSON.stringify(dataMessage(events));
      const payload = gunzipPayload(gzipSync(json), 16 * MiB);
      if (payload === undefined) throw new Error('the kernel must take a valid payload');
      const eventsStart = new PayloadHeaderReader().read(payload);
      if (eventsStart === undefined) throw new Error('the header must be read');
      const general = parseCloudWatchPayload(Buffer.from(json));
      if (general.kind !== 'cloudwatch-data') throw new Error('the general path must take it');
      const expected = Buffer.from(general.payload.logEvents.map((event) => `${event.message}\n`).join(''));
      const raw = rawOutputOfEvents(payload, eventsStart);
      expect(raw?.output.equals(expected)).toBe(true);
      expect([raw?.count, raw?.earliest, raw?.latest]).toEqual([count, time, time + count - 1]);
    }
  });
});
