// The API handlers of the encryption rules, groups and networks: thin calls into EncryptionRules, each
// change told as a policy.changed event naming who made it.
import { describeAction } from '../policy/rules.ts';
import type { ruleMethods } from '../api/rules-schema.ts';
import type { Handlers } from './dispatch.ts';
import type { Helper } from './helper.ts';

type RuleHandlers = Pick<Handlers, keyof typeof ruleMethods>;

export function ruleHandlersFor(h: Helper): RuleHandlers {
  const changed = (summary: string, actor: Parameters<Handlers['rules.add']>[1]['actor']) =>
    h.bus.emit('policy.changed', { app: null, summary, actor });
  const ok = { ok: true as const };
  return {
    'rules.list': async () => {
      await h.freshCounters(); // the rules' flow and byte counts
      return h.rules.list();
    },
    'rules.add': async ({ rule, before }, ctx) => {
      const added = await h.rules.add(rule, before);
      changed(`rule ${added.id} added: ${added.name}`, ctx.actor);
      return added;
    },
    'rules.remove': async ({ id }, ctx) => {
      await h.rules.remove(id);
      changed(`rule ${id} removed`, ctx.actor);
      return ok;
    },
    'rules.move': async ({ id, before }, ctx) => {
      await h.rules.move(id, before);
      changed(
        before ? `rule ${id} moved before ${before}` : `rule ${id} moved to the end of its layer`,
        ctx.actor,
      );
      return ok;
    },
    'rules.setDefault': async ({ trust, action }, ctx) => {
      await h.rules.setDefault(trust, action);
      changed(`on ${trust} networks, flows no rule matches: ${describeAction(action)}`, ctx.actor);
      return ok;
    },
    'groups.list': () => h.rules.groups(),
    'groups.add': async ({ name, apps }, ctx) => {
      const g = await h.rules.addGroup(name, apps);
      changed(`group ${g.name} created with ${apps.length} app${apps.length === 1 ? '' : 's'}`, ctx.actor);
      return g;
    },
    'groups.set': async ({ name, apps }, ctx) => {
      const g = await h.rules.setGroup(name, apps);
      changed(`group ${g.name} now holds ${apps.length ? apps.join(', ') : 'no apps'}`, ctx.actor);
      return g;
    },
    'groups.remove': async ({ name }, ctx) => {
      await h.rules.removeGroup(name);
      changed(`group ${name} removed`, ctx.actor);
      return ok;
    },
    'networks.list': () => ({
      networks: h.rules.networks.list(),
      unknownTrust: h.rules.unknownTrust(),
    }),
    'networks.setTrust': async ({ id, trust }, ctx) => {
      const n = await h.rules.setTrust(id, trust);
      changed(`${n.name} marked ${trust ?? `back to the default (${n.effectiveTrust})`}`, ctx.actor);
      return n;
    },
    'networks.setUnknownTrust': async ({ trust }, ctx) => {
      await h.rules.setUnknownTrust(trust);
      changed(`networks nobody marked are now ${trust}`, ctx.actor);
      return ok;
    },
  };
}
