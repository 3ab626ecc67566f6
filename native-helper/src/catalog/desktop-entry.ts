// One .desktop file → one application entry, per the XDG Desktop Entry spec. Pure: no file access here.
import path from 'node:path';
import { ExecLineError, parseExecLine } from './exec-line.ts';
import { localizedRaw, parseBooleanValue, parseKeyFile, parseListValue, unescapeValue } from './key-file.ts';

export interface DesktopEntry {
  /** The desktop-file id, e.g. "org.mozilla.firefox.desktop". */
  id: string;
  /** Where the file was read from. */
  path: string;
  /** Name in the preferred locale. */
  name: string;
  /** The raw Icon value: a theme icon name or an absolute path. */
  icon?: string;
  /** The Exec value after undoing string escapes, before quoting and field codes. */
  execLine?: string;
  /** The argv to launch with no files: quoting undone and field codes expanded. */
  exec?: string[];
  tryExec?: string;
  /** NoDisplay=true: not shown in menus, but the app exists and may still be matched. */
  noDisplay: boolean;
  terminal: boolean;
  dbusActivatable: boolean;
  /** X-Flatpak: the Flatpak application id. */
  flatpakId?: string;
  /** X-Flatpak-RenamedFrom: desktop ids this app was known by before. */
  renamedFrom: string[];
  startupWmClass?: string;
}

export type DesktopEntryResult =
  | { kind: 'application'; entry: DesktopEntry }
  /** Hidden=true: the entry counts as deleted, and it still shadows entries of the same id further down the path. */
  | { kind: 'hidden'; id: string }
  | { kind: 'skipped'; id: string; reason: string };

export interface DesktopEntryOptions {
  id: string;
  path: string;
  /** Preferred locales, best first, e.g. ["de_DE.UTF-8"]. */
  locales?: readonly string[];
}

const MAIN_GROUP = 'Desktop Entry';

export function parseDesktopEntry(text: string, opts: DesktopEntryOptions): DesktopEntryResult {
  const { id } = opts;
  const group = parseKeyFile(text).get(MAIN_GROUP);
  if (!group) return { kind: 'skipped', id, reason: `${opts.path} has no [${MAIN_GROUP}] group` };
  const locales = opts.locales ?? [];
  const str = (key: string) => {
    const raw = group.get(key);
    return raw === undefined ? undefined : unescapeValue(raw);
  };
  const localized = (key: string) => {
    const raw = localizedRaw(group, key, locales);
    return raw === undefined ? undefined : unescapeValue(raw);
  };

  if (parseBooleanValue(group.get('Hidden'))) return { kind: 'hidden', id };
  const type = str('Type');
  if (type !== 'Application')
    return { kind: 'skipped', id, reason: `Type is ${type ?? 'missing'}, not Application` };
  const name = localized('Name')?.trim();
  if (!name) return { kind: 'skipped', id, reason: `${opts.path} has no Name` };

  const icon = localized('Icon')?.trim() || undefined;
  const dbusActivatable = parseBooleanValue(group.get('DBusActivatable'));
  const execLine = str('Exec')?.trim() || undefined;
  let exec: string[] | undefined;
  if (execLine) {
    try {
      exec = parseExecLine(execLine, { icon, name, desktopFilePath: opts.path });
    } catch (err) {
      if (err instanceof ExecLineError)
        return { kind: 'skipped', id, reason: `${opts.path}: ${err.message}` };
      throw err;
    }
    if (exec.length === 0)
      return { kind: 'skipped', id, reason: `${opts.path} has an Exec line with no program` };
  } else if (!dbusActivatable) {
    return { kind: 'skipped', id, reason: `${opts.path} has no Exec line and is not D-Bus activatable` };
  }

  const entry: DesktopEntry = {
    id,
    path: opts.path,
    name,
    noDisplay: parseBooleanValue(group.get('NoDisplay')),
    terminal: parseBooleanValue(group.get('Terminal')),
    dbusActivatable,
    renamedFrom: parseListValue(group.get('X-Flatpak-RenamedFrom') ?? ''),
  };
  if (icon) entry.icon = icon;
  if (execLine) entry.execLine = execLine;
  if (exec) entry.exec = exec;
  const tryExec = str('TryExec')?.trim();
  if (tryExec) entry.tryExec = tryExec;
  const flatpakId = str('X-Flatpak')?.trim();
  if (flatpakId) entry.flatpakId = flatpakId;
  const wmClass = str('StartupWMClass')?.trim();
  if (wmClass) entry.startupWmClass = wmClass;
  return { kind: 'application', entry };
}

/** The desktop-file id: the path below the applications directory with '/' turned into '-'. */
export function desktopIdFromPath(applicationsDir: string, filePath: string): string {
  return path.relative(applicationsDir, filePath).split(path.sep).join('-');
}

/** The desktop id named by a path such as GIO_LAUNCHED_DESKTOP_FILE: relative to its applications dir when it has one. */
export function desktopIdFromHintPath(hint: string): string {
  const marker = '/applications/';
  const at = hint.lastIndexOf(marker);
  return at >= 0
    ? hint
        .slice(at + marker.length)
        .split('/')
        .join('-')
    : path.basename(hint);
}
