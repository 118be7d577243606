import {
  type LineBatch,
  openLogObject,
  type ReadItem,
  type ReadPosition,
  readRecords,
} from '../../lambdas/core/object-reader';
import { allItems, chunksOf, endlessLines, failingAfter, gzip, summarise } from './stream-helpers';

const CHUNK_SIZES = [1, 2, 3, 7, 64, Number.POSITIVE_INFINITY];

describe('readRecords, lines framing', () => {
  it('numbers physical lines, counts empty lines without yielding them, and accepts LF and CRLF', async () => {
    // Prepare
    const text = 'first\r\n\nthird\n\r\nfifth\nlast without newline';

    for (const chunkSize of CHUNK_SIZES) {
      // Act
      const items = await allItems(readRecords(chunksOf(text, chunkSize), 'lines'));

      // Assess
      expect(summarise(items)).toEqual([
        [1, 'first'],
        [3, 'third'],
        [5, 'fifth'],
        [6, 'last without newline'],
      ]);
    }
  });

  it('detects gzip by its magic bytes and reads every member of a multi-member gzip', async () => {
    // Prepare
    const members = Buffer.concat([gzip('a1\na2\n'), gzip('b1\n'), gzip('c1\nc2')]);

    for (const chunkSize of CHUNK_SIZES) {
      // Act
      const reader = openLogObject(chunksOf(members, chunkSize));
      const items = await allItems(reader.readRecords('lines'));

      // Assess
      expect(summarise(items)).toEqual([
        [1, 'a1'],
        [2, 'a2'],
        [3, 'b1'],
        [4, 'c1'],
        [5, 'c2'],
      ]);
      expect(reader.compressed).toBe(true);
      expect(reader.bytesIn).toBe(members.length);
      expect(reader.bytesDecompressed).toBe('a1\na2\nb1\nc1\nc2'.length);
    }
  });

  it('reads uncompressed bytes as text even when they start like nothing in particular', async () => {
    // Prepare: a lone 0x1f byte is not the gzip magic
    const bytes = Buffer.from('\x1fnot gzip\n');

    // Act
    const reader = openLogObject(chunksOf(bytes, 1));
    const items = await allItems(reader.readRecords('lines'));

    // Assess
    expect(summarise(items)).toEqual([[1, '\x1fnot gzip']]);
    expect(reader.compressed).toBe(false);
  });

  it('yields nothing for an empty object, compressed or not', async () => {
    // Act
    const plain = await allItems(readRecords(chunksOf(''), 'lines'));
    const compressed = await allItems(readRecords(chunksOf(gzip('')), 'lines'));

    // Assess
    expect(plain).toEqual([]);
    expect(compressed).toEqual([]);
  });

  it('decodes invalid UTF-8 to replacement characters and keeps multi-byte characters across chunks', async () => {
    // Prepare
    const bytes = Buffer.concat([
      Buffer.from('caf\xc3\xa9 \xe2\x82\xac\n', 'latin1'),
      Buffer.from([0x62, 0xff, 0x61, 0x0a]),
    ]);

    for (const chunkSize of CHUNK_SIZES) {
      // Act
      const items = await allItems(readRecords(chunksOf(bytes, chunkSize), 'lines'));

      // Assess
      expect(summarise(items)).toEqual([
        [1, 'café €'],
        [2, 'b\ufffda'],
      ]);
    }
  });

  it('reports a line longer than maxRecordBytes with a bounded prefix and reads on', async () => {
    // Prepare
    const long = 'x'.repeat(100);
    const text = `short\n${long}\nafter\n${long}`;

    for (const chunkSize of CHUNK_SIZES) {
      // Act
      const items = await allItems(
        readRecords(chunksOf(text, chunkSize), 'lines', {
          limits: { maxRecordBytes: 50, maxErrorTextChars: 10 },
        }),
      );

      // Assess
      expect(items).toEqual([
        { kind: 'record', recordNumber: 1, text: 'short' },
        {
          kind: 'error',
          recordNumber: 2,
          reason: expect.stringMatching(/longer than 50 bytes/),
          raw: 'x'.repeat(10),
        },
        { kind: 'record', recordNumber: 3, text: 'after' },
        {
          kind: 'error',
          recordNumber: 4,
          reason: expect.stringMatching(/longer than 50 bytes/),
          raw: 'x'.repeat(10),
        },
      ]);
    }
  });

  it('bounds a line in bytes, not characters', async () => {
    // Prepare: 20 characters, 40 bytes
    const text = `${'é'.repeat(20)}\nok\n`;

    // Act
    const items = await allItems(readRecords(chunksOf(text), 'lines', { limits: { maxRecordBytes: 30 } }));

    // Assess
    expect(summarise(items)).toEqual([
      [1, 'error', expect.stringMatching(/longer than 30 bytes \(40\)/)],
      [2, 'ok'],
    ]);
  });

  it('keeps every complete line of a truncated gzip and reports the cut line as one error', async () => {
    // Prepare: many lines, so the cut falls inside the compressed data
    const lines = Array.from({ length: 5000 }, (_, index) => `line ${index + 1} ${'payload '.repeat(4)}`);
    const whole = gzip(`${lines.join('\n')}\n`);
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));

    // Act
    const items = await allItems(readRecords(chunksOf(truncated, 4096), 'lines'));

    // Assess
    const records = items.filter((item) => item.kind === 'record');
    const errors = items.filter((item) => item.kind === 'error');
    expect(records.length).toBeGreaterThan(100);
    expect(records.map((item) => item.kind === 'record' && item.text)).toEqual(
      lines.slice(0, records.length),
    );
    expect(errors).toEqual([
      {
        kind: 'error',
        recordNumber: records.length + 1,
        reason: expect.stringMatching(/truncated/),
        raw: expect.any(String),
      },
    ]);
    const cut = errors[0]?.kind === 'error' ? errors[0].raw : '';
    expect(lines[records.length]?.startsWith(cut)).toBe(true);
  });

  it('stops a gzip bomb at maxDecompressedBytes with a clear error instead of exhausting memory', async () => {
    // Prepare: 64 MiB of zeros compress to about 64 KiB
    const bomb = gzip(Buffer.alloc(64 * 1024 * 1024, 0x61));

    // Act
    const reader = openLogObject(chunksOf(bomb, 16 * 1024), {
      maxDecompressedBytes: 2 * 1024 * 1024,
      maxRecordBytes: 4096,
    });
    const items = await allItems(reader.readRecords('lines'));

    // Assess
    expect(items).toEqual([
      {
        kind: 'error',
        recordNumber: 1,
        reason: expect.stringMatching(/more than 2097152 bytes/),
        raw: expect.any(String),
      },
    ]);
    expect(reader.bytesDecompressed).toBeLessThan(4 * 1024 * 1024);
  });

  it('reports corrupt gzip data as an error after the lines before it', async () => {
    // Prepare
    const good = gzip('kept\n');
    const corrupt = Buffer.concat([
      good,
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x99, 0x99, 0x99]),
    ]);

    // Act
    const items = await allItems(readRecords(chunksOf(corrupt, good.length), 'lines'));

    // Assess
    expect(summarise(items)).toEqual([
      [1, 'kept'],
      [2, 'error', expect.stringMatching(/gzip data (is corrupt|ends early)/)],
    ]);
  });

  it('lets a failure of the source itself propagate, because a retry can cure it', async () => {
    // Prepare
    const source = failingAfter(Buffer.from('one\ntwo\n'), new Error('socket hang up'));

    // Act
    const reading = allItems(readRecords(source, 'lines'));

    // Assess
    await expect(reading).rejects.toThrow('socket hang up');
  });

  it('lets a source failure through gunzip propagate too', async () => {
    // Prepare
    const source = failingAfter(gzip('one\ntwo\n').subarray(0, 10), new Error('ECONNRESET'));

    // Act
    const reading = allItems(readRecords(source, 'lines'));

    // Assess
    await expect(reading).rejects.toThrow('ECONNRESET');
  });

  it('closes the source when the consumer stops early', async () => {
    for (const compressed of [false, true]) {
      // Prepare
      const endless = endlessLines('a line');
      const body = compressed ? gzipStream(endless.source) : endless.source;

      // Act
      let seen = 0;
      for await (const batch of readRecords(body, 'lines')) {
        seen += batch.items.length;
        if (seen > 5000) break;
      }
      await new Promise((resolve) => setImmediate(resolve));

      // Assess
      expect(seen).toBeGreaterThan(5000);
      expect(endless.closed()).toBe(true);
    }
  });
});

