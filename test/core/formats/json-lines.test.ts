import { jsonLinesFormat } from '../../../lambdas/core/formats/json-lines';
import { compileTimestampFormat } from '../../../lambdas/core/time';
import {
  documentOf,
  errorReasonOf,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
  parseRecords,
} from './format-harness';

describe('json lines records', () => {
  it('keeps every key, nested values included', () => {
    // Prepare
    const record = {
      level: 'warn',
      msg: 'disk almost full',
      host: { name: 'web-1', cpu: 0.93 },
      tags: ['a', 'b'],
    };

    // Act
    const document = documentOf(parseOne(jsonLinesFormat, JSON.stringify(record)));

    // Assess
    expect(document.fields).toEqual(record);
    expect(document.timestamp).toBeUndefined();
  });

  it('renames reserved keys, as a Docker json-file "log" key, and keeps their values', () => {
    const line = '{"log":"started\\n","stream":"stdout","@timestamp":"2024-05-06T07:08:09Z","_id":"abc"}';

    const document = documentOf(parseOne(jsonLinesFormat, line));

    expect(document.fields).toEqual({
      log_original: 'started\n',
      stream: 'stdout',
      '@timestamp_original': '2024-05-06T07:08:09Z',
      _id_original: 'abc',
    });
    expect(document.timestamp).toBe('2024-05-06T07:08:09Z');
  });

  it('keeps __proto__, constructor and prototype as plain data and pollutes nothing', () => {
    // Prepare
    const line =
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"log":1}';

    // Act
    const results = parseRecords(jsonLinesFormat, [line, line]);

    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const document = documentOf(results[1]);
    expect(Object.hasOwn(document.fields, '__proto__')).toBe(true);
    expect(JSON.stringify(document.fields)).toBe(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"log_original":1}',
    );
  });

  it('does not read a time field through Object.prototype', () => {
    const document = documentOf(parseOne(jsonLinesFormat, '{"a":1}', { timestampField: 'constructor' }));

    expect(document.timestamp).toBeUndefined();
  });

  it.each([
    ['an array', '[{"a":1}]', 'found an array'],
    ['a number', '42', 'found a number'],
    ['null', 'null', 'found null'],
    ['text', 'hello', 'invalid JSON'],
    ['hostile nesting', `{"a":${'['.repeat(70)}${']'.repeat(70)}}`, 'nested deeper than 64'],
  ])('reports %s', (_name, line, reason) => {
    expect(errorReasonOf(parseOne(jsonLinesFormat, line))).toContain(reason);
  });
});

