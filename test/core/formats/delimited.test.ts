import {
  type DelimitedLayout,
  DelimitedRecordWriter,
  DelimitedScanner,
  type DelimitedSyntax,
  decimalJson,
  decodePercentEncoded,
} from '../../../lambdas/core/formats/delimited';
import { toIsoUtcFast } from '../../../lambdas/core/time';
import { documentOf, errorReasonOf } from './format-harness';

const SPACED: DelimitedSyntax = { separator: 'space', quotes: true, brackets: true };
// Without brackets, as the ELB family writes them: `[v6]:port` is one value there.
const ELB_LIKE: DelimitedSyntax = { separator: 'space', quotes: true, brackets: false };

/** Every value of `line` as [text, JSON literal, absent?]. */
function scan(line: string, syntax: DelimitedSyntax = SPACED): [string, string, boolean][] {
  const scanner = new DelimitedScanner(syntax);
  scanner.reset(line);
  const values: [string, string, boolean][] = [];
  while (scanner.next()) values.push([scanner.text(), scanner.json(), scanner.isAbsent()]);
  if (scanner.error !== undefined) throw new Error(scanner.error);
  return values;
}

describe('DelimitedScanner', () => {
  it('cuts at spaces, keeps quoted values whole and bracketed values without their brackets', () => {
    // Act
    const values = scan('a "b c" [06/Feb/2019:00:00:38 +0000]  - "-" ""');

    // Assess
    expect(values).toEqual([
      ['a', '"a"', false],
      ['b c', '"b c"', false],
      ['06/Feb/2019:00:00:38 +0000', '"06/Feb/2019:00:00:38 +0000"', false],
      ['-', '"-"', true],
      ['-', '"-"', true],
      ['', '""', true],
    ]);
  });

  it('unescapes \\" and \\\\ inside quotes and keeps any other backslash', () => {
    // Act
    const [[text, json] = []] = scan('"say \\"hi\\" C:\\\\dir \\d"');

    // Assess
    expect(text).toBe('say "hi" C:\\dir \\d');
    expect(JSON.parse(json ?? '')).toBe(text);
  });

  it('starts the next value right after a closing quote that no space follows', () => {
    // Prepare: a real ALB glitch (`"-"1`) that the peers parse.
    const line = '"-" "-"1 next';

    // Act
    const texts = scan(line).map(([text]) => text);

    // Assess
    expect(texts).toEqual(['-', '-', '1', 'next']);
  });

  it('escapes quotes, control characters and lone surrogates so every value is valid JSON', () => {
    // Prepare
    const line = 'x"y tab\there nul\u0000 lone\ud800surrogate "ok"';

    // Act
    const values = scan(line);

    // Assess
    expect(values.map(([, json]) => JSON.parse(json))).toEqual([
      'x"y',
      'tab\there',
      'nul\u0000',
      'lone\ud800surrogate',
      'ok',
    ]);
    expect(values[3]?.[1]).toBe('"lone\\ud800surrogate"');
  });

  it('with tabs, separates values at each tab, so two tabs enclose an empty value', () => {
    // Act
    const values = scan('a b\t\t"c"\t-', { separator: 'tab', quotes: false, brackets: false });

    // Assess
    expect(values).toEqual([
      ['a b', '"a b"', false],
      ['', '""', true],
      ['"c"', '"\\"c\\""', false],
      ['-', '"-"', true],
    ]);
  });

  it.each([
    ['a "unterminated value', 'unterminated quoted value at column 3'],
    ['a [06/Feb/2019 +0000', 'unterminated bracketed value at column 3'],
  ])('stops at %j with an error', (line, error) => {
    // Prepare
    const scanner = new DelimitedScanner(SPACED);
    scanner.reset(line);

    // Act
    const values: string[] = [];
    while (scanner.next()) values.push(scanner.text());

    // Assess
    expect(values).toEqual(['a']);
    expect(scanner.error).toBe(error);
  });

  it('can be reset for the next line', () => {
    // Prepare
    const scanner = new DelimitedScanner(SPACED);
    scanner.reset('"open');
    scanner.next();

    // Act
    scanner.reset('fresh line');
    const values = scanner.remainingJson();

    // Assess
    expect(scanner.error).toBeUndefined();
    expect(values).toEqual(['"fresh"', '"line"']);
  });
});

describe('decimalJson', () => {
  it.each([
    ['-1', '-1'],
    ['0.000043', '0.000043'],
    ['366', '366'],
    ['000', '0'],
    // Leading zeros go, the digits stay as written: a trip through a double would round them.
    ['0070.50', '70.50'],
    ['-007', '-7'],
    ['-0', '-0'],
    ['0123456789012345678', '123456789012345678'],
  ])('writes %s as the JSON number %s', (text, json) => {
    expect(decimalJson(text, 0, text.length)).toBe(json);
  });

  it.each(['', '-', 'abc', '1e5', '1.', '.5', '+1', '1 2', '12345678901234567890'])('refuses %j', (text) => {
    expect(decimalJson(text, 0, text.length)).toBeUndefined();
  });

  it('reads only the given range of a longer text', () => {
    expect(decimalJson('port:8080 rest', 5, 9)).toBe('8080');
  });
});

describe('decodePercentEncoded', () => {
  it('decodes %XX escapes, UTF-8 included', () => {
    expect(decodePercentEncoded('caf%C3%A9%20au%20lait')).toBe('café au lait');
  });

  it('keeps text with a malformed escape as written', () => {
    expect(decodePercentEncoded('100%ZZ%20')).toBe('100%ZZ%20');
    expect(decodePercentEncoded('%E0%A4%A')).toBe('%E0%A4%A');
  });
});

