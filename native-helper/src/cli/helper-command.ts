// `switchyard helper`: the privileged daemon in the foreground (systemd runs exactly this).
import { type Parsed, UsageError, list, str } from './args.ts';

export async function helperCommand(p: Parsed): Promise<number> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the helper needs root (cgroups, eBPF, policy routing); run it with sudo or as the systemd service',
    );
  }
  const instance = str(p, 'instance') ?? 'default';
  if (!/^[a-z0-9][a-z0-9_-]{0,23}$/.test(instance)) {
    throw new UsageError('--instance: 1 to 24 lowercase letters, digits, dash or underscore');
  }
  const modeText = str(p, 'socket-mode') ?? '660';
  if (!/^[0-7]{3}$/.test(modeText)) throw new UsageError('--socket-mode takes octal permissions such as 660');
  const { runHelper } = await import('../daemon/helper.ts');
  return runHelper({
    instance,
    socketPath: p.socket,
    stateDir: str(p, 'state-dir') ?? `/var/lib/switchyard/${instance}`,
    managedPolicyPath: str(p, 'managed-policy') ?? '/etc/switchyard/managed.json',
    socketGroup: str(p, 'socket-group') ?? 'switchyard',
    socketMode: parseInt(modeText, 8),
    dataDirs: list(p, 'data-dir'),
    cgroupParent: str(p, 'cgroup-parent') ?? '',
  });
}
