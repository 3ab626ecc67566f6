// A tunnel's logical networks: its default session and one per key group, each with the encrypt rules
// whose flows it carries. Pure.
import type { App, Group, RuleView, Tunnel } from '#switchyard/api/schema.ts';
import { ruleCoversApp, type TrustDefaults } from '#switchyard/api/rules-model.ts';

export type SessionState = 'established' | 'handshaking' | 'down' | 'none';

export interface LogicalNetwork {
  /** The key group; null for the default session (traffic of rules without a group). */
  group: string | null;
  state: SessionState;
  /** The current session's key epoch and when it was made (ISO); null when not known. */
  epoch: number | null;
  since: string | null;
  rules: RuleView[];
  /** Trust defaults that encrypt through this session (only ever the default one). */
  defaults: (keyof TrustDefaults)[];
  /** Inner bytes of this session; null when the helper does not say. */
  txBytes: number | null;
  rxBytes: number | null;
}

function uses(r: RuleView, tunnel: string, group: string | null): boolean {
  return r.action.type === 'encrypt' && r.action.tunnel === tunnel && (r.action.keyGroup ?? null) === group;
}

/**
 * The default session first, then the tunnel's key groups in the helper's order, then groups that
 * rules name but the tunnel has no session for (its data path is not running, or not yet told).
 */
export function logicalNetworks(
  tunnel: Tunnel,
  rules: readonly RuleView[],
  defaults: TrustDefaults | null = null,
): LogicalNetwork[] {
  const named = rules.flatMap((r) =>
    r.action.type === 'encrypt' && r.action.tunnel === tunnel.name && r.action.keyGroup
      ? [r.action.keyGroup]
      : [],
  );
  const groups = tunnel.groups ?? [];
  const missing = [...new Set(named)].filter((n) => !groups.some((g) => g.name === n));
  const viaDefaults = (['trusted', 'untrusted'] as const).filter((trust) => {
    const a = defaults?.[trust];
    return a?.type === 'encrypt' && a.tunnel === tunnel.name && !a.keyGroup;
  });
  return [
    {
      group: null,
      state: tunnel.state === 'up' ? 'established' : tunnel.state === 'connecting' ? 'handshaking' : 'down',
      epoch: null,
      since: null,
      rules: rules.filter((r) => uses(r, tunnel.name, null)),
      defaults: viaDefaults,
      txBytes: null,
      rxBytes: null,
    },
    ...groups.map((g) => ({
      group: g.name,
      state: g.established ? ('established' as const) : ('handshaking' as const),
      epoch: g.epoch,
      since: g.since,
      rules: rules.filter((r) => uses(r, tunnel.name, g.name)),
      defaults: [],
      txBytes: g.txBytes ?? null,
      rxBytes: g.rxBytes ?? null,
    })),
    ...missing.map((name) => ({
      group: name,
      state: 'none' as const,
      epoch: null,
      since: null,
      rules: rules.filter((r) => uses(r, tunnel.name, name)),
      defaults: [],
      txBytes: null,
      rxBytes: null,
    })),
  ];
}

export const SESSION_TEXT: Record<SessionState, string> = {
  established: 'Established',
  handshaking: 'Handshaking…',
  down: 'Down',
  none: 'No session',
};

export const SESSION_TONE: Record<SessionState, 'ok' | 'warn' | 'bad'> = {
  established: 'ok',
  handshaking: 'warn',
  down: 'bad',
  none: 'bad',
};

/** The apps a set of rules covers, by themselves or through their groups, in the app list's order. */
export function appsOfRules(
  rules: readonly RuleView[],
  apps: readonly App[],
  groups: readonly Group[],
): App[] {
  return apps.filter((a) => rules.some((r) => ruleCoversApp(r, a.id, groups)));
}

export type TunnelAppRole = 'carried' | 'encrypted' | 'held';
export interface TunnelApp {
  app: App;
  role: TunnelAppRole;
}

/**
 * The apps a tunnel carries or holds: those whose egress is the tunnel (held when its kill switch
 * drops their traffic because the tunnel is not usable), and those whose encrypt rules go through it
 * (held while such a rule has a problem).
 */
export function tunnelApps(
  tunnel: Tunnel,
  rules: readonly RuleView[],
  apps: readonly App[],
  groups: readonly Group[],
): TunnelApp[] {
  const through = rules.filter((r) => r.action.type === 'encrypt' && r.action.tunnel === tunnel.name);
  const out: TunnelApp[] = [];
  for (const app of apps) {
    const mine = through.filter((r) => ruleCoversApp(r, app.id, groups));
    const choice = app.choice;
    const picks = choice.mode === 'ordered' && choice.egresses.includes(tunnel.name);
    if (app.egress.active === tunnel.name) out.push({ app, role: 'carried' });
    else if (picks && app.egress.state === 'killed') out.push({ app, role: 'held' });
    else if (mine.length) out.push({ app, role: mine.some((r) => r.problem) ? 'held' : 'encrypted' });
  }
  return out;
}

export const TUNNEL_APP_TEXT: Record<TunnelAppRole, string> = {
  carried: 'egress',
  encrypted: 'by rule',
  held: 'held',
};

/** The tunnel states in the CLI's own words (`switchyard tunnels`). */
export const TUNNEL_STATE: Record<Tunnel['state'], { tone: 'ok' | 'warn' | 'bad'; text: string }> = {
  up: { tone: 'ok', text: 'up' },
  connecting: { tone: 'warn', text: 'connecting' },
  down: { tone: 'bad', text: 'down' },
};
