// End to end: an app's recent connections in its details, in Debian's chromium against the real
// helper in the lab. Connections made as the app (curl through `switchyard run`) appear with their
// egress, bytes and rule; from one, "Make a rule…" opens the rule editor filled in with it.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../lab/lab.ts';
import { type RunningHelper, SWITCHYARD } from '../lab/switchyard-helper.ts';
import { UiSession, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

const APP = 'lab-browser';

describe.skipIf(cannotRun)('connection history in the app details (real helper, lab)', () => {
  const ui = new UiSession();
  let lab: Lab;
  let helper: RunningHelper;
  let page: Page;
  const details = (): Locator => page.getByRole('complementary', { name: 'Details for Lab Browser' });
  const history = (): Locator => page.getByRole('list', { name: 'Recent connections of Lab Browser' });

  /** One HTTP request to the lab's server as the app. */
  const fetchAsApp = (path: string) =>
    lab.exec('desktop', [
      SWITCHYARD,
      'run',
      '--app',
      APP,
      '--socket',
      helper.socket,
      '--',
      'curl',
      '-sS',
      '--max-time',
      '5',
      '-o',
      '/dev/null',
      `http://${lab.servers.v4}:${lab.servers.httpPort}/${path}`,
    ]);

  beforeAll(async () => {
    await ui.start();
    ({ lab, helper, page } = ui);
  });

  afterAll(() => ui.stop());

  it('lists the connections made as the app, with egress, bytes and rule, and makes a rule from one', async () => {
    await ui.ask('egress.set', {
      app: APP,
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: false },
    });
    await fetchAsApp('one');
    await fetchAsApp('two');
    const listed = await eventually(
      'the helper to list both connections with their bytes',
      async () => (await ui.ask('connections.list', { app: APP, limit: 10 })).connections,
      (l) => l.filter((c) => c.port === lab.servers.httpPort && c.rxBytes !== null).length >= 2,
    );
    expect(listed[0]).toMatchObject({ egress: 'wlan0', destination: lab.servers.v4, protocol: 'tcp' });

    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    if (!(await details().count()))
      await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    await details().waitFor();
    const rows = history().getByRole('listitem');
    await eventually(
      'the details to show the connections',
      () => rows.count(),
      (n) => n >= 2,
    );
    const first = rows.first();
    await expect.poll(() => first.textContent()).toContain(`${lab.servers.v4}:${lab.servers.httpPort}`);
    expect(await first.textContent()).toContain('wlan0');
    expect(await first.textContent()).toContain('egress choice');
    expect(await first.textContent()).toMatch(/↑ [\d.]+ k?B · ↓ [\d.]+ k?B/);
    await history().scrollIntoViewIfNeeded();
    await ui.shot('app-connections');

    await first.getByRole('button').first().click();
    await first.getByRole('button', { name: 'Make a rule…' }).click();
    const editor = page.getByRole('dialog', { name: 'New rule' });
    await editor.waitFor();
    await expect.poll(() => editor.locator('#rule-destinations').inputValue()).toBe(lab.servers.v4);
    expect(await editor.locator('#rule-ports').inputValue()).toBe(String(lab.servers.httpPort));
    await ui.shot('app-connections-rule');
  }, 300_000);
});
