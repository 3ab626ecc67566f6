import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from '../../../App.svelte';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function open() {
  location.hash = '#/apps';
  fake = new FakeHelper({ apps: 8 });
  render(App, { props: { client: fake } });
  await screen.findByRole('heading', { name: 'Apps', level: 1 });
  return fake;
}
const control = () => screen.getByRole('region', { name: 'Routing' });
const group = () => within(control()).getByRole('radiogroup', { name: 'Routing' });
const radio = (name: string) => within(group()).getByRole('radio', { name });
const via = () => within(control()).queryByRole('combobox', { name: 'Egress for every app except these' });
const kill = () =>
  within(control()).queryByRole('switch', { name: 'Kill switch for every app except these' });

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe('include or exclude mode above the app list', () => {
  it('switches to exclude mode through the egress picked, then changes it, its kill switch, and back', async () => {
    await open();
    await waitFor(() => expect((radio('Only the apps I choose') as HTMLInputElement).checked).toBe(true));
    expect(group().getAttribute('aria-describedby')).toBeTruthy();
    expect(control().textContent).toContain('Only the apps you give an egress are routed');
    expect(via()).toBeNull();

    await fireEvent.click(radio('Every app except these'));
    await waitFor(() =>
      expect(fake.modeDns.mode).toEqual({ kind: 'exclude', via: 'wlan0', killSwitch: true }),
    );
    await waitFor(() => expect((via() as HTMLSelectElement | null)?.value).toBe('wlan0'));
    expect((radio('Every app except these') as HTMLInputElement).checked).toBe(true);
    expect(control().textContent).toContain('Apps on System default and everything not listed here');
    expect(control().textContent).toContain('go through wlan0');
    expect(kill()?.getAttribute('aria-checked')).toBe('true');
    expect(control().textContent).toContain('On: when wlan0 is down, that traffic is blocked.');

    await fireEvent.change(via()!, { target: { value: 'enp3s0' } });
    await waitFor(() =>
      expect(fake.modeDns.mode).toEqual({ kind: 'exclude', via: 'enp3s0', killSwitch: true }),
    );
    await fireEvent.click(kill()!);
    await waitFor(() =>
      expect(fake.modeDns.mode).toEqual({ kind: 'exclude', via: 'enp3s0', killSwitch: false }),
    );
    await waitFor(() => expect(kill()?.getAttribute('aria-checked')).toBe('false'));
    expect(control().textContent).toContain(
      'Off: when enp3s0 is down, that traffic uses the system routing.',
    );

    await fireEvent.click(radio('Only the apps I choose'));
    await waitFor(() => expect(fake.modeDns.mode).toEqual({ kind: 'include' }));
    await waitFor(() => expect(via()).toBeNull());
  });

  it('shows a mode set elsewhere (the CLI, the tray) and warns when its egress is down', async () => {
    await open();
    await fake.call('mode.set', { mode: { kind: 'exclude', via: 'wlan0', killSwitch: true } });
    await waitFor(() => expect((radio('Every app except these') as HTMLInputElement).checked).toBe(true));
    expect((via() as HTMLSelectElement).value).toBe('wlan0');

    fake.setUsable('wlan0', false);
    await waitFor(() =>
      expect(control().querySelector('.what.warn')?.textContent).toBe(
        'wlan0 is down: the kill switch blocks what it carries until it is back.',
      ),
    );
    expect(within(via()!).getByRole('option', { name: 'wlan0 (down)' })).toBeTruthy();
  });

  it('says why a change was refused, in words, and keeps the mode in force', async () => {
    await open();
    await waitFor(() => expect((radio('Only the apps I choose') as HTMLInputElement).checked).toBe(true));
    // The helper no longer knows the egress the menu offers first.
    fake.interfaces = fake.interfaces.filter((i) => i.name !== 'wlan0');
    await fireEvent.click(radio('Every app except these'));
    const alert = await within(control()).findByRole('alert');
    expect(alert.textContent).toBe(
      'Could not send every app except these through wlan0: No interface or tunnel is called wlan0.',
    );
    expect(fake.modeDns.mode).toEqual({ kind: 'include' });
    expect((radio('Only the apps I choose') as HTMLInputElement).checked).toBe(true);
    expect((radio('Every app except these') as HTMLInputElement).checked).toBe(false);
  });
});
