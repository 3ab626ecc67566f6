// The names the preload lets through, written by hand so the sandboxed preload bundle stays tiny
// (importing schema.ts would pull zod into every page). api-names.test.ts fails when this list
// and the schema disagree, so it cannot drift.
export const HELPER_METHOD_NAMES = [
  'status.get',
  'apps.list',
  'apps.get',
  'apps.add',
  'apps.remove',
  'apps.enroll',
  'apps.launch',
  'catalog.refresh',
  'interfaces.list',
  'egress.set',
  'policy.pause',
  'policy.override',
  'explain',
  'tunnels.list',
  'tunnels.add',
  'tunnels.remove',
  'gateway.stats',
  'events.subscribe',
  'events.history',
] as const;

export const SHELL_METHOD_NAMES = [
  'shell.info',
  'shell.setAutostart',
  'shell.connection',
  'shell.exportEvents',
] as const;

export const HELPER_EVENT_NAMES = [
  'app.changed',
  'interface.changed',
  'adoption',
  'egress.failover',
  'egress.killed',
  'egress.restored',
  'policy.changed',
  'counters',
  'helper.problem',
] as const;

export const SHELL_EVENT_NAMES = ['shell.connection'] as const;

export const CALLABLE_NAMES: readonly string[] = [...HELPER_METHOD_NAMES, ...SHELL_METHOD_NAMES];
export const EVENT_NAMES: readonly string[] = [...HELPER_EVENT_NAMES, ...SHELL_EVENT_NAMES];

/** IPC channels between preload and main. */
export const IPC_CALL = 'switchyard:call';
export const IPC_EVENT = 'switchyard:event';
