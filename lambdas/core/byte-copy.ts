/**
 * Copying within one byte array, for the byte engines that write documents from the lines they
 * read (`formats/delimited-bytes.ts`, `bulk-encoder.ts`): the line, the constants and the output
 * share one array, so no copy allocates a view. Below a few dozen bytes a loop of four-byte words
 * beats a call to `copyWithin`; above, the native copy wins.
 */

/** A run of bytes in an arena (a constant's place): `[start, end)`; empty when they are equal. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** At and above this many bytes, one native `copyWithin` beats a loop; below, its call costs more. */
const NATIVE_COPY_BYTES = 32;

/** A DataView over all of `bytes`, which reads and writes four bytes at a time. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Copies `[from, to)` of `bytes` to `at`, which must not overlap it; `view` is {@link viewOf}
 * `bytes`.
 *
 * @returns the position after the copy.
 */
export function copyWithinBytes(
  bytes: Uint8Array,
  view: DataView,
  from: number,
  to: number,
  at: number,
): number {
  if (to - from >= NATIVE_COPY_BYTES) {
    bytes.copyWithin(at, from, to);
    return at + to - from;
  }
  let source = from;
  let target = at;
  for (; source + 4 <= to; source += 4, target += 4)
    view.setUint32(target, view.getUint32(source, true), true);
  for (; source < to; source++) bytes[target++] = bytes[source] as number;
  return target;
}

/**
 * {@link copyWithinBytes} for a writer that writes forward, each write starting where the last
 * ended: whole words only, so it may read up to 3 bytes past `to` and write up to 3 bytes past
 * the copy, which the next write covers. Near the end of `bytes` it copies exactly.
 *
 * @returns the position after the copy (not after the bytes written past it).
 */
export function copyForward(bytes: Uint8Array, view: DataView, from: number, to: number, at: number): number {
  const length = to - from;
  if (length >= NATIVE_COPY_BYTES || to + 4 > bytes.length || at + length + 4 > bytes.length)
    return copyWithinBytes(bytes, view, from, to, at);
  for (let offset = 0; offset < length; offset += 4)
    view.setUint32(at + offset, view.getUint32(from + offset, true), true);
  return at + length;
}

/** `text`'s UTF-8 bytes (or `text` itself, bytes) as little-endian words, the last padded: for {@link writeWords}. */
export function wordsOf(text: string | Uint8Array): Int32Array {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const padded = Buffer.alloc(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return Int32Array.from({ length: padded.length / 4 }, (_, index) => padded.readInt32LE(4 * index));
}

/**
 * Writes constant `words` ({@link wordsOf}) at `at`, forward as {@link copyForward} does: the
 * padding of the last word lands past the constant, where the next write covers it. The caller
 * keeps 4 bytes of room after the constant.
 */
export function writeWords(view: DataView, words: Int32Array, at: number): void {
  for (let index = 0; index < words.length; index++)
    view.setInt32(at + 4 * index, words[index] as number, true);
}
