import '@testing-library/svelte/vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import AppRow from './AppRow.svelte';

function rowFor(id: string, patch: Partial<FakeHelper['apps'][number]> = {}) {
  const fake = new FakeHelper();
  const app = { ...structuredClone(fake.apps.find((a) => a.id === id)!), ...patch };
  const onchoice = vi.fn();
  const onlaunch = vi.fn();
  const onselect = vi.fn();
  render(AppRow, {
    props: {
      app,
      candidates: fake.interfaces.filter((i) => i.kind !== 'loopback'),
      onchoice,
      onlaunch,
      onselect,
    },
  });
  return { app, onchoice, onlaunch, onselect };
}

describe('AppRow', () => {
  it('names every control after the app', () => {
    rowFor('lab-browser');
    expect(screen.getByRole('combobox', { name: 'Egress for Lab Browser' })).toBeTruthy();
    expect(screen.getByRole('switch', { name: 'Kill switch for Lab Browser' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Launch Lab Browser' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Details for Lab Browser' })).toBeTruthy();
  });

  it('offers default, block and each interface, and sends the matching choice', async () => {
    const { onchoice } = rowFor('lab-browser');
    const select = screen.getByRole('combobox', { name: 'Egress for Lab Browser' }) as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual([
      'System default',
      'Block',
      'wlan0',
      'enp3s0',
    ]);
    expect(select.value).toBe('default');
    await fireEvent.change(select, { target: { value: 'egress:wlan0' } });
    expect(onchoice).toHaveBeenCalledWith('lab-browser', {
      mode: 'ordered',
      egresses: ['wlan0'],
      killSwitch: false,
    });
  });

  it('keeps the kill switch off and disabled until the app has an egress list, and says why to the keyboard', async () => {
    const { onchoice } = rowFor('lab-browser', { choice: { mode: 'default' } });
    const sw = screen.getByRole('switch', { name: 'Kill switch for Lab Browser' }) as HTMLButtonElement;
    // aria-disabled, not disabled: it stays in the Tab order so its reason can be read.
    expect(sw.getAttribute('aria-disabled')).toBe('true');
    expect(sw.getAttribute('aria-checked')).toBe('false');
    const why = document.getElementById(sw.getAttribute('aria-describedby') ?? '');
    expect(why?.textContent).toMatch(/Pick an interface in the egress menu first/);
    await fireEvent.click(sw);
    expect(onchoice).not.toHaveBeenCalled();
  });

  it('toggles the kill switch of an ordered list', async () => {
    const { onchoice } = rowFor('lab-browser', {
      choice: { mode: 'ordered', egresses: ['wlan0', 'enp3s0'], killSwitch: false },
    });
    const sw = screen.getByRole('switch', { name: 'Kill switch for Lab Browser' }) as HTMLButtonElement;
    expect(sw.disabled).toBe(false);
    await fireEvent.click(sw);
    expect(onchoice).toHaveBeenCalledWith('lab-browser', {
      mode: 'ordered',
      egresses: ['wlan0', 'enp3s0'],
      killSwitch: true,
    });
    expect(screen.getByText(/then enp3s0/)).toBeTruthy();
  });

  it('disables the controls of a managed app and says why', () => {
    rowFor('lab-browser', {
      managed: true,
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
    });
    const select = screen.getByRole('combobox', { name: 'Egress for Lab Browser' }) as HTMLSelectElement;
    const sw = screen.getByRole('switch', { name: 'Kill switch for Lab Browser' }) as HTMLButtonElement;
    expect(select.disabled).toBe(true);
    expect(sw.getAttribute('aria-disabled')).toBe('true');
    const why = document.getElementById(select.getAttribute('aria-describedby') ?? '');
    expect(why?.textContent).toMatch(/Pinned by the managed policy/);
    const swWhy = document.getElementById(sw.getAttribute('aria-describedby') ?? '');
    expect(swWhy?.textContent).toMatch(/Pinned by the managed policy/);
    expect(select.closest('[title]')?.getAttribute('title')).toMatch(/managed policy/);
    expect(screen.getByText('Managed')).toBeTruthy();
    // Launching is still the user's call.
    expect((screen.getByRole('button', { name: 'Launch Lab Browser' }) as HTMLButtonElement).disabled).toBe(
      false,
    );
  });

  it('shows the state badge and live rates', () => {
    rowFor('lab-browser', {
      egress: { state: 'failed-over', active: 'enp3s0' },
      counters: { txBytes: 0, rxBytes: 0, txRate: 1500, rxRate: 2_500_000 },
    });
    expect(screen.getByText('Failed over')).toBeTruthy();
    expect(screen.getByText('1.5 kB/s')).toBeTruthy();
    expect(screen.getByText('2.5 MB/s')).toBeTruthy();
  });

  it('launches with one click', async () => {
    const { onlaunch } = rowFor('lab-browser');
    await fireEvent.click(screen.getByRole('button', { name: 'Launch Lab Browser' }));
    expect(onlaunch).toHaveBeenCalledWith('lab-browser');
  });
});

describe('AppRow when the helper refuses', () => {
  it('puts the egress menu back to the real choice', async () => {
    const fake = new FakeHelper();
    const app = structuredClone(fake.apps.find((a) => a.id === 'lab-browser')!);
    render(AppRow, {
      props: {
        app,
        candidates: fake.interfaces.filter((i) => i.kind !== 'loopback'),
        onchoice: async () => false,
        onlaunch: () => {},
        onselect: () => {},
      },
    });
    const select = screen.getByRole('combobox', { name: 'Egress for Lab Browser' }) as HTMLSelectElement;
    await fireEvent.change(select, { target: { value: 'block' } });
    await vi.waitFor(() => expect(select.value).toBe('default'));
  });
});

describe('AppRow egress menu words', () => {
  it("names a tunnel that is not usable by the CLI's state word, not a generic (down)", () => {
    const fake = new FakeHelper();
    const app = structuredClone(fake.apps.find((a) => a.id === 'lab-browser')!);
    const candidates = [
      ...fake.interfaces.filter((i) => i.kind !== 'loopback'),
      { ...structuredClone(fake.interfaces[0]!), name: 'sy-office', kind: 'tunnel' as const, usable: false },
    ];
    render(AppRow, {
      props: {
        app,
        candidates,
        unavailable: { 'sy-office': 'connecting' },
        onchoice: vi.fn(),
        onlaunch: vi.fn(),
        onselect: vi.fn(),
      },
    });
    const select = screen.getByRole('combobox', { name: 'Egress for Lab Browser' }) as HTMLSelectElement;
    const texts = [...select.options].map((o) => o.textContent);
    expect(texts).toContain('sy-office (connecting)');
    expect(texts).not.toContain('sy-office (down)');
  });

  it('shows a failed launch on the row instead of "Not running"', () => {
    const fake = new FakeHelper();
    const app = { ...structuredClone(fake.apps.find((a) => a.id === 'lab-browser')!), pids: [] };
    render(AppRow, {
      props: {
        app,
        candidates: [],
        launchFailed: 'Lab Browser stopped right after it started.',
        onchoice: vi.fn(),
        onlaunch: vi.fn(),
        onselect: vi.fn(),
      },
    });
    const failed = screen.getByText('Launch failed · see details');
    expect(failed.getAttribute('title')).toBe('Lab Browser stopped right after it started.');
    expect(screen.queryByText('Not running')).toBeNull();
  });
});
