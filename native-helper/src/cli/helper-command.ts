// `switchyard helper`: the privileged daemon in the foreground (systemd runs exactly this).
import { type Parsed, UsageError, list, str } from './args.ts';

function instanceOf(p: Parsed, what: string): string {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} needs root (cgroups, eBPF, policy routing); run it with sudo`);
  }
  const instance = str(p, 'instance') ?? 'default';
  if (!/^[a-z0-9][a-z0-9_-]{0,23}$/.test(instance)) {
    throw new UsageError('--instance: 1 to 24 lowercase letters, digits, dash or underscore');
  }
  return instance;
}

/** `switchyard reset`: remove a stopped instance's kernel state (see daemon/reset.ts). */
export async function resetCommand(p: Parsed): Promise<number> {
  const instance = instanceOf(p, 'reset');
  const { resetInstance } = await import('../daemon/reset.ts');
  const done = await resetInstance({
    instance,
    socketPath: p.socket,
    stateDir: str(p, 'state-dir') ?? `/var/lib/switchyard/${instance}`,
    cgroupParent: str(p, 'cgroup-parent') ?? '',
  });
  if (p.json) console.log(JSON.stringify({ instance, removed: done }));
  else if (done.length === 0)
    console.log(`nothing to remove: instance ${instance} left no kernel state here`);
  else for (const line of done) console.log(`removed ${line}`);
  return 0;
}

export async function helperCommand(p: Parsed): Promise<number> {
  const instance = instanceOf(p, 'the helper');
  const modeText = str(p, 'socket-mode') ?? '660';
  if (!/^[0-7]{3}$/.test(modeText)) throw new UsageError('--socket-mode takes octal permissions such as 660');
  const { runHelper } = await import('../daemon/run-helper.ts');
  return runHelper({
    instance,
    socketPath: p.socket,
    stateDir: str(p, 'state-dir') ?? `/var/lib/switchyard/${instance}`,
    managedPolicyPath: str(p, 'managed-policy') ?? '/etc/switchyard/managed.json',
    socketGroup: str(p, 'socket-group') ?? 'switchyard',
    socketMode: parseInt(modeText, 8),
    dataDirs: list(p, 'data-dir'),
    cgroupParent: str(p, 'cgroup-parent') ?? '',
    ...(list(p, 'watch-dir').length ? { watchDirs: list(p, 'watch-dir') } : {}),
  });
}
