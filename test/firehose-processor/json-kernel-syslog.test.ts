/**
 * The JSON kernel's own reading of syslog headers (kernels.c: the common RFC 3164 and RFC 5424
 * headers) against `syslogFieldsOf` (the core's syslog parser on the decoded message): whenever
 * the kernel answers itself, it must answer exactly what the parser does, on every combination of
 * header parts below; everything else it must leave to the parser.
 */
import { jsonOutputOfEvents } from '../../lambdas/firehose-processor/kernels';
import { PayloadHeaderReader } from '../../lambdas/firehose-processor/payload-header';
import { syslogFieldsOf } from '../../lambdas/firehose-processor/syslog-line';
import { dataMessage, logEvent } from './firehose-events';

const REFERENCE = Date.UTC(2024, 2, 10, 13, 15, 0);
const MESSAGE_MEMBER = ',"message":';

/**
 * The fields the kernel writes for `line` as the message of an event at `reference`, or
 * undefined when it left them to the parser. `payloadText` overrides the payload's JSON.
 */
function fieldsAt(line: string, reference = REFERENCE, payloadText?: string): string | undefined {
  const payload = Buffer.from(payloadText ?? JSON.stringify(dataMessage([logEvent(reference, line)])));
  const eventsStart = new PayloadHeaderReader().read(payload);
  if (eventsStart === undefined) throw new Error('the header must be read');
  let leftToParser = false;
  const json = jsonOutputOfEvents(payload, eventsStart, {
    sharedMembers: MESSAGE_MEMBER,
    syslogFieldsOf: (message, time) => {
      leftToParser = true;
      return syslogFieldsOf(message, time);
    },
  });
  if (json === undefined) throw new Error('the kernel must take the payload');
  if (leftToParser) return undefined;
  const text = json.output.toString('utf8');
  const afterMessage = text.indexOf(MESSAGE_MEMBER) + MESSAGE_MEMBER.length + JSON.stringify(line).length;
  const rest = text.slice(afterMessage, -'}\n'.length);
  return rest.startsWith(',') ? rest.slice(1) : rest;
}

function cartesian(...lists: readonly (readonly string[])[]): string[] {
  return lists.reduce<string[]>(
    (lines, list) => lines.flatMap((line) => list.map((part) => line + part)),
    [''],
  );
}

/** How many of `lines` the kernel answered itself, each exactly as the parser does. */
function answeredAsTheParser(lines: readonly string[]): number {
  let answered = 0;
  for (const line of lines) {
    const fast = fieldsAt(line);
    if (fast === undefined) continue;
    answered++;
    expect([line, fast]).toEqual([line, syslogFieldsOf(line, REFERENCE)]);
  }
  return answered;
}

const PRIS = ['<0>', '<13>', '<013>', '<191>', '<192>', '<999>', '<1234>', '<>', '<a>', ''];

