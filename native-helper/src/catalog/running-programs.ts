// "Add app… from a running process": the programs running now, one entry per executable, with the
// app that already claims each. Kernel threads (no executable) and the helper's own are left out.
import type { AppMatcher, RunningProgram } from '../api/schema.ts';
import { type ProcOptions, type ProcessIdentity, bestMatch, readAllProcessIdentities } from './processes.ts';

const CMDLINE_CHARS = 300;
/** Enough for any desktop; a machine with more distinct programs gets the most used ones. */
export const PROGRAMS_LIMIT = 500;

export function groupPrograms(
  procs: readonly ProcessIdentity[],
  apps: readonly { id: string; source?: string; matchers: AppMatcher }[],
  skip: (pid: number) => boolean = () => false,
): RunningProgram[] {
  const byExe = new Map<string, RunningProgram>();
  for (const p of procs) {
    if (!p.exe || p.pid === 1 || skip(p.pid)) continue;
    const exe = p.exe.replace(/ \(deleted\)$/, '');
    const seen = byExe.get(exe);
    if (seen) {
      seen.processes++;
      continue;
    }
    let app: string | null;
    try {
      // Hand-added apps first, as adoption decides.
      app =
        (
          bestMatch(
            apps.filter((a) => a.source === 'manual'),
            p,
          ) ?? bestMatch(apps, p)
        )?.app.id ?? null;
    } catch {
      app = null; // an invalid pattern was refused when it was added
    }
    byExe.set(exe, {
      exe,
      cmdline: p.cmdline.join(' ').slice(0, CMDLINE_CHARS),
      processes: 1,
      uid: p.uid ?? null,
      app,
    });
  }
  return [...byExe.values()]
    .sort((a, b) => b.processes - a.processes || a.exe.localeCompare(b.exe))
    .slice(0, PROGRAMS_LIMIT)
    .sort((a, b) => a.exe.localeCompare(b.exe));
}

export async function runningPrograms(
  apps: readonly { id: string; source?: string; matchers: AppMatcher }[],
  skip: (pid: number) => boolean,
  opts: ProcOptions = {},
): Promise<RunningProgram[]> {
  return groupPrograms(await readAllProcessIdentities(opts), apps, skip);
}
