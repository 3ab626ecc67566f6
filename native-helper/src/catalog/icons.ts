// Icon= value → a data: URL, by the freedesktop icon theme lookup. The sandboxed renderer cannot read
// files, so the icon travels inline; only PNG and SVG (browsers draw them) up to a size limit.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseKeyFile, unescapeValue } from './key-file.ts';

export interface IconOptions {
  /** Data dirs, most important first; icons are looked up in each dir's icons/ and pixmaps/. */
  dataDirs: readonly string[];
  /** Homes whose legacy ~/.icons dir comes first, as the spec says. */
  homes?: readonly string[];
  /** The user's icon theme, when known; hicolor is always searched after it. */
  theme?: string;
  /** The size the UI draws at; default 48. */
  size?: number;
  /** Larger files are skipped; default 64 KiB. */
  maxBytes?: number;
}

export type IconResolver = (icon: string) => Promise<string | null>;

interface ThemeDir {
  /** Relative to the theme's folder, e.g. "48x48/apps". */
  name: string;
  size: number;
  scale: number;
  type: 'Fixed' | 'Scalable' | 'Threshold';
  minSize: number;
  maxSize: number;
  threshold: number;
}

interface Theme {
  name: string;
  dirs: ThemeDir[];
  inherits: string[];
}

const LOOKUP_EXTENSIONS = ['png', 'svg', 'xpm'] as const;
const FALLBACK_THEME = 'hicolor';
export const DEFAULT_ICON_SIZE = 48;
export const DEFAULT_MAX_ICON_BYTES = 64 * 1024;

/** A resolver that caches theme indexes and directory listings across lookups (one per catalog build). */
export function createIconResolver(opts: IconOptions): IconResolver {
  const size = opts.size ?? DEFAULT_ICON_SIZE;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_ICON_BYTES;
  const baseDirs = [
    ...(opts.homes ?? []).map((h) => path.join(h, '.icons')),
    ...opts.dataDirs.map((d) => path.join(d, 'icons')),
  ];
  const pixmapDirs = opts.dataDirs.map((d) => path.join(d, 'pixmaps'));
  const listings = new Map<string, Promise<Set<string>>>();
  const themes = new Map<string, Promise<Theme | null>>();

  const list = (dir: string) => {
    let p = listings.get(dir);
    if (!p) {
      p = readdir(dir).then(
        (names) => new Set(names),
        () => new Set<string>(),
      );
      listings.set(dir, p);
    }
    return p;
  };
  const theme = (name: string) => {
    let p = themes.get(name);
    if (!p) {
      p = loadTheme(name, baseDirs, list);
      themes.set(name, p);
    }
    return p;
  };

  let folders: Promise<IconFolder[][]> | null = null;
  const chainFolders = () =>
    (folders ??= themeChain(opts.theme, theme).then((chain) =>
      Promise.all(chain.map((t) => themeFolders(t, size, baseDirs, list))),
    ));

  return async (icon: string) => {
    const value = icon.trim();
    if (value === '') return null;
    if (path.isAbsolute(value)) return readIconAsDataUrl(value, maxBytes);
    if (value.includes('/')) return null; // neither a name nor an absolute path
    const name = value.replace(/\.(png|svg|xpm)$/i, '');
    for (const file of themedCandidates(name, await chainFolders())) {
      const url = await readIconAsDataUrl(file, maxBytes);
      if (url) return url;
    }
    for (const dir of pixmapDirs) {
      const names = await list(dir);
      for (const ext of LOOKUP_EXTENSIONS) {
        if (!names.has(`${name}.${ext}`)) continue;
        const url = await readIconAsDataUrl(path.join(dir, `${name}.${ext}`), maxBytes);
        if (url) return url;
      }
    }
    return null;
  };
}

/** One lookup without reusing caches; prefer createIconResolver for many icons. */
export function resolveIcon(icon: string, opts: IconOptions): Promise<string | null> {
  return createIconResolver(opts)(icon);
}

async function themeChain(
  userTheme: string | undefined,
  load: (name: string) => Promise<Theme | null>,
): Promise<Theme[]> {
  const chain: Theme[] = [];
  const seen = new Set<string>();
  const visit = async (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const theme = await load(name);
    if (!theme) return;
    chain.push(theme);
    for (const parent of theme.inherits) if (parent !== FALLBACK_THEME) await visit(parent);
  };
  if (userTheme) await visit(userTheme);
  await visit(FALLBACK_THEME);
  return chain;
}

/** A theme folder that exists, with its file names. */
interface IconFolder {
  path: string;
  names: Set<string>;
}

/**
 * A theme's existing folders in lookup order (directories matching the size exactly, then the closest
 * ones), listed once per resolver: each icon is then a scan of a few sets, not hundreds of readdirs.
 */
async function themeFolders(
  theme: Theme,
  size: number,
  baseDirs: readonly string[],
  list: (dir: string) => Promise<Set<string>>,
): Promise<IconFolder[]> {
  const dirs = theme.dirs
    .map((dir, order) => ({ dir, order, distance: sizeDistance(dir, size) }))
    .sort((a, b) => a.dir.scale - b.dir.scale || a.distance - b.distance || a.order - b.order);
  const out: IconFolder[] = [];
  for (const { dir } of dirs) {
    for (const base of baseDirs) {
      const names = await listUnder(base, path.join(theme.name, dir.name), list);
      if (names.size) out.push({ path: path.join(base, theme.name, dir.name), names });
    }
  }
  return out;
}

