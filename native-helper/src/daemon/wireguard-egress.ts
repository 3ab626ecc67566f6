// A user's WireGuard devices as egresses, in one place for the helper: their peers for the views
// (wireguard-peers.ts), whether each peer still answers (wireguard-health.ts, which the apply loop asks
// before counting a device usable), and the guard that keeps the userspace daemons' own UDP out of the
// apps' and the exclude mode's routes (wireguard-guard.ts). Every read of the devices feeds the other two.
import { type Layout, markFor } from '../layout/kernel-layout.ts';
import { BYPASS_TAG } from '../policy/exclude-mode.ts';
import type { Problems } from './problems.ts';
import { WireguardGuard } from './wireguard-guard.ts';
import { WireguardHealth } from './wireguard-health.ts';
import { WireguardPeers } from './wireguard-peers.ts';

export interface WireguardEgressDeps {
  layout: Layout;
  log: (msg: string) => void;
  problems: Pick<Problems, 'set' | 'clear'>;
  /** A device's peer stopped or started answering: evaluate again. */
  changed: () => void;
}

export class WireguardEgress extends WireguardPeers {
  readonly health: WireguardHealth;
  readonly guard: WireguardGuard;

  constructor(deps: WireguardEgressDeps) {
    // The helper's tunnels' own mark: the nudges and the daemons' sockets take no app's route either.
    const bypassMark = markFor(deps.layout, BYPASS_TAG);
    const health = new WireguardHealth({ ...deps, mark: bypassMark });
    const guard = new WireguardGuard({ layout: deps.layout, bypassMark, log: deps.log });
    super(deps.log, {
      after: (devices) => {
        health.observe(devices);
        guard.check();
      },
      problem: (name) => health.problem(name),
    });
    this.health = health;
    this.guard = guard;
  }
}
