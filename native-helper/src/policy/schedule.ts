// Weekly time windows in a time zone ("weekdays 09:00-17:00, Europe/Berlin"): whether one is open at an
// instant, and when it opened and closes, in real time, across DST changes. Pure; Intl does the zones.
import type { Schedule, Weekday } from '../api/events-model.ts';

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The system's time zone, as Node sees it (TZ, else /etc/localtime). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  return f;
}

interface Wall {
  y: number;
  m: number;
  d: number;
  hh: number;
  mm: number;
}

function wallClock(t: Date, tz: string): Wall & { ss: number } {
  const p = Object.fromEntries(
    formatter(tz)
      .formatToParts(t)
      .map((x) => [x.type, x.value]),
  );
  return { y: +p.year!, m: +p.month!, d: +p.day!, hh: +p.hour!, mm: +p.minute!, ss: +p.second! };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(t: number, tz: string): number {
  const w = wallClock(new Date(t), tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm, w.ss) - Math.floor(t / 1000) * 1000;
}

/** The instant a wall-clock time happens in the zone (a time skipped by DST lands just after the gap). */
export function zonedInstant(w: Wall, tz: string): Date {
  const guess = Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm);
  const first = guess - offsetAt(guess, tz);
  const second = guess - offsetAt(first, tz);
  return new Date(second);
}

function addDays(w: Wall, days: number): Wall {
  const t = new Date(Date.UTC(w.y, w.m - 1, w.d + days));
  return { ...w, y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function weekdayOf(w: Wall): Weekday {
  return WEEKDAYS[new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay()]!;
}

function at(w: Wall, clock: string): Wall {
  const [hh, mm] = clock.split(':').map(Number);
  return { ...w, hh: hh!, mm: mm! };
}

/** The window of the schedule that is open at `now`, with when it opened and when it closes. */
export function openWindow(s: Schedule, now: Date, tz: string): { start: Date; end: Date } | null {
  const today = wallClock(now, tz);
  const overnight = s.to < s.from;
  // A window belongs to the day it starts on; an overnight one may have started yesterday.
  for (const back of overnight ? [0, 1] : [0]) {
    const day = addDays(today, -back);
    if (!s.days.includes(weekdayOf(day))) continue;
    const start = zonedInstant(at(day, s.from), tz);
    const end = zonedInstant(at(overnight ? addDays(day, 1) : day, s.to), tz);
    if (start <= now && now < end) return { start, end };
  }
  return null;
}
