// Changes to the apps themselves from the API: an app's egress choice, and apps added or removed by
// hand. Each checks what the managed policy locks, commits the user's document and applies it.
import { type App, type AppId, ApiError, type EgressChoice } from '../api/schema.ts';
import { slugify } from '../catalog/identity-rules.ts';
import { compileCmdline } from '../catalog/processes.ts';
import { type PolicyApp, addApp, removeApp, setChoice } from '../policy/model.ts';
import type { PolicyState } from './policy-state.ts';

export interface AppChangesDeps {
  policy: PolicyState;
  managedPolicyPath: string | null;
  /** The app as the API shows it. */
  view: (id: AppId) => App;
  /** Apply the committed document. */
  refresh: () => Promise<void>;
  /** A new app's running processes join it. */
  adoptRunning: () => Promise<void>;
  /** A removed app's cgroup goes, and what the helper remembers of it (connections, names). */
  forget: (id: AppId) => Promise<void>;
}

export class AppChanges {
  constructor(private readonly deps: AppChangesDeps) {}

  async setChoice(id: AppId, choice: EgressChoice): Promise<App> {
    const { policy } = this.deps;
    const current = policy.find(id);
    if (!current) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    if (policy.managedChoice(id))
      throw new ApiError(
        'MANAGED',
        `${current.name}'s egress is set by the managed policy (${this.deps.managedPolicyPath}) and cannot be changed here`,
      );
    if (choice.mode === 'ordered' && new Set(choice.egresses).size !== choice.egresses.length) {
      throw new ApiError('BAD_REQUEST', 'an egress appears twice in the list');
    }
    policy.commit(setChoice(policy.current, id, choice));
    await this.deps.refresh();
    return this.deps.view(id);
  }

  async addManualApp(p: {
    id?: string;
    name: string;
    icon?: string | null;
    matchers: PolicyApp['matchers'];
  }): Promise<App> {
    const { policy } = this.deps;
    const id = p.id ?? slugify(p.name);
    if (policy.find(id))
      throw new ApiError('CONFLICT', `an app with id '${id}' exists already; pick another --id`);
    if (p.matchers.cmdline) {
      try {
        compileCmdline(p.matchers.cmdline);
      } catch (err) {
        throw new ApiError(
          'BAD_REQUEST',
          `cmdline is not a valid RE2 regular expression (no look-around or backreferences): ${(err as Error).message}`,
        );
      }
    }
    policy.commit(
      addApp(policy.current, {
        id,
        name: p.name,
        icon: p.icon ?? null,
        source: 'manual',
        matchers: p.matchers,
      }),
    );
    await this.deps.adoptRunning();
    await this.deps.refresh();
    return this.deps.view(id);
  }

  async removeManualApp(id: AppId): Promise<void> {
    const { policy } = this.deps;
    const a = policy.find(id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'`);
    if (a.source !== 'manual')
      throw new ApiError(
        'CONFLICT',
        `${a.name} comes from its desktop file; set its egress to default instead of removing it`,
      );
    if (policy.managedChoice(id)) throw new ApiError('MANAGED', `${a.name} is pinned by the managed policy`);
    await this.deps.forget(id);
    policy.commit(removeApp(policy.current, id));
    await this.deps.refresh();
  }
}
