/** The local-time helpers of a site's day: calendar day, wall-clock minute, start of the day. */
import { describe, expect, it } from 'vitest';
import { localDay, localDayStart, localIsoMinute } from '../../src/domain/index.ts';

const at = (iso: string) => Date.parse(iso);

describe('local time helpers', () => {
  it('localDay reads the calendar day in the zone', () => {
    expect(localDay(at('2026-01-05T22:59:59Z'), 'Europe/Paris')).toBe('2026-01-05');
    expect(localDay(at('2026-01-05T23:00:00Z'), 'Europe/Paris')).toBe('2026-01-06');
    expect(localDay(at('2026-01-06T04:59:00Z'), 'America/New_York')).toBe('2026-01-05');
    expect(localDay(at('2026-01-06T00:00:00Z'), 'UTC')).toBe('2026-01-06');
  });

  it('localIsoMinute shows the wall clock with its offset, summer time and odd offsets included', () => {
    expect(localIsoMinute(at('2026-01-05T09:00:00Z'), 'Europe/Paris')).toBe('2026-01-05T10:00+01:00');
    expect(localIsoMinute(at('2026-07-05T09:00:00Z'), 'Europe/London')).toBe('2026-07-05T10:00+01:00');
    expect(localIsoMinute(at('2026-01-05T09:00:00Z'), 'America/St_Johns')).toBe('2026-01-05T05:30-03:30');
    expect(localIsoMinute(at('2026-01-05T23:15:00Z'), 'Asia/Kathmandu')).toBe('2026-01-06T05:00+05:45');
    expect(localIsoMinute(at('2026-01-05T23:00:00Z'), 'Europe/Paris')).toBe('2026-01-06T00:00+01:00');
    expect(localIsoMinute(at('2026-01-05T00:00:00Z'), 'UTC')).toBe('2026-01-05T00:00+00:00');
  });

  it('localDayStart is local midnight, before and after a change of offset that day', () => {
    const start = (iso: string, zone: string) => new Date(localDayStart(at(iso), zone)).toISOString();
    expect(start('2026-06-01T23:59:59.999Z', 'UTC')).toBe('2026-06-01T00:00:00.000Z');
    expect(start('2026-06-01T00:00:00Z', 'UTC')).toBe('2026-06-01T00:00:00.000Z');
    expect(start('2026-01-05T08:01:00Z', 'America/New_York')).toBe('2026-01-05T05:00:00.000Z');
    // 03:59Z is still 31 May in New York (23:59 EDT); 04:00Z is 1 June's midnight.
    expect(start('2026-06-01T03:59:00Z', 'America/New_York')).toBe('2026-05-31T04:00:00.000Z');
    expect(start('2026-06-01T04:00:00Z', 'America/New_York')).toBe('2026-06-01T04:00:00.000Z');
    expect(start('2026-06-01T05:00:00Z', 'Asia/Kolkata')).toBe('2026-05-31T18:30:00.000Z');
    // Summer time begins at 01:00 GMT: the day began an hour before, at the winter offset.
    expect(start('2026-03-29T12:00:00Z', 'Europe/London')).toBe('2026-03-29T00:00:00.000Z');
    // Summer time ends at 01:00 GMT: the day began at 00:00 BST, 23:00 GMT the day before.
    expect(start('2026-10-25T12:00:00Z', 'Europe/London')).toBe('2026-10-24T23:00:00.000Z');
    expect(start('2026-10-24T23:30:00Z', 'Europe/London')).toBe('2026-10-24T23:00:00.000Z');
    // Lord Howe Island leaves summer time by half an hour (+11:00 to +10:30) at 02:00.
    expect(start('2026-04-05T12:00:00Z', 'Australia/Lord_Howe')).toBe('2026-04-04T13:00:00.000Z');
    // Brazil's summer time of 2018 began at midnight: 4 November had no 00:00, its day began at 01:00.
    expect(start('2018-11-04T15:00:00Z', 'America/Sao_Paulo')).toBe('2018-11-04T03:00:00.000Z');
    expect(() => localDayStart(0, 'Mars/Olympus')).toThrow(RangeError);
  });
});
