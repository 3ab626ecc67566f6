// The app catalog: desktop entries (system, users', Flatpak's) and running processes → apps with
// stable ids, names, inline icons and the matchers that recognise their processes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppMatcher, describeZodError, type AppId } from '../api/schema.ts';
import { parseDesktopEntry, type DesktopEntry } from './desktop-entry.ts';
import { dataDirs, findDesktopFiles, type DesktopFileRef, type SearchPathOptions } from './dirs.ts';
import { DEFAULT_PATH, execTarget, findProgram } from './exec-target.ts';
import { createIconResolver } from './icons.ts';
import {
  appIdFromDesktopId,
  assignAppIds,
  cmdlinePatternFor,
  interpreterFamily,
  isSystemProcess,
  scriptArgument,
  slugify,
} from './identity-rules.ts';
import { localesFromEnv } from './key-file.ts';
import { liveExePath, matchProcess, type ProcessIdentity } from './processes.ts';

export interface CatalogEntry {
  id: AppId;
  name: string;
  /** A data: URL, or null when the icon is missing, too large or not PNG/SVG. */
  icon: string | null;
  source: 'desktop' | 'flatpak' | 'process';
  matchers: AppMatcher;
  /** The argv to launch, field codes removed; empty for D-Bus-only apps. */
  exec: string[];
  /** NoDisplay=true: hidden from menus, still an app that can be matched. */
  noDisplay: boolean;
  /** Terminal=true: launch it inside a terminal emulator. */
  terminal: boolean;
  /** The desktop file this entry came from. */
  desktopFile?: string;
  /** Desktop ids this app had before a rename (X-Flatpak-RenamedFrom). */
  renamedFrom?: string[];
  startupWmClass?: string;
}

export interface BuildCatalogOptions extends SearchPathOptions {
  /** Preferred locales for names, best first; default from LANGUAGE/LC_ALL/LC_MESSAGES/LANG. */
  locales?: readonly string[];
  /** The user's icon theme, when known. */
  iconTheme?: string;
  iconSize?: number;
  maxIconBytes?: number;
  /** PATH for finding Exec and TryExec programs; default $PATH, then the users' ~/.local/bin and ~/bin. */
  searchPath?: readonly string[];
  /** Told about each desktop file left out and why (unreadable, invalid, TryExec missing…). */
  onSkip?: (file: string, reason: string) => void;
}

const MAX_EXE_MATCHERS = 32; // the schema's limit
const MAX_CMDLINE_LENGTH = 512;

