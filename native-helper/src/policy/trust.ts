// Which trust applies to an app's flows: that of the network its traffic leaves through. Pure.
import type { Trust } from '../api/rules-model.ts';
import type { PolicyDocument } from './model.ts';

export interface NetworkContext {
  /** Uplink name → id of the network it is attached to now (null: not identified yet). */
  networkOf: Record<string, string | null>;
  /** The uplink the system's own default route leaves through: apps on default routing or in a tunnel. */
  systemUplink: string | null;
}

/** A network's trust: what the user said, else the default for networks never marked (untrusted). */
export function effectiveTrust(
  doc: Pick<PolicyDocument, 'networks' | 'unknownTrust'>,
  networkId: string | null,
  managed: Record<string, 'trusted' | 'untrusted'> = {},
): Trust {
  if (!networkId) return 'untrusted'; // not identified yet: assume the worst until we know
  return managed[networkId] ?? doc.networks.find((n) => n.id === networkId)?.trust ?? doc.unknownTrust;
}

/** The uplink whose network decides an app's trust: its active egress when that is an uplink. */
export function uplinkForApp(active: string | null, ctx: NetworkContext): string | null {
  return active && active in ctx.networkOf ? active : ctx.systemUplink;
}

export function trustForApp(
  doc: Pick<PolicyDocument, 'networks' | 'unknownTrust'>,
  active: string | null,
  ctx: NetworkContext,
  managed: Record<string, 'trusted' | 'untrusted'> = {},
): Trust {
  const uplink = uplinkForApp(active, ctx);
  return effectiveTrust(doc, uplink ? (ctx.networkOf[uplink] ?? null) : null, managed);
}
