// The FakeHelper's encryption rules, groups and tunnels, answering as the helper does
// (native-helper/src/daemon/encryption-rules.ts and policy/rules.ts): the same layers and order, the
// same refusals and their codes, the same events after each change.
import { ruleMethods } from '#switchyard/api/rules-schema.ts';
import {
  ApiError,
  type EventName,
  type Group,
  type Params,
  type Rule,
  type RuleAction,
  type RuleView,
  type TrustDefaults,
  type Tunnel,
} from '#switchyard/api/schema.ts';
import { USER } from './demo-data.ts';
import { DEMO_DEFAULTS, demoGroups, demoKey, demoRules, demoTunnels } from './demo-rules.ts';
import type { NetworkMethodName } from './fake-networks.ts';

export type RuleMethodName = Exclude<keyof typeof ruleMethods, NetworkMethodName>;
export function isRuleMethod(name: string): name is RuleMethodName {
  return Object.hasOwn(ruleMethods, name) && !name.startsWith('networks.');
}

function describeAction(a: RuleAction): string {
  return a.type === 'encrypt'
    ? `encrypt through ${a.tunnel}`
    : a.type === 'clear'
      ? 'send in clear'
      : 'block';
}

type Emit = (event: EventName, data: unknown) => void;

export class FakeRules {
  rules: Rule[];
  groups: Group[];
  tunnels: Tunnel[];
  defaults: TrustDefaults = structuredClone(DEMO_DEFAULTS);
  stats = new Map<string, RuleView['stats']>();
  #apps: () => ReadonlySet<string>;
  #now: () => number;
  #emit: Emit;
  #rand: () => number;
  #expired: (rules: readonly Rule[]) => void;
  #nextId = 0x1000;

  constructor(opts: {
    apps: () => ReadonlySet<string>;
    now: () => number;
    emit: Emit;
    rand: () => number;
    /** Rules that expired, after they went (events audit their own). */
    expired?: (rules: readonly Rule[]) => void;
  }) {
    this.#apps = opts.apps;
    this.#now = opts.now;
    this.#emit = opts.emit;
    this.#rand = opts.rand;
    this.#expired = opts.expired ?? (() => {});
    const now = this.#now();
    this.tunnels = demoTunnels(opts.rand, now);
    this.groups = demoGroups(opts.apps());
    this.rules = demoRules(now, opts.apps());
    for (const r of this.rules) {
      const flows = Math.floor(opts.rand() * 4000);
      this.stats.set(r.id, {
        flows,
        packets: flows * 40,
        bytes: Math.floor(flows * (2e4 + opts.rand() * 4e5)),
      });
    }
  }

  // ---------- views ----------

