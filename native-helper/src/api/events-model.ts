// Events that create rules (seed 2): findings from security tools, quarantines by hand, schedules and
// networks; the reaction templates that say which rules each creates; the audit trail.
import { z } from 'zod';
import { type App, AppId, TunnelName } from './model.ts';
import { Destination, GroupName, KeyGroupName, RuleId } from './rules-model.ts';

export const Severity = z.enum(['low', 'high']);
export type Severity = z.infer<typeof Severity>;

/** A reporting tool's name, e.g. "clamav" or "rkhunter". */
export const SourceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/, 'a source is 1-40 letters, digits, space, dot, dash');

export const TemplateId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a template id: lowercase letters, digits and dashes (max 40)');

export const ScheduleName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/, 'a schedule name: 1-40 letters, digits, space, dot, dash');

/** What raised an event. */
export const EventTrigger = z.discriminatedUnion('kind', [
  /** A security tool reported a finding about an app (or a file or process mapped to it). */
  z.object({ kind: z.literal('app.flagged') }).strict(),
  /** Someone quarantined an app by hand (UI, tray, CLI). */
  z.object({ kind: z.literal('app.quarantined') }).strict(),
  /** An uplink is on a network nobody marked trusted or untrusted. */
  z.object({ kind: z.literal('network.unknown') }).strict(),
  /** An uplink is on a network whose trust is untrusted (marked, or unknown with the default). */
  z.object({ kind: z.literal('network.untrusted') }).strict(),
  /** A schedule's time window is open. */
  z.object({ kind: z.literal('schedule'), schedule: ScheduleName }).strict(),
]);
export type EventTrigger = z.infer<typeof EventTrigger>;
export type EventKind = EventTrigger['kind'];

/** Which apps the rules of a reaction cover. */
export const ReactionCovers = z.discriminatedUnion('kind', [
  /** The app the event is about (flags and quarantines). */
  z.object({ kind: z.literal('event-app') }).strict(),
  z.object({ kind: z.literal('app'), app: AppId }).strict(),
  z.object({ kind: z.literal('group'), group: GroupName }).strict(),
]);
export type ReactionCovers = z.infer<typeof ReactionCovers>;

export const ReactionAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('block') }).strict(),
  /** Through a tunnel (the first one the helper has, when none is named); held while it is down. */
  z
    .object({ type: z.literal('encrypt'), tunnel: TunnelName.optional(), keyGroup: KeyGroupName.optional() })
    .strict(),
  /** Block everything but these destinations (and the app's update servers, if asked). */
  z
    .object({
      type: z.literal('allow-only'),
      destinations: z.array(Destination).max(64).default([]),
      updateServers: z.boolean().default(true),
    })
    .strict(),
]);
export type ReactionAction = z.infer<typeof ReactionAction>;

/** How long the rules live. */
export const ReactionLifetime = z.discriminatedUnion('kind', [
  /** Until the event is cleared (or, for a quarantine or a schedule, until it ends). */
  z.object({ kind: z.literal('event') }).strict(),
  z
    .object({
      kind: z.literal('for'),
      seconds: z
        .number()
        .int()
        .min(1)
        .max(366 * 86400),
    })
    .strict(),
  z.object({ kind: z.literal('until'), time: z.iso.datetime({ offset: true }) }).strict(),
]);
export type ReactionLifetime = z.infer<typeof ReactionLifetime>;

