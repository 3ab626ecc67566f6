import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '#switchyard/api/schema.ts';
import App from '../../App.svelte';
import { FakeHelper } from '../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function openDetails(name: string) {
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  await fireEvent.click(await screen.findByRole('button', { name: `Details for ${name}` }));
  return screen.getByRole('complementary', { name: `Details for ${name}` });
}

const rowOf = (id: string) => document.querySelector(`.app-row[data-app-id="${id}"]`) as HTMLElement;
const callsOf = (method: string) => fake.calls.filter((c) => c.method === method).map((c) => c.params);
const sidebar = () => document.querySelector('aside.sidebar') as HTMLElement;

beforeEach(() => {
  location.hash = '#/apps';
  localStorage.clear();
});
afterEach(() => fake?.close());

describe("an app's flags and quarantine in its details", () => {
  it('explains a flag: the tool, the reason, its severity, since and until when, and its rule', async () => {
    const detail = await openDetails('Firefox');
    const section = within(detail).getByRole('region', { name: 'Flags and quarantine' });
    const item = within(section).getByRole('listitem');
    expect(within(item).getByText('Flagged by clamav')).toBeTruthy();
    expect(within(item).getByText('High severity')).toBeTruthy();
    expect(within(item).getByText('Win.Trojan.Agent-1088236 in a download')).toBeTruthy();
    const facts = Object.fromEntries(
      within(item)
        .getAllByRole('term')
        .map((dt) => [
          dt.textContent?.trim(),
          dt.nextElementSibling?.textContent?.replace(/\s+/g, ' ').trim(),
        ]),
    );
    const since = fake.apps.find((a) => a.id === 'firefox')!.held[0]!.since;
    expect(facts).toMatchObject({
      Source: 'clamav',
      By: 'root (uid 0) via clamav',
      About: '/home/alice/Downloads/invoice-2291.pdf.exe',
      Until: 'no end: until cleared',
      Rules: '1 event rule holds its traffic',
    });
    expect(within(item).getByText(facts.Since!).closest('time')?.getAttribute('datetime')).toBe(since);
    // The state line says so too, and the sidebar names the app and the tool.
    expect(within(detail).getByText('A flag holds its traffic for now.')).toBeTruthy();
    expect(within(sidebar()).getByRole('link', { name: 'Firefox flagged by clamav' })).toBeTruthy();
  });

  it('clears it through findings.clear: the badge, the section and the sidebar link go', async () => {
    const detail = await openDetails('Firefox');
    expect(rowOf('firefox').querySelector('[data-held]')).not.toBeNull();
    await fireEvent.click(within(detail).getByRole('button', { name: 'Clear' }));
    await waitFor(() =>
      expect(within(detail).queryByRole('region', { name: 'Flags and quarantine' })).toBeNull(),
    );
    expect(callsOf('findings.clear')).toEqual([{ app: 'firefox' }]);
    expect(rowOf('firefox').querySelector('[data-held]')).toBeNull();
    expect(within(sidebar()).queryByRole('link', { name: /Firefox/ })).toBeNull();
    // The helper's side: nothing held, the flag's rule gone, the end audited.
    expect(fake.apps.find((a) => a.id === 'firefox')?.held).toEqual([]);
    expect(fake.rules.rules.some((r) => r.event?.source === 'clamav')).toBe(false);
    expect(fake.reactions.audit.at(-1)).toMatchObject({ action: 'event.ended', app: 'firefox' });
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Firefox'));
  });

  it('quarantines for the chosen time through quarantine.start and shows it everywhere', async () => {
    const detail = await openDetails('Lab Browser');
    expect(within(detail).queryByRole('region', { name: 'Flags and quarantine' })).toBeNull();
    await fireEvent.click(within(detail).getByRole('button', { name: 'Quarantine…' }));
    const picker = within(detail).getByRole('group', { name: 'Quarantine Lab Browser' });
    const choices = within(picker).getAllByRole('radio') as HTMLInputElement[];
    expect(choices.map((r) => r.labels?.[0]?.textContent?.trim())).toEqual([
      '15 min',
      '1 hour',
      '8 hours',
      '24 hours',
    ]);
    expect(choices.find((r) => r.checked)?.labels?.[0]?.textContent?.trim()).toBe('1 hour');
    await fireEvent.click(within(picker).getByRole('radio', { name: '8 hours' }));
    await fireEvent.input(within(picker).getByRole('textbox', { name: 'Reason (optional)' }), {
      target: { value: 'it phoned home' },
    });
    await fireEvent.click(within(picker).getByRole('button', { name: 'Quarantine for 8 hours' }));

    const section = await within(detail).findByRole('region', { name: 'Flags and quarantine' });
    expect(callsOf('quarantine.start')).toEqual([
      { app: 'lab-browser', seconds: 8 * 3600, reason: 'it phoned home' },
    ]);
    expect(within(section).getByText('Quarantined')).toBeTruthy();
    expect(within(section).getByText('it phoned home')).toBeTruthy();
    expect(within(section).getByText('(8 h left)')).toBeTruthy();
    expect(rowOf('lab-browser').querySelector('[data-held]')?.textContent?.trim()).toBe(
      'Quarantined · 8 h left',
    );
    expect(within(sidebar()).getByRole('link', { name: 'Lab Browser quarantined' })).toBeTruthy();
    // Focus follows the section that appeared, not the button that went.
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Flags and quarantine'));
    // The helper's side: a block rule for the app in the event layer, ending with the quarantine.
    const until = fake.apps.find((a) => a.id === 'lab-browser')!.held[0]!.until;
    expect(
      fake.rules.rules.filter(
        (r) =>
          r.origin === 'event' && r.match.subject.kind === 'app' && r.match.subject.app === 'lab-browser',
      ),
    ).toEqual([expect.objectContaining({ action: { type: 'block' }, expiresAt: until })]);
  });

  it('offers no "until cleared" and says why not when the helper refuses', async () => {
    const detail = await openDetails('Lab Browser');
    vi.spyOn(fake.reactions, 'handle').mockImplementation(() => {
      throw new ApiError('UNAVAILABLE', 'the helper is applying another change; try again');
    });
    await fireEvent.click(within(detail).getByRole('button', { name: 'Quarantine…' }));
    const picker = within(detail).getByRole('group', { name: 'Quarantine Lab Browser' });
    expect(within(picker).queryByRole('radio', { name: /until cleared/i })).toBeNull();
    await fireEvent.click(within(picker).getByRole('button', { name: 'Quarantine for 1 hour' }));
    expect((await within(detail).findByRole('alert')).textContent).toBe(
      'Could not quarantine Lab Browser: the helper is applying another change; try again',
    );
    // The picker stays open with the choice, to try again.
    expect(within(detail).getByRole('group', { name: 'Quarantine Lab Browser' })).toBeTruthy();
  });

  it('opens a held app from the sidebar', async () => {
    fake = new FakeHelper();
    location.hash = '#/rules';
    render(App, { props: { client: fake } });
    await fireEvent.click(await screen.findByRole('link', { name: 'Firefox flagged by clamav' }));
    expect(await screen.findByRole('complementary', { name: 'Details for Firefox' })).toBeTruthy();
    expect(location.hash).toBe('#/apps');
  });
});
