// Everything `switchyard gateway` wants in the kernel of its namespace, as one desired state: the
// TUN's MTU and address, forwarding, the NAT table, and the per-uplink rules and tables.
import type { GatewayLayout } from '../layout/kernel-layout.ts';
import type { DesiredState } from '../reconcile/types.ts';
import type { GatewayConfig } from './config.ts';
import { forwardingSysctls, natTable } from './nat.ts';
import { uplinkRouting, type MainDefault } from './uplinks.ts';

export function gatewayDesired(
  cfg: GatewayConfig,
  layout: GatewayLayout,
  mainDefaults: readonly MainDefault[],
): DesiredState {
  const pinned = new Set(cfg.peers.flatMap((p) => p.apps.flatMap((a) => (a.uplink ? [a.uplink] : []))));
  const { rules, routes } = uplinkRouting(layout, cfg.uplinks, pinned, mainDefaults);
  return {
    links: [{ name: cfg.tunName, mtu: cfg.mtu, up: true, addresses: cfg.address }],
    sysctls: cfg.enableForwarding ? forwardingSysctls() : {},
    nft: natTable(
      layout,
      cfg.tunName,
      cfg.uplinks.map((u) => u.interface),
    ),
    rules,
    routes,
  };
}
