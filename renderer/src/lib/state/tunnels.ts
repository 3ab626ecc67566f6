// A tunnel's logical networks: its default session and one per key group, each with the encrypt rules
// whose flows it carries. Pure.
import type { RuleView, Tunnel } from '#switchyard/api/schema.ts';
import type { TrustDefaults } from '#switchyard/api/rules-model.ts';

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
    },
    ...groups.map((g) => ({
      group: g.name,
      state: g.established ? ('established' as const) : ('handshaking' as const),
      epoch: g.epoch,
      since: g.since,
      rules: rules.filter((r) => uses(r, tunnel.name, g.name)),
      defaults: [],
    })),
    ...missing.map((name) => ({
      group: name,
      state: 'none' as const,
      epoch: null,
      since: null,
      rules: rules.filter((r) => uses(r, tunnel.name, name)),
      defaults: [],
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