  #problem(r: Rule): string | null {
    if (r.action.type !== 'encrypt') return null;
    const t = this.tunnels.find((x) => x.name === (r.action as { tunnel: string }).tunnel);
    if (!t) return `there is no tunnel ${r.action.tunnel}: the flows this rule covers are blocked`;
    if (t.state !== 'up')
      return `tunnel ${t.name} is down: the flows this rule covers are blocked until it is up`;
    const group = r.action.keyGroup;
    if (group && !t.groups?.find((g) => g.name === group)?.established)
      return `key group ${group} of tunnel ${t.name} has no session yet: the flows this rule covers are held until it has one`;
    return null;
  }

  list(): { rules: RuleView[]; defaults: TrustDefaults } {
    const ordered = (['managed', 'event', 'user'] as const).flatMap((layer) =>
      this.rules.filter((r) => r.origin === layer),
    );
    const rules = ordered.map((r, i) => ({
      ...r,
      layer: r.origin,
      position: i + 1,
      locked: r.origin === 'managed',
      stats: this.stats.get(r.id) ?? { flows: 0, packets: 0, bytes: 0 },
      problem: this.#problem(r),
    }));
    return structuredClone({ rules, defaults: this.defaults });
  }

  // ---------- live behaviour ----------

  /** One second: rules that let traffic through count some; expired rules go. */
  tick(): void {
    for (const t of this.tunnels) {
      if (t.state !== 'up') continue;
      const tx = Math.floor(this.#rand() * 4e4);
      const rx = Math.floor(this.#rand() * 2e5);
      t.txBytes = (t.txBytes ?? 0) + tx;
      t.rxBytes = (t.rxBytes ?? 0) + rx;
      const g = t.groups?.find((x) => x.established);
      if (g) {
        g.txBytes = (g.txBytes ?? 0) + Math.floor(tx / 2);
        g.rxBytes = (g.rxBytes ?? 0) + Math.floor(rx / 2);
      }
    }
    for (const r of this.rules) {
      const s = this.stats.get(r.id);
      if (!s || this.#problem(r) || this.#rand() < 0.6) continue;
      const flows = 1 + Math.floor(this.#rand() * 3);
      s.flows += flows;
      s.packets += flows * 30;
      s.bytes += Math.floor(flows * (1e4 + this.#rand() * 2e5));
    }
    const now = this.#now();
    const expired = this.rules.filter((r) => r.expiresAt && new Date(r.expiresAt).getTime() <= now);
    if (!expired.length) return;
    this.rules = this.rules.filter((r) => !expired.includes(r));
    for (const r of expired) this.#emit('rule.expired', { id: r.id, name: r.name, expiredAt: r.expiresAt });
    this.#expired(expired);
    this.#emit('rules.changed', this.list());
  }

  // ---------- event-layer rules (FakeReactions makes and removes them) ----------

  /** Adds a rule an event made, first in the event layer as the helper puts flags and quarantines. */
  addEventRule(input: Omit<Rule, 'id' | 'origin' | 'createdAt'>): Rule {
    const rule: Rule = {
      ...input,
      id: `r-${(this.#nextId++).toString(16).padStart(6, '0')}`,
      origin: 'event',
      createdAt: new Date(this.#now()).toISOString(),
    };
    const first = this.rules.findIndex((r) => r.origin === 'event');
    if (first >= 0) this.rules.splice(first, 0, rule);
    else this.rules.push(rule);
    this.stats.set(rule.id, { flows: 0, packets: 0, bytes: 0 });
    return rule;
  }

  /** Removes rules by id (an event ended); returns those that were there. */
  removeRules(ids: readonly string[]): Rule[] {
    const gone = this.rules.filter((r) => ids.includes(r.id));
    this.rules = this.rules.filter((r) => !ids.includes(r.id));
    return gone;
  }

  /** Tells clients the list changed (after addEventRule/removeRules). */
  changed(): void {
    this.#emit('rules.changed', this.list());
  }

  /** A tunnel comes up or goes down; rules naming it gain or lose their problem. */
  setTunnelState(name: string, state: Tunnel['state']): void {
    const t = this.tunnels.find((x) => x.name === name);
    if (!t) return;
    t.state = state;
    t.problem = state === 'up' ? null : `the gateway ${t.gateway} does not answer`;
    this.#emit('rules.changed', this.list());
  }

  /** A key group's session is made (a new epoch) or lost; rules using it gain or lose their problem. */
  setKeyGroup(tunnel: string, name: string, established: boolean): void {
    const t = this.tunnels.find((x) => x.name === tunnel);
    if (!t) return;
    const groups = (t.groups ??= []);
    let g = groups.find((x) => x.name === name);
    if (!g) groups.push((g = { name, established: false, epoch: null, since: null }));
    g.established = established;
    if (established) {
      g.epoch = (g.epoch ?? 0) + 1;
      g.since = new Date(this.#now()).toISOString();
    }
    this.#emit('rules.changed', this.list());
  }

  // ---------- tunnels (the helper's tunnels.add / tunnels.remove; the fake is no gateway) ----------

  /** A new tunnel is connecting: nothing answers it in the demo, as with a gateway not told our key. */
  addTunnel(p: Params<'tunnels.add'>): Tunnel {
    if (this.tunnels.some((t) => t.name === p.name))
      throw new ApiError('CONFLICT', `there is already a tunnel named ${p.name}`);
    const t: Tunnel = {
      name: p.name,
      gateway: p.gateway,
      gatewayPublicKey: p.gatewayPublicKey,
      publicKey: demoKey(this.#rand),
      addresses: p.addresses,
      cipher: p.cipher,
      state: 'connecting',
      problem: `no handshake with ${p.gateway} yet: is this end's public key among the gateway's peers?`,
      txBytes: 0,
      rxBytes: 0,
      groups: [],
    };
    this.tunnels.push(t);
    this.#emit('rules.changed', this.list());
    this.#changed(`tunnel ${p.name} added`);
    return structuredClone(t);
  }

  removeTunnel(name: string): void {
    if (!this.tunnels.some((t) => t.name === name))
      throw new ApiError('NOT_FOUND', `no tunnel named ${name}`);
    this.tunnels = this.tunnels.filter((t) => t.name !== name);
    this.#emit('rules.changed', this.list());
    this.#changed(`tunnel ${name} removed`);
  }

  // ---------- the API ----------

  /** A change elsewhere the rules follow (a network's trust): the new list, and who changed what. */
  followTrust(summary: string): void {
    this.#emit('rules.changed', this.list());
    this.#changed(summary);
  }

  #changed(summary: string): void {
    this.#emit('policy.changed', { app: null, summary, actor: USER });
  }

  #rule(id: string): Rule {
    const r = this.rules.find((x) => x.id === id);
    if (!r) throw new ApiError('NOT_FOUND', `no rule "${id}" (managed rules are locked).`);
    if (r.origin === 'managed')
      throw new ApiError('MANAGED', `rule ${id} comes from the managed policy and is locked.`);
    return r;
  }

  #group(name: string): Group | undefined {
    return this.groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  #checkApps(apps: readonly string[]): void {
    const unknown = apps.filter((a) => !this.#apps().has(a));
    if (unknown.length)
      throw new ApiError(
        'NOT_FOUND',
        `no app ${unknown.map((a) => `"${a}"`).join(', ')} in the policy; add it first.`,
      );
  }

  #add({ rule: input, before }: Params<'rules.add'>): RuleView {
    const s = input.match.subject;
    if (s.kind === 'app' && !this.#apps().has(s.app))
      throw new ApiError('NOT_FOUND', `no app "${s.app}" in the policy; add the app first, or name a group.`);
    if (s.kind === 'group' && !this.#group(s.group))
      throw new ApiError('NOT_FOUND', `no group "${s.group}"; create it first.`);
    const now = this.#now();
    const expiresAt = input.expiresAt
      ? new Date(input.expiresAt).toISOString()
      : input.expiresIn
        ? new Date(now + input.expiresIn * 1000).toISOString()
        : null;
    const who = s.kind === 'app' ? s.app : `group ${s.group}`;
    const rule: Rule = {
      id: `r-${(this.#nextId++).toString(16).padStart(6, '0')}`,
      name: input.name ?? `${who}: ${describeAction(input.action)}`,
      origin: 'user',
      createdAt: new Date(now).toISOString(),
      expiresAt,
      match: input.match,
      action: input.action,
    };
    const at = before ? this.rules.findIndex((r) => r.id === before && r.origin === 'user') : -1;
    if (before && at < 0) throw new ApiError('NOT_FOUND', `no user rule "${before}" to insert before.`);
    if (at >= 0) this.rules.splice(at, 0, rule);
    else this.rules.push(rule);
    this.stats.set(rule.id, { flows: 0, packets: 0, bytes: 0 });
    this.#emit('rules.changed', this.list());
    this.#changed(`rule ${rule.id} added: ${rule.name}`);
    return this.list().rules.find((r) => r.id === rule.id)!;
  }

  #move({ id, before }: Params<'rules.move'>): void {
    const rule = this.#rule(id);
    if (before === id) return;
    const rest = this.rules.filter((r) => r !== rule);
    if (before === null) {
      rest.splice(rest.map((r) => r.origin).lastIndexOf(rule.origin) + 1, 0, rule);
    } else {
      const target = this.#rule(before);
      if (target.origin !== rule.origin)
        throw new ApiError(
          'BAD_REQUEST',
          `rule ${id} is a ${rule.origin} rule and ${before} a ${target.origin} rule; rules move only within their layer.`,
        );
      rest.splice(rest.indexOf(target), 0, rule);
    }
    this.rules = rest;
    this.#emit('rules.changed', this.list());
    this.#changed(before ? `rule ${id} moved before ${before}` : `rule ${id} moved to the end of its layer`);
  }

  #groupsChanged(summary: string): void {
    this.#emit('rules.changed', this.list());
    this.#emit('groups.changed', { groups: structuredClone(this.groups) });
    this.#changed(summary);
  }

  handle(method: RuleMethodName, params: unknown): unknown {
    const ok = { ok: true as const };
    switch (method) {
      case 'rules.list':
        return this.list();
      case 'rules.add':
        return this.#add(params as Params<'rules.add'>);
      case 'rules.remove': {
        const { id } = params as Params<'rules.remove'>;
        const r = this.#rule(id);
        this.rules = this.rules.filter((x) => x !== r);
        this.#emit('rules.changed', this.list());
        this.#changed(`rule ${id} removed`);
        return ok;
      }
      case 'rules.move':
        this.#move(params as Params<'rules.move'>);
        return ok;
      case 'rules.setDefault': {
        const { trust, action } = params as Params<'rules.setDefault'>;
        this.defaults = { ...this.defaults, [trust]: action };
        this.#emit('rules.changed', this.list());
        this.#changed(`on ${trust} networks, flows no rule matches: ${describeAction(action)}`);
        return ok;
      }
      case 'groups.list':
        return structuredClone(this.groups);
      case 'groups.add': {
        const { name, apps } = params as Params<'groups.add'>;
        if (this.#group(name))
          throw new ApiError('BAD_REQUEST', `group "${name}" exists; change its apps with \`group set\`.`);
        this.#checkApps(apps);
        const g: Group = { name, apps: [...new Set(apps)], managed: false };
        this.groups.push(g);
        this.#groupsChanged(`group ${name} created with ${apps.length} app${apps.length === 1 ? '' : 's'}`);
        return structuredClone(g);
      }
      case 'groups.set': {
        const { name, apps } = params as Params<'groups.set'>;
        const g = this.#group(name);
        if (!g) throw new ApiError('NOT_FOUND', `no group "${name}"; create it with \`group add\`.`);
        if (g.managed)
          throw new ApiError('MANAGED', `group ${name} comes from the managed policy and is locked.`);
        this.#checkApps(apps);
        g.apps = [...new Set(apps)];
        this.#groupsChanged(`group ${g.name} now holds ${apps.length ? apps.join(', ') : 'no apps'}`);
        return structuredClone(g);
      }
      case 'groups.remove': {
        const { name } = params as Params<'groups.remove'>;
        const g = this.#group(name);
        if (!g) throw new ApiError('NOT_FOUND', `no group "${name}".`);
        if (g.managed)
          throw new ApiError('MANAGED', `group ${name} comes from the managed policy and is locked.`);
        const users = this.rules.filter(
          (r) =>
            r.match.subject.kind === 'group' && r.match.subject.group.toLowerCase() === name.toLowerCase(),
        );
        if (users.length)
          throw new ApiError(
            'BAD_REQUEST',
            `group "${g.name}" is used by rule${users.length > 1 ? 's' : ''} ${users.map((r) => r.id).join(', ')}; remove ${users.length > 1 ? 'them' : 'it'} first.`,
          );
        this.groups = this.groups.filter((x) => x !== g);
        this.#groupsChanged(`group ${name} removed`);
        return ok;
      }
    }
  }
}