/** Icon files in lookup order over the theme chain's folders. */
function themedCandidates(name: string, folders: readonly IconFolder[][]): string[] {
  const out: string[] = [];
  for (const theme of folders)
    for (const folder of theme)
      for (const ext of LOOKUP_EXTENSIONS)
        if (folder.names.has(`${name}.${ext}`)) out.push(path.join(folder.path, `${name}.${ext}`));
  return out;
}

/**
 * The listing of base/rel, reached through its parents' (cached) listings: a theme names hundreds of
 * size folders and most base dirs hold few of them, so this skips a failing readdir for each missing one.
 */
async function listUnder(
  base: string,
  rel: string,
  list: (dir: string) => Promise<Set<string>>,
): Promise<Set<string>> {
  let dir = base;
  for (const part of rel.split('/').filter(Boolean)) {
    if (!(await list(dir)).has(part)) return new Set();
    dir = path.join(dir, part);
  }
  return list(dir);
}

/** The spec's DirectorySizeDistance (at scale 1); 0 means the directory matches the size. */
function sizeDistance(dir: ThemeDir, size: number): number {
  if (dir.type === 'Fixed') return Math.abs(dir.size - size);
  if (dir.type === 'Scalable')
    return size < dir.minSize ? dir.minSize - size : size > dir.maxSize ? size - dir.maxSize : 0;
  const low = dir.size - dir.threshold;
  const high = dir.size + dir.threshold;
  return size < low ? low - size : size > high ? size - high : 0;
}

async function loadTheme(
  name: string,
  baseDirs: readonly string[],
  list: (dir: string) => Promise<Set<string>>,
): Promise<Theme | null> {
  // The first index.theme found describes the theme; its directories are then searched in every base dir.
  for (const base of baseDirs) {
    const text = await readFile(path.join(base, name, 'index.theme'), 'utf8').catch(() => null);
    if (text === null) continue;
    const keyFile = parseKeyFile(text);
    const main = keyFile.get('Icon Theme');
    if (!main) continue;
    const dirNames = [...commaList(main.get('Directories')), ...commaList(main.get('ScaledDirectories'))];
    const dirs: ThemeDir[] = [];
    for (const dirName of dirNames) {
      const group = keyFile.get(dirName);
      const dirSize = Number(group?.get('Size'));
      if (!group || !Number.isFinite(dirSize) || dirSize <= 0) continue;
      const type = group.get('Type');
      dirs.push({
        name: dirName,
        size: dirSize,
        scale: Number(group.get('Scale') ?? 1) || 1,
        type: type === 'Fixed' || type === 'Scalable' ? type : 'Threshold',
        minSize: Number(group.get('MinSize') ?? dirSize) || dirSize,
        maxSize: Number(group.get('MaxSize') ?? dirSize) || dirSize,
        threshold: Number(group.get('Threshold') ?? 2) || 2,
      });
    }
    // Other base dirs (Flatpak exports) may hold sizes this index does not list; take those too.
    const listed = new Set(dirs.map((d) => d.name));
    const extra =
      (await conventionalTheme(name, baseDirs, list))?.dirs.filter((d) => !listed.has(d.name)) ?? [];
    return { name, dirs: [...dirs, ...extra], inherits: commaList(main.get('Inherits')) };
  }
  return conventionalTheme(name, baseDirs, list);
}

/** index.theme lists (Directories, Inherits) are comma-separated. */
function commaList(raw: string | undefined): string[] {
  return (raw ? unescapeValue(raw).split(',') : []).map((s) => s.trim()).filter((s) => s !== '');
}

/** Theme dirs read from folder names ("48x48/apps", "scalable/apps"): for trees without index.theme, like Flatpak's exports. */
async function conventionalTheme(
  name: string,
  baseDirs: readonly string[],
  list: (dir: string) => Promise<Set<string>>,
): Promise<Theme | null> {
  const dirs = new Map<string, ThemeDir>();
  for (const base of baseDirs) {
    for (const sizeDir of await list(path.join(base, name))) {
      const fixed = /^(\d+)x\1(?:@(\d+))?$/.exec(sizeDir);
      if (!fixed && sizeDir !== 'scalable') continue;
      const dirSize = fixed ? Number(fixed[1]) : 128;
      const scale = fixed?.[2] ? Number(fixed[2]) : 1;
      for (const context of await list(path.join(base, name, sizeDir))) {
        const dirName = `${sizeDir}/${context}`;
        if (dirs.has(dirName)) continue;
        dirs.set(dirName, {
          name: dirName,
          size: dirSize,
          scale,
          type: fixed ? 'Fixed' : 'Scalable',
          minSize: fixed ? dirSize : 1,
          maxSize: fixed ? dirSize : 512,
          threshold: 2,
        });
      }
    }
  }
  return dirs.size ? { name, dirs: [...dirs.values()], inherits: [] } : null;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG or SVG file as a data: URL; null when missing, too large, or another format (XPM cannot be drawn). */
export async function readIconAsDataUrl(
  file: string,
  maxBytes: number = DEFAULT_MAX_ICON_BYTES,
): Promise<string | null> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile() || info.size === 0 || info.size > maxBytes) return null;
  const data = await readFile(file).catch(() => null);
  if (!data) return null;
  if (data.subarray(0, 8).equals(PNG_MAGIC)) return `data:image/png;base64,${data.toString('base64')}`;
  if (/<svg[\s>]/.test(data.subarray(0, 16 * 1024).toString('utf8')))
    return `data:image/svg+xml;base64,${data.toString('base64')}`;
  return null;
}
