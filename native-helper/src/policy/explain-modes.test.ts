// explain with issue 17's modes: LAN access (a local destination goes out on the LAN directly, even
// while held) and exclude mode (an app is excluded and keeps its choice; a process in no app goes
// through the mode's egress, or is held by the global kill switch). The kernel's answers are given.
import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import type { KernelRoute } from '../mechanism/netlink/route-get.ts';
import { layoutFor } from '../layout/kernel-layout.ts';
import { explain, type ExplainApp } from './evaluate.ts';
import { explainUnmanaged } from './exclude-mode.ts';
import { lanDestination } from './explain-modes.ts';

const layout = layoutFor('unit', 5);
type Iface = Pick<Interface, 'name' | 'usable' | 'kind' | 'addresses'>;
const wlan0: Iface = {
  name: 'wlan0',
  usable: true,
  kind: 'wifi',
  addresses: [
    { family: 4, address: '198.18.1.2', prefixLength: 24 },
    { family: 6, address: 'fd5a:1::2', prefixLength: 64 },
    { family: 6, address: 'fe80::1', prefixLength: 64 },
  ],
};
const eth0: Iface = {
  name: 'eth0',
  usable: true,
  kind: 'ethernet',
  addresses: [{ family: 4, address: '198.18.2.2', prefixLength: 24 }],
};
const tun = (usable: boolean): Iface => ({
  name: 'sy-tun0',
  usable,
  kind: 'tunnel',
  addresses: [{ family: 4, address: '10.77.0.2', prefixLength: 24 }],
});
const routed = (dev: string, src: string): KernelRoute => ({
  ok: true,
  dev,
  src,
  gateway: null,
  table: '1000',
  error: null,
});
const refused: KernelRoute = {
  ok: false,
  dev: null,
  src: null,
  gateway: null,
  table: null,
  error: 'Network is unreachable',
};
const dest = (address: string, port = 80) => ({ host: address, address, port, protocol: 'tcp' as const });
const ctx = (answer: KernelRoute, extra = {}) => ({
  layout,
  paused: false,
  override: null,
  routeGet: async () => answer,
  ...extra,
});
const app = (extra: Partial<ExplainApp> = {}): ExplainApp => ({
  id: 'probe',
  name: 'Probe',
  tag: 3,
  choice: { mode: 'ordered', egresses: ['sy-tun0'], killSwitch: true },
  ...extra,
});

describe('lanDestination', () => {
  it("finds an uplink's subnet, link-local and mDNS, and nothing beyond", () => {
    expect(lanDestination([wlan0, eth0], '198.18.2.77')).toEqual({
      uplink: 'eth0',
      network: "eth0's subnet 198.18.2.0/24",
    });
    expect(lanDestination([wlan0, eth0], 'fd5a:1::99')?.network).toBe("wlan0's subnet fd5a:1::/64");
    expect(lanDestination([wlan0, eth0], '169.254.3.4')).toEqual({
      uplink: 'wlan0',
      network: 'link-local (169.254.0.0/16)',
    });
    expect(lanDestination([wlan0], 'fe80::abcd')?.network).toBe('link-local (fe80::/10)');
    expect(lanDestination([wlan0], '224.0.0.251')?.network).toBe('multicast DNS (224.0.0.251)');
    expect(lanDestination([wlan0], 'ff02:0:0:0:0:0:0:fb')?.network).toBe('multicast DNS (ff02::fb)');
    expect(lanDestination([wlan0, eth0], '198.18.0.10')).toBeNull();
    // A tunnel's subnet and a down uplink's are not the app's LAN.
    expect(lanDestination([tun(true), { ...eth0, usable: false }], '10.77.0.1')).toBeNull();
    expect(lanDestination([tun(true), { ...eth0, usable: false }], '198.18.2.77')).toBeNull();
  });
});

describe('explain with LAN access', () => {
  it('says a held app with LAN access goes out on the LAN directly to its subnet', async () => {
    const e = await explain(
      app({ lanAccess: true }),
      dest('198.18.1.1'),
      [wlan0, tun(false)],
      ctx(routed('wlan0', '198.18.1.2')),
    );
    expect(e).toMatchObject({ verdict: 'egress', egress: 'wlan0', sourceAddress: '198.18.1.2' });
    expect(e.reason).toBe(
      "Probe has LAN access: 198.18.1.1 is on wlan0's subnet 198.18.1.0/24, so it goes out on the LAN directly by wlan0, allowed although its kill switch holds the rest of its traffic.",
    );
    expect(e.steps).toContain(
      "Probe has LAN access and 198.18.1.1 is on wlan0's subnet 198.18.1.0/24: it goes out on the LAN directly by wlan0, even while its kill switch holds it.",
    );
  });

  it('still holds the rest of a held app, and ignores LAN access for an app without it', async () => {
    const held = await explain(
      app({ lanAccess: true }),
      dest('198.18.0.10'),
      [wlan0, tun(false)],
      ctx(refused),
    );
    expect(held).toMatchObject({ verdict: 'block', egress: null });
    expect(held.reason).toMatch(/kill switch drops the traffic/);
    const without = await explain(app(), dest('198.18.1.1'), [wlan0, tun(false)], ctx(refused));
    expect(without.verdict).toBe('block');
    expect(without.steps.join(' ')).not.toMatch(/LAN access/);
  });

  it('says so for a routed app too, without claiming it is held', async () => {
    const e = await explain(
      app({ lanAccess: true }),
      dest('224.0.0.251', 5353),
      [wlan0, tun(true)],
      ctx(routed('wlan0', '198.18.1.2')),
    );
    expect(e.reason).toBe(
      'Probe has LAN access: 224.0.0.251 is on multicast DNS (224.0.0.251), so it goes out on the LAN directly by wlan0.',
    );
  });
});

