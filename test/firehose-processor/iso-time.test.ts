import { IsoTimeFormatter } from '../../lambdas/firehose-processor/iso-time';

describe('IsoTimeFormatter', () => {
  it('writes the same text as Date#toISOString across seconds, padding the milliseconds', () => {
    // Prepare
    const formatter = new IsoTimeFormatter();
    const base = Date.UTC(2024, 1, 29, 23, 59, 59);
    const times = [base, base + 7, base + 42, base + 999, base + 1000, base + 1005, base - 1, 0, -1];

    // Act
    const texts = times.map((time) => formatter.format(time));

    // Assess
    expect(texts).toEqual(times.map((time) => new Date(time).toISOString()));
  });

  it('writes every second and millisecond of a minute as Date#toISOString does, then the next minute', () => {
    const formatter = new IsoTimeFormatter();
    const minute = Date.UTC(2024, 11, 31, 23, 59);
    const times = Array.from({ length: 60_001 }, (_, offset) => minute + offset);

    const mismatches = times.filter((time) => formatter.format(time) !== new Date(time).toISOString());

    expect(mismatches).toEqual([]);
    expect(formatter.format(minute + 60_000)).toBe('2025-01-01T00:00:00.000Z');
  });

  it('drops fractions of a millisecond and formats years beyond 9999 whole', () => {
    // Prepare
    const formatter = new IsoTimeFormatter();
    const farFuture = Date.UTC(10000, 0, 1, 0, 0, 0, 5);

    // Act, Assess
    expect(formatter.format(1_000.75)).toBe('1970-01-01T00:00:01.000Z');
    expect(formatter.format(farFuture)).toBe('+010000-01-01T00:00:00.005Z');
  });
});
