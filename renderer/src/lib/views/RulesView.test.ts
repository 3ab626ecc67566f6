import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from '../../App.svelte';
import { FakeHelper } from '../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function open(hash = '#/rules') {
  location.hash = hash;
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  await screen.findByRole('navigation', { name: 'Main' });
  return fake;
}

const userRows = () =>
  within(screen.getByRole('list', { name: 'Your rules' }))
    .getAllByRole('listitem')
    .map((li) => li.getAttribute('data-rule'));
const helperUserOrder = () => fake.rules.rules.filter((r) => r.origin === 'user').map((r) => r.id);

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe('the Rules view', () => {
  it('shows the layers in order, locked managed rules, counts, expiry and the rule holding traffic', async () => {
    await open();
    const managed = await screen.findByRole('list', { name: 'Managed by your administrator' });
    expect(within(managed).queryByRole('button')).toBeNull();
    expect(within(managed).getByTitle('Locked by the managed policy')).toBeTruthy();
    const events = screen.getByRole('list', { name: 'Added by events' });
    expect(within(events).getByText('12 min left')).toBeTruthy();
    const git = within(screen.getByRole('list', { name: 'Your rules' })).getByRole('listitem', {
      name: /Git over SSH to the lab/,
    });
    expect(within(git).getByText('Encrypt via sy-travel')).toBeTruthy();
    expect(git.textContent).toContain(
      'Holding traffic: tunnel sy-travel is down: the flows this rule covers are blocked until it is up.',
    );
    expect(within(git).getByText(/^[\d,.k]+ flows$/)).toBeTruthy();
    expect(within(git).getByText(/^[\d.]+ (kB|MB|GB)$/)).toBeTruthy();
    const defaults = screen.getByRole('region', { name: 'When no rule matches' });
    expect(
      (within(defaults).getByRole('combobox', { name: 'On untrusted networks' }) as HTMLSelectElement).value,
    ).toBe('encrypt:sy-office');
  });

  it('moves a focused rule with Alt+Up and Alt+Down, keeping focus on it', async () => {
    await open();
    await screen.findByRole('list', { name: 'Your rules' });
    const before = userRows();
    const third = screen.getByRole('listitem', { name: /No QUIC for browsers/ });
    third.focus();
    await fireEvent.keyDown(third, { key: 'ArrowUp', altKey: true });
    await waitFor(() => expect(userRows()).toEqual([before[1], before[0], ...before.slice(2)]));
    expect(helperUserOrder()).toEqual(userRows());
    expect(fake.calls.findLast((c) => c.method === 'rules.move')?.params).toEqual({
      id: before[1],
      before: before[0],
    });
    await waitFor(() => expect(document.activeElement?.getAttribute('data-rule')).toBe(before[1]));
    // Without Alt the arrows do nothing; the first rule cannot go higher.
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp', altKey: true });
    expect(userRows()).toEqual([before[1], before[0], ...before.slice(2)]);
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(userRows()).toEqual(before));
  });

  it('moves with the buttons and by drag and drop', async () => {
    await open();
    await screen.findByRole('list', { name: 'Your rules' });
    const before = userRows();
    await fireEvent.click(
      screen.getByRole('button', { name: 'Move No torrents on untrusted networks down' }),
    );
    await waitFor(() => expect(helperUserOrder()).toEqual([...before.slice(0, 3), before[4], before[3]]));
    const items = within(screen.getByRole('list', { name: 'Your rules' })).getAllByRole('listitem');
    await fireEvent.dragStart(items[4]!);
    await fireEvent.dragOver(items[0]!);
    await fireEvent.drop(items[0]!);
    await waitFor(() => expect(helperUserOrder()).toEqual([before[3], ...before.slice(0, 3), before[4]]));
    expect(userRows()).toEqual(helperUserOrder());
  });

  it('deletes a rule after asking', async () => {
    await open();
    await fireEvent.click(await screen.findByRole('button', { name: 'Delete Steam downloads in clear' }));
    const confirm = screen.getByRole('group', { name: 'Delete Steam downloads in clear?' });
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Delete rule' }));
    await waitFor(() => expect(screen.queryByRole('listitem', { name: /Steam downloads/ })).toBeNull());
    expect(fake.rules.rules.some((r) => r.name === 'Steam downloads in clear')).toBe(false);
  });

  it('adds a rule from the editor at the end of your rules', async () => {
    await open();
    await fireEvent.click((await screen.findAllByRole('button', { name: 'New rule' }))[0]!);
    const dialog = screen.getByRole('dialog', { name: 'New rule' });
    await fireEvent.change(within(dialog).getByRole('combobox', { name: 'App' }), {
      target: { value: 'curl' },
    });
    await fireEvent.click(within(dialog).getByRole('radio', { name: 'Block' }));
    await fireEvent.input(within(dialog).getByRole('textbox', { name: 'Ports' }), {
      target: { value: '25' },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add rule' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(userRows().at(-1)).toBe(fake.rules.rules.at(-1)?.id);
    expect(screen.getByRole('listitem', { name: /curl: block/ })).toBeTruthy();
  });

  it('shows the helper error when a group in use is deleted', async () => {
    await open();
    await fireEvent.click(await screen.findByRole('button', { name: 'Groups' }));
    const dialog = screen.getByRole('dialog', { name: 'App groups' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Delete group Chat' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'Could not delete group Chat: group "Chat" is used by rule r-7f3a10; remove it first.',
    );
    expect(within(dialog).queryByRole('button', { name: 'Delete group Work' })).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'New group' }));
    await fireEvent.input(within(dialog).getByRole('textbox', { name: 'Group name' }), {
      target: { value: 'Media' },
    });
    await fireEvent.click(within(dialog).getByRole('checkbox', { name: /^VLC/ }));
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(await within(dialog).findByRole('listitem', { name: 'Media' })).toBeTruthy();
    expect(fake.rules.groups.find((g) => g.name === 'Media')?.apps).toEqual(['vlc']);
  });

  it('says in the sidebar when a rule holds traffic, links to Rules, and stops when it is fixed', async () => {
    await open('#/apps');
    const link = await screen.findByRole('link', {
      name: 'Rule “Git over SSH to the lab” is holding traffic',
    });
    expect(screen.getByText('Holding traffic')).toBeTruthy();
    await fireEvent.click(link);
    expect(await screen.findByRole('heading', { name: 'Rules' })).toBeTruthy();
    fake.rules.setTunnelState('sy-travel', 'up');
    await waitFor(() => expect(screen.queryByText(/is holding traffic/)).toBeNull());
    // Firefox, flagged by clamav in the demo, is still held; once cleared, nothing is.
    expect(screen.getByText('Holding traffic')).toBeTruthy();
    fake.reactions.clear('firefox', 'alice (uid 1000)');
    await waitFor(() => expect(screen.getByText('Protected')).toBeTruthy());
  });

  it("lists an app's rules, its own and its groups', in its details", async () => {
    await open('#/apps');
    await fireEvent.click(await screen.findByRole('button', { name: 'Details for Firefox' }));
    const list = await screen.findByRole('list', { name: 'Rules for Firefox' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent?.replace(/\s+/g, ' ').trim()),
    ).toEqual([
      '2 A flagged app is blocked, except its update servers (clamav) Block all traffic',
      '3 Hotel sign-in page in clear Send in clear TCP port 80',
      '5 No QUIC for browsers Block Group Browsers · UDP port 443',
    ]);
  });
});
