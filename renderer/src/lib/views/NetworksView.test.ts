import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import App from '../../App.svelte';
import { FakeHelper } from '../transport-testing/fake-helper.ts';

let fake: FakeHelper;
afterEach(() => fake?.close());

async function open() {
  location.hash = '#/networks';
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  return screen.findByRole('region', { name: 'CoffeeHouse Guest' });
}

describe('the Networks view', () => {
  it('shows the network of each uplink with its trust and fingerprint', async () => {
    const cafe = await open();
    expect(cafe.textContent).toContain('Now on wlan0');
    expect(within(cafe).getByText('Untrusted (default)')).toBeTruthy();
    expect(within(cafe).getByText('a4:2b:b0:11:7c:52')).toBeTruthy();
    expect(within(cafe).getByText('192.168.1.0/24')).toBeTruthy();
    expect(within(cafe).getByText('Wi-Fi name')).toBeTruthy();
    const home = screen.getByRole('region', { name: 'Network via 10.0.0.1 (00:1e:58:a2:3f:10)' });
    expect(within(home).getByText('Trusted', { selector: '.trust' })).toBeTruthy();
    expect(within(home).queryByText('Wi-Fi name')).toBeNull();
    const known = screen.getByRole('list', { name: 'Networks seen before' });
    expect(
      within(known)
        .getAllByRole('listitem')
        .map((li) => li.getAttribute('aria-label')),
    ).toEqual(['Office LAN', 'Lumière-Guests', 'Airport_Free_WiFi']);
    expect(within(known).queryByRole('radiogroup', { name: 'Trust for Office LAN' })).toBeNull();
  });

  it('marks a network trusted, then back to the default', async () => {
    const cafe = await open();
    const picker = within(cafe).getByRole('radiogroup', { name: 'Trust for CoffeeHouse Guest' });
    expect(
      (within(picker).getByRole('radio', { name: 'Default (untrusted)' }) as HTMLInputElement).checked,
    ).toBe(true);
    await fireEvent.click(within(picker).getByRole('radio', { name: 'Trusted' }));
    await waitFor(() => expect(within(cafe).getByText('Trusted', { selector: '.trust' })).toBeTruthy());
    expect(fake.calls.findLast((c) => c.method === 'networks.setTrust')?.params).toEqual({
      id: 'n-5f0c9a2e71d4',
      trust: 'trusted',
    });
    expect(fake.networks.records.find((n) => n.id === 'n-5f0c9a2e71d4')?.trust).toBe('trusted');
    const again = within(screen.getByRole('region', { name: 'CoffeeHouse Guest' }));
    await fireEvent.click(again.getByRole('radio', { name: 'Default (untrusted)' }));
    await waitFor(() =>
      expect(fake.networks.records.find((n) => n.id === 'n-5f0c9a2e71d4')?.trust).toBeNull(),
    );
    await waitFor(() => expect(again.getByText('Untrusted (default)')).toBeTruthy());
  });

  it('changes what networks nobody marked count as', async () => {
    const cafe = await open();
    const setting = screen.getByRole('radiogroup', { name: 'Networks nobody marked are' });
    await fireEvent.click(within(setting).getByRole('radio', { name: 'Trusted' }));
    await waitFor(() => expect(within(cafe).getByText('Trusted (default)')).toBeTruthy());
    expect(fake.networks.unknownTrust).toBe('trusted');
    expect(within(cafe).getByRole('radio', { name: 'Default (trusted)' })).toBeTruthy();
  });
});
