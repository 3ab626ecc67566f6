// The API's methods and events for events that create rules: findings, quarantines, schedules, reaction
// templates and the audit trail. schema.ts spreads them into `methods` and `events`.
import { z } from 'zod';
import { NoParams, Ok, method } from './method.ts';
import { AppId } from './model.ts';
import { Destination } from './rules-model.ts';
import {
  ActiveEvent,
  AuditEntry,
  FindingInput,
  ReactionTemplate,
  Schedule,
  ScheduleName,
  Severity,
  SourceName,
  TemplateId,
} from './events-model.ts';

/** A duration in seconds: at least a second, at most a year. */
const Seconds = z
  .number()
  .int()
  .min(1)
  .max(366 * 86400);

export const TemplateView = ReactionTemplate.extend({ locked: z.boolean(), builtIn: z.boolean() });
export type TemplateView = z.infer<typeof TemplateView>;

export const ReactionsState = z.object({
  active: z.array(ActiveEvent),
  templates: z.array(TemplateView),
  schedules: z.array(Schedule.and(z.object({ open: z.boolean() }))),
  /** The IANA time zone schedules are evaluated in. */
  timeZone: z.string(),
});
export type ReactionsState = z.infer<typeof ReactionsState>;

export const eventMethods = {
  'findings.report': method(
    FindingInput,
    ActiveEvent,
    'write',
    'A security tool reports a finding about an app, an executable, a file or a process; it flags the app.',
  ),
  'findings.clear': method(
    z.object({ app: AppId }).strict(),
    z.object({ cleared: z.number().int() }),
    'write',
    "Clear an app's flags and quarantine; their rules go at once.",
  ),
  'quarantine.start': method(
    z.object({ app: AppId, seconds: Seconds, reason: z.string().min(1).max(300).optional() }).strict(),
    ActiveEvent,
    'write',
    'Quarantine an app for a while (its traffic is blocked, per the quarantine template).',
  ),
  'reactions.get': method(
    NoParams,
    ReactionsState,
    'read',
    'The events in force, the reaction templates and the schedules.',
  ),
  'templates.set': method(
    ReactionTemplate,
    TemplateView,
    'write',
    "Add or replace one of the user's reaction templates (by id); a built-in one is overridden.",
  ),
  'templates.remove': method(
    z.object({ id: TemplateId }).strict(),
    Ok,
    'write',
    "Remove a user's reaction template (a built-in one comes back; disable it with enabled: false).",
  ),
  'schedules.set': method(Schedule, Ok, 'write', 'Add or replace a schedule (by name).'),
  'schedules.remove': method(
    z.object({ name: ScheduleName }).strict(),
    Ok,
    'write',
    'Remove a schedule; the events of its open window end.',
  ),
  'apps.setUpdateServers': method(
    z.object({ id: AppId, destinations: z.array(Destination).max(64) }).strict(),
    Ok,
    'write',
    "Where the app gets its updates: a flagged app may still reach them (the built-in 'flagged' template).",
  ),
  'audit.list': method(
    z
      .object({
        since: z.iso.datetime({ offset: true }).optional(),
        app: AppId.optional(),
        limit: z.number().int().min(1).max(10_000).default(1000),
      })
      .strict(),
    z.array(AuditEntry),
    'read',
    'The audit trail, oldest first (the newest `limit` entries that match).',
  ),
} as const;

export const eventEvents = {
  /** A security tool (or a person) flagged an app. */
  'app.flagged': z.object({
    app: AppId,
    source: SourceName.or(z.string()),
    reason: z.string(),
    severity: Severity,
    event: z.string(),
  }),
  /** The events in force changed (one started, ended or repeated). */
  'reactions.changed': ReactionsState,
  'audit.appended': AuditEntry,
} as const;