describe('toIsoUtcFast', () => {
  it.each([
    ['2018-07-02T22:23:00.186641Z', '2018-07-02T22:23:00.186641Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['2018-07-02T22:23:00+02:00', '2018-07-02T20:23:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(toIsoUtcFast(text)).toBe(iso);
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2018-13-02T22:23:00Z',
    '2018-07-02T24:00:00Z',
    '2018-07-02T22:23:00.Z',
    'soon',
  ])('refuses %s', (text) => {
    expect(toIsoUtcFast(text)).toBeUndefined();
  });
});

/** A small layout that uses every kind of field. */
const LAYOUT: DelimitedLayout = {
  description: 'test entry',
  syntax: ELB_LIKE,
  minimumValues: 3,
  fields: [
    { name: 'time', kind: 'event-time', parse: toIsoUtcFast },
    { name: 'name', kind: 'string' },
    { name: 'count', kind: 'number' },
    { name: 'peer', kind: 'endpoint' },
    {
      name: 'request',
      kind: 'request',
      parts: {
        whole: 'request_line',
        method: 'method',
        target: 'path',
        query: 'query',
        protocol: 'protocol',
      },
    },
    { name: 'agent', kind: 'url-encoded' },
    { name: 'created', kind: 'time', parse: toIsoUtcFast },
    {
      name: 'pair',
      kind: 'custom',
      toMembers: (text) => (text.includes('=') ? `"pair_key":"${text.split('=')[0]}"` : undefined),
    },
  ],
};

function write(line: string): ReturnType<DelimitedRecordWriter['write']> {
  return new DelimitedRecordWriter(LAYOUT).write(line);
}

describe('DelimitedRecordWriter', () => {
  it('writes each kind of field', () => {
    // Prepare
    const line =
      '2024-05-01T10:00:00Z "a b" 12 [2001:db8::1]:443 "GET /p/q?x=1 HTTP/1.1" curl%2F8 2024-05-01T09:59:59.5Z k=v';

    // Act
    const document = documentOf(write(line));

    // Assess
    expect(document.timestamp).toBe('2024-05-01T10:00:00Z');
    expect(document.fields).toEqual({
      name: 'a b',
      count: 12,
      peer_ip: '2001:db8::1',
      peer_port: 443,
      request_line: 'GET /p/q?x=1 HTTP/1.1',
      method: 'GET',
      path: '/p/q',
      query: 'x=1',
      protocol: 'HTTP/1.1',
      agent: 'curl/8',
      created: '2024-05-01T09:59:59.5Z',
      pair_key: 'k',
    });
  });

  it('keeps values that are not what their field expects in invalid_fields, as written', () => {
    // Prepare
    const line = '2024-05-01T10:00:00Z n twelve 10.0.0.1:http - - yesterday novalue';

    // Act
    const { fields } = documentOf(write(line));

    // Assess
    expect(fields).toEqual({
      name: 'n',
      invalid_fields: { count: 'twelve', peer: '10.0.0.1:http', created: 'yesterday', pair: 'novalue' },
    });
  });

  it.each([
    ['GET /only-path', { method: 'GET', path: '/only-path' }],
    ['- - - ', {}],
    ['- http://host:80- -', { path: 'http://host:80-' }],
    ['GET /a b HTTP/2.0', { method: 'GET', path: '/a b', protocol: 'HTTP/2.0' }],
    ['/lonely', { path: '/lonely' }],
  ])('splits the request line %j', (request, parts) => {
    // Act
    const { fields } = documentOf(write(`2024-05-01T10:00:00Z n 1 - "${request}"`));

    // Assess
    const { request_line: _whole, name: _name, count: _count, ...split } = fields;
    expect(split).toEqual(parts);
  });

  it('reads an endpoint without a port, and an IPv6 one without brackets', () => {
    // Act
    const bare = documentOf(write('2024-05-01T10:00:00Z n 1 10.0.0.1')).fields;
    const ipv6 = documentOf(write('2024-05-01T10:00:00Z n 1 fd00::1:80')).fields;

    // Assess
    expect(bare).toMatchObject({ peer_ip: '10.0.0.1' });
    expect(bare).not.toHaveProperty('peer_port');
    expect(ipv6).toMatchObject({ peer_ip: 'fd00::1', peer_port: 80 });
  });

  it('keeps values after the last field in extra_fields', () => {
    // Act
    const { fields } = documentOf(write('2024-05-01T10:00:00Z n 1 - - - - k=v "x y" - 3'));

    // Assess
    expect(fields.extra_fields).toEqual(['x y', '-', '3']);
  });

  it.each([
    ['2024-05-01T10:00:00Z n', 'test entry: truncated: 2 values, at least 3 expected'],
    ['- n 1', 'test entry: no time value'],
    ['yesterday n 1', 'test entry: time "yesterday" is not a valid time'],
    ['2024-05-01T10:00:00Z n 1 - - - - k=v "open', 'test entry: unterminated quoted value at column 38'],
  ])('reports %j as an error', (line, reason) => {
    expect(errorReasonOf(write(line))).toBe(reason);
  });

  it('starts each line afresh', () => {
    // Prepare
    const writer = new DelimitedRecordWriter(LAYOUT);
    writer.write('2024-05-01T10:00:00Z first x');

    // Act
    const { fields } = documentOf(writer.write('2024-05-01T10:00:01Z second 2'));

    // Assess
    expect(fields).toEqual({ name: 'second', count: 2 });
  });

  it('carries the type override of a line of another flavour', () => {
    // Act
    const result = new DelimitedRecordWriter(LAYOUT).write('2024-05-01T10:00:00Z n 1', 'other');

    // Assess
    expect(documentOf(result).type).toBe('other');
  });
});
