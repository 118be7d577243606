/**
 * Scanning bytes four at a time, for the byte engines (`formats/delimited-bytes.ts`, the Firehose
 * processor's payload reader): a test per 32-bit word finds the next byte worth looking at.
 *
 * The classic bit tricks: `(w - 0x01010101 * n) & ~w & 0x80808080` is non-zero exactly when some
 * byte of `w` is below n (n ≤ 128), and a byte equal to c is a zero byte of `w ^ (0x01010101 * c)`.
 * One expression each, no branches: these run for every four bytes scanned.
 */

/** Whether a word of a quoted value holds a quote, a backslash or a control byte. */
export function holdsQuotedSpecial(word: number): boolean {
  const quotes = word ^ 0x22222222;
  const backslashes = word ^ 0x5c5c5c5c;
  return (
    ((((word - 0x20202020) & ~word) |
      ((quotes - 0x01010101) & ~quotes) |
      ((backslashes - 0x01010101) & ~backslashes) |
      0) &
      0x80808080) !==
    0
  );
}
