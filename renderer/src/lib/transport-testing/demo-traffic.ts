// The demo's traffic: one second of plausible rates for every running app that is not blocked or
// killed, summed per interface over some background noise. Updates the counters in place.
import type { App, Interface } from '#switchyard/api/schema.ts';

export function simulateSecond(apps: App[], interfaces: Interface[], r: () => number, tick: number): void {
  const perIface = new Map<string, { tx: number; rx: number }>();
  for (const i of interfaces) perIface.set(i.name, { tx: 0, rx: 0 });
  for (const app of apps) {
    const c = app.counters;
    const flowing = app.pids.length > 0 && app.egress.state !== 'blocked' && app.egress.state !== 'killed';
    if (!flowing) {
      c.txRate = 0;
      c.rxRate = 0;
      continue;
    }
    const wave = 0.6 + 0.4 * Math.sin((tick + app.tag * 3) / 7);
    const size = 1 + (app.tag % 5) * 3;
    c.rxRate = Math.round((20_000 + r() * 180_000) * size * wave);
    c.txRate = Math.round(c.rxRate * (0.05 + r() * 0.25));
    c.txBytes += c.txRate;
    c.rxBytes += c.rxRate;
    // Default routing leaves through the ethernet uplink, as the main table says.
    const via = app.egress.active ?? 'enp3s0';
    const sum = perIface.get(via);
    if (sum) {
      sum.tx += c.txRate;
      sum.rx += c.rxRate;
    }
  }
  for (const i of interfaces) {
    const sum = perIface.get(i.name) ?? { tx: 0, rx: 0 };
    const background = i.kind === 'loopback' ? 2_000 : 6_000;
    i.counters.txRate = i.usable ? sum.tx + Math.round(r() * background) : 0;
    i.counters.rxRate = i.usable ? sum.rx + Math.round(r() * background) : 0;
    i.counters.txBytes += i.counters.txRate;
    i.counters.rxBytes += i.counters.rxRate;
  }
}
