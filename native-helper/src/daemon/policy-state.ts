// The policy the helper enforces: the user's document (persisted in policy.json) with the managed
// policy's pinned choices laid over it. Every change goes through commit(): written first, then
// taken; a failed write leaves both the file and the policy in memory as they were.
import { unwatchFile, watchFile } from 'node:fs';
import type { AppId, EgressChoice } from '../api/schema.ts';
import { ApiError } from '../api/schema.ts';
import type { Rule } from '../api/rules-model.ts';
import { neededClasses } from '../policy/flow-plan.ts';
import {
  type PolicyApp,
  type PolicyDocument,
  addApp,
  ensureEgressTables,
  ensureFlowClasses,
} from '../policy/model.ts';
import { type ManagedPolicy, NO_MANAGED_POLICY, loadManagedPolicy, managedRules } from './managed-policy.ts';
import { PolicyStore } from './policy-store.ts';
import type { Problems } from './problems.ts';
import type { ReactionTemplate } from '../api/events-model.ts';

export class PolicyState {
  private readonly store: PolicyStore;
  private doc: PolicyDocument;
  private managed: ManagedPolicy = NO_MANAGED_POLICY;
  private managedRulesRead: Rule[] = [];

  constructor(
    stateDir: string,
    readonly managedPolicyPath: string | null,
    private readonly problems: Problems,
  ) {
    this.store = new PolicyStore(stateDir);
    this.doc = this.store.load();
  }

  get path(): string {
    return this.store.path;
  }

  /** There was no policy file at start (a first start, or a lost file). */
  get missing(): boolean {
    return this.store.missing;
  }

  /** The user's own document. */
  get current(): PolicyDocument {
    return this.doc;
  }

  get apps(): readonly PolicyApp[] {
    return this.doc.apps;
  }

  find(id: AppId): PolicyApp | undefined {
    return this.doc.apps.find((a) => a.id === id);
  }

  managedChoice(id: AppId): EgressChoice | null {
    return this.managed.apps.find((a) => a.id === id)?.choice ?? null;
  }

  /** The managed policy's rules: evaluated before all others, locked. */
  get managedRules(): readonly Rule[] {
    return this.managedRulesRead;
  }

  /** The managed policy's reaction templates: locked, before the user's. */
  get managedTemplates(): readonly ReactionTemplate[] {
    return this.managed.templates;
  }

  /** Managed group names (lowercase), which the user cannot change. */
  isManagedGroup(name: string): boolean {
    return this.managed.groups.some((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  /** The policy with managed choices, groups and trust defaults laid over the user's. */
  effective(): PolicyDocument {
    return overlay(this.doc, this.managed);
  }

  /** A document not committed yet, with the managed policy laid over it. */
  effectiveOf(doc: PolicyDocument): PolicyDocument {
    return overlay(doc, this.managed);
  }

  /** Calls back when the managed policy file changes, appears or vanishes; returns the unwatch. */
  watchManaged(changed: () => void): () => void {
    const path = this.managedPolicyPath;
    if (!path) return () => {};
    // Fleet tools rewrite the file while the helper runs; polling stat also sees it appear and vanish.
    watchFile(path, { interval: 2000 }, changed);
    return () => unwatchFile(path);
  }

  /** Reads the managed policy; a broken file keeps the last good pins. Returns whether it changed. */
  loadManaged(): boolean {
    const before = JSON.stringify(this.managed);
    const { policy, problem } = loadManagedPolicy(this.managedPolicyPath);
    // A typo in a fleet deployment must not unpin anything.
    if (problem) this.problems.set('managed', `${problem}; keeping the managed policy read before`);
    else {
      this.managed = policy;
      this.managedRulesRead = managedRules(policy, new Date());
      this.problems.clear('managed');
    }
    let doc = this.doc;
    for (const m of this.managed.apps) {
      if (doc.apps.some((a) => a.id === m.id)) continue;
      if (!m.matchers) continue; // a catalog app: added when the catalog is read
      doc = addApp(doc, {
        id: m.id,
        name: m.name ?? m.id,
        icon: null,
        source: 'manual',
        matchers: m.matchers,
      });
    }
    this.commit(doc);
    return JSON.stringify(this.managed) !== before;
  }

  /** Persist a new document (atomically) if it changed, then take it. */
  commit(doc: PolicyDocument): void {
    const laid = overlay(doc, this.managed);
    const tunnels = this.managedRulesRead.flatMap((r) =>
      r.action.type === 'encrypt' ? [r.action.tunnel] : [],
    );
    const withTables = ensureEgressTables(laid, tunnels);
    const withClasses = ensureFlowClasses(laid, neededClasses(laid, this.managedRulesRead));
    const next = { ...doc, egressTables: withTables.egressTables, flowClasses: withClasses.flowClasses };
    if (JSON.stringify(next) === JSON.stringify(this.doc)) return;
    try {
      this.store.save(next);
    } catch (err) {
      // The old file stays, and so does the policy in memory: what the caller is told did not happen.
      const e = err as NodeJS.ErrnoException;
      const message = `cannot save the policy to ${this.store.path} (${e.code ?? e.message}); the change was not made: free some disk space or fix the disk, then try again`;
      this.problems.set('storage', message);
      throw new ApiError('UNAVAILABLE', message);
    }
    this.problems.clear('storage');
    this.doc = next;
  }
}

/** The user's document with the managed policy's choices, groups and trust defaults laid over it. */
function overlay(doc: PolicyDocument, managed: ManagedPolicy): PolicyDocument {
  const managedGroups = new Set(managed.groups.map((g) => g.name.toLowerCase()));
  return {
    ...doc,
    apps: doc.apps.map((a) => {
      const pinned = managed.apps.find((m) => m.id === a.id)?.choice;
      return pinned ? { ...a, choice: pinned } : a;
    }),
    groups: [...managed.groups, ...doc.groups.filter((g) => !managedGroups.has(g.name.toLowerCase()))],
    trustDefaults: managed.trustDefaults ?? doc.trustDefaults,
    unknownTrust: managed.unknownTrust ?? doc.unknownTrust,
  };
}
