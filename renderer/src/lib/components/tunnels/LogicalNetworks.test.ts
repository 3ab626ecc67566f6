import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import App from '../../../App.svelte';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';
import LogicalNetworks from './LogicalNetworks.svelte';

const NOW = Date.parse('2025-03-04T10:00:00Z');
const MIN = 60_000;

let fake: FakeHelper;
afterEach(() => fake?.close());

async function renderTunnel(name: string, now = NOW) {
  const { rules, defaults } = await fake.call('rules.list', {});
  const tunnel = (await fake.call('tunnels.list', {})).find((t) => t.name === name)!;
  const onopenrules = vi.fn();
  render(LogicalNetworks, { props: { tunnel, rules, defaults, now, onopenrules } });
  return { list: screen.getByRole('list', { name: `Logical networks of ${name}` }), onopenrules };
}

/** The logical networks' names, in order (the rows, not the rule links inside them). */
const rowNames = (list: HTMLElement) =>
  [...list.querySelectorAll(':scope > li')].map((li) => li.getAttribute('aria-label'));
const linkNames = (row: HTMLElement) =>
  within(row)
    .queryAllByRole('link')
    .map((a) => a.textContent);

describe("a tunnel's logical networks", () => {
  it('shows the default session, then each key group with its state, epoch, age and rules', async () => {
    fake = new FakeHelper({ now: () => NOW });
    const { list, onopenrules } = await renderTunnel('sy-office');
    expect(rowNames(list)).toEqual(['Default session', 'work', 'personal']);

    const work = within(list).getByRole('listitem', { name: 'work' });
    expect(within(work).getByText('Established')).toBeTruthy();
    expect(work.textContent).toMatch(/Last rekey 14 min ago\s· key epoch 3/);
    expect(work.querySelector('time')?.getAttribute('datetime')).toBe(new Date(NOW - 14 * MIN).toISOString());
    expect(linkNames(work)).toEqual(['Work servers only through the office tunnel']);

    const personal = within(list).getByRole('listitem', { name: 'personal' });
    expect(within(personal).getByText('Handshaking…')).toBeTruthy();
    expect(personal.textContent).not.toMatch(/key epoch/i);
    expect(within(personal).getByText('No rule uses it')).toBeTruthy();

    // Traffic of rules without a group, and the untrusted default, go in the default session.
    const byDefault = within(list).getByRole('listitem', { name: 'Default session' });
    expect(within(byDefault).getByText('Established')).toBeTruthy();
    expect(linkNames(byDefault)).toEqual(['Chat on untrusted networks', 'Default on untrusted networks']);

    const link = within(work).getByRole('link', { name: 'Work servers only through the office tunnel' });
    expect(link.getAttribute('href')).toBe('#/rules');
    await fireEvent.click(link);
    expect(onopenrules).toHaveBeenCalledTimes(1);
  });

  it('shows a tunnel down in its default session, its rule held, and a group a rule names with no session', async () => {
    fake = new FakeHelper({ now: () => NOW });
    await fake.call('rules.add', {
      rule: {
        name: 'Banking apart',
        match: { subject: { kind: 'group', group: 'Browsers' } },
        action: { type: 'encrypt', tunnel: 'sy-travel', keyGroup: 'banking' },
      },
    });
    const { list } = await renderTunnel('sy-travel');
    expect(rowNames(list)).toEqual(['Default session', 'banking']);
    const byDefault = within(list).getByRole('listitem', { name: 'Default session' });
    expect(within(byDefault).getByText('Down')).toBeTruthy();
    const git = within(byDefault).getByRole('link', { name: 'Git over SSH to the lab' });
    expect(git.getAttribute('title')).toMatch(/^Holding traffic: tunnel sy-travel is down/);
    const banking = within(list).getByRole('listitem', { name: 'banking' });
    expect(within(banking).getByText('No session')).toBeTruthy();
    expect(linkNames(banking)).toEqual(['Banking apart']);
  });

  it('in the Tunnels view: a group that finishes its handshake shows it, and a rule opens Rules', async () => {
    location.hash = '#/tunnels';
    fake = new FakeHelper();
    render(App, { props: { client: fake } });
    const card = await screen.findByRole('region', { name: 'sy-office' });
    const list = within(card).getByRole('list', { name: 'Logical networks of sy-office' });
    const personal = () => within(list).getByRole('listitem', { name: 'personal' });
    expect(within(personal()).getByText('Handshaking…')).toBeTruthy();
    // The fake says so with rules.changed, as the helper does when a group's rules stop holding.
    fake.rules.setKeyGroup('sy-office', 'personal', true);
    await waitFor(() => expect(within(personal()).getByText('Established')).toBeTruthy());
    expect(personal().textContent).toMatch(/Last rekey just now\s· key epoch 1/);

    const down = screen.getByRole('region', { name: 'sy-travel' });
    expect(within(down).getByText(/has not answered for 2 minutes/)).toBeTruthy();

    await fireEvent.click(within(list).getByRole('link', { name: 'Chat on untrusted networks' }));
    await screen.findByRole('heading', { name: 'Rules', level: 1 });
    expect(location.hash).toBe('#/rules');
  });

  it('the Interfaces view has no tunnel cards, only a link to Tunnels', async () => {
    location.hash = '#/interfaces';
    fake = new FakeHelper();
    render(App, { props: { client: fake } });
    await screen.findByRole('region', { name: 'wlan0' });
    expect(screen.queryByRole('region', { name: 'sy-office' })).toBeNull();
    await fireEvent.click(screen.getByRole('link', { name: 'Tunnels →' }));
    await screen.findByRole('heading', { name: 'Tunnels', level: 1 });
    expect(await screen.findByRole('region', { name: 'sy-office' })).toBeTruthy();
  });
});
