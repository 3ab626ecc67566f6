import '@testing-library/svelte/vitest';
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { App } from '#switchyard/api/schema.ts';
import { timeLeft } from '../state/held.svelte.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import AppRow from './AppRow.svelte';

const NOW = Date.parse('2025-03-04T10:00:00Z');
const MIN = 60_000;

function hold(patch: Partial<App['held'][number]>): App['held'][number] {
  return {
    event: 'e-0123456789',
    kind: 'quarantined',
    source: 'quarantine',
    reason: 'quarantined by hand for 1 h',
    severity: 'high',
    since: new Date(NOW - 8 * MIN).toISOString(),
    until: new Date(NOW + 52 * MIN - 5_000).toISOString(),
    ...patch,
  };
}

function row(patch: Partial<App>) {
  const fake = new FakeHelper({ reactionHistory: false });
  const app = { ...structuredClone(fake.apps.find((a) => a.id === 'lab-browser')!), ...patch };
  const { container } = render(AppRow, {
    props: {
      app,
      candidates: fake.interfaces.filter((i) => i.kind !== 'loopback'),
      now: NOW,
      onchoice: () => {},
      onlaunch: () => {},
      onselect: () => {},
    },
  });
  return container.querySelector('.app-row') as HTMLElement;
}

describe('the held badge in an app row', () => {
  it('says how long a quarantine has left, beside the app and apart from its egress state', () => {
    const el = row({ held: [hold({})], egress: { state: 'routed', active: 'wlan0' } });
    const badge = el.querySelector('[data-held]') as HTMLElement;
    expect(badge.textContent?.trim()).toBe('Quarantined · 52 min left');
    expect(badge.getAttribute('title')).toMatch(
      /^Quarantined: quarantined by hand for 1 h\. Its traffic is blocked/,
    );
    // The egress state keeps its own badge in its own column.
    const state = el.querySelector('.state') as HTMLElement;
    expect(state.textContent).toContain('Routed');
    expect(state.querySelector('[data-held]')).toBeNull();
    // The badge takes the line that otherwise says whether it runs.
    expect(within(el).queryByText('Not running')).toBeNull();
  });

  it('names the tool that flagged the app', () => {
    const el = row({
      held: [hold({ kind: 'flagged', source: 'clamav', reason: 'Win.Trojan.Agent', until: null })],
    });
    const badge = el.querySelector('[data-held]') as HTMLElement;
    expect(badge.textContent?.trim()).toBe('Flagged by clamav');
    expect(badge.dataset.held).toBe('flagged');
    expect(badge.getAttribute('title')).toBe(
      'Flagged by clamav (high severity): Win.Trojan.Agent. Its traffic is held until the flag is cleared.',
    );
  });

  it('puts a quarantine before a flag and counts the rest', () => {
    const el = row({
      held: [
        hold({ event: 'e-aaaaaaaaaa', kind: 'flagged', source: 'rkhunter', severity: 'low', until: null }),
        hold({ event: 'e-bbbbbbbbbb', until: new Date(NOW + 8 * 3600_000).toISOString() }),
      ],
    });
    expect(el.querySelector('[data-held]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Quarantined · 8 h left +1',
    );
  });

  it('is not there for an app nothing holds, even when its kill switch drops its traffic', () => {
    const el = row({
      held: [],
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
      egress: { state: 'killed', active: null },
    });
    expect(el.querySelector('[data-held]')).toBeNull();
    expect(screen.getByText('Blocked (kill switch)')).toBeTruthy();
    expect(within(el).getByText('Not running')).toBeTruthy();
  });

  it('counts down in words', () => {
    const at = (ms: number) => new Date(NOW + ms).toISOString();
    expect(timeLeft(at(15 * MIN), NOW)).toBe('15 min left');
    expect(timeLeft(at(3600_000), NOW)).toBe('1 h left');
    expect(timeLeft(at(65 * MIN), NOW)).toBe('1 h 5 min left');
    expect(timeLeft(at(24 * 3600_000), NOW)).toBe('24 h left');
    expect(timeLeft(at(20_000), NOW)).toBe('less than a minute left');
    expect(timeLeft(at(-1), NOW)).toBe('ending…');
  });
});
