import { regexFormat } from '../../../lambdas/core/formats/regex';
import type { FormatOptions } from '../../../lambdas/core/types';
import { documentOf, errorReasonOf, itMatchesContent, itMatchesKeys, parseOne } from './format-harness';

// An nginx-style access line, and a pattern for it.
const ACCESS_LINE = '203.0.113.9 - alice [14/Nov/2023:17:13:20 -0500] "GET /index.html HTTP/1.1" 200 512';
const ACCESS_PATTERN =
  '^(?<client>\\S+) - (?<user>\\S+|-) \\[(?<time>[^\\]]+)\\] "(?<method>[A-Z]+) (?<path>\\S+) (?<protocol>[^"]+)" (?<status>\\d{3}) (?<bytes>\\d+)(?: "(?<referrer>[^"]*)")?$';

function createParser(options: FormatOptions): unknown {
  return regexFormat.createParser({ object: { key: 'k' }, options });
}

describe('regex records', () => {
  it('writes the named groups as string fields, leaving out groups that took no part', () => {
    // Act
    const document = documentOf(
      parseOne(regexFormat, ACCESS_LINE, {
        pattern: ACCESS_PATTERN,
        timestampFormat: 'dd/MMM/yyyy:HH:mm:ss Z',
      }),
    );

    // Assess
    expect(document.timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(document.fields).toEqual({
      client: '203.0.113.9',
      user: 'alice',
      time: '14/Nov/2023:17:13:20 -0500',
      method: 'GET',
      path: '/index.html',
      protocol: 'HTTP/1.1',
      status: '200',
      bytes: '512',
    });
  });

  it('prefers a group named timestamp, and reads epoch or ISO-8601 without a format', () => {
    const document = documentOf(
      parseOne(regexFormat, '1700000000 2020-01-01T00:00:00Z hello', {
        pattern: '^(?<time>\\d+) (?<timestamp>\\S+) (?<msg>.*)$',
      }),
    );

    expect(document.timestamp).toBe('2020-01-01T00:00:00Z');
  });

  it('uses the group timestampField names', () => {
    const document = documentOf(
      parseOne(regexFormat, 'at 1700000000: hi', {
        pattern: '^at (?<when>\\d+): (?<msg>.*)$',
        timestampField: 'when',
        timestampFormat: 'epoch_seconds',
      }),
    );

    expect(document.timestamp).toBe('2023-11-14T22:13:20.000Z');
  });

  it('renames a group named after a reserved field, and keeps __proto__ as data', () => {
    const document = documentOf(
      parseOne(regexFormat, 'a b', { pattern: '^(?<log>\\S+) (?<__proto__>\\S+)$' }),
    );

    expect(JSON.stringify(document.fields)).toBe('{"log_original":"a","__proto__":"b"}');
    expect(({} as Record<string, unknown>).b).toBeUndefined();
  });

  it('reports a line the pattern does not match', () => {
    expect(errorReasonOf(parseOne(regexFormat, 'garbage', { pattern: ACCESS_PATTERN }))).toBe(
      'line does not match the pattern',
    );
  });

  it('reports a time group that does not read as a time', () => {
    const reason = errorReasonOf(
      parseOne(regexFormat, 'yesterday hi', {
        pattern: '^(?<time>\\S+) (?<msg>.*)$',
        timestampFormat: 'yyyy-MM-dd',
      }),
    );

    expect(reason).toBe('time "yesterday" is not a time in the format yyyy-MM-dd');
  });

  it('finishes quickly on a pattern that backtracks catastrophically', () => {
    // Prepare: without the linear-engine fallback this takes minutes
    const line = `${'a'.repeat(40)}!`;
    const started = Date.now();

    // Act
    const result = parseOne(regexFormat, line, { pattern: '^(?<run>a+)+$' });

    // Assess
    expect(errorReasonOf(result)).toBe('line does not match the pattern');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('regex configuration errors', () => {
  it.each([
    [{}, 'needs options.pattern'],
    [{ pattern: '(?<open' }, 'regex pattern is invalid'],
    [{ pattern: '^(\\S+) (\\S+)$' }, 'has no named group'],
    [{ pattern: '^(?<msg>.*)$', timestampField: 'when' }, 'has no group named "when"'],
    [{ pattern: '^(?<time>.*)$', timestampFormat: 'yyyy-qq' }, 'unsupported "qq"'],
  ])('refuses %j when the parser is created', (options, message) => {
    expect(() => createParser(options)).toThrow(message);
  });
});

describe('regex detection: only configuration chooses it', () => {
  itMatchesKeys(regexFormat, { claimed: [], left: ['app/access.log'] });
  itMatchesContent(regexFormat, { claimed: [], left: [ACCESS_LINE] });
});
