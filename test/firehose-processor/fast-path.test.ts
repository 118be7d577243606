/**
 * The fast paths (the header reader of `payload-header.ts` with the raw and JSON kernels of
 * `kernels.ts`) against the general path (`JSON.parse` + `output-format.ts`): on every payload
 * they take, both must write the same bytes; everything they decline must be something the
 * general path reads or rejects itself.
 */
import { IsoTimeFormatter } from '../../lambdas/firehose-processor/iso-time';
import { jsonOutputOfEvents, rawOutputOfEvents } from '../../lambdas/firehose-processor/kernels';
import {
  cloudWatchOutputText,
  JSON_LINE,
  sourceMembers,
} from '../../lambdas/firehose-processor/output-format';
import { PayloadHeaderReader } from '../../lambdas/firehose-processor/payload-header';
import { parseCloudWatchPayload } from '../../lambdas/firehose-processor/record-data';
import { syslogFieldsOf } from '../../lambdas/firehose-processor/syslog-line';
import { dataMessage, logEvent } from './firehose-events';

const T0 = Date.UTC(2024, 2, 10, 13, 15, 0);

/** Messages covering what CloudWatch Logs carries: syslog, JSON logs, UTF-8, every kind of escape. */
const MESSAGES = [
  '<30>Mar 10 13:15:02 ip-10-0-1-5 sshd[4242]: Accepted publickey for ec2-user from 10.0.0.1 port 50000 ssh2',
  '<165>1 2024-03-10T13:15:02.003Z web-1 nginx 812 ID47 - 10.0.0.9 "GET /a?b=c HTTP/1.1" 200 12',
  '<13>Mar  9 23:59:59 host app: tab\there, newline\nthere, cr\r, backslash \\ slash / quote "',
  '{"level":"info","msg":"order \\"A-1\\" placed","user":"zoë"}',
  'plain text with UTF-8: café, 日本語, emoji 😀, combining e\u0301',
  'controls: \u0000 \u0001 \u001b[31mred\u001b[0m \u007f \b \f',
  'separators \u2028 and \u2029 and BOM \ufeff',
  'lone surrogates \ud800 and \udfff',
  '',
  ' ',
  'x'.repeat(5000),
  '<191>Feb 28 00:00:00 h t[1]: max PRI',
  '<0>1 - - - - - - nil everything',
];

function payloadBytes(payload: unknown, stringify: (value: unknown) => string = JSON.stringify): Buffer {
  return Buffer.from(stringify(payload), 'utf8');
}

function events(count: number, spacing = 997) {
  return Array.from({ length: count }, (_, index) =>
    logEvent(T0 + index * spacing, MESSAGES[index % MESSAGES.length] as string),
  );
}

/** Both paths' output for `bytes` in `format`; the fast one is undefined when it declined. */
function outputs(bytes: Buffer, format: 'raw' | 'json') {
  const parsed = parseCloudWatchPayload(Buffer.from(bytes));
  const general =
    parsed.kind === 'cloudwatch-data'
      ? Buffer.from(
          cloudWatchOutputText(parsed.payload.logEvents, parsed.payload, format, new IsoTimeFormatter()),
        )
      : undefined;
  const header = new PayloadHeaderReader();
  const events = fastOutput(Buffer.from(bytes), format, header);
  return { general, fast: events?.output, events, header, parsed };
}

/** The fast path's reading of a payload, as the processor uses it. */
function fastOutput(bytes: Buffer, format: 'raw' | 'json', header = new PayloadHeaderReader()) {
  const eventsStart = header.read(bytes);
  if (eventsStart === undefined) return undefined;
  return format === 'raw'
    ? rawOutputOfEvents(bytes, eventsStart)
    : jsonOutputOfEvents(bytes, eventsStart, {
        sharedMembers: `${sourceMembers(header.logGroup, header.logStream)}${JSON_LINE.message}`,
        syslogFieldsOf,
      });
}