async function* gzipStream(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // Each chunk as its own gzip member: a valid multi-member stream of unbounded length.
  for await (const chunk of source) yield gzip(chunk);
}

describe('resuming', () => {
  const lines = Array.from({ length: 300 }, (_, index) => `record ${index + 1} ${'é'.repeat(index % 5)}`);
  const text = `${lines.join('\n')}\n`;

  it('skips the records before startRecord', async () => {
    // Act
    const items = await allItems(readRecords(chunksOf(text, 100), 'lines', { startRecord: 298 }));

    // Assess
    expect(summarise(items)).toEqual([
      [298, lines[297]],
      [299, lines[298]],
      [300, lines[299]],
    ]);
  });

  it('gives, for an uncompressed object, the byte offset where the next record starts, usable as a Range GET', async () => {
    // Prepare: take a resume position from the middle of the object
    const positions: ReadPosition[] = [];
    for await (const batch of readRecords(chunksOf(text, 1000), 'lines')) positions.push(batch.next);
    const middle = positions[Math.floor(positions.length / 2)] as ReadPosition;
    const bytes = Buffer.from(text);

    // Act: what a ranged GetObject from that byte would deliver
    const resumed = await allItems(
      readRecords(chunksOf(bytes.subarray(middle.startByte), 333), 'lines', {
        startRecord: middle.startRecord,
        ...(middle.startByte !== undefined && { startByte: middle.startByte }),
      }),
    );

    // Assess
    expect(middle.startByte).toBe(
      Buffer.byteLength(`${lines.slice(0, middle.startRecord - 1).join('\n')}\n`),
    );
    expect(summarise(resumed)).toEqual(
      lines.slice(middle.startRecord - 1).map((line, index) => [middle.startRecord + index, line]),
    );
  });

  it('gives no byte offset for a gzip object, whose stream cannot be entered in the middle', async () => {
    // Act
    const positions: ReadPosition[] = [];
    for await (const batch of readRecords(chunksOf(gzip(text)), 'lines')) positions.push(batch.next);

    // Assess
    expect(positions.length).toBeGreaterThan(0);
    expect(positions.every((position) => position.startByte === undefined)).toBe(true);
    expect(positions.at(-1)).toEqual({ startRecord: 301 });
  });

  it('shows the records before startRecord to the preamble until it declines', async () => {
    // Prepare
    const seen: number[] = [];
    const preamble = (line: string, recordNumber: number): boolean => {
      seen.push(recordNumber);
      return line.startsWith('#');
    };

    // Act
    const items = await allItems(
      readRecords(chunksOf('#Version\n#Fields a b\n1 2\n3 4\n5 6\n'), 'lines', { startRecord: 5, preamble }),
    );

    // Assess
    expect(seen).toEqual([1, 2, 3]);
    expect(summarise(items)).toEqual([[5, '5 6']]);
  });
});

