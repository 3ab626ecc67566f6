import '@testing-library/svelte/vitest';
import { render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WireguardPeers from './WireguardPeers.svelte';

const PEER = 'dTE/OUg/HF5WR8Ow71ESaYAyVbUn81zjVgKzJN7HTjU=';
const NOW = Date.parse('2026-11-27T01:00:00Z');

afterEach(() => vi.useRealTimers());

describe("a WireGuard interface's peers", () => {
  it('shows the peer, its endpoint and allowed IPs, and how long ago the handshake was, ticking', async () => {
    vi.useFakeTimers({ now: NOW });
    render(WireguardPeers, {
      props: {
        name: 'wg0',
        wireguard: {
          publicKey: null,
          listenPort: 51821,
          peers: [
            {
              publicKey: PEER,
              endpoint: '198.18.250.2:51820',
              allowedIps: ['0.0.0.0/0', '::/0'],
              latestHandshake: new Date(NOW - 12_000).toISOString(),
            },
          ],
        },
      },
    });
    const region = screen.getByRole('region', { name: 'WireGuard peers of wg0' });
    expect(within(region).getByTitle(PEER).textContent).toBe('dTE/OUg/HF…7HTjU=');
    expect(region.textContent).toContain('198.18.250.2:51820');
    expect(region.textContent).toContain('::/0');
    expect(region.textContent).toContain('Latest handshake 12 s ago');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(region.textContent).toContain('Latest handshake 17 s ago');
  });

  it('says when there was no handshake, no peer, or nothing could be read', () => {
    const peer = { publicKey: PEER, endpoint: null, allowedIps: [], latestHandshake: null };
    const { unmount } = render(WireguardPeers, {
      props: { name: 'wg0', wireguard: { publicKey: null, listenPort: null, peers: [peer] } },
    });
    expect(screen.getByText('No handshake yet')).toBeTruthy();
    expect(screen.getByText('None yet')).toBeTruthy();
    unmount();
    const second = render(WireguardPeers, {
      props: { name: 'wg0', wireguard: { publicKey: null, listenPort: null, peers: [] } },
    });
    expect(screen.getByText(/WireGuard without a peer/)).toBeTruthy();
    second.unmount();
    render(WireguardPeers, { props: { name: 'wg0', wireguard: null } });
    expect(screen.getByText(/could not be read/)).toBeTruthy();
  });

  it('says when the peer does not answer, and only then', () => {
    const wireguard = {
      publicKey: null,
      listenPort: 51821,
      peers: [{ publicKey: PEER, endpoint: null, allowedIps: ['0.0.0.0/0'], latestHandshake: null }],
    };
    const { unmount } = render(WireguardPeers, {
      props: { name: 'wg0', wireguard: { ...wireguard, problem: 'wg0: peer not answering since 12:03' } },
    });
    expect(screen.getByRole('status').textContent).toBe(
      'wg0: peer not answering since 12:03. Not usable until it answers.',
    );
    unmount();
    render(WireguardPeers, { props: { name: 'wg0', wireguard } });
    expect(screen.queryByRole('status')).toBeNull();
  });
});
