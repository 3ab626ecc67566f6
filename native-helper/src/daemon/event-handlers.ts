// The API handlers of events that create rules: findings, quarantines, templates, schedules, audit.
// Thin calls into EventReactor; a report is admitted (rate-limited) before anything else is done.
import type { eventMethods } from '../api/events-schema.ts';
import { ApiError } from '../api/schema.ts';
import type { CallContext, Handlers } from './dispatch.ts';
import type { Caller } from './event-reactor.ts';
import type { Helper } from './helper.ts';

type EventHandlers = Pick<Handlers, keyof typeof eventMethods>;

function callerOf(ctx: CallContext): Caller {
  return { uid: ctx.peer.uid, label: `${ctx.actor.user} (uid ${ctx.peer.uid})` };
}

export function eventHandlersFor(h: Helper): EventHandlers {
  const changed = (app: string | null, summary: string, ctx: CallContext) =>
    h.bus.emit('policy.changed', { app, summary, actor: ctx.actor });
  const ok = { ok: true as const };
  return {
    'findings.report': async (p, ctx) => {
      const caller = callerOf(ctx);
      h.reactions.admit(caller);
      const subject =
        p.app !== undefined
          ? { app: p.app }
          : p.exe !== undefined
            ? { exe: p.exe }
            : p.file !== undefined
              ? { file: p.file }
              : { pid: p.pid! };
      let found;
      try {
        found = await h.findings.resolve(subject);
      } catch (err) {
        if (err instanceof ApiError) h.reactions.refused(caller, `${p.source}: ${err.message}`);
        throw err;
      }
      return h.reactions.flag(found, p, caller);
    },
    'findings.clear': async ({ app }, ctx) => {
      const cleared = await h.reactions.clearApp(app, callerOf(ctx));
      if (cleared) changed(app, `flags and quarantine of ${app} cleared`, ctx);
      return { cleared };
    },
    'quarantine.start': async ({ app, seconds, reason }, ctx) => {
      const e = await h.reactions.quarantine(app, seconds, reason, callerOf(ctx));
      changed(app, `${app} quarantined until ${e.endsAt}`, ctx);
      return e;
    },
    'reactions.get': () => h.reactions.state(),
    'templates.set': async (t, ctx) => {
      const v = await h.reactions.setTemplate(t);
      changed(null, `reaction template ${t.id} set: ${t.name}`, ctx);
      return v;
    },
    'templates.remove': async ({ id }, ctx) => {
      await h.reactions.removeTemplate(id);
      changed(null, `reaction template ${id} removed`, ctx);
      return ok;
    },
    'schedules.set': async (s, ctx) => {
      await h.reactions.setSchedule(s);
      changed(null, `schedule ${s.name}: ${s.days.join(', ')} ${s.from}–${s.to}`, ctx);
      return ok;
    },
    'schedules.remove': async ({ name }, ctx) => {
      await h.reactions.removeSchedule(name);
      changed(null, `schedule ${name} removed`, ctx);
      return ok;
    },
    'apps.setUpdateServers': async ({ id, destinations }, ctx) => {
      await h.reactions.setUpdateServers(id, destinations);
      changed(id, `update servers of ${id}: ${destinations.join(', ') || 'none'}`, ctx);
      return ok;
    },
    'audit.list': (q) => h.reactions.audit(q),
  };
}
