// End to end: the name an app looked up, in its recent connections. The lab's desktop asks names
// through the resolved-like stub at 127.0.0.53, like a real one; curl, run as the app, fetches
// http://server.lab/ and the app's details show that connection as "server.lab · address:port".
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../lab/lab.ts';
import { type RunningHelper, SWITCHYARD } from '../lab/switchyard-helper.ts';
import { UiSession, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

const APP = 'lab-browser';

describe.skipIf(cannotRun)('looked-up names in the app details (real helper, lab)', () => {
  const ui = new UiSession();
  let lab: Lab;
  let helper: RunningHelper;
  let page: Page;
  const details = (): Locator => page.getByRole('complementary', { name: 'Details for Lab Browser' });
  const history = (): Locator => page.getByRole('list', { name: 'Recent connections of Lab Browser' });

  beforeAll(async () => {
    await ui.start(undefined, async (l) => {
      await l.setSystemResolver('stub'); // before the helper and the apps: they read resolv.conf at start
      return {};
    });
    ({ lab, helper, page } = ui);
  }, 300_000);

  afterAll(() => ui.stop());

  it('shows the name the app looked up next to the address it connected to', async () => {
    await ui.ask('egress.set', {
      app: APP,
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: false },
    });
    await lab.exec(
      'desktop',
      [SWITCHYARD, 'run', '--app', APP, '--socket', helper.socket, '--']
        .concat(['curl', '-sS', '--max-time', '5', '-o', '/dev/null'])
        .concat([`http://server.lab:${lab.servers.httpPort}/named`]),
    );
    const named = await eventually(
      'the helper to list the connection with its name',
      async () => (await ui.ask('connections.list', { app: APP, limit: 20 })).connections,
      (l) => l.some((c) => c.port === lab.servers.httpPort && c.name === 'server.lab'),
    );
    const c = named.find((x) => x.name === 'server.lab')!;
    expect([lab.servers.v4, lab.servers.v6]).toContain(c.destination);

    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    if (!(await details().count()))
      await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    await details().waitFor();
    const row = history().getByRole('listitem').filter({ hasText: 'server.lab' }).first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain(`server.lab · `);
    expect(await row.textContent()).toContain(`:${lab.servers.httpPort}`);
    await history().scrollIntoViewIfNeeded();
    await ui.shot('app-connections-names');
  }, 300_000);
});
