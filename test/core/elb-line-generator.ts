/**
 * Generated ELB-family lines for the tests that hold the byte engine to the string engine: ALB
 * access lines that vary every field (`-`, IPv6, escapes, odd numbers, unicode, long values, old
 * and new field counts), each labelled `common` (the byte engine must take it) or with the reason
 * it is unusual (the byte engine must leave it to the string engine), plus lines of the other
 * flavours. Deterministic: the same seed gives the same lines.
 */
import { randomGenerator } from '../../bench/alb-log-generator';

/** One generated line and what the byte engine must do with it. */
export interface GeneratedLine {
  readonly line: string;
  /** Why the byte engine must decline the line, or undefined when it must take it. */
  readonly unusual?: string;
}

type Random = () => number;

const pick = <T>(random: Random, values: readonly T[]): T =>
  values[Math.floor(random() * values.length)] as T;

/** Two-digit text of `value`. */
const twoDigits = (value: number): string => String(value).padStart(2, '0');

function isoTime(random: Random): string {
  const day = 1 + Math.floor(random() * 28);
  const fraction = String(Math.floor(random() * 1_000_000)).padStart(6, '0');
  return `2024-0${1 + Math.floor(random() * 9)}-${twoDigits(day)}T${twoDigits(Math.floor(random() * 24))}:${twoDigits(
    Math.floor(random() * 60),
  )}:${twoDigits(Math.floor(random() * 60))}.${fraction}Z`;
}

/** Values a field may hold that every engine takes as they are. */
const COMMON = {
  clients: [
    '203.0.113.7:443',
    '[2001:db8::1]:52311',
    '2001:db8:85a3::8a2e:370:7334:8080',
    '198.51.100.1',
    '-',
  ],
  numbers: ['0.000', '-1', '12', '007', '0', '3.1400', '1234567890123456789', '-0.5', '-'],
  userAgents: [
    'curl/8.5.0',
    'Mozilla/5.0 (compatible; \\"quoted\\" crawler/1.0)',
    'C:\\\\path \\d',
    'café-bot/1.0 ✓ 😀',
    '-',
    '',
  ],
  requests: [
    'GET https://www.example.com:443/api?q=1&x=%20 HTTP/1.1',
    'POST http://example.com:80/a b/c HTTP/2.0',
    'GET /only-a-path',
    '- - - ',
    'PUT https://例え.jp:443/パス?クエリ=値 HTTP/1.1',
    `GET https://example.com:443/${'long/'.repeat(600)} HTTP/1.1`,
    '-',
  ],
  strings: ['-', 'ECDHE-RSA-AES128-GCM-SHA256', 'x"y', 'back\\slash', 'tls!v1.2', 'ünïcödé'],
} as const;

/**
 * Unusual values, per field position, and why the byte engine declines them: the string engine
 * turns them into errors, `invalid_fields` or escapes the byte engine does not write.
 */
const UNUSUAL: readonly { readonly field: number; readonly value: string; readonly why: string }[] = [
  { field: 1, value: '2024-02-30T00:00:00.000000Z', why: 'a time that names no real day' },
  { field: 1, value: '2024-05-01T00:00:00+01:00', why: 'a time with an offset' },
  { field: 3, value: 'host:http', why: 'an endpoint whose port is no number' },
  { field: 4, value: '10.0.0.1:1234567', why: 'a port of seven digits' },
  { field: 5, value: '1e5', why: 'a number with an exponent' },
  { field: 9, value: 'abc', why: 'a number field holding text' },
  { field: 10, value: '12345678901234567890', why: 'a number of twenty digits' },
  { field: 13, value: '"tab\there"', why: 'a control character in a value' },
  { field: 21, value: 'yesterday', why: 'a request creation time that is no time' },
];

