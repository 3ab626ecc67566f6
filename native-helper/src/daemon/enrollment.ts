// Processes joining apps: one found by the exec watch or a scan (enroll), or one the helper starts for
// a user (launch). Either way the process lands in the app's cgroup and an 'adoption' event says so.
import { type AppId, ApiError } from '../api/schema.ts';
import type { CatalogEntry } from '../catalog/catalog.ts';
import type { AppCgroup, AppCgroups } from './app-cgroups.ts';
import type { EventBus } from './event-bus.ts';
import { commandOf, launchApp } from './launcher.ts';
import type { PolicyState } from './policy-state.ts';

export interface EnrollmentDeps {
  policy: PolicyState;
  /** The cgroup subtree, which exists from the helper's start on. */
  cgroups: () => AppCgroups;
  catalog: () => ReadonlyMap<AppId, CatalogEntry>;
  bus: EventBus;
  log: (msg: string) => void;
}

export class Enrollment {
  /** Processes being adopted right now (app:pid), so two finders racing emit one adoption. */
  private readonly adopting = new Set<string>();

  constructor(private readonly deps: EnrollmentDeps) {}

  /** Move a process into an app's cgroup and tag the sockets it opened before. */
  async enroll(
    id: AppId,
    pid: number,
    via: 'exec' | 'scan' | 'run',
    since?: bigint,
    exe?: string,
  ): Promise<AppCgroup> {
    const app = this.deps.policy.find(id);
    if (!app) throw new ApiError('NOT_FOUND', `no app '${id}'; add it with \`switchyard app add\``);
    const cgroups = this.deps.cgroups();
    // The exec watch, a scan and a launch can each find the same new process: it is adopted once.
    const key = `${id}:${pid}`;
    const known = this.adopting.has(key) || cgroups.pidsOf(id).includes(pid);
    this.adopting.add(key);
    let joined;
    try {
      joined = await cgroups.join(app, pid);
    } finally {
      if (!known) this.adopting.delete(key);
    }
    const { cgroup, retagged } = joined;
    const latencyUs = since === undefined ? 0 : Number(process.hrtime.bigint() - since) / 1000;
    if (!known) this.deps.bus.emit('adoption', { app: id, pid, exe: exe ?? commandOf(pid), latencyUs, via });
    if (retagged) this.deps.log(`re-tagged ${retagged} socket(s) of pid ${pid} (${id})`);
    return cgroup;
  }

  /** Start an app as the calling user inside the app's cgroup; see launcher.ts for why it is safe. */
  async launch(
    id: AppId,
    peer: { pid: number; uid: number; gid: number },
    command?: string[],
  ): Promise<number> {
    const app = this.deps.policy.find(id);
    if (!app) throw new ApiError('NOT_FOUND', `no app '${id}'`);
    const argv = command ?? this.deps.catalog().get(id)?.exec;
    if (!argv?.length)
      throw new ApiError('BAD_REQUEST', `${app.name} has no command to launch; give one with command`);
    const pid = await launchApp(app.name, peer, argv, (await this.deps.cgroups().cgroupFor(app)).path);
    this.deps.bus.emit('adoption', { app: id, pid, exe: argv[0]!, latencyUs: 0, via: 'run' });
    return pid;
  }
}
