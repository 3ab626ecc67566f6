import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import App from '../../../App.svelte';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function details() {
  location.hash = '#/apps';
  fake = new FakeHelper({ apps: 8 });
  render(App, { props: { client: fake } });
  await screen.findByRole('heading', { name: 'Apps', level: 1 });
  const app = fake.apps[0]!;
  await fireEvent.click(await screen.findByRole('button', { name: `Details for ${app.name}` }));
  const pane = await screen.findByRole('complementary', { name: `Details for ${app.name}` });
  return { app, pane, lan: () => within(pane).getByRole('switch', { name: `LAN access for ${app.name}` }) };
}

beforeEach(() => localStorage.clear());
afterEach(() => fake?.close());

describe("an app's LAN access in its details", () => {
  it('turns on and off from the switch, with a line that says what it does', async () => {
    const { app, pane, lan } = await details();
    expect(lan().getAttribute('aria-checked')).toBe('false');
    const described = document.getElementById(lan().getAttribute('aria-describedby')!);
    expect(described?.textContent).toContain('Off: local addresses follow its egress and its kill switch');

    await fireEvent.click(lan());
    await waitFor(() => expect(fake.apps.find((a) => a.id === app.id)?.lanAccess).toBe(true));
    await waitFor(() => expect(lan().getAttribute('aria-checked')).toBe('true'));
    expect(pane.textContent).toContain('On: it reaches devices on your local networks');

    await fireEvent.click(lan());
    await waitFor(() => expect(fake.apps.find((a) => a.id === app.id)?.lanAccess).toBe(false));
    await waitFor(() => expect(lan().getAttribute('aria-checked')).toBe('false'));
  });

  it('follows a change made elsewhere (switchyard lan APP on)', async () => {
    const { app, lan } = await details();
    await fake.call('apps.setLanAccess', { app: app.id, on: true });
    await waitFor(() => expect(lan().getAttribute('aria-checked')).toBe('true'));
  });

  it('says why the helper refused, naming the app and not the API', async () => {
    const { app, pane, lan } = await details();
    // The app went away in the helper (another client removed it) while its details were open.
    fake.apps = fake.apps.filter((a) => a.id !== app.id);
    await fireEvent.click(lan());
    const alert = await within(pane).findByRole('alert');
    expect(alert.textContent).toBe(`Could not turn on ${app.name}'s LAN access: No app is called ${app.id}.`);
    expect(alert.textContent).not.toContain('apps.setLanAccess');
    expect(lan().getAttribute('aria-checked')).toBe('false');
  });
});
