// End to end: the UI shows what the helper really does, in Debian's chromium against the real helper
// in the lab. A change made from the CLI shows without a reload; an override has a banner, rows that say
// so and an Undo the helper confirms; and the sidebar names each real problem and links to its cause.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodName, ParamsIn, Result } from '../../native-helper/src/api/schema.ts';
import type { Lab } from '../lab/lab.ts';
import type { RunningHelper } from '../lab/switchyard-helper.ts';
import { UiSession, VIEWPORTS, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

describe.skipIf(cannotRun)('the UI tells the truth about the helper', () => {
  const ui = new UiSession();
  let lab: Lab;
  let helper: RunningHelper;
  let page: Page;
  const ask = <M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> =>
    ui.ask(method, params);
  const row = (id: string): Locator => page.locator(`.app-row[data-app-id="${id}"]`);
  const sidebar = (): Locator => page.locator('aside.sidebar');
  const banner = (): Locator => page.getByRole('status', { name: 'Policy switches' });
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();

  beforeAll(async () => {
    await ui.start();
    ({ lab, helper, page } = ui);
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await row('lab-chat').waitFor();
  });

  afterAll(() => ui.stop());

  it('shows a kill switch and a fallback list set from the CLI without a reload', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'enp3s0,wlan0', '--kill-switch']);
    const killSwitch = row('lab-chat').getByRole('switch', { name: 'Kill switch for Lab Chat' });
    await expect.poll(() => killSwitch.getAttribute('aria-checked'), { timeout: 10_000 }).toBe('true');
    await expect
      .poll(() => text(row('lab-chat').locator('.sub')), { timeout: 10_000 })
      .toContain('then wlan0');
    expect(await row('lab-chat').getByRole('combobox', { name: 'Egress for Lab Chat' }).inputValue()).toBe(
      'egress:enp3s0',
    );

    // A new order and no kill switch, again from the CLI: the row and the open details follow.
    await page.getByRole('button', { name: 'Details for Lab Chat' }).click();
    const details = page.getByRole('complementary', { name: 'Details for Lab Chat' });
    await details.waitFor();
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0,enp3s0']);
    await expect.poll(() => killSwitch.getAttribute('aria-checked'), { timeout: 10_000 }).toBe('false');
    await expect
      .poll(() => text(row('lab-chat').locator('.sub')), { timeout: 10_000 })
      .toContain('then enp3s0');
    expect(await details.getByRole('switch', { name: 'Kill switch' }).getAttribute('aria-checked')).toBe(
      'false',
    );
    const order = await details
      .locator('[data-item]')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-item')));
    expect(order).toEqual(['wlan0', 'enp3s0']);

    // The details' own kill switch reaches the helper.
    await details.getByRole('switch', { name: 'Kill switch' }).click();
    await eventually(
      'the helper turning on lab-chat kill switch',
      () => ask('apps.get', { id: 'lab-chat' }),
      (a) => a.choice.mode === 'ordered' && a.choice.killSwitch,
    );
    // The UI has the helper's answer before the switch is turned back.
    await expect
      .poll(() => details.getByRole('switch', { name: 'Kill switch' }).getAttribute('aria-checked'))
      .toBe('true');
    await details.getByRole('switch', { name: 'Kill switch' }).click();
    await eventually(
      'the helper turning it off again',
      () => ask('apps.get', { id: 'lab-chat' }),
      (a) => a.choice.mode === 'ordered' && !a.choice.killSwitch,
    );
    await page.getByRole('button', { name: 'Close details' }).click();
  });

  it('shows an override from the CLI as a banner, rows say so, and Undo ends it', async () => {
    await helper.cli(['egress', 'set', 'lab-browser', 'enp3s0']);
    await expect
      .poll(() => text(row('lab-browser').locator('.state')), { timeout: 10_000 })
      .toBe('Routed · enp3s0');

    await helper.cli(['override', 'wlan0']);
    await banner().waitFor({ timeout: 10_000 });
    expect(await text(banner())).toContain('All apps follow wlan0 (override)');
    // The helper routes the app through wlan0 now: the row must not claim enp3s0.
    const truth = await eventually(
      'the helper routing lab-browser through wlan0',
      () => ask('apps.get', { id: 'lab-browser' }),
      (a) => a.egress.active === 'wlan0',
    );
    expect(truth.choice).toMatchObject({ egresses: ['enp3s0'] });
    await expect
      .poll(() => text(row('lab-browser').locator('.state')), { timeout: 10_000 })
      .toBe('Override · wlan0');
    expect(await row('lab-browser').locator('.state [title]').getAttribute('title')).toContain('wlan0');
    expect(await page.getByRole('combobox', { name: 'Send all apps through' }).inputValue()).toBe('wlan0');
    await ui.shot('override-banner');
    // The smallest supported window keeps the banner, its Undo and the controls reachable.
    await page.setViewportSize(VIEWPORTS.small);
    expect(await banner().getByRole('button', { name: 'Undo' }).isVisible()).toBe(true);
    await ui.shot('override-banner-small');
    await page.setViewportSize(VIEWPORTS.wide);

    await banner().getByRole('button', { name: 'Undo' }).click();
    await eventually(
      'the helper ending the override',
      () => ask('status.get', {}),
      (s) => s.override === null,
    );
    await banner().waitFor({ state: 'detached', timeout: 10_000 });
    await expect
      .poll(() => text(row('lab-browser').locator('.state')), { timeout: 10_000 })
      .toBe('Routed · enp3s0');
  });

  it('pauses and resumes from the Apps header', async () => {
    await page.getByRole('button', { name: 'Pause policies' }).click();
    await eventually(
      'the helper pausing',
      () => ask('status.get', {}),
      (s) => s.paused,
    );
    await expect.poll(() => text(banner()), { timeout: 10_000 }).toContain('Policies paused');
    await banner().getByRole('button', { name: 'Resume' }).click();
    await eventually(
      'the helper resuming',
      () => ask('status.get', {}),
      (s) => !s.paused,
    );
    await banner().waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('names a down interface and an app held by its kill switch in the sidebar, linking to them', async () => {
    await expect.poll(() => text(sidebar().locator('.health')), { timeout: 10_000 }).toBe('Protected');
    await helper.cli(['egress', 'set', 'lab-updater', 'wlan0', '--kill-switch']);
    await lab.setUplink('wlan0', 'down');
    try {
      await eventually(
        'the helper holding lab-updater by its kill switch',
        () => ask('apps.get', { id: 'lab-updater' }),
        (a) => a.egress.state === 'killed',
      );
      const problems = sidebar().getByRole('list', { name: 'Problems' });
      const held = problems.getByRole('link', { name: 'Lab Updater is blocked by its kill switch' });
      await held.waitFor({ timeout: 10_000 });
      await problems.getByRole('link', { name: /^wlan0 is down; \d apps? lists? it$/ }).waitFor();
      expect(await text(sidebar().locator('.health'))).not.toBe('Protected');
      expect(await text(row('lab-updater').locator('.state'))).toBe('Blocked (kill switch)');
      await ui.shot('status-problems');
      await page.setViewportSize(VIEWPORTS.small);
      await sidebar().locator('.foot').hover();
      await ui.shot('status-problems-small');
      await page.mouse.move(600, 300);
      await page.setViewportSize(VIEWPORTS.wide);

      await held.click();
      await page.getByRole('complementary', { name: 'Details for Lab Updater' }).waitFor();
      await problems.getByRole('link', { name: /^wlan0 is down/ }).click();
      await expect.poll(() => page.evaluate('location.hash')).toMatch(/^#\/interfaces/);
      // The down card says which apps it holds and which list it, not "Carrying no apps".
      const card = page.getByRole('region', { name: 'wlan0' });
      // Headings are set in capitals by CSS: compare the words, not the case.
      const words = async () => (await text(card)).toLowerCase();
      await expect.poll(words, { timeout: 10_000 }).toContain('holding 1 app by their kill switch');
      expect(await words()).toContain('listed by 1 app');
      expect(await words()).not.toContain('carrying no apps');
      await card.getByRole('button', { name: 'Show Lab Updater in Apps' }).waitFor();
      await card.getByRole('button', { name: 'Show Lab Chat in Apps' }).waitFor();
      expect(await page.evaluate('document.activeElement?.id')).toBe('if-wlan0');
      await ui.shot('interface-down');
    } finally {
      await lab.setUplink('wlan0', 'up');
    }
    await expect.poll(() => text(sidebar().locator('.health')), { timeout: 20_000 }).toBe('Protected');
  });

  it('launches from the row, says it started only once it runs, and logs its adoption once', async () => {
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('button', { name: 'Launch Lab Browser' }).click();
    const notice = page.locator('.notices .notice', { hasText: 'Lab Browser' });
    await expect
      .poll(() => text(notice.first()), { timeout: 15_000 })
      .toMatch(/^Started Lab Browser through Switchyard \(process \d+\)\.$/);
    const pid = Number(/process (\d+)/.exec(await text(notice.first()))![1]);
    const running = await eventually(
      'the helper seeing Lab Browser run',
      () => ask('apps.get', { id: 'lab-browser' }),
      (a) => a.pids.includes(pid),
    );
    expect(running.pids).toContain(pid);
    // The launch, the exec watch and the scan may all find it: one adoption per process.
    const adoptions = (await ask('events.history', { limit: 5000 })).filter(
      (e) => e.event === 'adoption' && (e.data as { pid: number }).pid === pid,
    );
    expect(adoptions).toHaveLength(1);
    await page.getByRole('link', { name: 'Activity', exact: true }).click();
    await expect
      .poll(() => page.getByText(new RegExp(`process ${pid} adopted`)).count(), { timeout: 10_000 })
      .toBe(1);
  });

  it('says in user words why an app without a command cannot be launched, and the message goes away', async () => {
    await ask('apps.add', {
      id: 'probe-nocmd',
      name: 'Probe Tool',
      matchers: { exe: ['/usr/local/bin/probe-tool'] },
    });
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('button', { name: 'Launch Probe Tool' }).click();
    const notice = page.locator('.notices .notice.error', { hasText: 'Probe Tool' });
    await expect
      .poll(() => text(notice.first()), { timeout: 10_000 })
      .toContain('Probe Tool has no command to start it');
    expect(await text(notice.first())).not.toMatch(/give one with command|apps\.launch/);
    expect(await text(row('probe-nocmd').locator('.sub'))).toBe('Launch failed · see details');
    await notice.first().getByRole('button', { name: 'Dismiss message' }).click();
    await expect.poll(() => notice.count()).toBe(0);
  });
});
