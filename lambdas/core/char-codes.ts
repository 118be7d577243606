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
