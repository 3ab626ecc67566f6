import '@testing-library/svelte/vitest';
import { render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Tunnel } from '#switchyard/api/schema.ts';
import TunnelCard from './TunnelCard.svelte';

// The resolvers a tunnel's gateway offered in the handshake (docs/dns.md): shown with where they come from.
const KEY = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const tunnel = (gatewayDns?: string[]): Tunnel => ({
  name: 'sy-tun0',
  gateway: '203.0.113.7:51900',
  gatewayPublicKey: KEY,
  publicKey: KEY,
  addresses: ['10.77.0.2/24'],
  cipher: 'auto',
  state: 'up',
  problem: null,
  ...(gatewayDns ? { gatewayDns } : {}),
});

function show(t: Tunnel) {
  const props = { tunnel: t, rules: [], apps: [], groups: [], now: 0 };
  return render(TunnelCard, {
    props: { ...props, onopenrules: vi.fn(), onopenapp: vi.fn(), onremove: vi.fn() },
  });
}

describe("a tunnel card's DNS", () => {
  it("shows the gateway's resolvers and says they come from it", () => {
    show(tunnel(['10.77.0.1', 'fd77::1']));
    const dd = screen.getByText('DNS').nextElementSibling as HTMLElement;
    expect(dd.textContent).toContain('10.77.0.1');
    expect(dd.textContent).toContain('fd77::1');
    expect(dd.textContent).toContain('from the gateway, through the tunnel');
  });

  it('says when the gateway offers none, and says nothing before it was heard', () => {
    const { unmount } = show(tunnel([]));
    expect(screen.getByText('DNS').nextElementSibling?.textContent).toContain('the gateway offers none');
    unmount();
    show(tunnel());
    expect(screen.queryByText('DNS')).toBeNull();
  });
});
