// End to end: a user's own wg0 (wireguard-go, test/lab/wireguard.ts) on its Interfaces card, against the
// real helper: kind WireGuard, its peer, endpoint and allowed IPs, and the latest handshake once
// traffic went through it; when its peer stops answering, the card says so.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../lab/lab.ts';
import { WG_IFNAME, type WireguardPair, wireguardPair } from '../lab/wireguard.ts';
import { eventually } from '../integration/support.ts';
import { UiSession, cannotRun } from './harness.ts';

describe.skipIf(cannotRun)('a WireGuard interface in the UI, against the real helper', () => {
  const ui = new UiSession();
  let lab: Lab;
  let page: Page;
  let wg: WireguardPair;

  beforeAll(async () => {
    await ui.start(undefined, async (l) => {
      wg = await wireguardPair(l);
      return { wrap: wg.helperWrap };
    });
    ({ lab, page } = ui);
  }, 240_000);

  afterAll(async () => {
    await ui.stop();
  });

  it('shows wg0 as WireGuard with its peer and the latest handshake', async () => {
    // A ping through the tunnel makes the handshake the card shows.
    await lab.run('desktop', ['ping', '-I', WG_IFNAME, '-c', '2', '-W', '2', '10.99.0.1'], {
      allowFailure: true,
    });
    await eventually(
      'a handshake in the helper',
      async () => (await ui.ask('interfaces.list', {})).find((i) => i.name === WG_IFNAME),
      (i) => Boolean(i?.wireguard?.peers[0]?.latestHandshake),
      30_000,
    );
    await page.goto(`${page.url().split('#')[0]}#/interfaces`);
    const card = page.getByRole('region', { name: WG_IFNAME, exact: true });
    await card.waitFor();
    const peers = card.getByRole('region', { name: `WireGuard peers of ${WG_IFNAME}` });
    await expect.poll(() => peers.textContent(), { timeout: 20_000 }).toMatch(/Latest handshake/);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('WireGuard');
    expect(text).toContain('Usable');
    expect(text).toContain(`${lab.servers.gatewayV4}:51820`);
    expect(text).toContain('0.0.0.0/0');
    expect(text).toContain(wg.keys.gatewayPublic.slice(0, 10));
    expect(text).toContain('None needed: its peer is the other end');
    await card.scrollIntoViewIfNeeded();
    await ui.shot('interfaces-wireguard');
  });

  it('says on the card when the peer stops answering, and that wg0 is not usable meanwhile', async () => {
    await wg.setGatewayAnswering(false);
    // Traffic into wg0 that nothing answers is what tells: pings bound to it, as an app would send.
    const dead = await eventually(
      'wg0 not usable in the helper',
      async () => {
        await lab.run('desktop', ['ping', '-I', WG_IFNAME, '-c', '2', '-i', '0.5', '-W', '1', '10.99.0.1'], {
          allowFailure: true,
        });
        return (await ui.ask('interfaces.list', {})).find((i) => i.name === WG_IFNAME);
      },
      (i) => i?.usable === false,
      120_000,
    );
    const card = page.getByRole('region', { name: WG_IFNAME, exact: true });
    const status = card.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/peer not answering since/);
    expect(await status.textContent()).toBe(`${dead!.wireguard!.problem}. Not usable until it answers.`);
    expect(await card.textContent()).toContain('Peer not answering');
    // The sidebar's summary lists it among the helper's problems.
    const sidebar = page.getByRole('list', { name: 'Problems' });
    await expect
      .poll(async () => ((await sidebar.count()) ? sidebar.textContent() : ''), { timeout: 20_000 })
      .toContain(`${WG_IFNAME}: peer not answering since`);
    await card.scrollIntoViewIfNeeded();
    await ui.shot('interfaces-wireguard-peer-gone');

    await wg.setGatewayAnswering(true);
    await eventually(
      'wg0 usable again',
      async () => (await ui.ask('interfaces.list', {})).find((i) => i.name === WG_IFNAME),
      (i) => i?.usable === true,
      120_000,
    );
    await expect.poll(() => status.count(), { timeout: 20_000 }).toBe(0);
  });
});
