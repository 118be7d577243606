/**
 * What the byte engine remembers from line to line, against the string engine: the minute of the
 * last valid time (only the seconds are checked while it repeats), the day of the action line,
 * the record number kept as digits; and the values its copy writes directly (numbers, endpoints,
 * request lines) next to the odd ones it must leave to the general path. Whole objects through
 * `encodeBulk` and through `parseObject` + `BulkBatcher` must give the same bytes.
 */
import { BulkBatcher } from '../../lambdas/core/bulk';
import { encodeBulk } from '../../lambdas/core/bulk-encoder';
import { type ParseObjectRequest, parseObject } from '../../lambdas/core/parse-object';
import { chunksOf } from './stream-helpers';

type Request = Omit<ParseObjectRequest, 'body'>;

const OBJECT = { bucket: 'logs', key: 'AWSLogs/123456789012/runs.log', etag: '"0123abcd"' };

/** Bodies and rejected records as text, from the string engine's path. */
async function viaStringEngine(text: string, request: Request): Promise<string[]> {
  const batcher = new BulkBatcher();
  const out: string[] = [];
  for await (const batch of parseObject({ ...request, body: chunksOf(text) })) {
    for (const item of batch.items) {
      if (item.kind === 'rejected') out.push(`rejected ${item.recordNumber} ${item.reason}`);
      else {
        const body = batcher.add(item);
        if (body?.kind === 'body') out.push(body.body);
      }
    }
  }
  const last = batcher.flush();
  if (last !== undefined) out.push(last.body);
  return out;
}

/** The same from `encodeBulk`, in the same order. */
async function viaEncodeBulk(text: string, request: Request): Promise<string[]> {
  const encoding = encodeBulk({ ...request, body: chunksOf(text) });
  const out: string[] = [];
  for await (const batch of encoding) {
    for (const item of batch.rejected) out.push(`rejected ${item.recordNumber} ${item.reason}`);
    for (const body of batch.bodies) out.push(body.body);
  }
  const last = encoding.flush();
  if (last !== undefined) out.push(last.body);
  return out;
}

async function expectSame(lines: readonly string[], request: Request): Promise<string[]> {
  const text = `${lines.join('\n')}\n`;
  const expected = await viaStringEngine(text, request);
  const actual = await viaEncodeBulk(text, request);
  expect(actual).toEqual(expected);
  return actual;
}

/** An ALB line with the given values in place of the defaults. */
function albLine(values: {
  time?: string;
  client?: string;
  number?: string;
  request?: string;
  created?: string;
}): string {
  return [
    'https',
    values.time ?? '2024-05-01T00:00:00.015660Z',
    'app/web/50dc6c495c0c9188',
    values.client ?? '6.41.129.147:6077',
    '10.0.0.49:8080',
    values.number ?? '0.034',
    '0.004 0.042 200 200 1451 43218',
    `"${values.request ?? 'GET https://www.example.com:443/a?q=1 HTTP/1.1'}"`,
    '"curl/8.5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2',
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067',
    '"Root=1-57f58f4a-c40e90244eba3e0e3b06117e" "www.example.com" "-" 1',
    values.created ?? '2024-04-30T23:59:59.901000Z',
    '"forward" "-" "-" "10.0.0.49:8080" "200" "-" "-" TID_c19cf2d3',
  ].join(' ');
}

const ALB: Request = { object: OBJECT, format: 'alb' };

describe('the byte engine from line to line', () => {
  it('checks the seconds of every time whose minute repeats, and takes a new minute or day afresh', async () => {
    // Prepare: runs of one minute with bad seconds, fractions and zones among good ones, days
    // that change and change back, for both the event time and a time field.
    const times = [
      '2024-05-01T00:00:00.015660Z',
      '2024-05-01T00:00:59.999999Z',
      '2024-05-01T00:00:60.000000Z',
      '2024-05-01T00:00:6a.000000Z',
      '2024-05-01T00:00:01.12a4Z',
      '2024-05-01T00:00:01.Z',
      '2024-05-01T00:00:01.1234567890Z',
      '2024-05-01T00:00:01',
      '2024-05-01T00:00:01Z',
      '2024-05-01T00:00:02.5Z',
      '2024-05-01T00:00:0.25Z',
      '2024-05-01T00:00-01.000000Z',
      '2024-05-01T00:01:00.000000Z',
      '2024-02-29T12:00:00.000000Z',
      '2023-02-29T12:00:00.000000Z',
      '2023-02-29T12:00:01.000000Z',
      '2024-04-30T23:59:59.000001Z',
      '2024-05-01T00:00:03.000000Z',
      '2024-04-30T23:59:58.000001Z',
    ];
    const lines = times.flatMap((time) => [albLine({ time }), albLine({ created: time })]);

    // Act and assess
    const outcome = await expectSame(lines, ALB);
    expect(outcome.some((entry) => entry.startsWith('rejected'))).toBe(true);
  });

  it('numbers every document as the string engine does, across the digits’ carries and a late start', async () => {
    // Prepare: 1 to 1,050 crosses 9, 99 and 999; a rejected line in between breaks the sequence.
    const lines = Array.from({ length: 1050 }, (_, index) =>
      index === 500 ? albLine({ time: 'yesterday' }) : albLine({}),
    );

    // Act and assess
    await expectSame(lines, ALB);
    await expectSame(lines.slice(0, 120), { ...ALB, startRecord: 95 });
  });

  it('writes the numbers, endpoints and request lines it copies, and leaves the odd ones to the general path', async () => {
    // Prepare
    const numbers = [
      '007',
      '-007',
      '-0',
      '0',
      '0.',
      '.5',
      '--1',
      '-',
      '1.50',
      '0000.1',
      '12345678901234567890',
    ];
    const clients = [
      '1.2.3.4:0080',
      '1.2.3.4:0',
      ':443',
      '1.2.3.4:',
      '1.2.3.4',
      '[2001:db8::1]:80',
      '2001:db8::1:8080',
      'host:123456',
      'host:http',
      '-',
    ];
    const requests = [
      'GET https://example.com/ HTTP/1.1',
      '- https://example.com/ HTTP/1.1',
      'GET - HTTP/1.1',
      'GET https://example.com/ -',
      'GET https://example.com/',
      'GET https://example.com/ HTTP/1.1 ',
      'GET  HTTP/1.1',
      'GET /a b c HTTP/2.0',
      'GET https://example.com/ http/1.1',
      'GET https://example.com/ HTTP/',
      'GET https://example.com/ HTTP',
      'GET /with\\"quote HTTP/1.1',
      '- - - ',
      'GET',
      '',
    ];
    const lines = [
      ...numbers.map((number) => albLine({ number })),
      ...clients.map((client) => albLine({ client })),
      ...requests.map((request) => albLine({ request })),
    ];

    // Act and assess
    await expectSame(lines, ALB);
  });

  it('reads zoneless NLB times as UTC through the same minute check', async () => {
    // Prepare
    const nlb = (time: string) =>
      `tls 2.0 ${time} net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 89.160.20.112:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19 - ECDHE-RSA-AES128-SHA tlsv12 - my-nlb.elb.us-east-2.amazonaws.com h2 h2 - ${time}`;
    const lines = [
      '2018-12-20T02:59:40',
      '2018-12-20T02:59:41.5',
      '2018-12-20T02:59:42Z',
      '2018-12-20T02:59:61',
      '2018-12-20T02:59:4',
      '2018-12-20T03:00:00',
    ].map(nlb);

    // Act and assess
    await expectSame(lines, { object: OBJECT, format: 'nlb' });
  });
});
