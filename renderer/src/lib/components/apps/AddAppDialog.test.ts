import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from '../../../App.svelte';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function open() {
  location.hash = '#/apps';
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  await screen.findByRole('heading', { name: 'Apps', level: 1 });
  await screen.findByRole('list', { name: 'Apps' });
  return fake;
}

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe('adding and removing apps by hand', () => {
  it('a search that finds nothing offers Add app…, prefilled; the app is added from its executable', async () => {
    await open();
    await fireEvent.input(screen.getByRole('searchbox', { name: 'Search apps' }), {
      target: { value: '/opt/backup/bin/nightly-backup' },
    });
    await screen.findByText('No apps match.');
    expect(screen.getByRole('button', { name: 'Add app “/opt/backup/bin/nightly-backup”…' })).toBeTruthy();
    // Enter in the search does the same as that button.
    await fireEvent.keyDown(screen.getByRole('searchbox', { name: 'Search apps' }), { key: 'Enter' });
    const dialog = screen.getByRole('dialog', { name: 'Add app' });
    expect((within(dialog).getByRole('radio', { name: 'Executable' }) as HTMLInputElement).checked).toBe(
      true,
    );
    expect((within(dialog).getByLabelText('Executable path') as HTMLInputElement).value).toBe(
      '/opt/backup/bin/nightly-backup',
    );
    expect((within(dialog).getByLabelText('Name') as HTMLInputElement).value).toBe('nightly-backup');
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Nightly backup' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add app' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const added = fake.apps.find((a) => a.name === 'Nightly backup')!;
    expect(added).toMatchObject({
      id: 'nightly-backup',
      source: 'manual',
      matchers: { exe: ['/opt/backup/bin/nightly-backup'] },
    });
    // It is shown: the search is cleared and its details are open.
    const detail = await screen.findByRole('complementary', { name: 'Details for Nightly backup' });
    expect(within(detail).getByText('Added by hand')).toBeTruthy();
  });

  it("names each mistake by its field before asking the helper, and an app's desktop file or command line", async () => {
    await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Add app…' }));
    const dialog = screen.getByRole('dialog', { name: 'Add app' });
    await fireEvent.input(within(dialog).getByLabelText('Executable path'), { target: { value: 'curl' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add app' }));
    expect(within(dialog).getByText('a full path, starting with /')).toBeTruthy();
    expect(within(dialog).getByText('the name you will know it by, e.g. Backup tool')).toBeTruthy();
    const existing = fake.apps[0]!;
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: existing.name } });
    await fireEvent.click(within(dialog).getByRole('radio', { name: 'Running process' }));
    await fireEvent.input(within(dialog).getByLabelText('Command line pattern'), {
      target: { value: 'a(b' },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add app' }));
    expect(within(dialog).getByText(`there is already an app called ${existing.name}`)).toBeTruthy();
    expect(within(dialog).getByText(/not a valid pattern/)).toBeTruthy();
    expect(fake.calls.some((c) => c.method === 'apps.add')).toBe(false);

    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Backup script' } });
    await fireEvent.input(within(dialog).getByLabelText('Command line pattern'), {
      target: { value: 'backup\\.py' },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add app' }));
    await waitFor(() =>
      expect(fake.apps.find((a) => a.id === 'backup-script')?.matchers).toEqual({ cmdline: 'backup\\.py' }),
    );

    await fireEvent.click(screen.getByRole('button', { name: 'Add app…' }));
    const again = screen.getByRole('dialog', { name: 'Add app' });
    await fireEvent.click(within(again).getByRole('radio', { name: 'Desktop file' }));
    await fireEvent.input(within(again).getByLabelText('Desktop file name or path'), {
      target: { value: '/usr/share/applications/org.gnome.Maps.desktop' },
    });
    await fireEvent.input(within(again).getByLabelText('Name'), { target: { value: 'Maps' } });
    await fireEvent.click(within(again).getByRole('button', { name: 'Add app' }));
    await waitFor(() =>
      expect(fake.apps.find((a) => a.id === 'maps')?.matchers).toEqual({
        desktopId: 'org.gnome.Maps.desktop',
      }),
    );
  });

  it('removes a hand-added app after a confirmation; catalog apps have no Remove', async () => {
    await open();
    const catalog = fake.apps.find((a) => a.source !== 'manual' && !a.managed)!;
    await fake.call('apps.add', { id: 'probe', name: 'Probe', matchers: { exe: ['/usr/bin/probe'] } });
    await fireEvent.click(await screen.findByRole('button', { name: `Details for ${catalog.name}` }));
    const catDetail = await screen.findByRole('complementary', { name: `Details for ${catalog.name}` });
    expect(within(catDetail).queryByRole('button', { name: /^Remove/ })).toBeNull();

    // The list is virtual: search, so the new app's row is drawn.
    await fireEvent.input(screen.getByRole('searchbox', { name: 'Search apps' }), {
      target: { value: 'Probe' },
    });
    await fireEvent.click(await screen.findByRole('button', { name: 'Details for Probe' }));
    const detail = await screen.findByRole('complementary', { name: 'Details for Probe' });
    await fireEvent.click(within(detail).getByRole('button', { name: 'Remove Probe…' }));
    const confirm = screen.getByRole('dialog', { name: 'Remove Probe?' });
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Remove app' }));
    await waitFor(() => expect(fake.apps.some((a) => a.id === 'probe')).toBe(false));
    await waitFor(() =>
      expect(screen.queryByRole('complementary', { name: 'Details for Probe' })).toBeNull(),
    );
  });

  it('lists the running programs to pick one from; the pick fills the pattern and name', async () => {
    await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Add app…' }));
    const dialog = screen.getByRole('dialog', { name: 'Add app' });
    await fireEvent.click(within(dialog).getByRole('radio', { name: 'Running process' }));
    const menu = (await within(dialog).findByLabelText('Running program')) as HTMLSelectElement;
    const options = [...menu.options].map((o) => ({ text: o.text, disabled: o.disabled }));
    expect(options[0]!.text).toMatch(/^Pick one \(\d+ running\)$/);
    // A program an app claims already cannot be picked again.
    const claimed = options.find((o) => o.text.includes(' · already '));
    expect(claimed?.disabled).toBe(true);
    await fireEvent.change(menu, { target: { value: '/usr/bin/python3.11' } });
    expect((within(dialog).getByLabelText('Command line pattern') as HTMLInputElement).value).toBe(
      '/home/me/bin/backup\\.py',
    );
    expect((within(dialog).getByLabelText('Name') as HTMLInputElement).value).toBe('Backup');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Add app' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(fake.apps.find((a) => a.name === 'Backup')?.matchers).toEqual({
      cmdline: '/home/me/bin/backup\\.py',
    });
  });
});
