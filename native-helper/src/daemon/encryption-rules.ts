// The encryption rules as the API sees them: rules, groups, trust defaults and networks, each change
// committed to the policy and applied; rules expire on time; each apply gets the plan for the networks
// the uplinks are on now. The kernel side is policy/flow-plan.ts → compile → reconcile.
import { ApiError, type Interface, type AppId } from '../api/schema.ts';
import type { Group, Network, Rule, RuleAction, RuleInput, RuleView, Trust } from '../api/rules-model.ts';
import type { Evaluation } from '../policy/evaluate.ts';
import type { AppRules } from '../policy/explain-rules.ts';
import { flowCounter, planFlows, ruleCounter, type FlowPlan } from '../policy/flow-plan.ts';
import type { PolicyDocument } from '../policy/model.ts';
import {
  addGroup,
  addRule,
  checkSubject,
  expireRules,
  moveRule,
  nextExpiry,
  orderedRules,
  removeGroup,
  removeRule,
  setGroup,
  setTrustDefault,
} from '../policy/rules.ts';
import { trustForApp } from '../policy/trust.ts';
import type { Layout } from '../layout/kernel-layout.ts';
import type { EventBus } from './event-bus.ts';
import { Networks } from './networks.ts';
import type { PolicyState } from './policy-state.ts';
import type { Problems } from './problems.ts';

export interface EncryptionRulesDeps {
  policy: PolicyState;
  bus: EventBus;
  /** A rule that holds traffic (its tunnel down or gone) is a problem of the helper's status. */
  problems: Pick<Problems, 'set' | 'clear'>;
  layout: Layout;
  log: (msg: string) => void;
  /** Apply the policy again (after any change here). */
  refresh: () => Promise<void>;
  /** A named nft counter as last sampled. */
  counter: (name: string) => { packets: number; bytes: number };
  /** The plan last applied, and the tunnels' state, for the views. */
  applied: () => FlowPlan | null;
  tunnelUp: (name: string) => boolean;
  tunnelExists: (name: string) => boolean;
  /** Whether a key group of a tunnel has its session (false while handshaking or refused). */
  groupUp?: (tunnel: string, group: string) => boolean;
  /** After expired rules were removed (the audit of event rules). */
  expired?: (rules: readonly Rule[]) => void;
  /** An uplink moved to another network, or a network's trust changed. */
  networksChanged?: () => void;
  now?: () => Date;
}

