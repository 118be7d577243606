/**
 * Byte sources for the core's tests: an object's bytes delivered in chunks of a chosen size (the
 * reader must not care where a chunk ends), and a source that fails or records being closed.
 */
import { gzipSync } from 'node:zlib';
import type { ReadItem, RecordBatch } from '../../lambdas/core/object-reader';

/** `bytes` as an async iterable of chunks of `chunkSize` bytes (the whole at once by default). */
export async function* chunksOf(
  bytes: Uint8Array | string,
  chunkSize = Number.POSITIVE_INFINITY,
): AsyncGenerator<Buffer> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  for (let start = 0; start < buffer.length; start += chunkSize) {
    yield buffer.subarray(start, Math.min(buffer.length, start + chunkSize));
  }
}

/** Gzip of `text`, one member. */
export function gzip(text: string | Buffer): Buffer {
  return gzipSync(text);
}

/** A source that yields `bytes` and then fails with `error`, as a dropped S3 connection would. */
export async function* failingAfter(bytes: Uint8Array, error: Error): AsyncGenerator<Buffer> {
  yield Buffer.from(bytes);
  throw error;
}

/** A source of endless lines that records whether its consumer closed it. */
export function endlessLines(line: string): { source: AsyncIterable<Buffer>; closed: () => boolean } {
  let closed = false;
  const chunk = Buffer.from(`${line}\n`.repeat(1000));
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (;;) yield chunk;
    } finally {
      closed = true;
    }
  }
  return { source: source(), closed: () => closed };
}

/** Every item of every batch, in order. */
export async function allItems(batches: AsyncIterable<RecordBatch>): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const batch of batches) items.push(...batch.items);
  return items;
}

/** The items as `[recordNumber, text]` for records and `[recordNumber, 'error', reason]` for errors. */
export function summarise(
  items: readonly ReadItem[],
): (readonly [number, string] | readonly [number, 'error', string])[] {
  return items.map((item) =>
    item.kind === 'record'
      ? ([item.recordNumber, item.text] as const)
      : ([item.recordNumber, 'error', item.reason] as const),
  );
}
