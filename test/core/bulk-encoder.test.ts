/**
 * `encodeBulk` against the string engine's path (`parseObject` + `BulkBatcher`): the same bulk
 * bytes, byte for byte, cut into the same bodies, with the same rejected records, continuation
 * positions and summary, for every ELB/NLB/S3 conformance sample, thousands of generated lines and
 * formats without a byte engine.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BulkBatcher, type BulkLimits } from '../../lambdas/core/bulk';
import { encodeBulk } from '../../lambdas/core/bulk-encoder';
import type { ReadPosition } from '../../lambdas/core/object-reader';
import { type ParseObjectRequest, type ParseSummary, parseObject } from '../../lambdas/core/parse-object';
import type { FormatName } from '../../lambdas/core/types';
import { CONFORMANCE_ROOT, loadConformance } from '../support/conformance';
import { generatedAlbLines, OTHER_FLAVOUR_LINES } from './elb-line-generator';
import { chunksOf, gzip } from './stream-helpers';

/** What one path made of an object. */
interface Outcome {
  /** Each body's bytes, in order. */
  readonly bodies: readonly Buffer[];
  /** Each body's documents as `recordNumber index id`. */
  readonly documents: readonly string[][];
  readonly rejected: readonly string[];
  readonly positions: readonly ReadPosition[];
  readonly summary: Omit<ParseSummary, 'sourceChars'>;
}

type Request = Omit<ParseObjectRequest, 'body'>;

const OBJECT = { bucket: 'logs', key: 'AWSLogs/123456789012/sample.log', etag: '"0123abcd"' };

function withoutSourceChars(summary: Readonly<ParseSummary>): Omit<ParseSummary, 'sourceChars'> {
  const { sourceChars: _, ...rest } = summary;
  return rest;
}

async function viaStringEngine(
  bytes: Buffer,
  request: Request,
  limits: BulkLimits,
  chunk: number,
): Promise<Outcome> {
  const parse = parseObject({ ...request, body: chunksOf(bytes, chunk) });
  const batcher = new BulkBatcher(limits);
  const bodies = [];
  const rejected: string[] = [];
  const positions: ReadPosition[] = [];
  for await (const batch of parse) {
    for (const item of batch.items) {
      if (item.kind === 'rejected') {
        rejected.push(`${item.recordNumber} ${item.reason} ${item.raw}`);
        continue;
      }
      const result = batcher.add(item);
      if (result?.kind === 'body') bodies.push(result);
      else if (result !== undefined) rejected.push(`${item.recordNumber} ${result.reason}`);
    }
    positions.push(batch.next);
  }
  const last = batcher.flush();
  if (last !== undefined) bodies.push(last);
  return {
    bodies: bodies.map((body) => body.payload ?? Buffer.from(body.body)),
    documents: bodies.map((body) => body.documents.map((d) => `${d.recordNumber} ${d.index} ${d.id}`)),
    rejected,
    positions,
    summary: withoutSourceChars(parse.summary),
  };
}

async function viaEncodeBulk(
  bytes: Buffer,
  request: Request,
  limits: BulkLimits,
  chunk: number,
  release = false,
): Promise<Outcome> {
  const encoding = encodeBulk({ ...request, body: chunksOf(bytes, chunk) }, limits);
  const bodies: Buffer[] = [];
  const documents: string[][] = [];
  const rejected: string[] = [];
  const positions: ReadPosition[] = [];
  const take = (body: {
    payload?: Buffer;
    documents: readonly { recordNumber: number; index: string; id: string }[];
  }) => {
    // A copy: a released body's bytes are reused.
    bodies.push(Buffer.from(body.payload ?? Buffer.alloc(0)));
    documents.push(body.documents.map((d) => `${d.recordNumber} ${d.index} ${d.id}`));
  };
  for await (const batch of encoding) {
    for (const body of batch.bodies) {
      take(body);
      if (release) body.release?.();
    }
    for (const item of batch.rejected) rejected.push(`${item.recordNumber} ${item.reason} ${item.raw}`);
    for (const item of batch.oversized) rejected.push(`${item.document.recordNumber} ${item.reason}`);
    positions.push(batch.next);
  }
  const last = encoding.flush();
  if (last !== undefined) take(last);
  return { bodies, documents, rejected, positions, summary: withoutSourceChars(encoding.summary) };
}

/** Asserts both paths make the same of `bytes`, in several chunkings, plain and gzipped. */
async function expectSameBulk(bytes: Buffer, request: Request, limits: BulkLimits = {}): Promise<Outcome> {
  let outcome: Outcome | undefined;
  for (const [body, chunk] of [
    [bytes, Number.POSITIVE_INFINITY],
    [bytes, 997],
    [gzip(bytes), 4096],
  ] as const) {
    const expected = await viaStringEngine(body, request, limits, chunk);
    const actual = await viaEncodeBulk(body, request, limits, chunk, true);
    expect(actual.bodies.map(String)).toEqual(expected.bodies.map(String));
    expect(Buffer.concat(actual.bodies).equals(Buffer.concat(expected.bodies))).toBe(true);
    expect(actual.documents).toEqual(expected.documents);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(actual.positions).toEqual(expected.positions);
    expect(actual.summary).toEqual(expected.summary);
    outcome = actual;
  }
  return outcome as Outcome;
}

const FORMATS: readonly FormatName[] = ['alb', 'nlb', 'elb', 's3access'];

