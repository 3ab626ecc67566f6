import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from './App.svelte';
import { FakeHelper } from './lib/transport-testing/fake-helper.ts';
import { LAUNCH_SETTLE_MS } from './lib/state/launch.ts';

let fake: FakeHelper;

function start(opts: ConstructorParameters<typeof FakeHelper>[0] = {}) {
  fake = new FakeHelper(opts);
  render(App, { props: { client: fake } });
  return fake;
}

beforeEach(() => {
  location.hash = '#/apps';
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});
afterEach(() => fake?.close());

describe('the app shell', () => {
  it('has the eight named navigation links and switches views', async () => {
    start();
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    const names = within(nav)
      .getAllByRole('link')
      .map((l) => l.textContent?.trim());
    expect(names).toEqual([
      'Apps',
      'Rules',
      'Networks',
      'Interfaces',
      'Tunnels',
      'Activity',
      'Explain',
      'Settings',
    ]);
    expect(screen.getByRole('link', { name: 'Apps' }).getAttribute('aria-current')).toBe('page');
    await fireEvent.click(screen.getByRole('link', { name: 'Settings' }));
    expect(await screen.findByRole('heading', { name: 'Settings' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe('page');
    expect(location.hash).toBe('#/settings');
  });

  it('moves between views with Alt+number', async () => {
    start();
    await screen.findByRole('heading', { name: 'Apps' });
    await fireEvent.keyDown(window, { key: '5', altKey: true });
    expect(await screen.findByRole('heading', { name: 'Tunnels', level: 1 })).toBeTruthy();
    await fireEvent.keyDown(window, { key: '6', altKey: true });
    expect(await screen.findByRole('heading', { name: 'Activity' })).toBeTruthy();
    await fireEvent.keyDown(window, { key: '2', altKey: true });
    expect(await screen.findByRole('heading', { name: 'Rules' })).toBeTruthy();
  });
});

describe('helper unavailable', () => {
  it('explains a refused connection with the exact fix, then recovers by itself', async () => {
    start({ connection: 'refused' });
    expect(
      await screen.findByRole('heading', { name: 'Switchyard may not talk to its helper' }),
    ).toBeTruthy();
    expect(screen.getByText('sudo usermod -aG switchyard $USER')).toBeTruthy();
    expect(screen.getByText(/Log out and back in/)).toBeTruthy();
    expect(screen.getByText(/Trying again in 5 s/)).toBeTruthy();
    expect(
      screen.getByRole('button', { name: 'Copy command: sudo usermod -aG switchyard $USER' }),
    ).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();

    fake.setConnection('connected');
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeTruthy();
    expect(await screen.findByRole('combobox', { name: 'Egress for Lab Browser' })).toBeTruthy();
  });

  it('tells how to start a helper that is not running', async () => {
    start({ connection: 'absent' });
    expect(await screen.findByText('sudo systemctl start switchyard-helper')).toBeTruthy();
  });

  it('goes to the unavailable screen when the helper drops', async () => {
    start();
    await screen.findByRole('navigation', { name: 'Main' });
    fake.setConnection('incompatible');
    expect(
      await screen.findByRole('heading', { name: 'The helper and this app are different versions' }),
    ).toBeTruthy();
  });
});

describe('apps view', () => {
  it('virtualizes a thousand apps', async () => {
    start({ apps: 1000 });
    const list = await screen.findByRole('list', { name: 'Apps' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    expect(rows[0]?.getAttribute('aria-setsize')).toBe('1000');
    expect(
      screen.getByText('1000 apps · ' + fake.apps.filter((a) => a.pids.length).length + ' running'),
    ).toBeTruthy();
  });

  it('filters to managed apps, whose controls are locked', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('radio', { name: 'Managed' }));
    const rows = within(screen.getByRole('list', { name: 'Apps' })).getAllByRole('listitem');
    expect(rows).toHaveLength(fake.apps.filter((a) => a.managed).length);
    for (const combo of screen.getAllByRole('combobox', { name: /^Egress for / }))
      expect((combo as HTMLSelectElement).disabled).toBe(true);
  });

  it('searches, and says so when nothing matches', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    const search = screen.getByRole('searchbox', { name: 'Search apps' });
    await fireEvent.input(search, { target: { value: 'thunder' } });
    expect(within(screen.getByRole('list', { name: 'Apps' })).getAllByRole('listitem')).toHaveLength(1);
    await fireEvent.input(search, { target: { value: 'zzz' } });
    expect(screen.getByText('No apps match.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Show all apps' }));
    expect(screen.getByRole('list', { name: 'Apps' })).toBeTruthy();
  });

  it('changes an egress, arms the kill switch and shows live rates', async () => {
    start();
    const combo = (await screen.findByRole('combobox', {
      name: 'Egress for Lab Browser',
    })) as HTMLSelectElement;
    await fireEvent.change(combo, { target: { value: 'egress:wlan0' } });
    await waitFor(() => expect(screen.getAllByText('Routed').length).toBeGreaterThan(0));
    const sw = screen.getByRole('switch', { name: 'Kill switch for Lab Browser' }) as HTMLButtonElement;
    await waitFor(() => expect(sw.getAttribute('aria-disabled')).toBeNull());
    await fireEvent.click(sw);
    await waitFor(() => expect(sw.getAttribute('aria-checked')).toBe('true'));
    expect(fake.apps.find((a) => a.id === 'lab-browser')?.choice).toEqual({
      mode: 'ordered',
      egresses: ['wlan0'],
      killSwitch: true,
    });

    await fireEvent.click(screen.getByRole('button', { name: 'Launch Lab Browser' }));
    // A launch counts once the app still runs a moment later (launch.ts), as `switchyard launch` checks.
    expect(
      await screen.findByText(
        /Started Lab Browser through Switchyard/,
        {},
        { timeout: LAUNCH_SETTLE_MS + 2000 },
      ),
    ).toBeTruthy();
    fake.tick();
    const row = screen
      .getByRole('button', { name: 'Details for Lab Browser' })
      .closest('.app-row') as HTMLElement;
    await waitFor(() => expect(within(row).getByText(/1 process/)).toBeTruthy());
    const rate = fake.apps.find((a) => a.id === 'lab-browser')?.counters.rxRate ?? 0;
    expect(rate).toBeGreaterThan(0);
  });

  it('opens the details panel with the fallback order', async () => {
    start();
    await fireEvent.click(await screen.findByRole('button', { name: 'Details for Firefox' }));
    const panel = screen.getByRole('complementary', { name: 'Details for Firefox' });
    expect(within(panel).getByRole('list', { name: 'Egress order for Firefox' })).toBeTruthy();
    expect(within(panel).getByRole('button', { name: 'Launch through Switchyard' })).toBeTruthy();
    await fireEvent.click(within(panel).getByRole('button', { name: 'Close details' }));
    expect(screen.queryByRole('complementary', { name: 'Details for Firefox' })).toBeNull();
  });
});

describe('other views', () => {
  it('activity: seeded from history, filtered by type, live events appended', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('link', { name: 'Activity' }));
    const log = await screen.findByRole('list', { name: 'Activity log' });
    expect(within(log).getAllByRole('listitem')[0]?.getAttribute('aria-setsize')).toBe(
      String(fake.history.length),
    );
    await fireEvent.change(screen.getByRole('combobox', { name: 'Event type' }), {
      target: { value: 'policy.changed' },
    });
    await waitFor(() =>
      expect(
        within(screen.getByRole('list', { name: 'Activity log' }))
          .getAllByRole('listitem')
          .every((li) => li.textContent?.includes('Policy change')),
      ).toBe(true),
    );
    await fake.call('egress.set', { app: 'lab-browser', choice: { mode: 'block' } });
    expect(await screen.findByText('Lab Browser: egress set to block')).toBeTruthy();
  });

  it('explain: shows verdict, egress, source address, reason and steps', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('link', { name: 'Explain' }));
    await fireEvent.change(await screen.findByRole('combobox', { name: 'App' }), {
      target: { value: 'firefox' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Explain' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/host:port/);
    await fireEvent.input(screen.getByRole('textbox', { name: 'Destination' }), {
      target: { value: 'example.org:443' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Explain' }));
    const result = await screen.findByRole('region', { name: 'Explanation' });
    expect(within(result).getByText('Leaves through an egress')).toBeTruthy();
    expect(within(result).getByText('192.168.1.23')).toBeTruthy();
    expect(within(result).getByText(/Firefox reaches example.org:443 through wlan0/)).toBeTruthy();
    expect(within(result).getAllByRole('listitem').length).toBeGreaterThan(2);
  });

  it('settings: status, disabled autostart with the reason, and the theme', async () => {
    start({ canAutostart: false });
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('link', { name: 'Settings' }));
    expect(await screen.findByText('Running normally')).toBeTruthy();
    const helper = screen.getByRole('region', { name: 'Helper' });
    expect(within(helper).getByText('default')).toBeTruthy();
    expect(within(helper).getByText('/var/lib/switchyard/default/policy.json')).toBeTruthy();
    const autostart = screen.getByRole('switch', { name: 'Start at login' }) as HTMLButtonElement;
    expect(autostart.disabled).toBe(true);
    expect(document.getElementById(autostart.getAttribute('aria-describedby') ?? '')?.textContent).toMatch(
      /Not available in the browser/,
    );

    await fireEvent.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem('switchyard.theme')).toBe('dark');
    await fireEvent.click(screen.getByRole('radio', { name: 'System' }));
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(localStorage.getItem('switchyard.theme')).toBeNull();
  });

  it('settings: start at login can be switched on when the shell supports it', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('link', { name: 'Settings' }));
    const autostart = (await screen.findByRole('switch', { name: 'Start at login' })) as HTMLButtonElement;
    await waitFor(() => expect(autostart.disabled).toBe(false));
    await fireEvent.click(autostart);
    await waitFor(() => expect(autostart.getAttribute('aria-checked')).toBe('true'));
    expect(fake.shell.autostart).toBe(true);
  });

  it('interfaces: each uplink with state, addresses, gateway and carried apps', async () => {
    start();
    await screen.findByRole('list', { name: 'Apps' });
    await fireEvent.click(screen.getByRole('link', { name: 'Interfaces' }));
    const wlan = await screen.findByRole('region', { name: 'wlan0' });
    expect(within(wlan).getByText('Usable')).toBeTruthy();
    expect(within(wlan).getByText('192.168.1.23/24')).toBeTruthy();
    expect(within(wlan).getByText('192.168.1.1')).toBeTruthy();
    const carried = fake.interfaces.find((i) => i.name === 'wlan0')?.apps ?? [];
    expect(within(wlan).getAllByRole('button', { name: /^Show .* in Apps$/ })).toHaveLength(
      Math.min(24, carried.length),
    );
    expect(screen.queryByRole('region', { name: 'lo' })).toBeNull();
    fake.setUsable('wlan0', false);
    expect(
      await within(await screen.findByRole('region', { name: 'wlan0' })).findByText('Down'),
    ).toBeTruthy();
  });
});