/** Scan the desktop files on the search path and return one entry per visible application, sorted by id. */
export async function buildCatalog(opts: BuildCatalogOptions = {}): Promise<CatalogEntry[]> {
  const env = opts.env ?? process.env;
  const dirs = dataDirs(opts);
  const locales = opts.locales ?? localesFromEnv(env);
  const searchPath = opts.searchPath ?? [
    ...(env.PATH || DEFAULT_PATH).split(':'),
    ...(opts.userHomes ?? []).flatMap((h) => [path.join(h, '.local/bin'), path.join(h, 'bin')]),
  ];
  const resolveIcon = createIconResolver({
    dataDirs: dirs.map((d) => d.path),
    homes: opts.userHomes ?? [],
    ...(opts.iconTheme ? { theme: opts.iconTheme } : {}),
    ...(opts.iconSize ? { size: opts.iconSize } : {}),
    ...(opts.maxIconBytes ? { maxBytes: opts.maxIconBytes } : {}),
  });
  const skip = opts.onSkip ?? (() => {});

  const drafts: Omit<CatalogEntry, 'id'>[] = [];
  const desktopIds: string[] = [];
  for (const ref of await findDesktopFiles(dirs)) {
    const entry = await readEntry(ref, locales, skip);
    if (!entry) continue;
    if (entry.tryExec && !(await findProgram(entry.tryExec, searchPath))) {
      skip(ref.path, `TryExec program ${entry.tryExec} is not installed`);
      continue;
    }
    const draft = await draftFromEntry(entry, ref, searchPath, resolveIcon);
    if (typeof draft === 'string') {
      skip(ref.path, draft);
      continue;
    }
    drafts.push(draft);
    desktopIds.push(entry.id);
  }

  const ids = assignAppIds(
    desktopIds.map((key) => {
      const slug = appIdFromDesktopId(key);
      return { key, slug, exact: key.replace(/\.desktop$/, '') === slug };
    }),
  );
  return drafts
    .map((draft, i) => ({ id: ids.get(desktopIds[i]!)!, ...draft }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function readEntry(
  ref: DesktopFileRef,
  locales: readonly string[],
  skip: (file: string, reason: string) => void,
): Promise<DesktopEntry | null> {
  let text: string;
  try {
    text = await readFile(ref.path, 'utf8');
  } catch (err) {
    skip(ref.path, `cannot be read: ${(err as Error).message}`);
    return null;
  }
  const result = parseDesktopEntry(text, { id: ref.id, path: ref.path, locales });
  if (result.kind === 'application') return result.entry;
  // A Hidden entry is a deletion: it has already shadowed its id further down the path.
  skip(ref.path, result.kind === 'hidden' ? 'Hidden=true' : result.reason);
  return null;
}

async function draftFromEntry(
  entry: DesktopEntry,
  ref: DesktopFileRef,
  searchPath: readonly string[],
  resolveIcon: (icon: string) => Promise<string | null>,
): Promise<Omit<CatalogEntry, 'id'> | string> {
  const target = entry.exec ? await execTarget(entry.exec, searchPath) : { exe: [], cmdline: [] };
  const flatpakId =
    entry.flatpakId ??
    target.flatpakId ??
    (ref.dataDir.flatpak ? flatpakIdFromDesktopId(entry.id) : undefined);
  const matchers: AppMatcher = { desktopId: entry.id };
  if (flatpakId) matchers.flatpakId = flatpakId;
  // A Flatpak's host-side program is the `flatpak` launcher; inside the sandbox the Flatpak id says it all.
  else {
    if (target.exe.length) matchers.exe = target.exe.slice(0, MAX_EXE_MATCHERS);
    const cmdline = combinePatterns(target.cmdline);
    if (cmdline) matchers.cmdline = cmdline;
  }
  const valid = AppMatcher.safeParse(matchers);
  if (!valid.success) return `its matchers are invalid: ${describeZodError(valid.error)}`;
  const draft: Omit<CatalogEntry, 'id'> = {
    name: entry.name,
    icon: entry.icon ? await resolveIcon(entry.icon) : null,
    source: flatpakId ? 'flatpak' : 'desktop',
    matchers: valid.data,
    exec: entry.exec ?? [],
    noDisplay: entry.noDisplay,
    terminal: entry.terminal,
    desktopFile: entry.path,
  };
  if (entry.renamedFrom.length) draft.renamedFrom = entry.renamedFrom;
  if (entry.startupWmClass) draft.startupWmClass = entry.startupWmClass;
  return draft;
}

function flatpakIdFromDesktopId(desktopId: string): string | undefined {
  const stem = desktopId.replace(/\.desktop$/, '');
  return /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*){2,}$/.test(stem) ? stem : undefined;
}

function combinePatterns(patterns: readonly string[]): string | undefined {
  if (patterns.length === 0) return undefined;
  const combined = patterns.length === 1 ? patterns[0]! : patterns.map((p) => `(?:${p})`).join('|');
  if (combined.length <= MAX_CMDLINE_LENGTH) return combined;
  return patterns[0]!.length <= MAX_CMDLINE_LENGTH ? patterns[0] : undefined;
}

/**
 * Propose apps for running processes no known entry covers: one per executable (so a browser's many
 * processes are one app), one per script for interpreters, one per Flatpak. System daemons, shells
 * and kernel threads are left out, and so are processes known to hold no internet socket.
 * Sorted by id; ids never collide with the known entries'.
 */
export function catalogFromProcesses(
  procs: readonly ProcessIdentity[],
  knownEntries: readonly { id: string; matchers: AppMatcher }[],
): CatalogEntry[] {
  const proposals = new Map<string, Omit<CatalogEntry, 'id'> & { slugSource: string; exactKey: boolean }>();
  const covered = (p: ProcessIdentity) =>
    knownEntries.some((e) => safeMatch(e.matchers, p)) ||
    [...proposals.values()].some((e) => safeMatch(e.matchers, p));

  for (const proc of [...procs].sort((a, b) => a.pid - b.pid)) {
    // Without a socket there is nothing to route (when the scan looked: readAllProcessIdentities({ sockets: true })).
    if (!proc.exe || proc.cmdline.length === 0 || proc.inetSockets === false || covered(proc)) continue;
    const proposal = proposalFor(proc);
    if (!proposal || proposals.has(proposal.key) || !AppMatcher.safeParse(proposal.entry.matchers).success)
      continue;
    proposals.set(proposal.key, proposal.entry);
  }

  const ids = assignAppIds(
    [...proposals].map(([key, p]) => ({ key, slug: slugify(p.slugSource), exact: p.exactKey })),
    new Set(knownEntries.map((e) => e.id)),
  );
  return [...proposals]
    .map(([key, { slugSource: _s, exactKey: _e, ...entry }]) => ({ id: ids.get(key)!, ...entry }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function proposalFor(
  proc: ProcessIdentity,
): { key: string; entry: Omit<CatalogEntry, 'id'> & { slugSource: string; exactKey: boolean } } | null {
  const base = { icon: null, source: 'process' as const, noDisplay: false, terminal: false };
  if (proc.flatpakId) {
    const name = proc.flatpakId.split('.').at(-1) ?? proc.flatpakId;
    return {
      key: `flatpak:${proc.flatpakId}`,
      entry: {
        ...base,
        name,
        matchers: { flatpakId: proc.flatpakId },
        exec: ['flatpak', 'run', proc.flatpakId],
        slugSource: proc.flatpakId,
        exactKey: true,
      },
    };
  }
  const exe = liveExePath(proc.exe!);
  if (isSystemProcess({ exe, uid: proc.uid })) return null;
  const family = interpreterFamily(exe);
  if (!family) {
    const name = path.basename(exe);
    return {
      key: `exe:${exe}`,
      entry: {
        ...base,
        name,
        matchers: { exe: [exe] },
        exec: [exe],
        slugSource: name,
        exactKey: slugify(name) === name,
      },
    };
  }
  if (family.shell) return null; // shells and their scripts are too generic to propose
  const args = proc.cmdline.slice(1);
  const run = scriptArgument(family, args);
  if ((run.kind !== 'script' && run.kind !== 'module') || run.value.trim() === '') return null;
  const pattern = cmdlinePatternFor(family, run, [run.value]);
  if (!pattern || pattern.length > MAX_CMDLINE_LENGTH) return null;
  const name = run.kind === 'module' ? run.value : path.basename(run.value);
  const end = proc.cmdline.indexOf(run.value);
  return {
    key: `cmdline:${pattern}`,
    entry: {
      ...base,
      name,
      matchers: { cmdline: pattern },
      exec: end >= 0 ? proc.cmdline.slice(0, end + 1) : proc.cmdline.slice(),
      slugSource: name,
      exactKey: false,
    },
  };
}

function safeMatch(matchers: AppMatcher, proc: ProcessIdentity): boolean {
  try {
    return matchProcess(matchers, proc) !== null;
  } catch {
    return false; // an entry with a broken regex covers nothing; the API reports it where it is set
  }
}