describe('readLines, the byte mode of lines framing', () => {
  /** A byte batch as the items the text mode yields, and each batch's position. */
  function decoded(batches: readonly LineBatch[]): { items: ReadItem[]; positions: ReadPosition[] } {
    const items: ReadItem[] = [];
    for (const batch of batches) {
      for (let index = 0; index < batch.length; index++) {
        const source = batch.sources[index];
        if (source === undefined || !Buffer.isBuffer(source)) {
          if (source !== undefined) items.push(source);
          continue;
        }
        const text = source.toString('utf8', batch.starts[index], batch.ends[index]);
        items.push({ kind: 'record', recordNumber: batch.recordNumbers[index] ?? 0, text });
      }
    }
    return { items, positions: batches.map((batch) => batch.next) };
  }

  async function lineBatches(
    bytes: Buffer,
    chunkSize: number,
    options: Parameters<typeof readRecords>[2] = {},
  ): Promise<LineBatch[]> {
    const batches: LineBatch[] = [];
    for await (const batch of openLogObject(chunksOf(bytes, chunkSize), options.limits).readLines(options))
      batches.push(batch);
    return batches;
  }

  async function textBatches(
    bytes: Buffer,
    chunkSize: number,
    options: Parameters<typeof readRecords>[2] = {},
  ) {
    const items: ReadItem[] = [];
    const positions: ReadPosition[] = [];
    for await (const batch of readRecords(chunksOf(bytes, chunkSize), 'lines', options)) {
      items.push(...batch.items);
      positions.push(batch.next);
    }
    return { items, positions };
  }

  const mixed = Buffer.concat([
    Buffer.from(`first\r\n\n${'long '.repeat(30)}\ncaf\u00e9 \u20ac\r\n\r\n`),
    Buffer.from([0x62, 0xff, 0x61, 0x0a]),
    Buffer.from('#header\nlast without newline'),
  ]);

  it('yields the records, errors and positions of the text mode, as byte ranges, wherever chunks end', async () => {
    for (const bytes of [mixed, gzip(mixed)]) {
      for (const chunkSize of CHUNK_SIZES) {
        for (const options of [
          {},
          { startRecord: 4 },
          { limits: { maxRecordBytes: 100, maxErrorTextChars: 8 } },
        ]) {
          // Act
          const ranges = decoded(await lineBatches(bytes, chunkSize, options));
          const texts = await textBatches(bytes, chunkSize, options);

          // Assess
          expect(ranges).toEqual(texts);
        }
      }
    }
    // And the records are what the object holds: checked once against literal expectations.
    const { items } = decoded(await lineBatches(mixed, 5, { limits: { maxRecordBytes: 100 } }));
    expect(summarise(items)).toEqual([
      [1, 'first'],
      [3, 'error', expect.stringMatching(/longer than 100 bytes/)],
      [4, 'café €'],
      [6, 'b\ufffda'],
      [7, '#header'],
      [8, 'last without newline'],
    ]);
  });

  it('keeps the lines of one chunk in that chunk, and gives a line spanning chunks a buffer of its own', async () => {
    // Prepare: 3 lines of 9 bytes (with the line feed) in chunks of 12 bytes
    const bytes = Buffer.from('aaaaaaaa\nbbbbbbbb\ncccccccc\n');

    // Act
    const batches = await lineBatches(bytes, 12);

    // Assess: chunk 1 ends 3 bytes into line 2, chunk 2 ends 6 bytes into line 3
    expect(batches.map((batch) => batch.recordNumbers)).toEqual([[1], [2], [3]]);
    const [first, second] = batches;
    expect(first?.sources[0]).toHaveLength(12);
    expect([first?.starts[0], first?.ends[0]]).toEqual([0, 8]);
    expect(second?.sources[0]).toEqual(Buffer.from('bbbbbbbb'));
    expect(batches.map((batch) => batch.next)).toEqual([
      { startRecord: 2, startByte: 9 },
      { startRecord: 3, startByte: 18 },
      { startRecord: 4, startByte: 27 },
    ]);
  });

  it('shows the records before startRecord to the preamble as text', async () => {
    // Prepare
    const seen: string[] = [];

    // Act
    const { items } = decoded(
      await lineBatches(Buffer.from('#Version\n#Fields a b\n1 2\n3 4\n'), 4, {
        startRecord: 4,
        preamble: (line) => {
          seen.push(line);
          return line.startsWith('#');
        },
      }),
    );

    // Assess
    expect(seen).toEqual(['#Version', '#Fields a b', '1 2']);
    expect(summarise(items)).toEqual([[4, '3 4']]);
  });

  it('reads an object once, whichever mode asks first', async () => {
    // Prepare
    const reader = openLogObject(chunksOf('a\n'));
    await reader.readLines().next();

    // Act + Assess
    await expect(reader.readRecords('lines').next()).rejects.toThrow('may be read only once');
  });
});

