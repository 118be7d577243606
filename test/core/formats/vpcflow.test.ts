import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { vpcFlowFormat } from '../../../lambdas/core/formats/vpcflow';
import { isoFromEpochSeconds } from '../../../lambdas/core/time';
import { toCorpusTimestamp } from '../../support/conformance';
import {
  documentOf,
  errorReasonOf,
  itHoldsEveryConformanceRow,
  itMatchesContent,
  itMatchesKeys,
  parseOne,
  parseRecords,
} from './format-harness';

// The AWS documentation's first default-format example (an accepted SSH flow).
const ACCEPTED_SSH =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

describe('vpcflow conformance corpus', () => {
  itHoldsEveryConformanceRow(
    'vpcflow',
    vpcFlowFormat,
    {
      bytes_sent: (document) => document.fields.bytes,
      src_ip: (document) => document.fields.srcaddr,
      dst_ip: (document) => document.fields.dstaddr,
      dst_port: (document) => document.fields.dstport,
      action: (document) => document.fields.action,
      end_time: (document) => toCorpusTimestamp(new Date(Number(document.fields.end) * 1000).toISOString()),
    },
    (file, dir) => {
      // vrl passes a custom format string with some samples; it lives in a sidecar file.
      const sidecar = path.join(dir, `${file}.format`);
      return existsSync(sidecar) ? { fieldList: readFileSync(sidecar, 'utf8').trim() } : {};
    },
  );
});

describe('vpcflow records', () => {
  it('reads the default format into typed fields, @timestamp from start', () => {
    // Act
    const document = documentOf(parseOne(vpcFlowFormat, ACCEPTED_SSH));

    // Assess
    expect(document.timestamp).toBe('2014-12-14T04:06:50.000Z');
    expect(document.fields).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start: 1418530010,
      end: 1418530070,
      action: 'ACCEPT',
      log_status: 'OK',
    });
  });

  it('leaves out the fields a NODATA record writes as "-"', () => {
    const document = documentOf(
      parseOne(
        vpcFlowFormat,
        '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      ),
    );

    expect(document.fields).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      start: 1431280876,
      end: 1431280934,
      log_status: 'NODATA',
    });
  });

  it('keeps account ids as text and writes numbers without leading zeros', () => {
    const document = documentOf(
      parseOne(
        vpcFlowFormat,
        ACCEPTED_SSH.replace('123456789010', '012345678901').replace(' 22 6 ', ' 022 6 '),
      ),
    );

    expect(document.fields.account_id).toBe('012345678901');
    expect(document.fields.dstport).toBe(22);
  });

  it('takes the field order from a header line, for the lines after it', () => {
    // Prepare
    const lines = ['srcaddr dstaddr start bytes action', '10.0.0.1 10.0.0.2 1620000000 512 REJECT'];

    // Act
    const [header, record] = parseRecords(vpcFlowFormat, lines);

    // Assess
    expect(header).toEqual({ kind: 'skip' });
    const document = documentOf(record);
    expect(document.fields).toEqual({
      srcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      start: 1620000000,
      bytes: 512,
      action: 'REJECT',
    });
    expect(document.timestamp).toBe('2021-05-03T00:00:00.000Z');
  });

  it('prefers the header line to fieldList, and accepts fieldList in the LogFormat syntax of the API', () => {
    // The EC2 API's LogFormat writes each field as a dollar sign and the name in braces.
    const apiFieldList = ['srcaddr', 'action'].map((name) => `\${${name}}`).join(' ');
    const withHeader = parseRecords(vpcFlowFormat, ['action srcaddr', 'ACCEPT 10.0.0.1'], {
      fieldList: apiFieldList,
    });
    const withoutHeader = parseRecords(vpcFlowFormat, ['10.0.0.1 ACCEPT'], { fieldList: apiFieldList });

    expect(documentOf(withHeader[1]).fields).toEqual({ action: 'ACCEPT', srcaddr: '10.0.0.1' });
    expect(documentOf(withoutHeader[0]).fields).toEqual({ srcaddr: '10.0.0.1', action: 'ACCEPT' });
  });

  it('keeps a field AWS adds later, as text', () => {
    const [, record] = parseRecords(vpcFlowFormat, ['srcaddr shiny-new-field', '10.0.0.1 blue']);

    expect(documentOf(record).fields).toEqual({ srcaddr: '10.0.0.1', shiny_new_field: 'blue' });
  });

  it('renames a header field that the core reserves', () => {
    const [, record] = parseRecords(vpcFlowFormat, ['srcaddr log', '10.0.0.1 x']);

    expect(documentOf(record).fields).toEqual({ srcaddr: '10.0.0.1', log_original: 'x' });
  });

  it('reports a line with the wrong number of fields, naming both counts', () => {
    const reason = errorReasonOf(parseOne(vpcFlowFormat, '2 123456789010 eni-1235b8ca123456789 ACCEPT OK'));

    expect(reason).toContain('14');
    expect(reason).toContain('found 5');
  });

  it('reports a numeric field that holds text', () => {
    const reason = errorReasonOf(parseOne(vpcFlowFormat, ACCEPTED_SSH.replace(' 4249 ', ' lots ')));

    expect(reason).toBe('bytes is not a number: "lots"');
  });

  it('reports a header that names a field twice, and keeps the previous layout', () => {
    const [header, record] = parseRecords(vpcFlowFormat, ['srcaddr srcaddr', ACCEPTED_SSH]);

    expect(errorReasonOf(header)).toContain('"srcaddr" is listed twice');
    expect(documentOf(record).fields.bytes).toBe(4249);
  });

  it('refuses a fieldList that names a field twice, when the parser is created', () => {
    expect(() =>
      vpcFlowFormat.createParser({ object: { key: 'k' }, options: { fieldList: 'srcaddr dstaddr srcaddr' } }),
    ).toThrow('vpcflow fieldList: field "srcaddr" is listed twice');
  });
});

describe('isoFromEpochSeconds, the fast start-time formatter', () => {
  it.each([
    0, 59, 86_399, 86_400, 951_782_400, 1_418_530_010, 4_107_542_399, 253_402_300_799, -1, 1.5,
    253_402_300_800,
  ])('writes %d as Date does', (seconds) => {
    expect(isoFromEpochSeconds(seconds)).toBe(new Date(seconds * 1000).toISOString());
  });

  it('agrees with Date across a day boundary in both directions', () => {
    // Prepare: times around midnight, out of order, so the cached day changes back and forth
    const times = [86_399, 86_400, 86_399, 172_800, 0];

    // Act
    const written = times.map((seconds) => isoFromEpochSeconds(seconds));

    // Assess
    expect(written).toEqual(times.map((seconds) => new Date(seconds * 1000).toISOString()));
  });
});

describe('vpcflow detection', () => {
  itMatchesKeys(vpcFlowFormat, {
    claimed: [
      'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20240102T0000Z_abcd1234.log.gz',
      'my-prefix/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/01/02/file.log.gz',
      'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=02/file.log.gz',
    ],
    left: [
      'AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/file.json.gz',
      'logs/vpcflowlogs-export.txt',
    ],
  });
  itMatchesContent(vpcFlowFormat, {
    claimed: [ACCEPTED_SSH, 'version account-id interface-id srcaddr dstaddr'],
    left: ['Phony unsupported log format.', '{"eventVersion":"1.08"}'],
  });
});
