import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from '../../../App.svelte';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function open() {
  location.hash = '#/apps';
  fake = new FakeHelper({ apps: 12 });
  render(App, { props: { client: fake } });
  await screen.findByRole('heading', { name: 'Apps', level: 1 });
  await screen.findAllByRole('button', { name: /^Details for / });
  return fake;
}
const banner = () => screen.queryByRole('status', { name: 'Policy switches' });
const sidebar = () => document.querySelector('aside.sidebar') as HTMLElement;
const rowOf = (id: string) => document.querySelector(`.app-row[data-app-id="${id}"]`) as HTMLElement;
/** The row's state badge as read aloud (the badge joins with a no-break space). */
const stateOf = (id: string) => rowOf(id).querySelector('.state')?.textContent?.replace(/\s+/g, ' ').trim();

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe('pause, resume and override', () => {
  it('overrides from the Apps header: a banner, rows that say Override, and Undo ends it', async () => {
    await open();
    const routed = fake.apps.find((a) => a.egress.state === 'routed' && a.egress.active !== 'wlan0');
    expect(routed).toBeTruthy();
    expect(banner()).toBeNull();

    const select = screen.getByRole('combobox', { name: 'Send all apps through' });
    await fireEvent.change(select, { target: { value: 'wlan0' } });
    await waitFor(() => expect(banner()?.textContent).toContain('All apps follow wlan0 (override)'));
    expect(fake.override).toBe('wlan0');
    await waitFor(() => expect(stateOf(routed!.id)).toBe('Override · wlan0'));

    await fireEvent.click(within(banner()!).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(banner()).toBeNull());
    expect(fake.override).toBeNull();
    expect(stateOf(routed!.id)).toContain('Routed');
  });

  it('shows an override made elsewhere (the CLI) from the helper event alone', async () => {
    await open();
    await fake.call('policy.override', { egress: 'enp3s0' });
    fake.emit('policy.changed', {
      app: null,
      summary: 'everything sent through enp3s0',
      actor: { uid: 0, user: 'root', via: 'api' },
    });
    await waitFor(() => expect(banner()?.textContent).toContain('All apps follow enp3s0 (override)'));
  });

  it('pauses and resumes from the header and the banner', async () => {
    await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Pause policies' }));
    await waitFor(() => expect(banner()?.textContent).toContain('Policies paused'));
    expect(fake.paused).toBe(true);
    expect(screen.getByRole('button', { name: 'Resume policies' })).toBeTruthy();
    await fireEvent.click(within(banner()!).getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(banner()).toBeNull());
    expect(fake.paused).toBe(false);
  });
});

describe('the sidebar summary', () => {
  it('names each problem as it arises and opens its cause', async () => {
    await open();
    for (const a of fake.apps) a.held = [];
    const app = fake.apps[0]!;
    await fake.call('egress.set', {
      app: app.id,
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
    });
    for (const a of fake.apps)
      fake.emit('app.changed', { app: structuredClone(a), id: a.id, removed: false });
    // The demo's travel tunnel is down: that one problem is there from the start, and only it.
    await waitFor(() =>
      expect(sidebar().querySelector('.problems')?.textContent?.trim()).toBe('Tunnel sy-travel is down'),
    );

    fake.setUsable('wlan0', false);
    const problems = await within(sidebar()).findByRole('list', { name: 'Problems' });
    const held = await within(problems).findByRole('link', {
      name: `${app.name} is blocked by its kill switch`,
    });
    expect(within(problems).getByRole('link', { name: /^wlan0 is down; \d+ apps? lists? it$/ })).toBeTruthy();
    expect(sidebar().querySelector('.health')?.textContent).not.toBe('Protected');

    await fireEvent.click(held);
    await screen.findByRole('complementary', { name: `Details for ${app.name}` });
    expect(stateOf(app.id)).toBe('Blocked (kill switch)');
  });
});
