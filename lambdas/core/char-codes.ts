/**
 * Character codes the scanners compare with: the same value for a UTF-16 code unit
 * (`charCodeAt`) and a UTF-8 byte, since all of them are ASCII. One table, so that every scanner
 * in the core spells them the same way.
 */
export const CharCode = {
  TAB: 0x09,
  LF: 0x0a,
  CR: 0x0d,
  SPACE: 0x20,
  QUOTE: 0x22,
  COMMA: 0x2c,
  DASH: 0x2d,
  DOT: 0x2e,
  ZERO: 0x30,
  NINE: 0x39,
  COLON: 0x3a,
  LETTER_T: 0x54,
  OPEN_BRACKET: 0x5b,
  BACKSLASH: 0x5c,
  CLOSE_BRACKET: 0x5d,
  OPEN_BRACE: 0x7b,
  CLOSE_BRACE: 0x7d,
} as const;

/**
 * Text the scanners read either as a string (UTF-16 code units) or as UTF-8 bytes. Every code the
 * scanners compare with is ASCII, the same value in both, so one scanning function can serve the
 * string parsers and the byte encoders, and the two cannot disagree on where a value is cut.
 */
export type CodeUnits = string | Uint8Array;

/**
 * The code at `index` (a UTF-16 unit or a byte), or -1 outside the text. Always a small integer
 * (never NaN, as `charCodeAt` would give), so the optimising compiler never boxes it.
 */
export function codeUnitAt(text: CodeUnits, index: number): number {
  if (index < 0 || index >= text.length) return -1;
  return typeof text === 'string' ? text.charCodeAt(index) : (text[index] as number);
}

/** The first index of `code` in `[from, to)` of `text`, or -1. */
export function indexOfCode(text: CodeUnits, code: number, from: number, to: number): number {
  for (let index = from; index < to; index++) if (codeUnitAt(text, index) === code) return index;
  return -1;
}

/**
 * The last index of `code` in `[from, to)` of `text`, or -1. A loop, not `lastIndexOf`: what the
 * scanners look for (a port's colon, a request's protocol) is a few characters from the end, and
 * the built-in costs more to call than such a short walk.
 */
export function lastIndexOfCode(text: CodeUnits, code: number, from: number, to: number): number {
  for (let index = to - 1; index >= from; index--) if (codeUnitAt(text, index) === code) return index;
  return -1;
}

/** Whether `code` is an ASCII digit. */
export function isDigitCode(code: number): boolean {
  return code >= CharCode.ZERO && code <= CharCode.NINE;
}
