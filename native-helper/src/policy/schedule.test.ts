import { describe, expect, it } from 'vitest';
import { isTimeZone, openWindow, zonedInstant } from './schedule.ts';

const weekdays = {
  name: 'work',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: '09:00',
  to: '17:00',
} as const;
const w = (s: typeof weekdays | { name: string; days: string[]; from: string; to: string }) => s as never;

describe('schedule windows', () => {
  it('opens at the minute in the zone, not in UTC', () => {
    // Wednesday 2026-11-25 in Berlin (UTC+1): 08:59 closed, 09:00 open, 16:59 open, 17:00 closed.
    const tz = 'Europe/Berlin';
    expect(openWindow(w(weekdays), new Date('2026-11-25T07:59:00Z'), tz)).toBeNull();
    const open = openWindow(w(weekdays), new Date('2026-11-25T08:00:00Z'), tz);
    expect(open).toEqual({ start: new Date('2026-11-25T08:00:00Z'), end: new Date('2026-11-25T16:00:00Z') });
    expect(openWindow(w(weekdays), new Date('2026-11-25T15:59:59Z'), tz)).not.toBeNull();
    expect(openWindow(w(weekdays), new Date('2026-11-25T16:00:00Z'), tz)).toBeNull();
  });

  it('keeps to the weekdays', () => {
    // Saturday 2026-11-28 at noon in New York.
    expect(openWindow(w(weekdays), new Date('2026-11-28T17:00:00Z'), 'America/New_York')).toBeNull();
    expect(openWindow(w(weekdays), new Date('2026-11-27T17:00:00Z'), 'America/New_York')).not.toBeNull();
  });

  it('follows the wall clock across DST: the same 09:00 is a different UTC hour', () => {
    const tz = 'Europe/Berlin';
    // Friday before the change (UTC+1) and Monday after (2026-03-29 → UTC+2).
    expect(openWindow(w(weekdays), new Date('2026-03-27T08:00:00Z'), tz)?.start).toEqual(
      new Date('2026-03-27T08:00:00Z'),
    );
    expect(openWindow(w(weekdays), new Date('2026-03-30T07:00:00Z'), tz)?.start).toEqual(
      new Date('2026-03-30T07:00:00Z'),
    );
    expect(openWindow(w(weekdays), new Date('2026-03-30T06:59:00Z'), tz)).toBeNull();
  });

  it('an overnight window runs past midnight and belongs to the day it starts', () => {
    const night = { name: 'night', days: ['fri'], from: '22:00', to: '06:00' };
    // Saturday 03:00 UTC: inside Friday's window.
    expect(openWindow(w(night), new Date('2026-11-28T03:00:00Z'), 'UTC')).toEqual({
      start: new Date('2026-11-27T22:00:00Z'),
      end: new Date('2026-11-28T06:00:00Z'),
    });
    // Sunday 03:00: Saturday has no window.
    expect(openWindow(w(night), new Date('2026-11-29T03:00:00Z'), 'UTC')).toBeNull();
  });

  it('a night that loses an hour to DST is an hour shorter in real time', () => {
    const night = { name: 'n', days: ['sat'], from: '22:00', to: '06:00' };
    const win = openWindow(w(night), new Date('2026-03-29T00:30:00Z'), 'Europe/Berlin')!;
    expect((win.end.getTime() - win.start.getTime()) / 3600_000).toBe(7);
  });

  it('zonedInstant and zone names', () => {
    expect(zonedInstant({ y: 2026, m: 7, d: 1, hh: 12, mm: 0 }, 'Asia/Kolkata')).toEqual(
      new Date('2026-07-01T06:30:00Z'),
    );
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
