// XDG desktop entries and SVG icons for the sample apps, so a helper started with
// XDG_DATA_DIRS=<dataDir> lists them with names and icons.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labArgv } from './processes.ts';
import type { AppSpec } from './topology.ts';

/** The command line that starts a sample app; its script path makes it recognisable among node processes. */
export function appArgv(app: AppSpec, extraArgs: string[] = []): string[] {
  return labArgv(['{node}', `apps/${app.name}.ts`, ...extraArgs]);
}

// Desktop Entry spec: arguments with reserved characters are double-quoted, with \ " ` $ escaped.
function execQuote(arg: string): string {
  if (!/[\s"'\\`$<>~|&;*?#()]/.test(arg)) return arg;
  return `"${arg.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

export function desktopEntry(app: AppSpec): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${app.title}`,
    `Comment=${app.comment}`,
    `Exec=${appArgv(app).map(execQuote).join(' ').replace(/%/g, '%%')}`,
    `Icon=${app.name}`,
    'Terminal=false',
    'Categories=Network;',
    '',
  ].join('\n');
}

export function appIcon(app: AppSpec): string {
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">',
    `  <rect x="4" y="4" width="56" height="56" rx="12" fill="${app.iconColor}"/>`,
    `  <text x="32" y="43" font-family="sans-serif" font-size="30" font-weight="bold" fill="#fff" text-anchor="middle">${app.iconGlyph}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** Write share/applications/<app>.desktop and share/icons/hicolor/scalable/apps/<app>.svg. */
export async function writeDesktopEntries(dataDir: string, apps: AppSpec[]): Promise<void> {
  const applications = join(dataDir, 'applications');
  const icons = join(dataDir, 'icons', 'hicolor', 'scalable', 'apps');
  await mkdir(applications, { recursive: true });
  await mkdir(icons, { recursive: true });
  for (const app of apps) {
    await writeFile(join(applications, `${app.name}.desktop`), desktopEntry(app));
    await writeFile(join(icons, `${app.name}.svg`), appIcon(app));
  }
}
