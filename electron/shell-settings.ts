// The shell's own settings (~/.config/switchyard/shell.json): things that belong to this user's
// desktop, not to the helper's policy, such as which apps are pinned to the tray.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppId } from '#switchyard/api/schema.ts';
import { writeFileAtomic } from '../native-helper/src/storage/atomic-file.ts';

export const ShellSettings = z.object({
  pins: z.array(AppId).max(50).default([]),
});
export type ShellSettings = z.infer<typeof ShellSettings>;

export function configHome(env: NodeJS.ProcessEnv, home: string): string {
  return env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/')
    ? env.XDG_CONFIG_HOME
    : join(home, '.config');
}

export function settingsPath(env: NodeJS.ProcessEnv, home: string): string {
  return join(configHome(env, home), 'switchyard', 'shell.json');
}

/** The settings, or the defaults when the file is missing or unreadable (a broken file is not fatal). */
export async function loadSettings(
  path: string,
  onProblem: (msg: string) => void = () => {},
): Promise<ShellSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return ShellSettings.parse({});
  }
  try {
    const parsed = ShellSettings.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    onProblem(`${path} is not valid shell settings; using defaults until it is saved again`);
  } catch {
    onProblem(`${path} is not JSON; using defaults until it is saved again`);
  }
  return ShellSettings.parse({});
}

export async function saveSettings(path: string, settings: ShellSettings): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(ShellSettings.parse(settings), null, 2)}\n`, 0o600);
}

export function togglePin(settings: ShellSettings, app: string, pinned: boolean): ShellSettings {
  const pins = settings.pins.filter((p) => p !== app);
  return { ...settings, pins: pinned ? [...pins, app] : pins };
}
