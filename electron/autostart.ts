// Start at login via XDG autostart: ~/.config/autostart/switchyard.desktop, written and removed
// atomically so a session starting at the same moment never reads half a file.
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../native-helper/src/storage/atomic-file.ts';
import { configHome } from './shell-settings.ts';

export function autostartPath(env: NodeJS.ProcessEnv, home: string): string {
  return join(configHome(env, home), 'autostart', 'switchyard.desktop');
}

/** Quote one argument for a desktop entry Exec line (Desktop Entry spec, "Exec key"). */
export function quoteExecArg(arg: string): string {
  if (/^[A-Za-z0-9_/.:=+,@-]+$/.test(arg)) return arg;
  return `"${arg.replace(/[\\"`$]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

export function autostartEntry(execArgv: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Switchyard',
    'Comment=Choose which network each app uses',
    `Exec=${execArgv.map(quoteExecArg).join(' ')}`,
    'Icon=switchyard',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    'X-GNOME-Autostart-Delay=3',
    '',
  ].join('\n');
}

export async function isAutostartEnabled(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Enable (write the entry starting the app hidden in the tray) or disable (remove it). */
export async function setAutostart(
  path: string,
  enabled: boolean,
  execArgv: readonly string[],
): Promise<void> {
  if (enabled) await writeFileAtomic(path, autostartEntry([...execArgv, '--hidden']), 0o644);
  else await rm(path, { force: true });
}