describe('readRecords, json-records framing', () => {
  const envelope = JSON.stringify({
    Records: [
      { eventID: 'a', note: 'braces } ] { [ inside a string', escaped: 'quote \\" and backslash \\\\' },
      { eventID: 'b', nested: { deeper: [1, 2, { x: '}' }] } },
      { eventID: 'c', unicode: 'résumé ✓' },
    ],
  });

  it('yields each element of a Records envelope as its own record, wherever the chunks end', async () => {
    for (const chunkSize of CHUNK_SIZES) {
      // Act
      const items = await allItems(readRecords(chunksOf(envelope, chunkSize), 'json-records'));

      // Assess
      expect(items.map((item) => item.kind === 'record' && JSON.parse(item.text).eventID)).toEqual([
        'a',
        'b',
        'c',
      ]);
      expect(items.map((item) => item.recordNumber)).toEqual([1, 2, 3]);
    }
  });

  it('reads a pretty-printed envelope with other members around the array, gzipped', async () => {
    // Prepare
    const pretty = JSON.stringify(
      { Records: [{ eventID: 'x' }, { eventID: 'y' }], Extra: { Records: 'no' } },
      null,
      2,
    );

    // Act
    const items = await allItems(readRecords(chunksOf(gzip(`${pretty}\n`), 5), 'json-records'));

    // Assess
    expect(items.map((item) => item.kind === 'record' && JSON.parse(item.text))).toEqual([
      { eventID: 'x' },
      { eventID: 'y' },
    ]);
  });

  it('treats any other top-level value as one record, so JSON lines are numbered like lines', async () => {
    // Prepare
    const text = '{"eventID":"1"}\n{"eventID":"2","Records":"not first"}\n[1,2]\n{"eventID":"4"}\n';

    // Act
    const items = await allItems(readRecords(chunksOf(text, 3), 'json-records'));

    // Assess
    expect(summarise(items)).toEqual([
      [1, '{"eventID":"1"}'],
      [2, '{"eventID":"2","Records":"not first"}'],
      [3, '[1,2]'],
      [4, '{"eventID":"4"}'],
    ]);
  });

  it('keeps scalar elements of Records whole, strings with commas included', async () => {
    // Act
    const items = await allItems(
      readRecords(chunksOf('{"Records":[ "a,b" , 12 ,true,{"k":1}]}', 4), 'json-records'),
    );

    // Assess
    expect(summarise(items)).toEqual([
      [1, '"a,b"'],
      [2, '12'],
      [3, 'true'],
      [4, '{"k":1}'],
    ]);
  });

  it('reports structure errors and garbage as records or errors without throwing', async () => {
    // Prepare
    const text = '}\nnot json at all\n{"eventID":"ok"}\n{"unterminated": [1, 2';

    // Act
    const items = await allItems(readRecords(chunksOf(text, 4), 'json-records'));

    // Assess
    expect(summarise(items)).toEqual([
      [1, 'error', "unexpected '}' outside any JSON value"],
      [2, 'not json at all'],
      [3, '{"eventID":"ok"}'],
      [4, 'error', 'JSON value not terminated at the end of the object'],
    ]);
    expect(items[3]?.kind === 'error' && items[3].raw).toBe('{"unterminated": [1, 2');
  });

  it('reports a record over maxRecordBytes and continues with the next element', async () => {
    // Prepare
    const text = JSON.stringify({ Records: [{ big: 'x'.repeat(500) }, { small: 1 }] });

    for (const chunkSize of [7, Number.POSITIVE_INFINITY]) {
      // Act
      const items = await allItems(
        readRecords(chunksOf(text, chunkSize), 'json-records', {
          limits: { maxRecordBytes: 100, maxErrorTextChars: 8 },
        }),
      );

      // Assess
      expect(items).toEqual([
        {
          kind: 'error',
          recordNumber: 1,
          reason: expect.stringMatching(/longer than 100 bytes/),
          raw: '{"big":"',
        },
        { kind: 'record', recordNumber: 2, text: '{"small":1}' },
      ]);
    }
  });

  it('reports an envelope whose Records array is never closed', async () => {
    // Act
    const items = await allItems(readRecords(chunksOf('{"Records":[{"a":1},'), 'json-records'));

    // Assess
    expect(summarise(items)).toEqual([
      [1, '{"a":1}'],
      [2, 'error', 'the Records array is not closed at the end of the object'],
    ]);
  });

  it('skips records before startRecord and gives record positions without byte offsets', async () => {
    // Act
    const batches = [];
    for await (const batch of readRecords(chunksOf(envelope), 'json-records', { startRecord: 3 }))
      batches.push(batch);

    // Assess
    expect(batches.flatMap((batch) => batch.items.map((item) => item.recordNumber))).toEqual([3]);
    expect(batches.at(-1)?.next).toEqual({ startRecord: 4 });
  });
});

describe('firstLine', () => {
  it('returns the first non-empty line and leaves every record to readRecords', async () => {
    // Prepare
    const reader = openLogObject(chunksOf(gzip('\n  \n#Version: 1.0\nrow\n'), 3));

    // Act
    const first = await reader.firstLine();
    const items = await allItems(reader.readRecords('lines'));

    // Assess
    expect(first).toEqual({ text: '#Version: 1.0', recordNumber: 3 });
    expect(summarise(items)).toEqual([
      [2, '  '],
      [3, '#Version: 1.0'],
      [4, 'row'],
    ]);
  });

  it('returns a bounded prefix of a first line longer than maxRecordBytes', async () => {
    // Prepare
    const reader = openLogObject(chunksOf(`{"Records":[${'{"a":1},'.repeat(1000)}{"a":2}]}`, 64), {
      maxRecordBytes: 100,
    });

    // Act
    const first = await reader.firstLine();

    // Assess
    expect(first?.text).toHaveLength(100);
    expect(first?.text.startsWith('{"Records":[{"a":1}')).toBe(true);
  });

  it('returns undefined for an empty object', async () => {
    // Act
    const first = await openLogObject(chunksOf('')).firstLine();

    // Assess
    expect(first).toBeUndefined();
  });
});
