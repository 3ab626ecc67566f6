// Stands in for daemon/tunnels.ts in unit tests of daemon/egress-loop.ts: which interfaces are our
// tunnels, whether their handshake is done, and the apps the loop last handed them.
import type { TunnelView } from '../daemon/egress-loop.ts';
import type { TunnelApp } from '../daemon/tunnels.ts';

export class StandInTunnels implements TunnelView {
  apps: TunnelApp[] = [];
  private readonly up = new Map<string, boolean>();

  /** A tunnel interface of ours; `up`: its handshake is done. */
  set(name: string, up: boolean): void {
    this.up.set(name, up);
  }

  setApps(apps: TunnelApp[]): void {
    this.apps = apps;
  }

  has(name: string): boolean {
    return this.up.has(name);
  }

  isUp(name: string): boolean {
    return this.up.get(name) === true;
  }
}
