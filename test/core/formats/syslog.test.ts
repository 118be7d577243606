import { syslogFormat } from '../../../lambdas/core/formats/syslog';
import {
  parseStructuredData,
  parseSyslogLine,
  parseSyslogLineInto,
  type SyslogMessage,
  SyslogParts,
  syslogFieldsJson,
} from '../../../lambdas/core/syslog';
import { toCorpusTimestamp } from '../../support/conformance';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
} from './format-harness';

function parsed(line: string, referenceTimeMillis = Date.UTC(2025, 5, 1)): SyslogMessage {
  const message = parseSyslogLine(line, referenceTimeMillis);
  if (message instanceof Error) throw message;
  return message;
}

describe('syslog conformance corpus', () => {
  itHoldsEveryConformanceRow('syslog', syslogFormat, {
    timestamp: (document) => toCorpusTimestamp(document.timestamp ?? ''),
    hostname: (document) => document.fields.hostname,
    app_name: (document) => document.fields.app_name,
    pid: (document) => document.fields.pid,
    message: (document) => document.fields.message,
  });
});

describe('syslog documents', () => {
  it('writes an RFC 5424 message with facility and severity as names and codes', () => {
    // Prepare: RFC 5424 section 6.5, example 3
    const line =
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...';

    // Act
    const document = documentOf(parseOne(syslogFormat, line));

    // Assess: PRI 165 = facility 20 (local4) * 8 + severity 5 (notice)
    expect(document.timestamp).toBe('2003-10-11T22:14:15.003Z');
    expect(document.fields).toEqual({
      facility: 'local4',
      facility_code: 20,
      severity: 'notice',
      severity_code: 5,
      version: 1,
      hostname: 'mymachine.example.com',
      app_name: 'evntslog',
      msgid: 'ID47',
      structured_data: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' } },
      message: 'An application event log entry...',
    });
  });

  it('writes an RFC 3164 message with its tag and pid', () => {
    // Prepare: PRI 34 = auth (4) * 8 + crit (2), RFC 3164 section 5.4
    const line = "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8";

    const document = documentOf(parseOne(syslogFormat, line, {}, { lastModified: Date.UTC(2003, 9, 12) }));

    expect(document.timestamp).toBe('2003-10-11T22:14:15.000Z');
    expect(document.fields).toEqual({
      facility: 'auth',
      facility_code: 4,
      severity: 'crit',
      severity_code: 2,
      hostname: 'mymachine',
      app_name: 'su',
      pid: 230,
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('keeps a PROCID that is not a number as procid, so pid keeps one type', () => {
    const document = documentOf(
      parseOne(syslogFormat, '<13>1 2024-01-01T00:00:00Z host app worker-7 - - hello'),
    );

    expect(document.fields.procid).toBe('worker-7');
    expect(document.fields).not.toHaveProperty('pid');
  });

  it('reports a line that is not syslog, and a PRI out of range', () => {
    expect(errorReasonOf(parseOne(syslogFormat, 'just some text'))).toContain('not a syslog line');
    expect(errorReasonOf(parseOne(syslogFormat, '<192>Oct 11 22:14:15 host app: x'))).toContain(
      'out of range',
    );
    expect(errorReasonOf(parseOne(syslogFormat, '<13>1 2024-13-45T99:00:00Z host app - - - x'))).toContain(
      'invalid RFC 5424 timestamp',
    );
  });
});

describe('RFC 3164 year inference', () => {
  it('puts a December line in an object written in January into the previous year', () => {
    const message = parsed('<13>Dec 31 23:59:58 host app: last of the year', Date.UTC(2025, 0, 1, 0, 5));

    expect(message.timestamp).toBe('2024-12-31T23:59:58.000Z');
  });

  it('puts a January line in an object written on 31 December, a few hours early, into the next year', () => {
    const message = parsed('<13>Jan  1 03:00:00 host app: happy new year', Date.UTC(2024, 11, 31, 23, 0));

    expect(message.timestamp).toBe('2025-01-01T03:00:00.000Z');
  });

  it('keeps a line of the same year in that year', () => {
    expect(parsed('<13>Jun  1 09:30:00 host app: x', Date.UTC(2025, 5, 1, 10)).timestamp).toBe(
      '2025-06-01T09:30:00.000Z',
    );
  });

  it('takes 29 February from the last leap year', () => {
    expect(parsed('<13>Feb 29 12:00:00 host app: leap', Date.UTC(2025, 2, 1)).timestamp).toBe(
      '2024-02-29T12:00:00.000Z',
    );
  });

  it('uses the object time, not the present', () => {
    expect(parsed('<13>Mar  3 03:03:03 host app: old', Date.UTC(2011, 5, 1)).timestamp).toBe(
      '2011-03-03T03:03:03.000Z',
    );
  });
});

describe('parseSyslogLine edge cases', () => {
  it('keeps the whole text as the message when a PRI has no header after it (RFC 3164 4.3.2)', () => {
    expect(parsed('<13>no header here')).toEqual({
      protocol: 'rfc3164',
      facility: 1,
      severity: 5,
      message: 'no header here',
    });
  });

  it('strips a real byte order mark but not the letters BOM', () => {
    expect(parsed('<13>1 2024-01-01T00:00:00Z h a - - - \uFEFFhello').message).toBe('hello');
    expect(parsed('<13>1 2024-01-01T00:00:00Z h a - - - BOMhello').message).toBe('BOMhello');
  });

  it('reads an RFC 3339 time in an RFC 3164 header, as rsyslog writes it', () => {
    const message = parsed('<13>2024-01-02T03:04:05.678+01:00 host app[9]: precise');

    expect(message).toMatchObject({
      protocol: 'rfc3164',
      timestamp: '2024-01-02T02:04:05.678Z',
      hostname: 'host',
      appName: 'app',
      procId: '9',
    });
  });

  it('reads an IPv6 hostname in RFC 3164', () => {
    expect(parsed('<13>Jan  5 15:33:03 fe80::1 sshd[1]: hi')).toMatchObject({
      hostname: 'fe80::1',
      appName: 'sshd',
    });
  });

  it('keeps unterminated structured data in the message', () => {
    expect(parsed('<13>1 2024-01-01T00:00:00Z h a - - [id x="1" rest')).toMatchObject({
      message: '[id x="1" rest',
    });
  });
});

describe('parseStructuredData', () => {
  it('collects a repeated SD-PARAM into a list, in order (RFC 5424 6.3.3)', () => {
    expect(parseStructuredData('[tags t="a" t="b" t="c"]')).toEqual({
      data: { tags: { t: ['a', 'b', 'c'] } },
      end: 24,
    });
  });

  it('reads the three escapes and keeps any other backslash', () => {
    expect(parseStructuredData('[x v="q\\"b\\\\s\\]o\\n"]')?.data).toEqual({ x: { v: 'q"b\\s]o\\n' } });
  });

  it('keeps __proto__ and constructor as data, polluting nothing', () => {
    // Act
    const parsedData = parseStructuredData('[__proto__ polluted="yes"][constructor prototype="x"]');

    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(parsedData?.data))).toEqual(
      JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":"x"}}'),
    );
  });
});

describe('syslog detection', () => {
  itMatchesKeys(syslogFormat, { claimed: [], left: ['var/log/syslog'] });
  itMatchesContent(syslogFormat, {
    claimed: ['<34>1 2003-10-11T22:14:15.003Z host su - ID47 - x', 'Jan  5 15:33:03 host rsyslogd: start'],
    left: ['{"message":"not syslog"}'],
  });
});

describe('parseSyslogLineInto, line after line into the same parts', () => {
  function timestampOf(parts: SyslogParts, line: string, referenceTimeMillis: number): string | undefined {
    const problem = parseSyslogLineInto(line, referenceTimeMillis, parts);
    if (problem !== undefined) throw new Error(problem);
    return parts.timestamp;
  }

  it('infers the year of each line from its own reference, even when the minute repeats', () => {
    // Prepare: one text, references on either side of the years the inference can pick
    const parts = new SyslogParts();
    const line = '<13>Dec 31 23:59:58 host app: x';

    // Act
    const times = [
      timestampOf(parts, line, Date.UTC(2025, 0, 1, 0, 5)),
      timestampOf(parts, line, Date.UTC(2025, 5, 1)),
      timestampOf(parts, line, Date.UTC(2025, 11, 31, 23)),
      timestampOf(parts, line, Date.UTC(2024, 0, 2)),
    ];

    // Assess: the latest year that is not after the reference by more than two days
    expect(times).toEqual([
      '2024-12-31T23:59:58.000Z',
      '2024-12-31T23:59:58.000Z',
      '2025-12-31T23:59:58.000Z',
      '2023-12-31T23:59:58.000Z',
    ]);
  });

  it('takes 29 February from the right leap year as the reference moves', () => {
    const parts = new SyslogParts();
    const line = '<13>Feb 29 12:00:00 host app: leap';

    const times = [
      timestampOf(parts, line, Date.UTC(2025, 2, 1)),
      timestampOf(parts, line, Date.UTC(2028, 2, 1)),
      timestampOf(parts, line, Date.UTC(2028, 1, 26)),
    ];

    // 2028-02-26 is more than two days before 29 February 2028, so 2024 is still the latest.
    expect(times).toEqual([
      '2024-02-29T12:00:00.000Z',
      '2028-02-29T12:00:00.000Z',
      '2024-02-29T12:00:00.000Z',
    ]);
  });

  it('reads the seconds and fraction of every line that shares a minute, and refuses second 60', () => {
    const parts = new SyslogParts();
    const reference = Date.UTC(2024, 2, 10, 14);

    const first = timestampOf(parts, '<13>Mar 10 13:05:12 host app: a', reference);
    const fraction = timestampOf(parts, '<13>Mar 10 13:05:59.5 host app: b', reference);
    const micros = timestampOf(parts, '<13>Mar 10 13:05:00.123456 host app: c', reference);
    const leap = parseSyslogLine('<13>Mar 10 13:05:60 host app: d', reference);

    expect([first, fraction, micros]).toEqual([
      '2024-03-10T13:05:12.000Z',
      '2024-03-10T13:05:59.500Z',
      '2024-03-10T13:05:00.123Z',
    ]);
    // No valid header time: the PRI keeps the whole text as the message.
    expect(leap).toEqual({
      protocol: 'rfc3164',
      facility: 1,
      severity: 5,
      message: 'Mar 10 13:05:60 host app: d',
    });
  });

  it('leaves nothing of an RFC 5424 line in the parts of the RFC 3164 line after it', () => {
    const parts = new SyslogParts();
    parseSyslogLineInto('<165>1 2003-10-11T22:14:15.003Z host app 42 ID47 [id x="1"] first', 0, parts);

    const problem = parseSyslogLineInto('Oct 11 22:14:15 other: second', Date.UTC(2003, 9, 12), parts);

    expect(problem).toBeUndefined();
    expect(parts.toMessage()).toEqual({
      protocol: 'rfc3164',
      timestamp: '2003-10-11T22:14:15.000Z',
      appName: 'other',
      message: 'second',
    });
    expect([parts.version, parts.msgId, parts.structuredData, parts.facility]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('reports a line that is not syslog with a reason instead of an Error', () => {
    expect(parseSyslogLineInto('just some text', 0, new SyslogParts())).toContain('not a syslog line');
  });
});

describe('syslogFieldsJson', () => {
  it('writes the header fields without the message when asked, escaping what JSON must', () => {
    const message = parsed('<34>Oct 11 22:14:15 my"host su[230]: text', Date.UTC(2003, 9, 12));

    const members = syslogFieldsJson(message, false);

    expect(JSON.parse(`{${members}}`)).toEqual({
      facility: 'auth',
      facility_code: 4,
      severity: 'crit',
      severity_code: 2,
      hostname: 'my"host',
      app_name: 'su',
      pid: 230,
    });
  });
});
