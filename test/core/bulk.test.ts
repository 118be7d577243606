import { BulkBatcher, type BulkBody, type BulkDocument, bulkActionLine } from '../../lambdas/core/bulk';

function documentNumber(recordNumber: number, text: string): BulkDocument {
  return {
    index: 'logs-alb-2024.05.01',
    id: `id-${recordNumber}`,
    source: JSON.stringify({ n: recordNumber, text }),
    recordNumber,
    raw: `raw ${recordNumber} ✓ ${text}`,
  };
}

/** A document's fields as plain data (a body's documents read their texts back from its bytes). */
function plain(document: BulkDocument): BulkDocument {
  const { index, id, source, recordNumber, raw } = document;
  return { index, id, source, recordNumber, raw };
}

/** Every document's body bytes, as the batcher must count them. */
function entryBytes(document: BulkDocument): number {
  return Buffer.byteLength(`${bulkActionLine(document.index, document.id)}${document.source}\n`);
}

describe('bulkActionLine', () => {
  it('writes a create action, escaping what JSON needs', () => {
    // Act + Assess
    expect(bulkActionLine('logs-alb-2024.05.01', 'abc-1')).toBe(
      '{"create":{"_index":"logs-alb-2024.05.01","_id":"abc-1"}}\n',
    );
    expect(JSON.parse(bulkActionLine('i', 'quote"id'))).toEqual({ create: { _index: 'i', _id: 'quote"id' } });
  });
});

describe('BulkBatcher', () => {
  it('writes NDJSON: an action line and the source per document, in order', () => {
    // Prepare
    const batcher = new BulkBatcher();
    const documents = [documentNumber(1, 'a'), documentNumber(2, 'b')];

    // Act
    for (const document of documents) expect(batcher.add(document)).toBeUndefined();
    const body = batcher.flush();

    // Assess
    expect(body?.body).toBe(
      '{"create":{"_index":"logs-alb-2024.05.01","_id":"id-1"}}\n{"n":1,"text":"a"}\n' +
        '{"create":{"_index":"logs-alb-2024.05.01","_id":"id-2"}}\n{"n":2,"text":"b"}\n',
    );
    expect(body?.documents.map(plain)).toEqual(documents);
    expect(body?.bytes).toBe(Buffer.byteLength(body?.body ?? ''));
    expect(body?.payload?.equals(Buffer.from(body.body))).toBe(true);
    expect(batcher.flush()).toBeUndefined();
  });

  it('keeps every body within maxBulkBytes counted in UTF-8 bytes, losing no document', () => {
    // Prepare: multi-byte text, so characters and bytes differ
    const documents = Array.from({ length: 200 }, (_, index) =>
      documentNumber(index + 1, 'é€'.repeat(index % 37)),
    );
    const maxBulkBytes = 1000;
    const batcher = new BulkBatcher({ maxBulkBytes });

    // Act
    const bodies: BulkBody[] = [];
    for (const document of documents) {
      const result = batcher.add(document);
      if (result?.kind === 'body') bodies.push(result);
      expect(result?.kind).not.toBe('rejected');
    }
    const last = batcher.flush();
    if (last !== undefined) bodies.push(last);

    // Assess
    for (const body of bodies) {
      expect(body.bytes).toBe(Buffer.byteLength(body.body));
      expect(body.bytes).toBeLessThanOrEqual(maxBulkBytes);
      expect(body.bytes).toBe(body.documents.reduce((sum, document) => sum + entryBytes(document), 0));
    }
    expect(bodies.flatMap((body) => body.documents.map(plain))).toEqual(documents);
    const rebuilt = bodies.map((body) =>
      body.documents
        .map((document) => `${bulkActionLine(document.index, document.id)}${document.source}\n`)
        .join(''),
    );
    expect(rebuilt).toEqual(bodies.map((body) => body.body));
    // Full bodies: the next document would not have fitted
    for (const [index, body] of bodies.slice(0, -1).entries()) {
      const next = bodies[index + 1]?.documents[0] as BulkDocument;
      expect(body.bytes + entryBytes(next)).toBeGreaterThan(maxBulkBytes);
    }
  });

  it('closes a body at maxDocuments', () => {
    // Prepare
    const batcher = new BulkBatcher({ maxDocuments: 3 });

    // Act
    const results = Array.from({ length: 7 }, (_, index) => batcher.add(documentNumber(index + 1, 'x')));
    const last = batcher.flush();

    // Assess
    const bodies = results.filter((result) => result?.kind === 'body');
    expect(bodies.map((body) => body.documents.map((document) => document.recordNumber))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(last?.documents.map((document) => document.recordNumber)).toEqual([7]);
  });

  it('returns a document bigger than any body as rejected, leaving the body being filled alone', () => {
    // Prepare
    const batcher = new BulkBatcher({ maxBulkBytes: 300 });
    const small = documentNumber(1, 'small');
    const huge = documentNumber(2, 'x'.repeat(400));

    // Act
    const first = batcher.add(small);
    const rejected = batcher.add(huge);
    const body = batcher.flush();

    // Assess
    expect(first).toBeUndefined();
    expect(rejected).toEqual({
      kind: 'rejected',
      document: huge,
      reason: expect.stringMatching(/more than a bulk body may hold \(300\)/),
    });
    expect(body?.documents.map(plain)).toEqual([small]);
  });

  it('grows past its first buffer when the limits are huge, as a retry subset does', () => {
    // Prepare: documents of 700 KB each, more than the starting capacity together
    const batcher = new BulkBatcher({
      maxBulkBytes: Number.MAX_SAFE_INTEGER,
      maxDocuments: Number.MAX_SAFE_INTEGER,
    });
    const documents = [1, 2, 3].map((recordNumber) => documentNumber(recordNumber, '€'.repeat(233_000)));

    // Act
    const results = documents.map((document) => batcher.add(document));
    const body = batcher.flush();

    // Assess
    expect(results).toEqual([undefined, undefined, undefined]);
    expect(body?.documents.map(plain)).toEqual(documents);
    expect(body?.bytes).toBe(documents.reduce((sum, document) => sum + entryBytes(document), 0));
    expect(body?.bytes).toBe(Buffer.byteLength(body?.body ?? ''));
  });

  it('allocates for what a small object holds, not for a whole body per batcher', () => {
    // Prepare: one batcher per small object (the indexer makes one per object), all kept alive.
    const before = process.memoryUsage().arrayBuffers;

    // Act
    const batchers = Array.from({ length: 40 }, (_, index) => {
      const batcher = new BulkBatcher();
      batcher.add(documentNumber(index + 1, 'small'));
      return { batcher, body: batcher.flush() };
    });
    const grown = process.memoryUsage().arrayBuffers - before;

    // Assess: 5 MiB bodies would hold 40 × 10 MiB.
    expect(batchers.every(({ body }) => body?.documents.length === 1)).toBe(true);
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });

  it('refuses limits that could never hold a document', () => {
    // Act + Assess
    expect(() => new BulkBatcher({ maxBulkBytes: 0 })).toThrow(RangeError);
    expect(() => new BulkBatcher({ maxDocuments: -1 })).toThrow(RangeError);
  });
});
