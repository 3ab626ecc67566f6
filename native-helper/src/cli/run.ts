// `switchyard run --app APP -- CMD…`: join the app's cgroup first, then start the command, so its
// very first socket is already tagged. Under sudo, the command runs as the calling user again.
import { existsSync } from 'node:fs';
import { supervisor } from '../mechanism/supervisor.ts';
import { type Parsed, UsageError, required } from './args.ts';
import { resolveApp } from './app-names.ts';
import { withClient } from './connect.ts';

export async function runCommand(p: Parsed): Promise<number> {
  const app = required(p, 'app', 'the app whose egress the command should use');
  if (p.passthrough.length === 0)
    throw new UsageError('run: give the command after --, e.g. `switchyard run --app firefox -- firefox`');
  // The helper moves this very process into the app's cgroup; children inherit it from here on.
  await withClient(p, async (c) => c.call('apps.enroll', { id: await resolveApp(c, app), pid: process.pid }));
  const argv = dropPrivileges(p.passthrough);
  const child = supervisor.start(argv, { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.signal(sig));
  await child.spawned;
  const { code, signal } = await child.exited;
  return code ?? (signal ? 128 + signalNumber(signal) : 1);
}

/** Under sudo, run the command as the user who called sudo, with their own groups. */
function dropPrivileges(argv: string[]): string[] {
  const uid = process.env.SUDO_UID;
  const gid = process.env.SUDO_GID;
  if (process.getuid?.() !== 0 || !uid || !gid || uid === '0') return argv;
  if (!existsSync('/usr/bin/setpriv'))
    throw new Error('run: cannot drop privileges: setpriv (util-linux) is missing');
  return ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv];
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal] ?? 0;
}
