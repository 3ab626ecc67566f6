// The FakeHelper's events-that-create-rules world: the built-in reaction templates as the helper ships
// them (native-helper/src/policy/reactions.ts), a work-hours schedule, and a few past events for the
// audit trail. Firefox is flagged by clamav now, so the demo shows a held app.
import type { ReactionTemplate, Schedule, Weekday } from '#switchyard/api/schema.ts';

/** The templates Switchyard has out of the box; the user may replace or disable each by its id. */
export const BUILT_IN_TEMPLATES: readonly ReactionTemplate[] = [
  {
    id: 'flagged',
    name: 'A flagged app is blocked, except its update servers',
    on: { kind: 'app.flagged' },
    minSeverity: 'low',
    covers: { kind: 'event-app' },
    action: { type: 'allow-only', destinations: [], updateServers: true },
    lifetime: { kind: 'event' },
    enabled: true,
  },
  {
    id: 'quarantined',
    name: 'A quarantined app is blocked',
    on: { kind: 'app.quarantined' },
    minSeverity: 'low',
    covers: { kind: 'event-app' },
    action: { type: 'block' },
    lifetime: { kind: 'event' },
    enabled: true,
  },
  {
    id: 'unknown-network-work',
    name: 'On an unknown network, the Work group is encrypted',
    on: { kind: 'network.unknown' },
    minSeverity: 'low',
    covers: { kind: 'group', group: 'Work' },
    action: { type: 'encrypt' },
    lifetime: { kind: 'event' },
    enabled: true,
  },
];

export const DEMO_SCHEDULES: Schedule[] = [
  { name: 'Work hours', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:30' },
];

const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether a weekly window is open at `now` in local time ("to" before "from" runs past midnight). */
export function windowOpen(s: Schedule, now: number): boolean {
  const d = new Date(now);
  const minutes = d.getHours() * 60 + d.getMinutes();
  const at = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  const [from, to] = [at(s.from), at(s.to)];
  const today = WEEKDAYS[d.getDay()]!;
  const yesterday = WEEKDAYS[(d.getDay() + 6) % 7]!;
  if (from < to) return s.days.includes(today) && minutes >= from && minutes < to;
  return (s.days.includes(today) && minutes >= from) || (s.days.includes(yesterday) && minutes < to);
}

/** What happened before the demo starts, oldest first; apps the demo lacks are left out. */
export interface PastReaction {
  /** Minutes before now. */
  ago: number;
  do:
    | { kind: 'quarantine'; app: string; minutes: number; by: string }
    | { kind: 'flag'; app: string; source: string; reason: string; severity: 'low' | 'high'; subject: string }
    | { kind: 'clear'; app: string; by: string }
    | { kind: 'expire'; app: string }
    | { kind: 'refuse'; by: string; why: string };
}

export const DEMO_REACTIONS: PastReaction[] = [
  { ago: 3 * 1440 + 200, do: { kind: 'quarantine', app: 'steam', minutes: 480, by: 'alice (uid 1000)' } },
  { ago: 3 * 1440 - 280, do: { kind: 'expire', app: 'steam' } },
  {
    ago: 1440 + 95,
    do: {
      kind: 'flag',
      app: 'transmission',
      source: 'rkhunter',
      reason: 'Suspicious file types found in /dev',
      severity: 'low',
      subject: '/usr/bin/transmission',
    },
  },
  { ago: 1440 + 60, do: { kind: 'clear', app: 'transmission', by: 'alice (uid 1000)' } },
  {
    ago: 130,
    do: {
      kind: 'refuse',
      by: 'bob (uid 1001)',
      why: 'clamav: no app Switchyard manages wrote, runs or has /tmp/x.sh open; name the app instead (--app)',
    },
  },
  {
    ago: 42,
    do: {
      kind: 'flag',
      app: 'firefox',
      source: 'clamav',
      reason: 'Win.Trojan.Agent-1088236 in a download',
      severity: 'high',
      subject: '/home/alice/Downloads/invoice-2291.pdf.exe',
    },
  },
];