describe('json lines timestamps', () => {
  it.each([
    ['epoch_millis', 1_700_000_000_123, '2023-11-14T22:13:20.123Z'],
    ['epoch_millis', '1700000000123', '2023-11-14T22:13:20.123Z'],
    ['epoch_seconds', 1_700_000_000.5, '2023-11-14T22:13:20.500Z'],
    ['iso8601', '2023-11-14T23:13:20+01:00', '2023-11-14T22:13:20.000Z'],
    ['iso8601', '2023-11-14 22:13:20', '2023-11-14T22:13:20Z'],
    ['yyyy-MM-dd HH:mm:ss.SSS', '2023-11-14 22:13:20.123', '2023-11-14T22:13:20.123Z'],
    ['dd/MMM/yyyy:HH:mm:ss Z', '14/Nov/2023:17:13:20 -0500', '2023-11-14T22:13:20.000Z'],
    ["yyyy-MM-dd'T'HH:mm:ssXXX", '2023-11-15T03:43:20+05:30', '2023-11-14T22:13:20.000Z'],
    ['EEE MMM d hh:mm:ss a yyyy', 'Tue Nov 14 10:13:20 PM 2023', '2023-11-14T22:13:20.000Z'],
    ['dd.MM.yy HH:mm', '14.11.23 22:13', '2023-11-14T22:13:00.000Z'],
  ])('reads %s: %j', (timestampFormat, value, expected) => {
    // Prepare
    const line = JSON.stringify({ ts: value, msg: 'x' });

    // Act
    const document = documentOf(parseOne(jsonLinesFormat, line, { timestampField: 'ts', timestampFormat }));

    // Assess
    expect(document.timestamp).toBe(expected);
    expect(document.fields.ts).toEqual(value);
  });

  it('takes a pattern without a year from the object time', () => {
    const document = documentOf(
      parseOne(
        jsonLinesFormat,
        '{"ts":"Dec 31 23:00:00"}',
        { timestampField: 'ts', timestampFormat: 'MMM d HH:mm:ss' },
        { lastModified: Date.UTC(2025, 0, 1, 1) },
      ),
    );

    expect(document.timestamp).toBe('2024-12-31T23:00:00.000Z');
  });

  it('reads a nested field by a dotted path', () => {
    const document = documentOf(
      parseOne(jsonLinesFormat, '{"event":{"created":1700000000}}', {
        timestampField: 'event.created',
        timestampFormat: 'epoch_seconds',
      }),
    );

    expect(document.timestamp).toBe('2023-11-14T22:13:20.000Z');
  });

  it('reports a configured field whose value does not match the format', () => {
    const reason = errorReasonOf(
      parseOne(jsonLinesFormat, '{"ts":"14/11/2023"}', {
        timestampField: 'ts',
        timestampFormat: 'yyyy-MM-dd',
      }),
    );

    expect(reason).toBe('ts "14/11/2023" is not a time in the format yyyy-MM-dd');
  });

  it('keeps a record without the configured field, for the core to stamp', () => {
    const document = documentOf(parseOne(jsonLinesFormat, '{"msg":"x"}', { timestampField: 'ts' }));

    expect(document.timestamp).toBeUndefined();
  });

  it('without options, takes @timestamp, then timestamp, then time, skipping values that are not times', () => {
    const [first, second, third] = parseRecords(jsonLinesFormat, [
      '{"time":1700000000,"timestamp":"2020-01-01T00:00:00Z","@timestamp":"2021-01-01T00:00:00Z"}',
      '{"time":"1700000000123","timestamp":"not a time"}',
      '{"time":"soon"}',
    ]);

    expect(documentOf(first).timestamp).toBe('2021-01-01T00:00:00Z');
    expect(documentOf(second).timestamp).toBe('2023-11-14T22:13:20.123Z');
    expect(documentOf(third).timestamp).toBeUndefined();
  });

  it.each([
    ['yyyy-MM-dd qq', 'unsupported "qq"'],
    ["yyyy-MM-dd 'T", 'unclosed quote'],
    ['HH:mm:ss', 'needs a month and a day'],
    ['yyyy-MM-dd hh:mm', '"h" and AM/PM "a" go together'],
    ['yyyy-MM-dd yyyy', 'year appears twice'],
  ])('refuses the timestamp format %j when the parser is created', (timestampFormat, message) => {
    expect(() =>
      jsonLinesFormat.createParser({
        object: { key: 'k' },
        options: { timestampField: 'ts', timestampFormat },
      }),
    ).toThrow(message);
  });
});

describe('timestamp patterns', () => {
  it.each([
    ['yyyy-MM-dd', '2023-02-29'],
    ['yyyy-MM-dd HH:mm', '2023-01-01 24:00'],
    ['dd/MMM/yyyy', '01/Foo/2023'],
    ['yyyy-MM-dd', '2023-01-01 extra'],
  ])('%s does not read %j', (pattern, value) => {
    expect(compileTimestampFormat(pattern)(value)).toBeUndefined();
  });

  it('reads month names in any case and full month names', () => {
    expect(compileTimestampFormat('d MMMM yyyy')('4 JULY 2021')).toBe('2021-07-04T00:00:00.000Z');
    expect(compileTimestampFormat('dd-MMM-yyyy')('04-jul-2021')).toBe('2021-07-04T00:00:00.000Z');
  });
});

describe('json lines detection', () => {
  itMatchesKeys(jsonLinesFormat, { claimed: [], left: ['app/2024/01/01/events.jsonl'] });
  itMatchesContent(jsonLinesFormat, {
    claimed: ['{"level":"info","msg":"hi"}'],
    left: ['[1,2,3]', '{"truncated":'],
  });
});
