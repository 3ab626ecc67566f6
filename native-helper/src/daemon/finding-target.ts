// Which app a security tool's finding is about: named directly, or found from an executable, a process
// or a file — the app whose executable it is, the app whose process wrote it (from the write watch),
// or the app whose process has it open. Nothing found is a clear NOT_FOUND, never a guess.
import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { ApiError, type AppId } from '../api/schema.ts';
import { bestMatch, readProcessIdentity } from '../catalog/processes.ts';
import type { PolicyApp } from '../policy/model.ts';
import type { ResolvedFinding } from './event-reactor.ts';

/** Who closed a file after writing it, as the write watch saw it then. */
export interface Writer {
  pid: number;
  /** The cgroup v2 path from /proc/PID/cgroup ("/…/app-firefox"), null if the process was gone. */
  cgroup: string | null;
  exe: string | null;
}

export interface FindingTargetDeps {
  apps: () => readonly PolicyApp[];
  /** The helper's cgroup subtree (absolute); app cgroups are app-<id> under it. */
  cgroupRoot: string;
  writerOf?: (path: string) => Writer | null;
  procRoot?: string;
}

export type FindingSubject = { app: string } | { exe: string } | { file: string } | { pid: number };

export class FindingTarget {
  private readonly proc: string;

  constructor(private readonly deps: FindingTargetDeps) {
    this.proc = deps.procRoot ?? '/proc';
  }

  async resolve(s: FindingSubject): Promise<ResolvedFinding> {
    if ('app' in s) {
      if (!this.deps.apps().some((a) => a.id === s.app))
        throw new ApiError('NOT_FOUND', `no app '${s.app}'; \`switchyard apps\` lists them`);
      return { app: s.app, subject: null, how: 'named by the reporter' };
    }
    if ('pid' in s) {
      const app = await this.appOfPid(s.pid);
      if (!app)
        throw new ApiError('NOT_FOUND', `process ${s.pid} is gone or belongs to no app Switchyard manages`);
      return { app, subject: `pid ${s.pid}`, how: `process ${s.pid} is one of its processes` };
    }
    const path = 'exe' in s ? s.exe : s.file;
    if (!isAbsolute(path) || path.includes('\0'))
      throw new ApiError('BAD_REQUEST', `${JSON.stringify(path)} is not an absolute path`);
    const real = await realpath(path).catch(() => path);
    const byExe = this.appOfExe([path, real]);
    if (byExe) return { app: byExe, subject: path, how: 'it is the executable of that app' };
    if ('file' in s) {
      const w = this.deps.writerOf?.(real) ?? this.deps.writerOf?.(path) ?? null;
      if (w) {
        const app = (w.cgroup && this.appOfCgroup(w.cgroup)) || (w.exe && this.appOfExe([w.exe]));
        if (app)
          return {
            app,
            subject: path,
            how: `process ${w.pid} (${w.exe ?? 'exited'}) of that app wrote it`,
          };
      }
    }
    const holder = await this.processHolding(real, 'exe' in s);
    if (holder) {
      const app = await this.appOfPid(holder);
      if (app)
        return {
          app,
          subject: path,
          how:
            'exe' in s
              ? `process ${holder} of that app runs it`
              : `process ${holder} of that app has it open`,
        };
    }
    throw new ApiError(
      'NOT_FOUND',
      'exe' in s
        ? `no app Switchyard manages runs ${path}; name the app instead (--app)`
        : `no app Switchyard manages wrote, runs or has ${path} open; name the app instead (--app)`,
    );
  }

  private appOfExe(paths: readonly string[]): AppId | null {
    return this.deps.apps().find((a) => a.matchers.exe?.some((e) => paths.includes(e)))?.id ?? null;
  }

  /** An app cgroup of this helper: <root>/app-<id>, seen from /proc as a path under the mount. */
  appOfCgroup(cgroup: string): AppId | null {
    const parts = cgroup.split('/');
    const at = parts.lastIndexOf(basename(this.deps.cgroupRoot));
    const leaf = at >= 0 ? parts[at + 1] : undefined;
    if (!leaf?.startsWith('app-')) return null;
    const id = leaf.slice(4);
    return this.deps.apps().some((a) => a.id === id) ? id : null;
  }

  private async appOfPid(pid: number): Promise<AppId | null> {
    const cg = await readFile(join(this.proc, String(pid), 'cgroup'), 'utf8').catch(() => null);
    const line = cg?.split('\n').find((l) => l.startsWith('0::'));
    const byCgroup = line ? this.appOfCgroup(line.slice(3)) : null;
    if (byCgroup) return byCgroup;
    const id = await readProcessIdentity(pid, { procRoot: this.proc }).catch(() => null);
    if (!id) return null;
    return bestMatch(this.deps.apps(), id)?.app.id ?? null;
  }

  /** A live process that runs the executable, or has the file open (the first found). */
  private async processHolding(path: string, asExe: boolean): Promise<number | null> {
    const pids = (await readdir(this.proc).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
    for (const p of pids) {
      const dir = join(this.proc, p);
      if (asExe) {
        if ((await readlink(join(dir, 'exe')).catch(() => null)) === path) return Number(p);
        continue;
      }
      const fds = await readdir(join(dir, 'fd')).catch(() => [] as string[]);
      for (const fd of fds)
        if ((await readlink(join(dir, 'fd', fd)).catch(() => null)) === path) return Number(p);
    }
    return null;
  }
}
