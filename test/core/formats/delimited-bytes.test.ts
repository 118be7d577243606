/**
 * The byte engine of the ELB family against the string engine, line by line: for every line it
 * takes, the members and the time it writes are the string engine's, and the lines it declines
 * are exactly the unusual ones (so the fast path runs for the rest).
 */

import { albFormat } from '../../../lambdas/core/formats/alb';
import { byteEncoderFor } from '../../../lambdas/core/formats/byte-encoders';
import type { ByteLineEncoder } from '../../../lambdas/core/formats/delimited-bytes';
import { elbFormat } from '../../../lambdas/core/formats/elb';
import { nlbFormat } from '../../../lambdas/core/formats/nlb';
import type { LogFormat } from '../../../lambdas/core/types';
import { loadConformance } from '../../support/conformance';
import { generatedAlbLines, OTHER_FLAVOUR_LINES } from '../elb-line-generator';
import { parseOne } from './format-harness';

/** What the byte engine made of a line: its members and time, or undefined when it declined. */
function encodeLine(encoder: ByteLineEncoder, line: string): { members: string; time: string } | undefined {
  // The arena as the bulk encoder lays it out: constants, the line, then the output.
  const lineBytes = Buffer.from(line);
  const lineAt = encoder.constants.length;
  const outAt = lineAt + lineBytes.length + 8;
  const arena = Buffer.alloc(outAt + encoder.maxOutputBytes(lineBytes.length));
  arena.set(encoder.constants, 0);
  arena.set(lineBytes, lineAt);
  const end = encoder.encode(arena, 0, lineAt, lineAt + lineBytes.length, outAt);
  if (end < 0) return undefined;
  const time =
    arena.toString('utf8', encoder.timeStart, encoder.timeEnd) + (encoder.timeIsZoneless ? 'Z' : '');
  return { members: arena.toString('utf8', outAt, end), time };
}

/** The string engine's event for a line, as the byte engine writes it, or undefined when it is not a plain event. */
function stringEngine(format: LogFormat, line: string): { members: string; time: string } | undefined {
  const result = parseOne(format, line);
  if (result?.kind !== 'event' || result.timestamp === undefined || result.type !== undefined)
    return undefined;
  return { members: result.fields === '' ? '' : `,${result.fields}`, time: result.timestamp };
}

const ELB_FAMILY: readonly LogFormat[] = [albFormat, nlbFormat, elbFormat];

describe('the ELB-family byte engine', () => {
  it('writes what the string engine writes for every conformance line it takes, in every format', () => {
    for (const format of ELB_FAMILY) {
      // Prepare
      const encoder = byteEncoderFor(format) as ByteLineEncoder;
      let taken = 0;
      for (const folder of ['alb', 'nlb', 'elb']) {
        const corpus = loadConformance(folder);
        for (const file of new Set(corpus.rows.map((row) => row.file))) {
          for (const line of corpus.lines(file).filter((text) => text !== '')) {
            // Act
            const bytes = encodeLine(encoder, line);

            // Assess
            if (bytes === undefined) continue;
            taken++;
            expect(bytes).toEqual(stringEngine(format, line));
          }
        }
      }
      // Each format's own lines take the byte path.
      expect(taken).toBeGreaterThan(3);
    }
  });

  it('takes exactly the common generated ALB lines and writes for them what the string engine writes', () => {
    // Prepare
    const encoder = byteEncoderFor(albFormat) as ByteLineEncoder;
    const lines = [...generatedAlbLines(3000), ...OTHER_FLAVOUR_LINES];

    // Act
    const outcomes = lines.map(({ line, unusual }) => ({ line, unusual, bytes: encodeLine(encoder, line) }));

    // Assess: declined ⇔ unusual, and the common lines are most of them.
    const declinedCommon = outcomes.filter(
      ({ unusual, bytes }) => unusual === undefined && bytes === undefined,
    );
    const takenUnusual = outcomes.filter(
      ({ unusual, bytes }) => unusual !== undefined && bytes !== undefined,
    );
    expect(declinedCommon.map(({ line }) => line)).toEqual([]);
    expect(takenUnusual.map(({ line, unusual }) => `${unusual}: ${line}`)).toEqual([]);
    const common = outcomes.filter(({ unusual }) => unusual === undefined);
    expect(common.length / outcomes.length).toBeGreaterThan(0.8);
    for (const { line, bytes } of common) expect(bytes).toEqual(stringEngine(albFormat, line));
  });

  it('writes valid JSON members whose values are the line’s, escapes and unicode included', () => {
    // Prepare
    const encoder = byteEncoderFor(albFormat) as ByteLineEncoder;
    const line =
      'h2 2024-05-01T10:00:00.123456Z app/lb/1 [2001:db8::1]:443 - 0.001 -1 007 200 - 12 34 ' +
      '"GET https://例え.jp:443/a b?q=1 HTTP/2.0" "say \\"hi\\" C:\\\\dir \\d ✓ 😀" - - - "Root=1" "-" "-" 0 ' +
      '2024-05-01T09:59:59Z "forward" "-" "-" "-" "-" "-" "-" TID_1';

    // Act
    const bytes = encodeLine(encoder, line);

    // Assess
    expect(bytes?.time).toBe('2024-05-01T10:00:00.123456Z');
    expect(JSON.parse(`{${bytes?.members.slice(1)}}`)).toEqual({
      type: 'h2',
      elb: 'app/lb/1',
      client_ip: '2001:db8::1',
      client_port: 443,
      request_processing_time: 0.001,
      target_processing_time: -1,
      response_processing_time: 7,
      elb_status_code: 200,
      received_bytes: 12,
      sent_bytes: 34,
      request_method: 'GET',
      request_url: 'https://例え.jp:443/a b?q=1',
      request_protocol: 'HTTP/2.0',
      user_agent: 'say "hi" C:\\dir \\d ✓ 😀',
      trace_id: 'Root=1',
      matched_rule_priority: 0,
      request_creation_time: '2024-05-01T09:59:59Z',
      actions_executed: 'forward',
      conn_trace_id: 'TID_1',
    });
  });

  it('has no byte engine for the formats it does not serve', () => {
    // Act + Assess
    expect(byteEncoderFor({ ...albFormat })).toBeUndefined();
  });
});
