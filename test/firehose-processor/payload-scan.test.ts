/**
 * The fast paths (`payload-scan.ts` + `payload-output.ts` for JSON output, the header reader +
 * the raw kernel of `kernels.ts` for raw output) against the general path (`JSON.parse` +
 * `output-format.ts`): on every payload the readers take, both must write the same bytes;
 * everything they decline must be something the general path reads or rejects itself.
 */
import { IsoTimeFormatter } from '../../lambdas/firehose-processor/iso-time';
import { rawOutputOfEvents } from '../../lambdas/firehose-processor/kernels';
import { cloudWatchOutputText } from '../../lambdas/firehose-processor/output-format';
import { JsonPayloadWriter } from '../../lambdas/firehose-processor/payload-output';
import { CloudWatchPayloadScan, Escapes } from '../../lambdas/firehose-processor/payload-scan';
import { parseCloudWatchPayload } from '../../lambdas/firehose-processor/record-data';
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

/** Both paths' output for `bytes` in `format`; the fast one is undefined when the reader declined. */
function outputs(bytes: Buffer, format: 'raw' | 'json') {
  const parsed = parseCloudWatchPayload(Buffer.from(bytes));
  const general =
    parsed.kind === 'cloudwatch-data'
      ? Buffer.from(
          cloudWatchOutputText(parsed.payload.logEvents, parsed.payload, format, new IsoTimeFormatter()),
        )
      : undefined;
  const scan = new CloudWatchPayloadScan();
  const copy = Buffer.from(bytes);
  if (format === 'raw') {
    const raw = rawOfPayload(copy);
    if (raw !== undefined) scan.read(Buffer.from(bytes));
    return { general, fast: raw?.output, raw, scan, parsed };
  }
  if (!scan.read(copy)) return { general, fast: undefined, scan, parsed };
  return { general, fast: new JsonPayloadWriter().write(scan), scan, parsed };
}

/** The raw kernel's reading of a payload, after the header reader, as the processor uses them. */
function rawOfPayload(bytes: Buffer) {
  const eventsStart = new CloudWatchPayloadScan().readHeaderOf(bytes);
  return eventsStart === undefined ? undefined : rawOutputOfEvents(bytes, eventsStart);
}

describe('CloudWatchPayloadScan with the byte writers', () => {
  it.each(['raw', 'json'] as const)(
    'writes what the general path writes (%s), for every kind of message',
    (format) => {
      const bytes = payloadBytes(dataMessage(events(MESSAGES.length * 3)));
      const { general, fast, scan, parsed, raw } = outputs(bytes, format);
      expect(fast).toBeDefined();
      expect(fast?.toString('utf8')).toBe(general?.toString('utf8'));
      expect(fast?.equals(general as Buffer)).toBe(true);
      if (parsed.kind !== 'cloudwatch-data') throw new Error('the general path must take it');
      if (raw !== undefined) {
        expect(raw.count).toBe(parsed.payload.logEvents.length);
        expect([raw.earliest, raw.latest]).toEqual([parsed.earliest, parsed.latest]);
      }
      expect(scan.count).toBe(parsed.payload.logEvents.length);
      expect(scan.earliest).toBe(parsed.earliest);
      expect(scan.latest).toBe(parsed.latest);
      expect(scan.logGroup).toBe(parsed.payload.logGroup);
      expect(scan.logStream).toBe(parsed.payload.logStream);
      expect(scan.owner).toBe(parsed.payload.owner);
      expect(scan.subscriptionFilters).toEqual(parsed.payload.subscriptionFilters);
    },
  );

  it('decodes log groups and streams with escapes and UTF-8', () => {
    const payload = dataMessage(events(2), { logGroup: '/app/"quoted"\\x', logStream: 'strøm/\u0001/1' });
    const { fast, general, scan } = outputs(payloadBytes(payload), 'json');
    expect(scan.logGroup).toBe('/app/"quoted"\\x');
    expect(scan.logStream).toBe('strøm/\u0001/1');
    expect(fast?.equals(general as Buffer)).toBe(true);
  });

  it('classifies escapes: none, those JSON.stringify writes, and others', () => {
    // JSON written by hand, with escapes JSON.stringify would not write (`\/`, `\u00e9`, upper-case hex).
    const text = (message: string) =>
      `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":${T0},"message":"${message}"}]}`;
    const cases: [string, number][] = [
      ['plain', Escapes.NONE],
      ['a \\"b\\" \\\\ \\n \\t \\r \\b \\f', Escapes.CANONICAL],
      ['ctl \\u001b', Escapes.OTHER],
      ['slash \\/', Escapes.OTHER],
      ['e \\u00e9', Escapes.OTHER],
      ['ctl \\u001B', Escapes.OTHER],
      ['pair \\ud83d\\ude00', Escapes.OTHER],
    ];
    for (const [message, escapes] of cases) {
      const bytes = Buffer.from(text(message));
      const scan = new CloudWatchPayloadScan();
      expect(scan.read(Buffer.from(bytes))).toBe(true);
      expect([message, scan.messageEscapes[0]]).toEqual([message, escapes]);
      for (const format of ['raw', 'json'] as const) {
        const { fast, general } = outputs(bytes, format);
        expect([message, format, fast?.toString('utf8')]).toEqual([
          message,
          format,
          general?.toString('utf8'),
        ]);
      }
    }
  });

  it('grows its arrays for payloads of many events, and is reused across payloads', () => {
    const scan = new CloudWatchPayloadScan();
    const big = payloadBytes(dataMessage(events(5000, 1)));
    const small = payloadBytes(dataMessage(events(3)));
    expect(scan.read(Buffer.from(big))).toBe(true);
    expect(scan.count).toBe(5000);
    expect(scan.read(Buffer.from(small))).toBe(true);
    expect(scan.count).toBe(3);
    const { fast, general } = outputs(big, 'json');
    expect(fast?.equals(general as Buffer)).toBe(true);
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
      const scan = new CloudWatchPayloadScan();
      const copy = Buffer.from(bytes);
      expect([name, scan.read(copy)]).toEqual([name, false]);
      expect([name, rawOfPayload(copy)]).toEqual([name, undefined]);
      expect(copy.equals(bytes)).toBe(true);
    }
  });

  it('takes a payload without events, and the empty subscription filter list', () => {
    const scan = new CloudWatchPayloadScan();
    expect(scan.read(payloadBytes({ ...dataMessage([]), subscriptionFilters: [] }))).toBe(true);
    expect(scan.count).toBe(0);
    expect(scan.subscriptionFilters).toEqual([]);
  });

  it('keeps negative and zero timestamps exact', () => {
    const payload = dataMessage([logEvent(0, 'epoch'), logEvent(-86_400_000, 'day before')]);
    const { scan, fast, general } = outputs(payloadBytes(payload), 'json');
    expect(Array.from(scan.timestamps.subarray(0, 2))).toEqual([0, -86_400_000]);
    expect(fast?.equals(general as Buffer)).toBe(true);
  });

  it('reads the raw events of payloads of every size with one kernel memory, leaving the payloads as they were', () => {
    const sizes = [0, 1, 3, 40, 5000, 2];
    for (const count of sizes) {
      const bytes = payloadBytes(dataMessage(events(count, 1)));
      const copy = Buffer.from(bytes);
      const { fast, general } = outputs(copy, 'raw');
      if (count === 0) {
        expect(rawOfPayload(copy)?.output.length).toBe(0);
      } else {
        expect([count, fast?.equals(general as Buffer)]).toEqual([count, true]);
      }
      expect(copy.equals(bytes)).toBe(true);
    }
  });
});