describe('explain in exclude mode', () => {
  const mode = { kind: 'exclude' as const, via: 'sy-tun0', killSwitch: true };

  it('says an app is excluded and keeps its own egress choice', async () => {
    const pinned = await explain(
      app({ choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: false } }),
      dest('198.18.0.10'),
      [wlan0, tun(true)],
      ctx(routed('wlan0', '198.18.1.2'), { mode }),
    );
    expect(pinned).toMatchObject({ verdict: 'egress', egress: 'wlan0' });
    expect(pinned.steps).toContain(
      'Exclude mode sends every app left on default through sy-tun0; Probe has an egress choice of its own, so it is excluded and keeps it.',
    );
  });

  it('sends an app left on default through the mode egress, held when it is down', async () => {
    const onDefault = await explain(
      app({ choice: { mode: 'default' } }),
      dest('198.18.0.10'),
      [wlan0, tun(true)],
      ctx(routed('sy-tun0', '10.77.0.2'), { mode }),
    );
    expect(onDefault).toMatchObject({ verdict: 'egress', egress: 'sy-tun0' });
    expect(onDefault.steps.join(' ')).toContain('Probe is on default, so it goes through sy-tun0.');
    const down = await explain(
      app({ choice: { mode: 'default' } }),
      dest('198.18.0.10'),
      [wlan0, tun(false)],
      ctx(
        { ok: false, dev: null, src: null, gateway: null, table: null, error: 'Network is unreachable' },
        { mode },
      ),
    );
    expect(down).toMatchObject({ verdict: 'block', egress: null });
    const { reason } = await explain(
      app({ choice: { mode: 'default' } }),
      dest('198.18.0.10'),
      [wlan0, tun(false)],
      ctx(routed('wlan0', '198.18.1.2'), { mode: { ...mode, killSwitch: false } }),
    );
    expect(reason).not.toMatch(/excluded/);
  });

  it('says nothing of it in include mode', async () => {
    const e = await explain(
      app({ choice: { mode: 'default' } }),
      dest('198.18.0.10'),
      [wlan0],
      ctx(routed('wlan0', '198.18.1.2'), { mode: { kind: 'include' } }),
    );
    expect(e.reason).toBe('Probe uses the system routing, which sends this destination out of wlan0.');
    expect(e.steps.join(' ')).not.toMatch(/xclude/);
  });
});

describe('explain of a process in no app (mode.explain)', () => {
  const mode = { kind: 'exclude' as const, via: 'sy-tun0', killSwitch: true };
  const routeGet = (answer: KernelRoute) => async () => answer;

  it('goes through the exclude egress, and says what happens with it down', async () => {
    const e = await explainUnmanaged(
      mode,
      false,
      [wlan0, tun(true)],
      dest('198.18.0.10'),
      routeGet(routed('sy-tun0', '10.77.0.2')),
    );
    expect(e).toMatchObject({ verdict: 'egress', egress: 'sy-tun0', sourceAddress: '10.77.0.2' });
    expect(e.reason).toBe(
      'Exclude mode via sy-tun0: a process in no app goes through sy-tun0; with sy-tun0 down it is held by the global kill switch.',
    );
  });

  it('is held by the global kill switch with the tunnel down, or follows the system routing without it', async () => {
    const held = await explainUnmanaged(
      mode,
      false,
      [wlan0, tun(false)],
      dest('198.18.0.10'),
      routeGet(refused),
    );
    expect(held).toMatchObject({ verdict: 'block', egress: null });
    expect(held.reason).toBe(
      'Exclude mode via sy-tun0: sy-tun0 is down, so the global kill switch holds every process in no app.',
    );
    const off = await explainUnmanaged(
      { ...mode, killSwitch: false },
      false,
      [wlan0],
      dest('198.18.0.10'),
      routeGet(routed('wlan0', '198.18.1.2')),
    );
    expect(off).toMatchObject({ verdict: 'default', egress: 'wlan0' });
    expect(off.reason).toBe(
      "Exclude mode via sy-tun0: sy-tun0 is down, so a process in no app follows the system's routing (wlan0).",
    );
  });

  it("follows the system's routing in include mode", async () => {
    const e = await explainUnmanaged(
      { kind: 'include' },
      false,
      [wlan0],
      dest('198.18.0.10'),
      routeGet(routed('wlan0', '198.18.1.2')),
    );
    expect(e).toMatchObject({ verdict: 'default', egress: 'wlan0' });
    expect(e.reason).toBe("Include mode: a process in no app follows the system's routing (wlan0).");
  });
});