describe('encodeBulk', () => {
  it('writes the string engine’s bulk bytes for every ELB, NLB and S3 conformance sample, in every format', async () => {
    for (const folder of ['alb', 'nlb', 'elb', 's3access']) {
      const corpus = loadConformance(folder);
      for (const file of new Set(corpus.rows.map((row) => row.file))) {
        // Prepare
        const bytes = readFileSync(path.join(corpus.dir, file));
        for (const format of FORMATS) {
          // Act + Assess: small bodies, so that bodies are cut too
          await expectSameBulk(bytes, { object: OBJECT, format }, { maxBulkBytes: 4000 });
        }
      }
    }
  });

  it('writes the string engine’s bulk bytes for thousands of generated lines, odd ones, CRLF and invalid UTF-8 included', async () => {
    // Prepare: generated lines, other flavours, a line longer than the byte engine's window, CRLF
    // endings, invalid UTF-8, an empty line.
    const generated = generatedAlbLines(4000, 11);
    const long = (generated.find(({ unusual }) => unusual === undefined)?.line ?? '').replace(
      '"curl/8.5.0"',
      `"${'x'.repeat(70_000)}"`,
    );
    const text = [...generated.map(({ line }) => line), ...OTHER_FLAVOUR_LINES.map(({ line }) => line), long]
      .map((line, index) => (index % 7 === 0 ? `${line}\r` : line))
      .join('\n');
    const bytes = Buffer.concat([
      Buffer.from(text),
      Buffer.from('\n\nhttp 2024-05-01T00:00:00Z bad\xff', 'latin1'),
    ]);

    // Act + Assess
    const outcome = await expectSameBulk(bytes, { object: OBJECT, format: 'alb' });
    expect(outcome.summary.documents).toBeGreaterThan(3000);
    expect(outcome.rejected.length).toBeGreaterThan(100);
  });

  it('writes the string engine’s documents when a key field could meet a member of the same name', async () => {
    // Prepare: `elb` is also an ALB field; the key wins only where the line has none.
    const bytes = readFileSync(path.join(CONFORMANCE_ROOT, 'alb', 'integrations-test-alb.log'));

    // Act + Assess
    await expectSameBulk(bytes, {
      object: { ...OBJECT, key: 'lb/app-one/x.log' },
      format: 'alb',
      keyFields: '^lb/(?<elb>[^/]+)/',
    });
    await expectSameBulk(bytes, {
      object: { ...OBJECT, key: 'lb/app-one/x.log' },
      format: 'alb',
      keyFields: '^lb/(?<balancer>[^/]+)/',
      indexPrefix: 'weblogs',
    });
  });

  it('serves the formats without a byte engine through the string engine, CloudTrail records included', async () => {
    for (const folder of ['cloudtrail', 'vpcflow', 'cloudfront', 'syslog']) {
      const corpus = loadConformance(folder);
      for (const file of new Set(corpus.rows.map((row) => row.file))) {
        // Act + Assess: the format detected as parseObject detects it
        await expectSameBulk(readFileSync(path.join(corpus.dir, file)), { object: { ...OBJECT, key: file } });
      }
    }
  });

  it('continues where the string engine continues: from a record, or a byte of a plain object', async () => {
    // Prepare
    const lines = generatedAlbLines(300, 5).map(({ line }) => line);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const request = { object: OBJECT, format: 'alb' as const };
    const { positions } = await viaEncodeBulk(bytes, request, {}, 4096);
    const middle = positions[Math.floor(positions.length / 2)] as ReadPosition;

    // Act + Assess: the rest of the object by record number, and by a ranged read
    await expectSameBulk(bytes, { ...request, startRecord: middle.startRecord });
    const ranged = bytes.subarray(middle.startByte);
    const expected = await viaStringEngine(ranged, { ...request, ...middle }, {}, 999);
    const actual = await viaEncodeBulk(ranged, { ...request, ...middle }, {}, 999);
    expect(actual.bodies.map(String)).toEqual(expected.bodies.map(String));
    expect({ ...actual, bodies: [] }).toEqual({ ...expected, bodies: [] });
    expect(expected.documents.flat()[0]).toMatch(new RegExp(`^${middle.startRecord} `));
  });

  it('reuses a released body’s bytes for a later body, which then holds its own documents', async () => {
    // Prepare
    const lines = generatedAlbLines(2000, 3).map(({ line }) => line);
    const bytes = Buffer.from(lines.join('\n'));
    const request = { object: OBJECT, format: 'alb' as const };
    const limits = { maxBulkBytes: 20_000 };

    // Act
    const released = await viaEncodeBulk(bytes, request, limits, 65536, true);
    const kept = await viaEncodeBulk(bytes, request, limits, 65536, false);

    // Assess
    expect(released.bodies.length).toBeGreaterThan(10);
    expect(released.bodies.map(String)).toEqual(kept.bodies.map(String));
    expect(released.documents).toEqual(kept.documents);
  });

  it('leaves a released body’s documents alone until it is released, and refuses a second iteration', async () => {
    // Prepare
    const encoding = encodeBulk(
      {
        object: OBJECT,
        format: 'alb',
        body: chunksOf(readFileSync(path.join(CONFORMANCE_ROOT, 'alb', 'integrations-test-alb.log'))),
      },
      { maxBulkBytes: 2000 },
    );

    // Act
    const batches = [];
    for await (const batch of encoding) batches.push(batch);
    const first = batches.flatMap((batch) => batch.bodies)[0];

    // Assess
    expect(first?.documents[0]?.source).toMatch(/^\{"@timestamp":"/);
    expect(JSON.parse(first?.documents[0]?.source ?? '')).toMatchObject({ log: { type: 'alb', line: 1 } });
    expect(() => encoding[Symbol.asyncIterator]()).toThrow('only once');
  });
});
