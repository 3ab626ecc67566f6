import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import App from '../../App.svelte';
import { toApiError } from '../transport/types.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { inFormWords } from '../state/helper-words.ts';
import { TUNNEL_LABELS } from '../state/tunnel-form.ts';

let fake: FakeHelper;
const GW_KEY = 'q6lZ5D3Yp7Y0s6b2n9VdC8c5hJ0uQk1mXWbq2vY9dEo=';

async function open() {
  location.hash = '#/tunnels';
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  await screen.findByRole('heading', { name: 'Tunnels', level: 1 });
  return fake;
}
const field = (name: string) => screen.getByLabelText(name) as HTMLInputElement;

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe('the Tunnels view', () => {
  it("lists each tunnel's gateway, both keys, cipher, state in the CLI's words, problem, bytes and apps", async () => {
    await open();
    const office = await screen.findByRole('region', { name: 'sy-office' });
    const t = fake.rules.tunnels.find((x) => x.name === 'sy-office')!;
    expect(within(office).getByText('up')).toBeTruthy();
    expect(within(office).getAllByText('gw.example.net:51900').length).toBeGreaterThan(0);
    expect(within(office).getByLabelText("this end's public key for sy-office").textContent).toBe(
      t.publicKey,
    );
    expect(within(office).getByLabelText("the public key of sy-office's gateway").textContent).toBe(
      t.gatewayPublicKey,
    );
    expect(
      within(office).getByRole('button', { name: "Copy this end's public key for sy-office" }),
    ).toBeTruthy();
    expect(within(office).getByText('Automatic')).toBeTruthy();
    expect(within(office).getByText('↑ 48 MB sent')).toBeTruthy();
    // Key group work: its own bytes, and the apps its rules cover (the managed Work group).
    const work = within(office).getByRole('listitem', { name: 'work' });
    expect(work.textContent).toContain('↑ 13 MB sent · ↓ 96 MB received');
    expect(within(work).getByLabelText('Apps in work').textContent).toMatch(/Apps: .+/);
    // The rule "Chat on untrusted networks" encrypts the Chat group's apps through it.
    const apps = within(office).getByRole('list', { name: 'Apps of sy-office' });
    expect(within(apps).getAllByRole('button').length).toBeGreaterThan(0);

    const travel = screen.getByRole('region', { name: 'sy-travel' });
    expect(within(travel).getByText('down')).toBeTruthy();
    expect(travel.textContent).toContain('the gateway 203.0.113.40:51900 has not answered for 2 minutes');
    expect(within(travel).getByText('ChaCha20-Poly1305')).toBeTruthy();
    // The helper says nothing of its bytes: a dash, not a made-up zero.
    expect(within(travel).getByText('↑ — sent')).toBeTruthy();
    // Git's rule through the down tunnel holds its traffic.
    const travelApps = within(travel).getByRole('list', { name: 'Apps of sy-travel' });
    expect(within(travelApps).getByRole('button', { name: /\(held\)$/ })).toBeTruthy();
  });

  it("adds a tunnel: each field's mistake in the form's words, then this end's key to hand over", async () => {
    await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Add tunnel…' }));
    const dialog = screen.getByRole('dialog', { name: 'Add tunnel' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add tunnel' }));
    expect(within(dialog).getByText('give the tunnel a name, e.g. sy-office')).toBeTruthy();
    expect(within(dialog).getByText("paste the key the gateway's operator gave you")).toBeTruthy();
    expect(fake.calls.some((c) => c.method === 'tunnels.add')).toBe(false);

    await fireEvent.input(field('Name'), { target: { value: 'sy-office' } });
    await fireEvent.input(field('Gateway'), { target: { value: 'gw.lab' } });
    await fireEvent.input(field("Gateway's public key"), { target: { value: 'short' } });
    await fireEvent.input(field('Addresses in the tunnel'), {
      target: { value: '10.77.0.2/24, 10.77.0.3/24' },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add tunnel' }));
    expect(within(dialog).getByText('there is already a tunnel called sy-office')).toBeTruthy();
    expect(within(dialog).getByText(/write it as HOST:PORT/)).toBeTruthy();
    expect(within(dialog).getByText('a key is 44 characters of base64 ending in "="')).toBeTruthy();
    expect(within(dialog).getByText('one address per family (IPv4, IPv6)')).toBeTruthy();
    expect(field('Gateway').getAttribute('aria-invalid')).toBe('true');

    await fireEvent.input(field('Name'), { target: { value: 'sy-lab' } });
    await fireEvent.input(field('Gateway'), { target: { value: 'gw.lab:51900' } });
    await fireEvent.input(field("Gateway's public key"), { target: { value: GW_KEY } });
    await fireEvent.input(field('Addresses in the tunnel'), { target: { value: '10.77.0.2/24 fd77::2/64' } });
    await fireEvent.change(screen.getByLabelText('Cipher'), { target: { value: 'aes256gcm' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add tunnel' }));
    const done = await screen.findByRole('dialog', { name: 'Tunnel sy-lab added' });
    const made = fake.rules.tunnels.find((t) => t.name === 'sy-lab')!;
    expect(made).toMatchObject({
      gateway: 'gw.lab:51900',
      gatewayPublicKey: GW_KEY,
      addresses: ['10.77.0.2/24', 'fd77::2/64'],
      cipher: 'aes256gcm',
    });
    expect(within(done).getByLabelText("this end's public key for sy-lab").textContent).toBe(made.publicKey);
    await fireEvent.click(within(done).getByRole('button', { name: 'Done' }));
    const card = await screen.findByRole('region', { name: 'sy-lab' });
    expect(within(card).getByText('connecting')).toBeTruthy();
    expect(card.textContent).toContain("is this end's public key among the gateway's peers?");
  });

  it('removes a tunnel after a confirmation that names the rules it leaves blocked', async () => {
    await open();
    const travel = await screen.findByRole('region', { name: 'sy-travel' });
    await fireEvent.click(within(travel).getByRole('button', { name: 'Remove tunnel sy-travel' }));
    const confirm = screen.getByRole('dialog', { name: 'Remove tunnel sy-travel?' });
    expect(confirm.textContent).toContain('Git over SSH to the lab');
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(fake.rules.tunnels.map((t) => t.name)).toContain('sy-travel');

    await fireEvent.click(within(travel).getByRole('button', { name: 'Remove tunnel sy-travel' }));
    await fireEvent.click(
      within(screen.getByRole('dialog', { name: 'Remove tunnel sy-travel?' })).getByRole('button', {
        name: 'Remove tunnel',
      }),
    );
    await waitFor(() => expect(screen.queryByRole('region', { name: 'sy-travel' })).toBeNull());
    expect(fake.rules.tunnels.map((t) => t.name)).toEqual(['sy-office']);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('says when the tunnels cannot be read, instead of "No tunnels yet", and tries again', async () => {
    fake = new FakeHelper();
    const call = fake.call.bind(fake);
    let broken = true;
    vi.spyOn(fake, 'call').mockImplementation(((method: string, params: unknown) =>
      broken && method === 'tunnels.list'
        ? Promise.reject(new Error('the helper is busy'))
        : call(method as 'status.get', params as Record<string, never>)) as typeof fake.call);
    location.hash = '#/tunnels';
    render(App, { props: { client: fake } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The tunnels could not be read: the helper is busy');
    expect(screen.queryByText('No tunnels yet.')).toBeNull();
    broken = false;
    await fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('region', { name: 'sy-office' })).toBeTruthy();
  });

  it("words a helper's refusal of a bad parameter by the form's label, never an API path", async () => {
    fake = new FakeHelper();
    const err = await fake
      .call('tunnels.add', {
        name: 'sy-x',
        gateway: 'gw:1',
        gatewayPublicKey: 'nope',
        addresses: ['10.0.0.1/24'],
      })
      .catch((e: unknown) => toApiError(e));
    expect(err).toBeInstanceOf(Error);
    const text = inFormWords(err as ReturnType<typeof toApiError>, TUNNEL_LABELS);
    expect(text).toBe("Gateway's public key: a key is 32 bytes in base64 (44 characters)");
    expect(text).not.toMatch(/tunnels\.add|gatewayPublicKey/);
  });
});
