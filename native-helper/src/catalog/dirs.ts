// Where desktop files live: the XDG data dirs (user first), Flatpak's exports, and the homes of the
// desktop users the helper serves (it runs as root, so its own $HOME is not theirs).
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { desktopIdFromPath } from './desktop-entry.ts';

export interface SearchPathOptions {
  /** Environment to read XDG_DATA_HOME, XDG_DATA_DIRS and HOME from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Homes of desktop users to scan too (the connected user's first); they outrank the helper's own home. */
  userHomes?: readonly string[];
  /** More data dirs (each holding applications/ and icons/), searched after the user dirs. */
  extraDataDirs?: readonly string[];
  /** Scan the helper's own XDG_DATA_HOME; default true. */
  includeOwnDataHome?: boolean;
  /** The system Flatpak installation's exports; default /var/lib/flatpak/exports/share. */
  flatpakSystemExports?: string;
}

export interface DataDir {
  path: string;
  /** Under a Flatpak exports tree: its entries come from Flatpak. */
  flatpak: boolean;
}

export const SYSTEM_FLATPAK_EXPORTS = '/var/lib/flatpak/exports/share';
const USER_FLATPAK_EXPORTS = '.local/share/flatpak/exports/share';

/**
 * The data dirs, most important first; an earlier dir shadows later ones. Flatpak's exports go where
 * Flatpak's own profile script puts them: after the user's data home, before the system dirs.
 */
export function dataDirs(opts: SearchPathOptions = {}): DataDir[] {
  const env = opts.env ?? process.env;
  const ownHome = env.HOME || os.homedir();
  const userDirs: string[] = [];
  const flatpakDirs: string[] = [];
  for (const home of opts.userHomes ?? []) {
    userDirs.push(path.join(home, '.local/share'));
    flatpakDirs.push(path.join(home, USER_FLATPAK_EXPORTS));
  }
  if (opts.includeOwnDataHome ?? true) {
    userDirs.push(absoluteOr(env.XDG_DATA_HOME, path.join(ownHome, '.local/share')));
    flatpakDirs.push(path.join(ownHome, USER_FLATPAK_EXPORTS));
  }
  flatpakDirs.push(opts.flatpakSystemExports ?? SYSTEM_FLATPAK_EXPORTS);
  const systemDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share')
    .split(':')
    .filter((d) => path.isAbsolute(d)); // the spec says relative entries are invalid and ignored

  const flatpakSet = new Set(flatpakDirs.map((d) => path.resolve(d)));
  const ordered = [...userDirs, ...(opts.extraDataDirs ?? []), ...flatpakDirs, ...systemDirs];
  const seen = new Set<string>();
  const out: DataDir[] = [];
  for (const dir of ordered) {
    const normal = path.resolve(dir);
    if (seen.has(normal)) continue;
    seen.add(normal);
    out.push({ path: normal, flatpak: flatpakSet.has(normal) || normal.endsWith('/flatpak/exports/share') });
  }
  return out;
}

function absoluteOr(value: string | undefined, fallback: string): string {
  return value && path.isAbsolute(value) ? value : fallback;
}

export interface DesktopFileRef {
  id: string;
  path: string;
  dataDir: DataDir;
}

const MAX_DEPTH = 6; // applications/ subfolders are shallow; this also stops symlink loops

/** Every desktop file by id; the first data dir holding an id wins. Sorted by id. */
export async function findDesktopFiles(dirs: readonly DataDir[]): Promise<DesktopFileRef[]> {
  const byId = new Map<string, DesktopFileRef>();
  for (const dataDir of dirs) {
    const appsDir = path.join(dataDir.path, 'applications');
    for (const file of await listDesktopFiles(appsDir, 0)) {
      const id = desktopIdFromPath(appsDir, file);
      if (!byId.has(id)) byId.set(id, { id, path: file, dataDir });
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function listDesktopFiles(dir: string, depth: number): Promise<string[]> {
  if (depth > MAX_DEPTH) return [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // a missing or unreadable dir is simply not part of this machine's path
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    const full = path.join(dir, name);
    // stat, not lstat: Flatpak exports are symlinks into the app's deploy dir.
    const info = await stat(full).catch(() => null);
    if (!info) continue;
    if (info.isDirectory()) out.push(...(await listDesktopFiles(full, depth + 1)));
    else if (info.isFile() && name.endsWith('.desktop')) out.push(full);
  }
  return out;
}
