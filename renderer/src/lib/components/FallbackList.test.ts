import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { App, EgressChoice } from '#switchyard/api/schema.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import FallbackList from './FallbackList.svelte';

function setup(choice: EgressChoice, extra: Partial<App> = {}) {
  const fake = new FakeHelper();
  const app: App = { ...structuredClone(fake.apps.find((a) => a.id === 'lab-browser')!), choice, ...extra };
  const candidates = [
    ...fake.interfaces.filter((i) => i.kind !== 'loopback'),
    { ...structuredClone(fake.interfaces[1]!), name: 'wwan0', usable: false, up: false },
  ];
  const onchoice = vi.fn(async (_c: EgressChoice) => true);
  render(FallbackList, { props: { app, candidates, onchoice, disabled: extra.managed ?? false } });
  return { onchoice };
}

const three: EgressChoice = { mode: 'ordered', egresses: ['wlan0', 'enp3s0', 'wwan0'], killSwitch: true };

describe('FallbackList', () => {
  it('lists the egresses in order', () => {
    setup(three);
    const list = screen.getByRole('list', { name: 'Egress order for Lab Browser' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.querySelector('.ifname')?.textContent),
    ).toEqual(['wlan0', 'enp3s0', 'wwan0']);
    expect(within(list).getByText('Down')).toBeTruthy();
  });

  it('moves an egress with the keyboard buttons', async () => {
    const { onchoice } = setup(three);
    await fireEvent.click(screen.getByRole('button', { name: 'Move enp3s0 up' }));
    expect(onchoice).toHaveBeenLastCalledWith({ ...three, egresses: ['enp3s0', 'wlan0', 'wwan0'] });
    await fireEvent.click(screen.getByRole('button', { name: 'Move wlan0 down' }));
    expect(onchoice).toHaveBeenLastCalledWith({ ...three, egresses: ['enp3s0', 'wlan0', 'wwan0'] });
    expect((screen.getByRole('button', { name: 'Move wlan0 up' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Move wwan0 down' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it('reorders by drag and drop', async () => {
    const { onchoice } = setup(three);
    const items = screen.getAllByRole('listitem');
    await fireEvent.dragStart(items[2]!);
    await fireEvent.dragOver(items[0]!);
    await fireEvent.drop(items[0]!);
    expect(onchoice).toHaveBeenLastCalledWith({ ...three, egresses: ['wwan0', 'wlan0', 'enp3s0'] });
  });

  it('removes and adds fallbacks', async () => {
    const { onchoice } = setup({ mode: 'ordered', egresses: ['wlan0'], killSwitch: false });
    const add = screen.getByRole('combobox', { name: 'Add fallback' }) as HTMLSelectElement;
    expect([...add.options].map((o) => o.value)).toEqual(['enp3s0', 'wwan0']);
    await fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    expect(onchoice).toHaveBeenLastCalledWith({
      mode: 'ordered',
      egresses: ['wlan0', 'enp3s0'],
      killSwitch: false,
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Remove wlan0' }));
    expect(onchoice).toHaveBeenLastCalledWith({ mode: 'default' });
  });

  it('disables every edit for a managed app', () => {
    setup(three, { managed: true });
    for (const b of screen.getAllByRole('button')) expect((b as HTMLButtonElement).disabled).toBe(true);
    for (const li of screen.getAllByRole('listitem')) expect(li.getAttribute('draggable')).toBe('false');
  });

  it('explains what to do when there is no list yet', () => {
    setup({ mode: 'default' });
    expect(screen.getByText(/uses system routing\. Pick an interface/)).toBeTruthy();
  });
});