describe("the JSON kernel's syslog fields", () => {
  it('answers as the parser does for RFC 3164 headers, or leaves them to it', () => {
    const lines = cartesian(
      PRIS,
      [
        'Mar 10 ',
        'Mar  9 ',
        'mar 10 ',
        'Feb 29 ',
        'Feb 28 ',
        'Jan 31 ',
        'Mar 1 ',
        'Mar 01 ',
        'Xyz 10 ',
        'March 10 ',
      ],
      ['13:15:02', '23:59:59', '24:00:00', '13:60:00', '13:15:02.123', '1:15:02'],
      [' host', ' ip-10-0-1-5', ' fe80::1', ' h[1]', ' -', '  host', ' hôst'],
      [
        ' sshd[4242]: ',
        ' app: ',
        ' app:',
        ' app[]: ',
        ' app[abc]: ',
        ' app[0042]: ',
        ' app[1234567890123456]: ',
        ' app ',
        ' app[1]:x',
        ' CRON[1]: ',
      ],
      ['msg', '', ' "quoted"', '\tTab'],
    );
    expect(answeredAsTheParser(lines)).toBeGreaterThan(0);
    // The common shapes are all answered.
    const common = cartesian(
      ['<0>', '<13>', '<191>'],
      ['Mar 10 ', 'Mar  9 ', 'Jan 28 '],
      ['13:15:02', '00:00:00'],
      [' host', ' ip-10-0-1-5'],
      [' sshd[4242]: ', ' app: ', ' app:', ' CRON[0042]: '],
      ['msg', '', ' "quoted"'],
    );
    for (const line of common)
      expect([line, fieldsAt(line)]).toEqual([line, syslogFieldsOf(line, REFERENCE)]);
    expect(fieldsAt('<30>Mar 10 13:15:02 ip-10-0-1-5 sshd[4242]: Accepted publickey')).toBe(
      syslogFieldsOf('<30>Mar 10 13:15:02 ip-10-0-1-5 sshd[4242]: Accepted publickey', REFERENCE),
    );
    expect(fieldsAt('<30>Mar 10 13:15:02 host kernel: [1.2] x')).toContain('"app_name":"kernel"');
  });

  it('answers as the parser does for RFC 5424 headers, or leaves them to it', () => {
    const lines = cartesian(
      ['<165>', '<0>', '<192>', ''],
      ['1 ', '2 ', '01 '],
      [
        '-',
        '2024-03-10T13:15:02.003Z',
        '2024-03-10T13:15:02Z',
        '2024-03-10T13:15:02.123456789Z',
        '2024-03-10T13:15:02+01:00',
        '2024-02-30T13:15:02Z',
        '2024-03-10t13:15:02z',
        '0099-03-10T13:15:02Z',
      ],
      [' web-1', ' -', ' a:b[c]'],
      [' nginx', ' -'],
      [' 812', ' -', ' worker-3', ' 0007'],
      [' ID47', ' -'],
      [' - msg', ' -', ' [exampleSDID@32473 iut="3"] msg', ' -msg', '  - msg'],
    );
    expect(answeredAsTheParser(lines)).toBeGreaterThan(0);
    const common = cartesian(
      ['<165>', '<0>'],
      ['1 '],
      ['-', '2024-03-10T13:15:02.003Z', '2024-03-10T13:15:02Z'],
      [' web-1', ' -'],
      [' nginx', ' -'],
      [' 812', ' -', ' worker-3'],
      [' ID47', ' -'],
      [' - msg', ' -'],
    );
    for (const line of common)
      expect([line, fieldsAt(line)]).toEqual([line, syslogFieldsOf(line, REFERENCE)]);
    expect(fieldsAt('<165>1 2024-03-10T13:15:02.003Z web-1 nginx 812 ID47 - hello')).toBe(
      syslogFieldsOf('<165>1 2024-03-10T13:15:02.003Z web-1 nginx 812 ID47 - hello', REFERENCE),
    );
  });

  it('gives no fields at once to messages that cannot start a syslog header', () => {
    for (const line of ['{"level":"info"}', '', ' leading space', '[bracketed]', '\u00e9t\u00e9', '-']) {
      expect([line, fieldsAt(line)]).toEqual([line, '']);
      expect(syslogFieldsOf(line, REFERENCE)).toBe('');
    }
  });

  it('leaves to the parser what an escape or an unusual reference time might change', () => {
    // `\u003c` decodes to `<`: only the parser, on the decoded text, can tell.
    const escaped = JSON.stringify(
      dataMessage([logEvent(REFERENCE, '<13>Mar 10 13:15:02 host app: x')]),
    ).replace('"message":"<13>', '"message":"\\u003c13>');
    expect(escaped).toContain('\\u003c13>');
    expect(fieldsAt('<13>Mar 10 13:15:02 host app: x', REFERENCE, escaped)).toBeUndefined();
    expect(fieldsAt('Mar 10 13:15:02 host app: no PRI')).toBeUndefined();
    expect(fieldsAt('<13>Mar 10 13:15:02 host app: x', Date.UTC(1970, 0, 2))).toBeUndefined();
  });
});