export const ReactionTemplate = z
  .object({
    id: TemplateId,
    name: z.string().min(1).max(120),
    on: EventTrigger,
    /** Flags only: the least severity that triggers it. */
    minSeverity: Severity.default('low'),
    covers: ReactionCovers,
    action: ReactionAction,
    lifetime: ReactionLifetime.default({ kind: 'event' }),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ReactionTemplate = z.infer<typeof ReactionTemplate>;
export type ReactionTemplateInput = z.input<typeof ReactionTemplate>;

export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 09:00 or 17:30');

/** A weekly time window in the user's time zone; "to" before "from" runs past midnight. */
export const Schedule = z
  .object({
    name: ScheduleName,
    days: z.array(Weekday).min(1).max(7),
    from: ClockTime,
    to: ClockTime,
  })
  .strict()
  .refine((s) => s.from !== s.to, 'a schedule window needs different from and to times');
export type Schedule = z.infer<typeof Schedule>;

/** An event that is in force now; its rules carry its id. Stored, so a restart keeps it. */
export const ActiveEvent = z
  .object({
    id: z.string().regex(/^e-[0-9a-z]{6,16}$/),
    kind: z.enum(['app.flagged', 'app.quarantined', 'network.unknown', 'network.untrusted', 'schedule']),
    /** The app it is about (flags and quarantines). */
    app: AppId.nullable(),
    source: z.string().max(80),
    reason: z.string().max(300),
    severity: Severity,
    /** Who or what raised it, e.g. "uid 0 (root) via clamav" or "the helper". */
    by: z.string().max(200),
    startedAt: z.string(),
    /** When it ends by itself (a quarantine's duration, a schedule's window); null: when cleared. */
    endsAt: z.string().nullable(),
    /** What it is about beyond the app: the file, the network id, the schedule name. */
    subject: z.string().max(4096).nullable(),
    /** How many reports repeated it since it started. */
    repeats: z.number().int().min(0),
    rules: z.array(RuleId),
  })
  .strict();
export type ActiveEvent = z.infer<typeof ActiveEvent>;

/** A flag or quarantine in force as an app's `held` entry shows it (the helper's views and the demo's). */
export function heldEntry(e: ActiveEvent): App['held'][number] {
  return {
    event: e.id,
    kind: e.kind === 'app.quarantined' ? 'quarantined' : 'flagged',
    source: e.source,
    reason: e.reason,
    severity: e.severity,
    since: e.startedAt,
    until: e.endsAt,
  };
}

/** A report from a security tool: exactly one of app, exe, file or pid names what it is about. */
export const FindingInput = z
  .object({
    app: AppId.optional(),
    exe: z.string().min(1).max(4096).optional(),
    file: z.string().min(1).max(4096).optional(),
    pid: z.number().int().min(1).optional(),
    reason: z.string().min(1).max(300),
    severity: Severity.default('high'),
    source: SourceName.default('manual'),
  })
  .strict()
  .refine(
    (f) => [f.app, f.exe, f.file, f.pid].filter((x) => x !== undefined).length === 1,
    'name exactly one of app, exe, file or pid',
  );
export type FindingInput = z.input<typeof FindingInput>;

export const AuditAction = z.enum([
  'event.started',
  'event.repeated',
  'event.ended',
  'rule.created',
  'rule.removed',
  'rule.expired',
  'report.refused',
  // A tunnel's key group lost its session (the gateway stopped answering for it) or got it back.
  'keygroup.down',
  'keygroup.up',
  // The gateway's side: its peers and their key groups changed at run time.
  'peer.set',
  'peer.removed',
  'keygroup.revoked',
]);
export type AuditAction = z.infer<typeof AuditAction>;

/** One line of the append-only audit log. */
export const AuditEntry = z
  .object({
    /** Sequence number, increasing across rotations. */
    seq: z.number().int().min(1),
    time: z.string(),
    action: AuditAction,
    event: z.string().nullable(),
    kind: z.string().nullable(),
    app: z.string().nullable(),
    rule: z.string().nullable(),
    /** Who or what caused it. */
    by: z.string(),
    message: z.string(),
  })
  .strict();
export type AuditEntry = z.infer<typeof AuditEntry>;

/** What a step writes to the audit; the log adds the number and the time. */
export type AuditNote = Omit<AuditEntry, 'seq' | 'time' | 'event' | 'kind' | 'app' | 'rule'> &
  Partial<Pick<AuditEntry, 'event' | 'kind' | 'app' | 'rule'>>;
