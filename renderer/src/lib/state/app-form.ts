// The Add app form: an app is found by its executable, its desktop file or the command line of a
// running process. Checked here in the form's words before apps.add is called.
import { AppId } from '#switchyard/api/model.ts';
import type { App, ParamsIn } from '#switchyard/api/schema.ts';

export const APP_SOURCES = [
  { value: 'exe', label: 'Executable', hint: 'Its processes are the ones started from this file.' },
  {
    value: 'cmdline',
    label: 'Running process',
    hint: 'Any process whose command line matches this pattern (a regular expression), e.g. a script.',
  },
  { value: 'desktop', label: 'Desktop file', hint: 'The app a launcher entry starts.' },
] as const;
export type AppSourceKind = (typeof APP_SOURCES)[number]['value'];

export interface AppDraft {
  kind: AppSourceKind;
  name: string;
  /** The executable path, the command-line pattern or the desktop file, by kind. */
  what: string;
}

export type AppField = 'name' | 'what';

export const WHAT_LABEL: Record<AppSourceKind, string> = {
  exe: 'Executable path',
  cmdline: 'Command line pattern',
  desktop: 'Desktop file name or path',
};

/** apps.add's parameter paths → the field the user filled in. */
export function appLabels(kind: AppSourceKind): Record<string, string> {
  return { name: 'Name', id: 'Name', matchers: WHAT_LABEL[kind] };
}

/** "firefox" from a search, "/opt/x/bin/tool" or "org.foo.Bar.desktop": a draft that fits it. */
export function draftFrom(text: string): AppDraft {
  const t = text.trim();
  if (t.startsWith('/')) return { kind: 'exe', name: basename(t), what: t };
  if (t.endsWith('.desktop'))
    return { kind: 'desktop', name: basename(t).replace(/\.desktop$/, ''), what: t };
  return { kind: 'exe', name: t, what: '' };
}

function basename(p: string): string {
  return p.replace(/\/+$/, '').split('/').pop() ?? p;
}

/** An id the helper accepts, made from the name: "My Tool 2" → "my-tool-2". */
export function idFor(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+|-+$/g, '')
      .slice(0, 64) || 'app'
  );
}

export function checkApp(
  d: AppDraft,
  apps: readonly App[],
): { params: ParamsIn<'apps.add'> } | { errors: Partial<Record<AppField, string>> } {
  const errors: Partial<Record<AppField, string>> = {};
  const name = d.name.trim();
  const what = d.what.trim();
  const id = idFor(name);
  if (!name) errors.name = 'the name you will know it by, e.g. Backup tool';
  else if (apps.some((a) => a.id === id || a.name.toLowerCase() === name.toLowerCase()))
    errors.name = `there is already an app called ${name}`;
  else if (!AppId.safeParse(id).success) errors.name = 'use letters and digits';
  if (d.kind === 'exe') {
    if (!what) errors.what = 'the full path of the program, e.g. /usr/bin/curl';
    else if (!what.startsWith('/')) errors.what = 'a full path, starting with /';
  } else if (d.kind === 'cmdline') {
    if (!what) errors.what = 'text from its command line, e.g. backup\\.py';
    else
      try {
        new RegExp(what);
      } catch {
        errors.what = 'not a valid pattern; put a \\ before special characters such as ( or +';
      }
  } else if (!what) errors.what = 'the desktop file, e.g. org.gnome.Maps.desktop';
  else if (!/\.desktop$/.test(what)) errors.what = 'a desktop file name ends in .desktop';
  if (Object.keys(errors).length) return { errors };
  const matchers =
    d.kind === 'exe'
      ? { exe: [what] }
      : d.kind === 'cmdline'
        ? { cmdline: what }
        : { desktopId: basename(what) };
  return { params: { id, name, matchers } };
}

/** Only apps the user added by hand can be removed; the catalog's come back on the next scan. */
export const removable = (a: App): boolean => a.source === 'manual' && !a.managed;

/** A regular expression that matches this text literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The form for a picked running program: the script it runs (an interpreter's first argument ending
 * in .py, .sh …), else the program as started, as a literal pattern; and a name from it.
 */
export function draftFromProgram(p: { exe: string; cmdline: string }): AppDraft {
  const words = p.cmdline.split(' ').filter(Boolean);
  const script = words.slice(1).find((w) => !w.startsWith('-'));
  const key = script && /\.(py|pl|rb|js|sh|jar)$/.test(script) ? script : (words[0] ?? p.exe);
  const name = basename(key).replace(/\.(py|pl|rb|js|sh|jar)$/, '');
  return { kind: 'cmdline', name: name.charAt(0).toUpperCase() + name.slice(1), what: escapeRegex(key) };
}
