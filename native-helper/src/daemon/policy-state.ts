// The policy the helper enforces: the user's document (persisted in policy.json) with the managed
// policy's pinned choices laid over it. Every change goes through commit(): written first, then
// taken; a failed write leaves both the file and the policy in memory as they were.
import type { AppId, EgressChoice } from '../api/schema.ts';
import { ApiError } from '../api/schema.ts';
import { type PolicyApp, type PolicyDocument, addApp, ensureEgressTables } from '../policy/model.ts';
import { type ManagedPolicy, loadManagedPolicy } from './managed-policy.ts';
import { PolicyStore } from './policy-store.ts';
import type { Problems } from './problems.ts';

export class PolicyState {
  private readonly store: PolicyStore;
  private doc: PolicyDocument;
  private managed: ManagedPolicy = { version: 1, apps: [] };

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

  /** The policy with managed choices laid over the user's. */
  effective(): PolicyDocument {
    return {
      ...this.doc,
      apps: this.doc.apps.map((a) => {
        const pinned = this.managedChoice(a.id);
        return pinned ? { ...a, choice: pinned } : a;
      }),
    };
  }

  /** Reads the managed policy; a broken file keeps the last good pins. Returns whether it changed. */
  loadManaged(): boolean {
    const before = JSON.stringify(this.managed);
    const { policy, problem } = loadManagedPolicy(this.managedPolicyPath);
    // A typo in a fleet deployment must not unpin anything.
    if (problem) this.problems.set('managed', `${problem}; keeping the managed policy read before`);
    else {
      this.managed = policy;
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
    const withTables = ensureEgressTables({
      ...doc,
      apps: doc.apps.map((a) => ({ ...a, choice: this.managedChoice(a.id) ?? a.choice })),
    });
    const next = { ...doc, egressTables: withTables.egressTables };
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