function albFields(random: Random): string[] {
  const type = pick(random, ['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);
  return [
    type,
    isoTime(random),
    pick(random, ['app/my-lb/50dc6c495c0c9188', '-', 'app/b\\"ack/1']),
    pick(random, COMMON.clients),
    pick(random, ['10.0.0.1:80', '-', '[fe80::1]:8080']),
    pick(random, COMMON.numbers),
    pick(random, COMMON.numbers),
    pick(random, COMMON.numbers),
    pick(random, ['200', '502', '-', '000']),
    pick(random, ['200', '-']),
    pick(random, COMMON.numbers),
    pick(random, COMMON.numbers),
    `"${pick(random, COMMON.requests)}"`,
    `"${pick(random, COMMON.userAgents)}"`,
    pick(random, COMMON.strings),
    pick(random, ['TLSv1.2', '-']),
    pick(random, ['arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067', '-']),
    `"Root=1-${Math.floor(random() * 1e8).toString(16)}-0123456789abcdef"`,
    `"${pick(random, ['www.example.com', '-', 'ドメイン.example'])}"`,
    `"${pick(random, ['arn:aws:acm:us-east-2:123456789012:certificate/abc', '-'])}"`,
    pick(random, ['0', '1', '-1', '-']),
    pick(random, [isoTime(random), '-', '2024-05-01T00:00:00Z']),
    `"${pick(random, ['forward', 'authenticate,forward', '-'])}"`,
    `"${pick(random, ['-', 'https://example.com:443/redirected'])}"`,
    `"${pick(random, ['-', 'TargetConnectionErrorUnknown'])}"`,
    pick(random, ['"10.0.0.1:80"', '"-"', '"10.0.0.1:80 10.0.0.2:80"']),
    pick(random, ['"200"', '"-"', '"200 502"']),
    `"${pick(random, ['-', 'Acceptable', 'Ambiguous'])}"`,
    `"${pick(random, ['-', 'UndefinedContentLengthHeader'])}"`,
    `TID_${Math.floor(random() * 1e12).toString(16)}`,
    `"${pick(random, ['-', 'rewritten.example.com'])}"`,
    `"${pick(random, ['-', '/rewritten?x=1'])}"`,
    `"${pick(random, ['-', 'TRANSFORMED'])}"`,
  ];
}

/** ALB access lines: about one in six unusual, the rest common, every field varied. */
export function generatedAlbLines(count: number, seed = 7): GeneratedLine[] {
  const random = randomGenerator(seed);
  const lines: GeneratedLine[] = [];
  for (let index = 0; index < count; index++) {
    const fields = albFields(random);
    const shape = random();
    if (shape < 0.1) {
      const unusual = pick(random, UNUSUAL);
      fields[unusual.field] = unusual.value;
      lines.push({ line: fields.join(' '), unusual: unusual.why });
    } else if (shape < 0.12) {
      lines.push({ line: [...fields, '"new"', 'field'].join(' '), unusual: 'values past the last field' });
    } else if (shape < 0.14) {
      lines.push({ line: fields.slice(0, 12).join(' '), unusual: 'fewer values than the oldest entries' });
    } else if (shape < 0.15) {
      lines.push({ line: `${fields.slice(0, 13).join(' ')} "never closed`, unusual: 'a quote left open' });
    } else if (shape < 0.17) {
      // Entries older than the newest fields end earlier; both engines leave the rest out.
      lines.push({ line: fields.slice(0, 17 + Math.floor(random() * 15)).join(' ') });
    } else if (shape < 0.18) {
      // A quoted value followed by the next without a space (a glitch the peers read).
      lines.push({ line: fields.join(' ').replace('"-" "-"', '"-""-"') });
    } else if (shape < 0.19) {
      // The flavour check reads the first values at single spaces, in both engines.
      lines.push({ line: fields.join('  '), unusual: 'two spaces between values' });
    } else {
      lines.push({ line: fields.join(' ') });
    }
  }
  return lines;
}

/** Lines of the other ELB-family flavours, which an ALB object may hold: the string engine's. */
export const OTHER_FLAVOUR_LINES: readonly GeneratedLine[] = [
  {
    line: 'tls 2.0 2018-12-20T02:59:40 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 89.160.20.112:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19 - ECDHE-RSA-AES128-SHA tlsv12 - my-nlb.elb.us-east-2.amazonaws.com h2 h2 "h2","http/1.1" 2020-04-01T08:51:42',
    unusual: 'an NLB line',
  },
  {
    line: '2019-10-14T12:00:20.694172Z my-elb 175.16.199.1:54106 10.0.1.185:80 0.000043 0.000785 0.000023 200 200 0 612 "GET http://x:80/ HTTP/1.1" "curl/7.58.0" - -',
    unusual: 'a Classic ELB line',
  },
  {
    line: '2023-01-01T00:00:00.000000Z 203.0.113.7 52311 443 TLSv1.3 TLS_AES_128_GCM_SHA256 3 "CN=x" NotBefore=2023-01-01T00:00:00Z;NotAfter=2024-01-01T00:00:00Z 0ab1 Success TID_1',
    unusual: 'an ALB connection line',
  },
];