/** Expiry timers longer than this are re-armed in steps (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 6 * 3600_000;

export class EncryptionRules {
  readonly networks: Networks;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => Date;

  constructor(private readonly deps: EncryptionRulesDeps) {
    this.now = deps.now ?? (() => new Date());
    this.networks = new Networks({
      policy: deps.policy,
      changed: (networks) => {
        deps.bus.emit('networks.changed', { networks, unknownTrust: this.unknownTrust() });
        deps.networksChanged?.();
      },
    });
  }

  /** For the apply loop: identify networks, then the rules for each app's trust. */
  plan = async (
    policy: PolicyDocument,
    interfaces: readonly Interface[],
    evaluations: ReadonlyMap<AppId, Evaluation>,
  ): Promise<FlowPlan> => {
    const ctx = await this.networks.identify(interfaces);
    return planFlows({
      doc: policy,
      managedRules: this.deps.policy.managedRules,
      layout: this.deps.layout,
      trustOf: (app) => trustForApp(policy, evaluations.get(app.id)?.active ?? null, ctx),
    });
  };

  /** Neighbour changes are frequent and mostly irrelevant: apply only when a network changed. */
  async checkNetworks(interfaces: readonly Interface[]): Promise<void> {
    const before = JSON.stringify(this.networks.context());
    await this.networks.identify(interfaces).catch(() => {});
    if (JSON.stringify(this.networks.context()) !== before) await this.deps.refresh();
  }

  start(): void {
    this.expireNow();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---------- rules ----------

  private told = '';
  private holding = new Set<string>();

  /**
   * After every apply and once a second: rules.changed when what a rule is or does changed without an
   * edit (a tunnel went down and a rule holds traffic now). Counters are left to rules.list.
   */
  publish(): void {
    const list = this.list();
    const shape = JSON.stringify(list.rules.map((r) => ({ ...r, stats: undefined })));
    if (shape === this.told) return;
    this.told = shape;
    this.deps.bus.emit('rules.changed', list);
    const now = new Set<string>();
    for (const r of list.rules)
      if (r.problem) {
        now.add(`rule:${r.id}`);
        this.deps.problems.set(`rule:${r.id}`, `rule "${r.name}" (${r.id}): ${r.problem}`);
      }
    for (const key of this.holding) if (!now.has(key)) this.deps.problems.clear(key);
    this.holding = now;
  }

  list(): { rules: RuleView[]; defaults: PolicyDocument['trustDefaults'] } {
    const doc = this.deps.policy.effective();
    const plan = this.deps.applied();
    const views = orderedRules(doc, this.deps.policy.managedRules).map(({ rule, layer, position }) =>
      this.view(rule, layer, position, plan),
    );
    return { rules: views, defaults: doc.trustDefaults };
  }

  /** What explain needs to name the rule that decides an app's flow. */
  forExplain(app: AppId): AppRules | null {
    const byApp = this.deps.applied()?.byApp[app];
    if (!byApp) return null;
    const doc = this.deps.policy.effective();
    const names = Object.fromEntries(
      orderedRules(doc, this.deps.policy.managedRules).map(({ rule }) => [rule.id, rule.name]),
    );
    return { ...byApp, names };
  }

  private view(rule: Rule, layer: RuleView['layer'], position: number, plan: FlowPlan | null): RuleView {
    const flows = this.deps.counter(flowCounter(rule.id));
    const bytes = this.deps.counter(ruleCounter(rule.id));
    const inForce = plan ? Object.values(plan.applied).some((l) => l.some((r) => r.id === rule.id)) : false;
    return {
      ...rule,
      layer,
      position,
      locked: layer === 'managed',
      stats: { flows: flows.packets, packets: bytes.packets, bytes: bytes.bytes },
      problem: this.problemOf(rule.action, inForce),
    };
  }

  private problemOf(action: RuleAction, inForce: boolean): string | null {
    if (action.type !== 'encrypt') return null;
    if (!this.deps.tunnelExists(action.tunnel))
      return `there is no tunnel ${action.tunnel}: the flows this rule covers are blocked`;
    if (inForce && !this.deps.tunnelUp(action.tunnel))
      return `tunnel ${action.tunnel} is down: the flows this rule covers are blocked until it is up`;
    if (inForce && action.keyGroup && this.deps.groupUp && !this.deps.groupUp(action.tunnel, action.keyGroup))
      return `key group ${action.keyGroup} of tunnel ${action.tunnel} has no session yet: the flows this rule covers are held until it has one`;
    return null;
  }

  async add(input: RuleInput, before?: string): Promise<RuleView> {
    const managedApps = this.managedApps();
    let added: Rule;
    this.guard(() => checkSubject(this.deps.policy.effective(), input, managedApps));
    this.change((doc) => {
      const r = addRule(doc, input, { now: this.now(), before });
      added = r.rule;
      return r.doc;
    });
    await this.applied();
    return this.list().rules.find((r) => r.id === added!.id)!;
  }

  async remove(id: string): Promise<void> {
    this.refuseManaged(id);
    this.change((doc) => removeRule(doc, id));
    await this.applied();
  }

  async move(id: string, before: string | null): Promise<void> {
    this.refuseManaged(id);
    if (before) this.refuseManaged(before);
    this.change((doc) => moveRule(doc, id, before));
    await this.applied();
  }

  async setDefault(trust: Trust, action: RuleAction): Promise<void> {
    this.change((doc) => setTrustDefault(doc, trust, action));
    await this.applied();
  }

  // ---------- groups ----------

  groups(): Group[] {
    return this.deps.policy
      .effective()
      .groups.map((g) => ({ ...g, managed: this.deps.policy.isManagedGroup(g.name) }));
  }

  async addGroup(name: string, apps: string[]): Promise<Group> {
    this.refuseManagedGroup(name);
    this.change((doc) => addGroup(doc, name, apps, this.managedApps()));
    await this.groupsChanged();
    return this.groups().find((g) => g.name.toLowerCase() === name.toLowerCase())!;
  }

  async setGroup(name: string, apps: string[]): Promise<Group> {
    this.refuseManagedGroup(name);
    this.change((doc) => setGroup(doc, name, apps, this.managedApps()));
    await this.groupsChanged();
    return this.groups().find((g) => g.name.toLowerCase() === name.toLowerCase())!;
  }

  async removeGroup(name: string): Promise<void> {
    this.refuseManagedGroup(name);
    this.change((doc) => removeGroup(doc, name));
    await this.groupsChanged();
  }

  // ---------- networks ----------

  async setTrust(id: string, trust: Trust | null): Promise<Network> {
    const n = this.guard(() => this.networks.setTrust(id, trust));
    await this.applied();
    this.deps.networksChanged?.();
    return n;
  }

  /** The trust of networks nobody marked. */
  unknownTrust(): Trust {
    return this.deps.policy.effective().unknownTrust;
  }

  async setUnknownTrust(trust: Trust): Promise<void> {
    this.guard(() => this.networks.setUnknownTrust(trust));
    await this.applied();
    this.deps.networksChanged?.();
  }

  // ---------- expiry ----------

  /** Removes what has expired, says so, and sets the timer for the next one. */
  private expireNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const doc = this.deps.policy.current;
    const { doc: next, expired } = expireRules(doc, this.now());
    if (expired.length) {
      this.deps.policy.commit(next);
      for (const r of expired) {
        this.deps.log(`rule ${r.id} (${r.name}) expired`);
        this.deps.bus.emit('rule.expired', { id: r.id, name: r.name, expiredAt: r.expiresAt! });
      }
      this.deps.expired?.(expired);
      void this.applied();
    }
    const at = nextExpiry(this.deps.policy.current.rules);
    if (at) {
      const wait = Math.min(Math.max(at.getTime() - this.now().getTime(), 0), MAX_TIMER_MS);
      this.timer = setTimeout(() => this.expireNow(), wait);
      this.timer.unref();
    }
  }

  // ---------- helpers ----------

  private managedApps(): Set<string> {
    return new Set(this.deps.policy.apps.map((a) => a.id));
  }

  private refuseManaged(id: string): void {
    if (this.deps.policy.managedRules.some((r) => r.id === id))
      throw new ApiError('MANAGED', `rule ${id} comes from the managed policy and is locked.`);
  }

  private refuseManagedGroup(name: string): void {
    if (this.deps.policy.isManagedGroup(name))
      throw new ApiError('MANAGED', `group ${name} comes from the managed policy and is locked.`);
  }

  /** Policy-layer refusals name what is missing (NOT_FOUND) or what is in the way (BAD_REQUEST). */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = (err as Error).message;
      throw new ApiError(
        /^no (app|group|rule|network|\w+ rule)\b/.test(message) ? 'NOT_FOUND' : 'BAD_REQUEST',
        message,
      );
    }
  }

  private change(fn: (doc: PolicyDocument) => PolicyDocument): void {
    const doc = this.guard(() => fn(this.deps.policy.current));
    this.deps.policy.commit(doc);
  }

  private async applied(): Promise<void> {
    this.expireNow();
    await this.deps.refresh();
    this.told = '';
    this.publish();
  }

  private async groupsChanged(): Promise<void> {
    await this.applied();
    this.deps.bus.emit('groups.changed', { groups: this.groups() });
  }
}