describe('the fast paths', () => {
  it.each(['raw', 'json'] as const)(
    'writes what the general path writes (%s), for every kind of message',
    (format) => {
      const bytes = payloadBytes(dataMessage(events(MESSAGES.length * 3)));
      const { general, fast, events: read, header, parsed } = outputs(bytes, format);
      expect(fast).toBeDefined();
      expect(fast?.toString('utf8')).toBe(general?.toString('utf8'));
      expect(fast?.equals(general as Buffer)).toBe(true);
      if (parsed.kind !== 'cloudwatch-data') throw new Error('the general path must take it');
      expect(read?.count).toBe(parsed.payload.logEvents.length);
      expect([read?.earliest, read?.latest]).toEqual([parsed.earliest, parsed.latest]);
      expect(header.logGroup).toBe(parsed.payload.logGroup);
      expect(header.logStream).toBe(parsed.payload.logStream);
    },
  );

  it('decodes log groups and streams with escapes and UTF-8', () => {
    const payload = dataMessage(events(2), { logGroup: '/app/"quoted"\\x', logStream: 'strøm/\u0001/1' });
    const { fast, general, header } = outputs(payloadBytes(payload), 'json');
    expect(header.logGroup).toBe('/app/"quoted"\\x');
    expect(header.logStream).toBe('strøm/\u0001/1');
    expect(fast?.equals(general as Buffer)).toBe(true);
    // UTF-8 without any escape.
    const plain = outputs(
      payloadBytes(dataMessage(events(2), { logGroup: '/app/ünï 😀', logStream: 'ß' })),
      'json',
    );
    expect([plain.header.logGroup, plain.header.logStream]).toEqual(['/app/ünï 😀', 'ß']);
    expect(plain.fast?.equals(plain.general as Buffer)).toBe(true);
  });

  it('writes every escape as JSON.stringify would, whatever escapes the payload used', () => {
    // JSON written by hand, with escapes JSON.stringify would not write (`\/`, `\u00e9`, upper-case hex).
    const text = (message: string) =>
      `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":${T0},"message":"${message}"}]}`;
    const messages = [
      'plain',
      'a \\"b\\" \\\\ \\n \\t \\r \\b \\f',
      'ctl \\u001b and \\u001B and \\u0000',
      'slash \\/',
      'e \\u00e9 and \\u00E9',
      'pair \\ud83d\\ude00 and \\uD83D\\uDE00',
      'lone \\ud800 and \\udfff and \\ud800\\u0041',
      'quote \\u0022 backslash \\u005c short \\u0008\\u0009\\u000a\\u000c\\u000d',
      'separators \\u2028 \\u2029 del \\u007f',
      '\\u003c13>Mar 10 13:15:02 host app: escaped PRI',
    ];
    for (const message of messages) {
      const bytes = Buffer.from(text(message));
      for (const format of ['raw', 'json'] as const) {
        const { fast, general } = outputs(bytes, format);
        expect(fast).toBeDefined();
        expect([message, format, fast?.toString('utf8')]).toEqual([
          message,
          format,
          general?.toString('utf8'),
        ]);
      }
    }
  });

  it('reads payloads of many events and few, one after the other, in both formats', () => {
    for (const count of [5000, 3, 1, 800]) {
      for (const format of ['raw', 'json'] as const) {
        const { fast, general } = outputs(payloadBytes(dataMessage(events(count, 1))), format);
        expect([count, format, fast?.equals(general as Buffer)]).toEqual([count, format, true]);
      }
    }
  });

  it('declines what it does not read exactly as JSON.parse would, leaving the bytes untouched', () => {
    const base = dataMessage(events(3));
    const valid = JSON.stringify(base);
    const withExtracted = {
      ...base,
      logEvents: [{ ...logEvent(T0, 'x'), extractedFields: { a: '1' } }],
    };
    const declined: [string, Buffer][] = [
      ['pretty-printed', payloadBytes(base, (value) => JSON.stringify(value, null, 1))],
      ['members in another order', payloadBytes({ logEvents: base.logEvents, ...base })],
      ['extractedFields', payloadBytes(withExtracted)],
      ['a fractional timestamp', Buffer.from(valid.replace(`"timestamp":${T0}`, `"timestamp":${T0}.5`))],
      ['an exponent', Buffer.from(valid.replace(`"timestamp":${T0}`, '"timestamp":1.7e12'))],
      ['16 digits', Buffer.from(valid.replace(`"timestamp":${T0}`, '"timestamp":1710076500000000'))],
      ['a leading zero', Buffer.from(valid.replace(`"timestamp":${T0}`, `"timestamp":0${T0}`))],
      ['a raw control character', Buffer.from(valid.replace('Accepted', 'Acc\u0001epted'))],
      ['a raw tab', Buffer.from(valid.replace('Accepted', 'Acc\tepted'))],
      ['an invalid escape', Buffer.from(valid.replace('Accepted', 'Acc\\xepted'))],
      ['a short \\u escape', Buffer.from(valid.replace('Accepted', 'Acc\\u12'))],
      [
        'invalid UTF-8',
        Buffer.concat([
          Buffer.from(valid.slice(0, 200)),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(valid.slice(200)),
        ]),
      ],
      ['trailing whitespace', Buffer.from(`${valid} `)],
      ['trailing garbage', Buffer.from(`${valid}}`)],
      ['a trailing comma', Buffer.from(valid.replace(/\]\}$/, ',]}'))],
      ['a truncated payload', Buffer.from(valid.slice(0, -3))],
      ['a CONTROL_MESSAGE', Buffer.from(valid.replace('DATA_MESSAGE', 'CONTROL_MESSAGE'))],
      ['a numeric owner', Buffer.from(valid.replace('"owner":"123456789012"', '"owner":123456789012'))],
      ['an id with an escape', Buffer.from(valid.replace(/"id":"(\d)/, '"id":"\\u0031'))],
      ['a numeric id', Buffer.from(valid.replace(/"id":"(\d+)"/, '"id":$1'))],
      ['not an object', Buffer.from('[1,2]')],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [name, bytes] of declined) {
      const copy = Buffer.from(bytes);
      for (const format of ['raw', 'json'] as const) {
        expect([name, format, fastOutput(copy, format)]).toEqual([name, format, undefined]);
      }
      expect(copy.equals(bytes)).toBe(true);
    }
  });

  it('takes a payload without events, and the empty subscription filter list', () => {
    const bytes = payloadBytes({ ...dataMessage([]), subscriptionFilters: [] });
    const header = new PayloadHeaderReader();
    expect(header.read(bytes)).toBe(bytes.indexOf('"logEvents":[') + '"logEvents":['.length);
    expect([header.logGroup, header.logStream]).toEqual([
      dataMessage([]).logGroup,
      dataMessage([]).logStream,
    ]);
    for (const format of ['raw', 'json'] as const) expect(fastOutput(bytes, format)?.count).toBe(0);
  });

  it('keeps negative and zero timestamps exact', () => {
    const payload = dataMessage([logEvent(0, 'epoch'), logEvent(-86_400_000, 'day before')]);
    const { events: read, fast, general } = outputs(payloadBytes(payload), 'json');
    expect([read?.earliest, read?.latest]).toEqual([-86_400_000, 0]);
    expect(fast?.equals(general as Buffer)).toBe(true);
  });

  it('leaves times outside the years 0 to 9999 to the general path in JSON', () => {
    const bytes = payloadBytes(dataMessage([logEvent(253_402_300_800_000, 'year 10000')]));
    expect(fastOutput(bytes, 'json')).toBeUndefined();
    expect(fastOutput(bytes, 'raw')?.count).toBe(1);
  });
});
